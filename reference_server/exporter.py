"""Rendering a questionnaire into the bytes of an export file (CSV, XLSX or DOCX).

Why a real renderer: the files behind ``downloadUrl`` must open in a spreadsheet or word processor and
read back to the seeded answers, so clients and the conformance suite can check content, not just status
codes. ``original`` is the questionnaire's own kind, as the spec says: XLSX for spreadsheet-style
questionnaires, DOCX (python-docx, the maintained library for the format) for document-style ones. Media
types are taken from the spec's ``x-download-media-types`` for the format.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import docx
from openpyxl import Workbook

import contract

from .seed import EXPORT_COLUMNS, UNSUPPORTED_QUESTION_TYPES_MESSAGE, Questionnaire


def _spec_media_type(export_format: str, marker: str) -> str:
    """The one media type the spec allows for ``export_format`` that contains ``marker``."""
    [media_type] = [t for t in contract.download_media_types()[export_format] if marker in t]
    return media_type


CSV_MEDIA_TYPE = _spec_media_type("csv", "text/csv") + "; charset=utf-8"
XLSX_MEDIA_TYPE = _spec_media_type("original", "spreadsheetml")
DOCX_MEDIA_TYPE = _spec_media_type("original", "wordprocessingml")


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


def _render_docx(questionnaire: Questionnaire) -> bytes:
    document = docx.Document()
    document.core_properties.title = questionnaire.name
    document.add_heading(questionnaire.name, level=1)
    table = document.add_table(rows=1, cols=len(EXPORT_COLUMNS))
    for cell, title in zip(table.rows[0].cells, EXPORT_COLUMNS, strict=True):
        cell.text = title
    for row in _rows(questionnaire):
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def file_extension(questionnaire: Questionnaire, export_format: str) -> str:
    """``csv``, or for ``original`` the questionnaire's own kind: ``xlsx`` or ``docx``."""
    if export_format == "csv":
        return "csv"
    return "docx" if questionnaire.style == "document" else "xlsx"


def render(questionnaire: Questionnaire, export_format: str, export_id: str) -> RenderedFile:
    """Render ``questionnaire`` as ``csv`` or ``original`` (XLSX for spreadsheets, DOCX for documents).

    Raises ``ExportError`` when the questionnaire holds question types the exporter does not support.
    """
    if not questionnaire.supported:
        raise ExportError(UNSUPPORTED_QUESTION_TYPES_MESSAGE)
    if export_format not in ("csv", "original"):
        raise ExportError(f"Unsupported export format {export_format!r}.")
    extension = file_extension(questionnaire, export_format)
    renderer, media_type = {
        "csv": (_render_csv, CSV_MEDIA_TYPE),
        "xlsx": (_render_xlsx, XLSX_MEDIA_TYPE),
        "docx": (_render_docx, DOCX_MEDIA_TYPE),
    }[extension]
    return RenderedFile(renderer(questionnaire), media_type, f"questionnaire-export-{export_id}.{extension}")
