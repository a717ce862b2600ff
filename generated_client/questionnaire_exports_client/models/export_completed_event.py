from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from .. import _validation

if TYPE_CHECKING:
    from ..models.export_completed_event_export import ExportCompletedEventExport
    from ..models.webhook_questionnaire import WebhookQuestionnaire


T = TypeVar("T", bound="ExportCompletedEvent")


@_attrs_define
class ExportCompletedEvent:
    """Payload of `v1.questionnaire.export-completed`.

    Attributes:
        questionnaire (WebhookQuestionnaire):
        export (ExportCompletedEventExport):
    """

    questionnaire: WebhookQuestionnaire
    export: ExportCompletedEventExport

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
        from ..models.export_completed_event_export import ExportCompletedEventExport  # noqa: PLC0415
        from ..models.webhook_questionnaire import WebhookQuestionnaire  # noqa: PLC0415

        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        questionnaire = WebhookQuestionnaire.from_dict(d.pop("questionnaire"))

        export = ExportCompletedEventExport.from_dict(d.pop("export"))

        export_completed_event = cls(
            questionnaire=questionnaire,
            export=export,
        )

        return export_completed_event


_SHAPE = _validation.Shape(
    "ExportCompletedEvent",
    {
        "questionnaire": _validation.Field("object"),
        "export": _validation.Field("object"),
    },
    ["questionnaire", "export"],
    closed=True,
)
