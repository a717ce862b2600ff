from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import _validation

T = TypeVar("T", bound="WebhookQuestionnaire")


@_attrs_define
class WebhookQuestionnaire:
    """
    Attributes:
        id (str): The exported questionnaire.
    """

    id: str

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        id = d.pop("id")

        webhook_questionnaire = cls(
            id=id,
        )

        return webhook_questionnaire


_SHAPE = _validation.Shape(
    "WebhookQuestionnaire",
    {
        "id": _validation.Field("string", min_length=1),
    },
    ["id"],
    closed=True,
)
