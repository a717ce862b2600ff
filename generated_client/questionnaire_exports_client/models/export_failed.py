from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from .. import _validation
from ..models.export_format import ExportFormat, check_export_format

T = TypeVar("T", bound="ExportFailed")


@_attrs_define
class ExportFailed:
    """The export failed. `errorMessage` says why. `completedAt`, `downloadUrl` and `expiresAt` are not
    allowed.

        Attributes:
            id (str): Unique identifier of the export job. Opaque; often 24 hexadecimal characters.
            status (Literal['failed']): Processing status of the export.
            format_ (ExportFormat): The output format of the exported file: `original` (XLSX for spreadsheets, DOCX for
                documents)
                or `csv`.
            requested_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
                `2025-01-08T12:00:00.000Z`.
            failed_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
                `2025-01-08T12:00:00.000Z`.
            error_message (str): Human-readable description of why the export failed.
    """

    id: str
    status: Literal["failed"]
    format_: ExportFormat
    requested_at: datetime.datetime
    failed_at: datetime.datetime
    error_message: str

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status

        format_: str = self.format_

        requested_at = self.requested_at.isoformat()

        failed_at = self.failed_at.isoformat()

        error_message = self.error_message

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "status": status,
                "format": format_,
                "requestedAt": requested_at,
                "failedAt": failed_at,
                "errorMessage": error_message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        id = d.pop("id")

        status = cast(Literal["failed"], d.pop("status"))
        if status != "failed":
            raise ValueError(f"status must match const 'failed', got '{status}'")

        format_ = check_export_format(d.pop("format"))

        requested_at = _validation.parse_datetime(d.pop("requestedAt"))

        failed_at = _validation.parse_datetime(d.pop("failedAt"))

        error_message = d.pop("errorMessage")

        export_failed = cls(
            id=id,
            status=status,
            format_=format_,
            requested_at=requested_at,
            failed_at=failed_at,
            error_message=error_message,
        )

        return export_failed


_SHAPE = _validation.Shape(
    "status=failed",
    {
        "id": _validation.Field("string", min_length=1),
        "status": _validation.Field("const", choices=["failed"]),
        "format": _validation.Field("enum", choices=["csv", "original"]),
        "requestedAt": _validation.Field("date-time"),
        "failedAt": _validation.Field("date-time"),
        "errorMessage": _validation.Field("string", min_length=1),
    },
    ["id", "status", "format", "requestedAt", "failedAt", "errorMessage"],
    closed=True,
)
