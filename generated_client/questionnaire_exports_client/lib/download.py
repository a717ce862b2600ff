"""Downloading a completed export's file: streamed, atomic, and refreshed once when the link expired."""

from __future__ import annotations

import datetime
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import unquote, urlsplit

import httpx

from ..client import AuthenticatedClient
from ..models import ExportCompleted, ExportFailed
from .errors import DownloadError
from .redact import hidden_from_logs, redact_url, scrub
from .waiting import wait_for_export

#: Storage statuses that mean "this link no longer works" (S3 and GCS answer 403 for an expired signature).
EXPIRED_LINK_STATUSES = frozenset({403})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _is_expired(export: ExportCompleted, now: datetime.datetime, margin: float) -> bool:
    expires = export.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=datetime.UTC)
    return expires - datetime.timedelta(seconds=margin) <= now


def _file_name(export: ExportCompleted) -> str:
    """A safe file name: the URL's last path segment when it has a suffix, else one built from the id."""
    name = unquote(PurePosixPath(urlsplit(export.download_url).path).name)
    name = _SAFE_NAME.sub("_", name).lstrip(".")
    if name and PurePosixPath(name).suffix:
        return name
    stem = _SAFE_NAME.sub("_", export.id).lstrip(".") or "export"
    return f"{stem}.csv" if export.format_ == "csv" else stem


def _target(destination: str | os.PathLike[str], export: ExportCompleted) -> Path:
    path = Path(destination)
    if path.is_dir():
        path = path / _file_name(export)
    if not path.parent.is_dir():
        raise ValueError(f"destination folder {path.parent} does not exist")
    return path


def _check_storage_client(http: httpx.Client, client: AuthenticatedClient) -> None:
    """Refuse a storage client that would send the API token to the storage host."""
    leaks = "authorization" in http.headers or any(client.token in value for value in http.headers.values())
    if leaks:
        raise ValueError("the storage client must not carry the API token or an Authorization header")


def _copy_body(http: httpx.Client, url: str, handle: IO[bytes], chunk_size: int) -> int | None:
    """Write the body at ``url`` to ``handle``; return the status if it is not 200."""
    with hidden_from_logs(url), http.stream("GET", url) as response:
        if response.status_code != 200:
            return response.status_code
        written = 0
        for chunk in response.iter_bytes(chunk_size):
            handle.write(chunk)
            written += len(chunk)
        # Content-Length counts the bytes on the wire, which differ from the decoded ones when compressed.
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        received = written if encoding in ("", "identity") else response.num_bytes_downloaded
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) != received:
            raise DownloadError(
                f"download of {redact_url(url)} stopped after {received} of {declared} bytes",
                url=redact_url(url),
                status_code=200,
            )
    return None


def _stream(http: httpx.Client, url: str, target: Path, chunk_size: int) -> int | None:
    """Download ``url`` into ``target`` atomically; return the status if it is not 200.

    The temporary file sits beside the target (same file system, so the rename is atomic) and is removed
    whenever the download does not complete.
    """
    done = False
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    ) as handle:
        temp = Path(handle.name)
        try:
            status = _copy_body(http, url, handle, chunk_size)
            if status is None:
                handle.flush()
                os.fsync(handle.fileno())
                os.replace(temp, target)
                done = True
            return status
        except httpx.HTTPError as exc:
            message = scrub(f"download of {redact_url(url)} failed: {type(exc).__name__}: {exc}", url)
            raise DownloadError(message, url=redact_url(url)) from None
        finally:
            if not done:
                temp.unlink(missing_ok=True)


def _refresh(client: AuthenticatedClient, export_id: str, timeout: float) -> ExportCompleted:
    """A fresh link: every GET of a completed export issues one."""
    fresh = wait_for_export(client, export_id, timeout=timeout)
    if not isinstance(fresh, ExportCompleted):
        raise DownloadError(f"export {export_id} is {fresh.status}; nothing to download", url="")
    return fresh


def download_export(
    client: AuthenticatedClient,
    export: ExportCompleted | ExportFailed,
    destination: str | os.PathLike[str],
    *,
    http: httpx.Client | None = None,
    now: Callable[[], datetime.datetime] = _utcnow,
    expiry_margin: float = 30.0,
    refresh_timeout: float = 60.0,
    chunk_size: int = 64 * 1024,
) -> Path:
    """Stream the export's file to ``destination`` (a file path, or an existing folder) and return its path.

    The body goes to a temporary file beside the target, renamed into place only when complete, so a
    failed or partial download leaves nothing behind. A link that has expired by ``expiresAt`` (less
    ``expiry_margin`` seconds for clock skew), or that the storage answers with 403, is replaced once by a
    fresh one from ``getQuestionnaireExport``. The storage request never carries the API token: it goes
    through ``http`` (a plain ``httpx.Client`` without credentials) or a new client made for it.
    Accepts what ``create_and_wait`` returns: a failed export raises ``DownloadError`` with its
    ``errorMessage``. Raises ``DownloadError``; its message never contains the link's query string.
    """
    if isinstance(export, ExportFailed):
        raise DownloadError(f"export {export.id} failed: {export.error_message}", url="")
    if not isinstance(export, ExportCompleted):
        raise TypeError(f"download_export needs an ExportCompleted, got {type(export).__name__}")
    target = _target(destination, export)
    refreshed = False
    if _is_expired(export, now(), expiry_margin):
        export, refreshed = _refresh(client, export.id, refresh_timeout), True
    storage = http if http is not None else httpx.Client(timeout=httpx.Timeout(60.0), follow_redirects=True)
    _check_storage_client(storage, client)
    try:
        status = _stream(storage, export.download_url, target, chunk_size)
        if status in EXPIRED_LINK_STATUSES and not refreshed:
            export = _refresh(client, export.id, refresh_timeout)
            status = _stream(storage, export.download_url, target, chunk_size)
    finally:
        if http is None:
            storage.close()
    if status is not None:
        url = redact_url(export.download_url)
        raise DownloadError(f"download of {url} failed: HTTP {status}", url=url, status_code=status)
    return target
