from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import _validation
from ..models.export_format import ExportFormat, check_export_format

T = TypeVar("T", bound="ExportCompletedEventExport")


@_attrs_define
class ExportCompletedEventExport:
    """
    Attributes:
        id (str): Unique identifier of the export job. Opaque; often 24 hexadecimal characters.
        format_ (ExportFormat): The output format of the exported file: `original` (XLSX for spreadsheets, DOCX for
            documents)
            or `csv`.
        requested_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
            `2025-01-08T12:00:00.000Z`.
        completed_at (datetime.datetime): RFC 3339 date-time with a time-zone offset, for example
            `2025-01-08T12:00:00.000Z`.
    """

    id: str
    format_: ExportFormat
    requested_at: datetime.datetime
    completed_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        format_: str = self.format_

        requested_at = self.requested_at.isoformat()

        completed_at = self.completed_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "format": format_,
                "requestedAt": requested_at,
                "completedAt": completed_at,
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

        completed_at = _validation.parse_datetime(d.pop("completedAt"))

        export_completed_event_export = cls(
            id=id,
            format_=format_,
            requested_at=requested_at,
            completed_at=completed_at,
        )

        return export_completed_event_export


_SHAPE = _validation.Shape(
    "ExportCompletedEventExport",
    {
        "id": _validation.Field("string", min_length=1),
        "format": _validation.Field("enum", choices=["csv", "original"]),
        "requestedAt": _validation.Field("date-time"),
        "completedAt": _validation.Field("date-time"),
    },
    ["id", "format", "requestedAt", "completedAt"],
    closed=True,
)
