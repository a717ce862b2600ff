"""Downloading a completed export's file: streamed, atomic, and refreshed once when the link expired."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import unquote, urlsplit

import httpx

from .._transport import kind_of
from ..client import AuthenticatedClient, Client
from ..models import ExportCompleted, ExportFailed
from ..redact import redact_url, scrub
from .errors import DownloadError
from .redact import hidden_from_logs
from .waiting import wait_for_export, wait_for_export_async

#: Storage statuses that mean "this link no longer works" (S3 and GCS answer 403 for an expired signature).
EXPIRED_LINK_STATUSES = frozenset({403})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")
#: Errors httpx raises, outside its own tree, for a URL it cannot fetch (``http://[::1``, a bad IDNA label).
_BAD_URL_ERRORS = (httpx.InvalidURL, ValueError, UnicodeError)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _is_expired(export: ExportCompleted, now: datetime.datetime, margin: float) -> bool:
    expires = export.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=datetime.UTC)
    # The difference of two datetimes always fits a timedelta; ``expires - margin`` may not (year 1).
    return (expires - now).total_seconds() <= margin


def _file_name(export: ExportCompleted) -> str:
    """A safe file name: the URL's last path segment when it has a suffix, else one built from the id."""
    try:
        name = unquote(PurePosixPath(urlsplit(export.download_url).path).name)
    except ValueError:
        name = ""
    name = _SAFE_NAME.sub("_", name).lstrip(".")
    if name and PurePosixPath(name).suffix:
        return name
    stem = _SAFE_NAME.sub("_", export.id).lstrip(".")[:100] or "export"
    return f"{stem}.csv" if export.format_ == "csv" else stem


def _target(destination: str | os.PathLike[str], export: ExportCompleted) -> Path:
    """The file to write; ``TypeError`` when ``destination`` is no path (a caller's mistake)."""
    path = Path(destination)
    if path.is_dir():
        path = path / _file_name(export)
    if not path.parent.is_dir():
        raise DownloadError(f"destination folder {path.parent} does not exist", url="", kind="destination")
    return path


def _check_storage_client(
    storage: httpx.Client | httpx.AsyncClient, client: AuthenticatedClient | Client
) -> None:
    """Refuse a storage client that would send the API token to the storage host.

    The token counts as present when a header value is the token or contains it as a whole word (``Bearer
    <token>``); a short token that merely occurs inside another value (``t`` in ``python-httpx``) does not.
    A storage client with an ``auth`` (``ClientCredentials`` on a plain ``Client``) would send one too.
    """
    headers = storage.headers
    token = client.token if isinstance(client, AuthenticatedClient) else None
    leaks = (
        storage.auth is not None
        or "authorization" in headers
        or (token is not None and any(token in re.split(r"[\s,;]+", value) for value in headers.values()))
    )
    if leaks:
        raise ValueError("the storage client must not carry the API token or an Authorization header")


def _check_length(response: httpx.Response, written: int, url: str) -> None:
    # Content-Length counts the bytes on the wire, which differ from the decoded ones when compressed.
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    received = written if encoding in ("", "identity") else response.num_bytes_downloaded
    declared = response.headers.get("content-length", "").strip()
    if _CONTENT_LENGTH.fullmatch(declared) is not None and int(declared) != received:
        raise DownloadError(
            f"download of {redact_url(url)} stopped after {received} of {declared} bytes",
            url=redact_url(url),
            status_code=200,
        )


class _Part:
    """A temporary file beside the target (same file system, so the rename is atomic), removed unless kept."""

    def __init__(self, target: Path) -> None:
        self.target = target
        try:
            self.handle: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in finish/discard)
                dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
            )
        except OSError as exc:
            raise DownloadError(
                f"cannot write to {target.parent}: {exc.strerror or type(exc).__name__}",
                url="",
                kind="destination",
            ) from None
        self.path = Path(self.handle.name)

    def keep(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.path, self.target)

    def discard(self) -> None:
        self.handle.close()
        self.path.unlink(missing_ok=True)


def _failure(url: str, exc: BaseException) -> DownloadError:
    if isinstance(exc, httpx.HTTPError):
        kind = kind_of(exc)
        text = f"{kind}: {type(exc).__name__}: {exc}"
    elif isinstance(exc, OSError):
        kind, text = "destination", f"cannot write the file: {exc.strerror or type(exc).__name__}"
    else:
        kind, text = "url", f"the link cannot be fetched ({type(exc).__name__})"
    message = scrub(f"download of {redact_url(url)} failed: {text}", url)
    return DownloadError(message[:500], url=redact_url(url), kind=kind)


@contextlib.contextmanager
def _guarded(url: str) -> Iterator[None]:
    """Every error of one storage request, as ``DownloadError``; the link's signature never shows."""
    try:
        yield
    except DownloadError:
        raise
    except (httpx.HTTPError, OSError, *_BAD_URL_ERRORS) as exc:
        raise _failure(url, exc) from None


def _stream(http: httpx.Client, url: str, target: Path, chunk_size: int) -> int | None:
    """Download ``url`` into ``target`` atomically; return the status if it is not 200."""
    part: _Part | None = _Part(target)
    try:
        with _guarded(url), hidden_from_logs(url), http.stream("GET", url) as response:
            if response.status_code != 200:
                return response.status_code
            written = 0
            for chunk in response.iter_bytes(chunk_size):
                assert part is not None
                part.handle.write(chunk)
                written += len(chunk)
            _check_length(response, written, url)
            assert part is not None
            part.keep()
            part = None
        return None
    finally:
        if part is not None:
            part.discard()


async def _stream_async(http: httpx.AsyncClient, url: str, target: Path, chunk_size: int) -> int | None:
    """The async twin of ``_stream`` (file writes are small and stay synchronous)."""
    part: _Part | None = _Part(target)
    try:
        with _guarded(url), hidden_from_logs(url):
            async with http.stream("GET", url) as response:
                if response.status_code != 200:
                    return response.status_code
                written = 0
                async for chunk in response.aiter_bytes(chunk_size):
                    assert part is not None
                    part.handle.write(chunk)
                    written += len(chunk)
                _check_length(response, written, url)
                assert part is not None
                part.keep()
                part = None
        return None
    finally:
        if part is not None:
            part.discard()


def _fresh(export: ExportCompleted | ExportFailed, export_id: str) -> ExportCompleted:
    if not isinstance(export, ExportCompleted):
        raise DownloadError(f"export {export_id} is {export.status}; nothing to download", url="")
    return export


def _first_target(export: object, destination: str | os.PathLike[str]) -> tuple[ExportCompleted, Path]:
    if isinstance(export, ExportFailed):
        raise DownloadError(f"export {export.id} failed: {export.error_message}", url="")
    if not isinstance(export, ExportCompleted):
        raise TypeError(f"download_export needs an ExportCompleted, got {type(export).__name__}")
    return export, _target(destination, export)


def _http_failure(export: ExportCompleted, status: int) -> DownloadError:
    url = redact_url(export.download_url)
    return DownloadError(f"download of {url} failed: HTTP {status}", url=url, status_code=status)


#: The storage client made when none is given: generous, since files may be large, and redirects followed.
_STORAGE_TIMEOUT = httpx.Timeout(60.0)


def download_export(
    client: AuthenticatedClient | Client,
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
    ``errorMessage``.

    Raises ``DownloadError`` for anything the storage or the link does (no answer: ``.kind``; an HTTP
    error: ``.status_code``; a link no client can fetch: ``kind="url"``) and for a destination that cannot be
    written (``kind="destination"``), and the waiting helpers' errors while refreshing the link. Its message
    never contains the link's query string. Caller mistakes stay Python's: ``TypeError`` for an export
    that is no ``ExportCompleted``/``ExportFailed`` or a destination that is no path, ``ValueError`` for an
    ``http`` client that carries the API token.
    """
    export, target = _first_target(export, destination)
    refreshed = False
    if _is_expired(export, now(), expiry_margin):
        export = _fresh(wait_for_export(client, export.id, timeout=refresh_timeout), export.id)
        refreshed = True
    storage = http if http is not None else httpx.Client(timeout=_STORAGE_TIMEOUT, follow_redirects=True)
    try:
        _check_storage_client(storage, client)
        status = _stream(storage, export.download_url, target, chunk_size)
        if status in EXPIRED_LINK_STATUSES and not refreshed:
            export = _fresh(wait_for_export(client, export.id, timeout=refresh_timeout), export.id)
            status = _stream(storage, export.download_url, target, chunk_size)
    finally:
        if http is None:
            storage.close()
    if status is not None:
        raise _http_failure(export, status)
    return target


async def download_export_async(
    client: AuthenticatedClient | Client,
    export: ExportCompleted | ExportFailed,
    destination: str | os.PathLike[str],
    *,
    http: httpx.AsyncClient | None = None,
    now: Callable[[], datetime.datetime] = _utcnow,
    expiry_margin: float = 30.0,
    refresh_timeout: float = 60.0,
    chunk_size: int = 64 * 1024,
) -> Path:
    """The async twin of ``download_export``; ``http`` is an ``httpx.AsyncClient`` without credentials."""
    export, target = _first_target(export, destination)
    refreshed = False
    if _is_expired(export, now(), expiry_margin):
        fresh = await wait_for_export_async(client, export.id, timeout=refresh_timeout)
        export, refreshed = _fresh(fresh, export.id), True
    storage = http if http is not None else httpx.AsyncClient(timeout=_STORAGE_TIMEOUT, follow_redirects=True)
    try:
        _check_storage_client(storage, client)
        status = await _stream_async(storage, export.download_url, target, chunk_size)
        if status in EXPIRED_LINK_STATUSES and not refreshed:
            fresh = await wait_for_export_async(client, export.id, timeout=refresh_timeout)
            export = _fresh(fresh, export.id)
            status = await _stream_async(storage, export.download_url, target, chunk_size)
    finally:
        if http is None:
            await storage.aclose()
    if status is not None:
        raise _http_failure(export, status)
    return target
