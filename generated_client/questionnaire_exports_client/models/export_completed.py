from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from .. import _validation
from ..models.export_format import ExportFormat, check_export_format

T = TypeVar("T", bound="ExportCompleted")


@_attrs_define
class ExportCompleted:
    """The export finished successfully. `downloadUrl` is a pre-signed link valid for 24 hours from the time
    of this response; `expiresAt` says exactly when it stops working. Call GET again for a fresh link.
    `failedAt` and `errorMessage` are not allowed.

        Attributes:
            id (str): Unique identifier of the export job. Opaque; often 24 hexadecimal characters.
            status (Literal['completed']): Processing status of the export.
            format_ (ExportFormat): The output format of the exported file: `original` (XLSX for spreadsheets, DOCX for
                documents)
                or `csv`.
            requested_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
                `2025-01-08T12:00:00.000Z`.
            completed_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
                `2025-01-08T12:00:00.000Z`.
            download_url (str): Pre-signed absolute `http` or `https` URL of the exported file, valid until `expiresAt`.
                Needs no API
                token.
            expires_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
                `2025-01-08T12:00:00.000Z`.
    """

    id: str
    status: Literal["completed"]
    format_: ExportFormat
    requested_at: datetime.datetime
    completed_at: datetime.datetime
    download_url: str
    expires_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status

        format_: str = self.format_

        requested_at = self.requested_at.isoformat()

        completed_at = self.completed_at.isoformat()

        download_url = self.download_url

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "status": status,
                "format": format_,
                "requestedAt": requested_at,
                "completedAt": completed_at,
                "downloadUrl": download_url,
                "expiresAt": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        id = d.pop("id")

        status = cast(Literal["completed"], d.pop("status"))
        if status != "completed":
            raise ValueError(f"status must match const 'completed', got '{status}'")

        format_ = check_export_format(d.pop("format"))

        requested_at = _validation.parse_datetime(d.pop("requestedAt"))

        completed_at = _validation.parse_datetime(d.pop("completedAt"))

        download_url = d.pop("downloadUrl")

        expires_at = _validation.parse_datetime(d.pop("expiresAt"))

        export_completed = cls(
            id=id,
            status=status,
            format_=format_,
            requested_at=requested_at,
            completed_at=completed_at,
            download_url=download_url,
            expires_at=expires_at,
        )

        return export_completed


_SHAPE = _validation.Shape(
    "status=completed",
    {
        "id": _validation.Field("string", min_length=1),
        "status": _validation.Field("const", choices=["completed"]),
        "format": _validation.Field("enum", choices=["csv", "original"]),
        "requestedAt": _validation.Field("date-time"),
        "completedAt": _validation.Field("date-time"),
        "downloadUrl": _validation.Field("uri", pattern="^[Hh][Tt][Tt][Pp][Ss]?://"),
        "expiresAt": _validation.Field("date-time"),
    },
    ["id", "status", "format", "requestedAt", "completedAt", "downloadUrl", "expiresAt"],
    closed=True,
)
