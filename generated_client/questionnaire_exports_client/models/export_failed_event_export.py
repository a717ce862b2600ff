from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import _validation
from ..models.export_format import ExportFormat, check_export_format

T = TypeVar("T", bound="ExportFailedEventExport")


@_attrs_define
class ExportFailedEventExport:
    """
    Attributes:
        id (str): Unique identifier of the export job. Opaque; often 24 hexadecimal characters.
        format_ (ExportFormat): The output format of the exported file: `original` (XLSX for spreadsheets, DOCX for
            documents)
            or `csv`.
        requested_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
            `2025-01-08T12:00:00.000Z`.
        failed_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
            `2025-01-08T12:00:00.000Z`.
        reason (str): Why the export failed; the REST API calls it `errorMessage`.
    """

    id: str
    format_: ExportFormat
    requested_at: datetime.datetime
    failed_at: datetime.datetime
    reason: str

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        format_: str = self.format_

        requested_at = self.requested_at.isoformat()

        failed_at = self.failed_at.isoformat()

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "format": format_,
                "requestedAt": requested_at,
                "failedAt": failed_at,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        _validation.check_object(_SHAPE, src_dict)
        d = dict(src_dict)
        id = d.pop("id")

        format_ = check_export_format(d.pop("format"))

        requested_at = _validation.parse_datetime(d.pop("requestedAt"))

        failed_at = _validation.parse_datetime(d.pop("failedAt"))

        reason = d.pop("reason")

        export_failed_event_export = cls(
            id=id,
            format_=format_,
            requested_at=requested_at,
            failed_at=failed_at,
            reason=reason,
        )

        return export_failed_event_export


_SHAPE = _validation.Shape(
    "ExportFailedEventExport",
    {
        "id": _validation.Field("string", min_length=1),
        "format": _validation.Field("enum", choices=["csv", "original"]),
        "requestedAt": _validation.Field("date-time"),
        "failedAt": _validation.Field("date-time"),
        "reason": _validation.Field("string", min_length=1),
    },
    ["id", "format", "requestedAt", "failedAt", "reason"],
    closed=True,
)
