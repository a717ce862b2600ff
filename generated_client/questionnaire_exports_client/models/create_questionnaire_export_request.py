from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import _validation
from ..models.export_format import ExportFormat, check_export_format

T = TypeVar("T", bound="CreateQuestionnaireExportRequest")


@_attrs_define
class CreateQuestionnaireExportRequest:
    """What to export, and in which format. No other keys are allowed.

    Attributes:
        questionnaire_id (str): The questionnaire to export.
        format_ (ExportFormat): The output format of the exported file: `original` (XLSX for spreadsheets, DOCX for
            documents)
            or `csv`.
    """

    questionnaire_id: str
    format_: ExportFormat

    def to_dict(self) -> dict[str, Any]:
        questionnaire_id = self.questionnaire_id

        format_: str = self.format_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "questionnaireId": questionnaire_id,
                "format": format_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        questionnaire_id = d.pop("questionnaireId")

        format_ = check_export_format(d.pop("format"))

        create_questionnaire_export_request = cls(
            questionnaire_id=questionnaire_id,
            format_=format_,
        )

        return create_questionnaire_export_request


_SHAPE = _validation.Shape(
    "CreateQuestionnaireExportRequest",
    {
        "questionnaireId": _validation.Field("string", min_length=1),
        "format": _validation.Field("enum", choices=["csv", "original"]),
    },
    ["questionnaireId", "format"],
    closed=True,
)
