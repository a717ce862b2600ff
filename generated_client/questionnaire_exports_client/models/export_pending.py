from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from .. import _validation
from ..models.export_format import ExportFormat, check_export_format

T = TypeVar("T", bound="ExportPending")


@_attrs_define
class ExportPending:
    """The export is queued or processing. Only the base fields are present; `completedAt`,
    `downloadUrl`, `expiresAt`, `failedAt` and `errorMessage` are not allowed.

        Attributes:
            id (str): Unique identifier of the export job. Opaque; often 24 hexadecimal characters.
            status (Literal['pending']): Processing status of the export.
            format_ (ExportFormat): The output format of the exported file: `original` (XLSX for spreadsheets, DOCX for
                documents)
                or `csv`.
            requested_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
                `2025-01-08T12:00:00.000Z`.
    """

    id: str
    status: Literal["pending"]
    format_: ExportFormat
    requested_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status

        format_: str = self.format_

        requested_at = self.requested_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "status": status,
                "format": format_,
                "requestedAt": requested_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        id = d.pop("id")

        status = cast(Literal["pending"], d.pop("status"))
        if status != "pending":
            raise ValueError(f"status must match const 'pending', got '{status}'")

        format_ = check_export_format(d.pop("format"))

        requested_at = _validation.parse_datetime(d.pop("requestedAt"))

        export_pending = cls(
            id=id,
            status=status,
            format_=format_,
            requested_at=requested_at,
        )

        return export_pending


_SHAPE = _validation.Shape(
    "status=pending",
    {
        "id": _validation.Field("string", min_length=1),
        "status": _validation.Field("const", choices=["pending"]),
        "format": _validation.Field("enum", choices=["csv", "original"]),
        "requestedAt": _validation.Field("date-time"),
    },
    ["id", "status", "format", "requestedAt"],
    closed=True,
)
