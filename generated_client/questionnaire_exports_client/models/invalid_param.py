from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import _validation

T = TypeVar("T", bound="InvalidParam")


@_attrs_define
class InvalidParam:
    """One invalid field of a request.

    Attributes:
        name (str): The field, as a JSON Pointer-like name (`format`, `questionnaireId`, or `body`).
        reason (str): What is wrong with it.
    """

    name: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        name = d.pop("name")

        reason = d.pop("reason")

        invalid_param = cls(
            name=name,
            reason=reason,
        )

        return invalid_param


_SHAPE = _validation.Shape(
    "InvalidParam",
    {
        "name": _validation.Field("string"),
        "reason": _validation.Field("string"),
    },
    ["name", "reason"],
    closed=True,
)
