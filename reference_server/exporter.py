"""Rendering a questionnaire into the bytes of an export file (CSV or XLSX).

Why a real renderer: the files behind ``downloadUrl`` must open in a spreadsheet program and read back
to the seeded answers, so clients and the conformance suite can check content, not just status codes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook

from .seed import EXPORT_COLUMNS, UNSUPPORTED_QUESTION_TYPES_MESSAGE, Questionnaire

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportError(Exception):
    """The questionnaire cannot be exported; the message is shown to the client as ``errorMessage``."""


@dataclass(frozen=True)
class RenderedFile:
    """An export's file: its bytes, media type and a download file name."""

    content: bytes
    media_type: str
    filename: str


def _rows(questionnaire: Questionnaire) -> list[tuple[str, ...]]:
    return [(q.section, q.number, q.text, q.type, q.answer, q.comment) for q in questionnaire.questions]


def _render_csv(questionnaire: Questionnaire) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(_rows(questionnaire))
    return buffer.getvalue().encode("utf-8")


def _render_xlsx(questionnaire: Questionnaire) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Questionnaire"
    sheet.append(list(EXPORT_COLUMNS))
    for row in _rows(questionnaire):
        sheet.append(list(row))
    workbook.properties.title = questionnaire.name
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(questionnaire: Questionnaire, export_format: str, export_id: str) -> RenderedFile:
    """Render ``questionnaire`` as ``csv`` or ``original`` (XLSX for both spreadsheet and document style).

    Raises ``ExportError`` when the questionnaire holds question types the exporter does not support.
    """
    if not questionnaire.supported:
        raise ExportError(UNSUPPORTED_QUESTION_TYPES_MESSAGE)
    if export_format == "csv":
        return RenderedFile(
            _render_csv(questionnaire), CSV_MEDIA_TYPE, f"questionnaire-export-{export_id}.csv"
        )
    if export_format == "original":
        return RenderedFile(
            _render_xlsx(questionnaire), XLSX_MEDIA_TYPE, f"questionnaire-export-{export_id}.xlsx"
        )
    raise ExportError(f"Unsupported export format {export_format!r}.")
