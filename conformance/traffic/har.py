"""HAR 1.2 files in and out: `read_har` (bounded, hostile-safe) and `write_har` (redacted).

Why bounded: a HAR file comes from anywhere (a browser, a proxy, an incident ticket). The file size, the
entry count and each body are capped, JSON nested too deeply is refused, and every problem of the file
is one readable line (`HarError`); a broken entry is skipped and counted, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from questionnaire_exports_client.redact import REDACTED, Redactor

from ..report_json import suite_version
from .recorded import Recorded

MAX_HAR_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 100_000
MAX_BODY_BYTES = 1024 * 1024
CREATOR = "questionnaire-exports conformance"
VERSIONS = ("1.1", "1.2")
#: Marks a body `write_har` did not write whole (HAR has no field for it; `comment` is free text).
CUT_PREFIX = "cut: "
#: Headers whose whole value is a credential.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_TEXTUAL = ("json", "text", "xml", "javascript", "x-www-form-urlencoded")


class HarError(ValueError):
    """The file cannot be read as a HAR log; the message is the one line to print."""


@dataclass
class HarLog:
    """The readable entries of a HAR file, in `startedDateTime` order, and what was skipped."""

    entries: list[Recorded]
    creator: str = ""
    skipped: Counter[str] = field(default_factory=Counter)  # why -> how many entries

    def notes(self) -> list[str]:
        return [f"skipped {count} HAR entries: {why}" for why, count in sorted(self.skipped.items())]


class _Skip(Exception):
    """This entry cannot be used; the message says why (counted, not printed per entry)."""


def iso_time(moment: datetime) -> str:
    """UTC, milliseconds, `Z`: how HAR files and findings show a moment."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise _Skip("startedDateTime missing or malformed")
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
        if moment.tzinfo is None:  # HAR requires an offset; a naive time is read as UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: before year 1 or after 9999 in UTC
        raise _Skip("startedDateTime missing or malformed") from exc


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    """`[{name, value}]` as pairs; items of another shape are dropped, HTTP/2 pseudo-headers too."""
    if not isinstance(value, list):
        return ()
    out = []
    for item in value:
        if isinstance(item, dict):
            name, text = item.get("name"), item.get("value")
            if isinstance(name, str) and isinstance(text, str) and name and not name.startswith(":"):
                out.append((name, text))
    return tuple(out)


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of a header, any case; None when absent."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def _number(value: Any) -> float:
    """A HAR size or time: -1 (unknown), negative or not a number all mean 0."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 0.0
    )


def _decode(text: str, encoding: Any) -> bytes:
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Skip("content.text is not valid base64") from exc
    return text.encode("utf-8", errors="replace")


def _request_body(request: dict[str, Any], max_body: int) -> bytes | None:
    """The request body; None when the HAR has none or only part of it (then it is not judged)."""
    post = request.get("postData")
    if not isinstance(post, dict) or not isinstance(post.get("text"), str):
        return None
    body = _decode(post["text"], post.get("encoding"))
    declared = _number(request.get("bodySize"))
    comment = post.get("comment")
    if len(body) > max_body or (declared and len(body) < declared) or _is_cut(comment):
        return None
    return body


def _is_cut(comment: Any) -> bool:
    return isinstance(comment, str) and comment.startswith(CUT_PREFIX)


def _response_body(response: dict[str, Any], max_body: int) -> tuple[bytes, str | None]:
    content = response.get("content")
    if not isinstance(content, dict):
        content = {}
    text = content.get("text")
    comment = content.get("comment")
    if not isinstance(text, str):
        if _number(content.get("size")) > 0:
            reason = (
                str(comment).removeprefix(CUT_PREFIX) if _is_cut(comment) else "body not recorded in the HAR"
            )
            return b"", reason
        return b"", None
    body = _decode(text, content.get("encoding"))
    if _is_cut(comment):
        return body[:max_body], str(comment).removeprefix(CUT_PREFIX)
    if len(body) > max_body:
        return body[:max_body], f"body larger than {max_body} bytes; not judged"
    return body, None


def _entry(index: int, entry: Any, max_body: int) -> Recorded:
    if not isinstance(entry, dict):
        raise _Skip("not an object")
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise _Skip("request or response missing")
    method, url, status = request.get("method"), request.get("url"), response.get("status")
    if not isinstance(method, str) or not method.isalpha() or len(method) > 20:
        raise _Skip("request.method missing or malformed")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")) or len(url) > 65536:
        raise _Skip("request.url missing or not an absolute http(s) URL")
    try:
        urlsplit(url)  # what every rule parses it with (an unclosed IPv6 bracket raises)
    except ValueError as exc:
        raise _Skip("request.url missing or not an absolute http(s) URL") from exc
    if not isinstance(status, int) or isinstance(status, bool):
        raise _Skip("response.status missing or not a number")
    if status == 0:
        raise _Skip("no response (status 0: aborted or blocked by the browser)")
    if entry.get("_fromCache"):  # Chrome: the browser's cache answered, not the server at that time
        raise _Skip("answered from the browser's cache")
    if not 100 <= status <= 999:
        raise _Skip("response.status is not an HTTP status")
    response_headers = _headers(response.get("headers"))
    content = response.get("content")
    mime = content.get("mimeType") if isinstance(content, dict) else None
    if header(response_headers, "content-type") is None and isinstance(mime, str) and mime:
        response_headers = (*response_headers, ("content-type", mime))
    request_headers = _headers(request.get("headers"))
    post = request.get("postData")
    post_mime = post.get("mimeType") if isinstance(post, dict) else None
    if header(request_headers, "content-type") is None and isinstance(post_mime, str) and post_mime:
        request_headers = (*request_headers, ("content-type", post_mime))
    body, cut = _response_body(response, max_body)
    started, time_ms = _parse_time(entry.get("startedDateTime")), _number(entry.get("time"))
    try:
        started + timedelta(milliseconds=time_ms)  # when the answer had arrived: what the rules compute
    except OverflowError as exc:
        raise _Skip("time or startedDateTime out of range") from exc
    return Recorded(
        index=index,
        started=started,
        method=method.upper(),
        url=url,
        request_headers=request_headers,
        request_body=_request_body(request, max_body),
        status=status,
        response_headers=response_headers,
        response_body=body,
        cut=cut,
        time_ms=time_ms,
    )


def load_har(
    path: Path,
    *,
    max_bytes: int = MAX_HAR_BYTES,
    max_entries: int = MAX_ENTRIES,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> HarLog:
    """Read a HAR file within the limits; raises `HarError` (one line) when it is no usable HAR log."""
    name = path.name
    too_big = HarError(f"{name} is larger than {max_bytes} bytes (--max-har-bytes); not read")
    try:
        # Non-blocking open: a FIFO no one writes to is read as empty instead of waiting for a writer.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        os.set_blocking(descriptor, True)  # reads from a pipe with a writer wait for its data
        with os.fdopen(descriptor, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > max_bytes:  # refused before a byte is read
                raise too_big
            raw = handle.read(max_bytes + 1)  # a pipe or a growing file: read no more than the cap
    except OSError as exc:
        raise HarError(f"cannot read {name}: {exc.strerror or type(exc).__name__}") from exc
    if len(raw) > max_bytes:
        raise too_big
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise HarError(f"{name} is not a HAR file: JSON nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise HarError(f"{name} is not a HAR file: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise HarError(
            f"{name} is not a HAR file: invalid JSON at line {exc.lineno} column {exc.colno}"
        ) from exc
    finally:
        del raw
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict):
        raise HarError(f"{name} is not a HAR file: no top-level log object")
    version = log.get("version", "")
    if version not in ("", *VERSIONS):
        shown = str(version)[:20]
        raise HarError(
            f"{name}: HAR version {shown!r} is not supported (expected one of {', '.join(VERSIONS)})"
        )
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise HarError(f"{name} is not a HAR file: log.entries is missing or not a list")
    if len(entries) > max_entries:
        raise HarError(f"{name} has {len(entries)} entries, more than the limit of {max_entries}")
    creator = log.get("creator")
    har = HarLog(entries=[], creator=_creator(creator))
    for index, entry in enumerate(entries):
        try:
            har.entries.append(_entry(index, entry, max_body_bytes))
        except _Skip as exc:
            har.skipped[str(exc)] += 1
    har.entries.sort(key=lambda recorded: recorded.started)  # stable: ties keep the file's order
    return har


def _creator(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    name, version = value.get("name"), value.get("version")
    return " ".join(str(part)[:60] for part in (name, version) if isinstance(part, str) and part)


def read_har(path: Path) -> list[Recorded]:
    """The entries of a HAR file in `startedDateTime` order; `HarError` when it cannot be read."""
    return load_har(path).entries


def _redacted_header(name: str, value: str, redactor: Redactor) -> str:
    lower = name.lower()
    if lower in ("authorization", "proxy-authorization"):
        scheme, _, credentials = value.partition(" ")
        return f"{scheme} {REDACTED}" if credentials else REDACTED
    if lower in _SECRET_HEADERS:
        return REDACTED
    if lower in ("location", "content-location", "referer"):
        return redactor.url(value)
    return redactor.text(value)


def _har_headers(headers: Iterable[tuple[str, str]], redactor: Redactor) -> list[dict[str, str]]:
    return [{"name": name, "value": _redacted_header(name, value, redactor)} for name, value in headers]


def _content(body: bytes, mime: str, redactor: Redactor) -> dict[str, Any]:
    """A body as HAR `text`: redacted text when it is textual UTF-8, base64 otherwise."""
    if any(kind in mime.lower() for kind in _TEXTUAL):
        try:
            return {"text": redactor.text(body.decode("utf-8"))}
        except UnicodeDecodeError:
            pass
    return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def _har_entry(recorded: Recorded, redactor: Redactor) -> dict[str, Any]:
    request_mime = header(recorded.request_headers, "content-type") or ""
    response_mime = header(recorded.response_headers, "content-type") or ""
    try:
        query = parse_qsl(urlsplit(recorded.url).query, keep_blank_values=True)
    except ValueError:
        query = []
    request: dict[str, Any] = {
        "method": recorded.method,
        "url": redactor.url(recorded.url),
        "httpVersion": "HTTP/1.1",
        "headers": _har_headers(recorded.request_headers, redactor),
        "queryString": [{"name": redactor.text(name), "value": REDACTED} for name, _ in query],
        "cookies": [],
        "headersSize": -1,
        "bodySize": len(recorded.request_body) if recorded.request_body is not None else 0,
    }
    if recorded.request_body is not None:
        post = _content(recorded.request_body, request_mime, redactor)
        request["postData"] = {"mimeType": request_mime, "params": [], **post}
    content: dict[str, Any] = {"size": len(recorded.response_body), "mimeType": response_mime}
    if recorded.cut is None or recorded.response_body:
        content.update(_content(recorded.response_body, response_mime, redactor))
    if recorded.cut is not None:
        content["comment"] = CUT_PREFIX + redactor.text(recorded.cut)
        content["size"] = max(len(recorded.response_body), 1)
    try:
        reason = HTTPStatus(recorded.status).phrase
    except ValueError:
        reason = ""
    location = header(recorded.response_headers, "location")
    return {
        "startedDateTime": iso_time(recorded.started),
        "time": round(recorded.time_ms, 3),
        "request": request,
        "response": {
            "status": recorded.status,
            "statusText": reason,
            "httpVersion": "HTTP/1.1",
            "headers": _har_headers(recorded.response_headers, redactor),
            "cookies": [],
            "content": content,
            "redirectURL": redactor.url(location) if location else "",
            "headersSize": -1,
            "bodySize": len(recorded.response_body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(recorded.time_ms, 3), "receive": 0},
    }


def har_document(entries: Iterable[Recorded], redactor: Redactor) -> Mapping[str, Any]:
    """The HAR 1.2 log of `entries`, redacted: credentials, link signatures, known secrets."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": CREATOR, "version": suite_version()},
            "pages": [],
            "entries": [_har_entry(recorded, redactor) for recorded in entries],
        }
    }


def write_har(path: Path, entries: Iterable[Recorded], redactor: Redactor) -> None:
    """Write `entries` as a HAR 1.2 file, redacted (raises `OSError` when the file cannot be written)."""
    path.write_text(json.dumps(har_document(entries, redactor), indent=1) + "\n", encoding="utf-8")
