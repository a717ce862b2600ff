from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from .. import _validation

if TYPE_CHECKING:
    from ..models.export_failed_event_export import ExportFailedEventExport
    from ..models.webhook_questionnaire import WebhookQuestionnaire


T = TypeVar("T", bound="ExportFailedEvent")


@_attrs_define
class ExportFailedEvent:
    """Payload of `v1.questionnaire.export-failed`.

    Attributes:
        questionnaire (WebhookQuestionnaire):
        export (ExportFailedEventExport):
    """

    questionnaire: WebhookQuestionnaire
    export: ExportFailedEventExport

    def to_dict(self) -> dict[str, Any]:
        questionnaire = self.questionnaire.to_dict()

        export = self.export.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "questionnaire": questionnaire,
                "export": export,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.export_failed_event_export import ExportFailedEventExport  # noqa: PLC0415
        from ..models.webhook_questionnaire import WebhookQuestionnaire  # noqa: PLC0415

        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        questionnaire = WebhookQuestionnaire.from_dict(d.pop("questionnaire"))

        export = ExportFailedEventExport.from_dict(d.pop("export"))

        export_failed_event = cls(
            questionnaire=questionnaire,
            export=export,
        )

        return export_failed_event


_SHAPE = _validation.Shape(
    "ExportFailedEvent",
    {
        "questionnaire": _validation.Field("object"),
        "export": _validation.Field("object"),
    },
    ["questionnaire", "export"],
    closed=True,
)
