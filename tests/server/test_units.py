"""Small pieces in isolation: clocks, timestamps, rate-limit parsing, link signing, log redaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from questionnaire_exports_client.redact import redact_query

from reference_server import signing
from reference_server.clock import ManualClock, format_timestamp, from_millis, to_millis
from reference_server.config import RateLimit
from reference_server.ratelimit import RateLimiter
from reference_server.testing import running_server


def test_timestamps_are_utc_milliseconds_with_z() -> None:
    when = datetime(2025, 1, 8, 12, 0, 0, 7000, tzinfo=UTC)
    assert format_timestamp(to_millis(when)) == "2025-01-08T12:00:00.007Z"
    assert from_millis(to_millis(when)) == when
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(datetime(2025, 1, 8, tzinfo=UTC))
    assert clock.advance(hours=24) == datetime(2025, 1, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone"):
        ManualClock(datetime(2025, 1, 8))


@pytest.mark.parametrize("text", ["", "10", "0/60", "10/0", "ten/60", "10/-1"])
def test_bad_rate_limits_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit.parse(text)


def test_rate_limiter_counts_per_key_and_reports_the_wait() -> None:
    now = [100.0]
    limiter = RateLimiter(RateLimit(2, 10), monotonic=lambda: now[0])
    assert [limiter.hit("a"), limiter.hit("a"), limiter.hit("b")] == [None, None, None]
    now[0] += 2.5
    assert limiter.hit("a") == 8
    now[0] += 7.5
    assert limiter.hit("a") is None


def test_signed_links_check_name_expiry_and_secret() -> None:
    secret, name, expires = b"k" * 32, "abc.csv", 2_000_000_000
    good = signing.sign(secret, name, expires)
    assert signing.verify(secret, name, str(expires), good, expires - 1) == "valid"
    assert signing.verify(secret, name, str(expires), good, expires) == "expired"
    assert signing.verify(secret, "abd.csv", str(expires), good, 0) == "invalid"
    assert signing.verify(secret, name, str(expires + 1), good, 0) == "invalid"
    assert signing.verify(b"x" * 32, name, str(expires), good, 0) == "invalid"
    assert signing.verify(secret, name, "٣", good, 0) == "invalid"  # a non-ASCII digit
    assert signing.verify(secret, name, None, good, 0) == "invalid"


def test_redaction_keeps_other_parameters() -> None:
    assert redact_query("expires=5&signature=abc%2B") == "expires=5&signature=REDACTED"
    assert redact_query("Token=x&a=1") == "Token=REDACTED&a=1"
    assert redact_query("") == ""


def test_running_server_starts_repeatedly() -> None:
    for _ in range(3):
        with running_server(in_memory=True) as server:
            assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
            assert server.running
        assert not server.running


def test_served_media_types_are_ones_the_spec_allows() -> None:
    from contract import download_media_types
    from reference_server import exporter

    allowed = download_media_types()
    assert exporter.CSV_MEDIA_TYPE.split(";")[0] in allowed["csv"]
    assert exporter.XLSX_MEDIA_TYPE in allowed["original"]
    assert exporter.DOCX_MEDIA_TYPE in allowed["original"]
    assert exporter.DOCX_MEDIA_TYPE != exporter.XLSX_MEDIA_TYPE


def test_shutdown_is_bounded_when_a_task_ignores_cancellation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A stop must end even if an export job swallows its cancellation (the server never hangs on exit)."""
    import asyncio

    from reference_server import app as server_app
    from reference_server.config import ServerConfig

    monkeypatch.setattr(server_app, "_SHUTDOWN_STEP_S", 0.05)

    async def scenario() -> bool:
        runtime = server_app.Runtime(ServerConfig(tokens=("t",), in_memory=True))
        worker = runtime.ensure_started()
        release = asyncio.Event()

        async def stubborn() -> None:
            while not release.is_set():
                try:
                    await release.wait()
                except asyncio.CancelledError:
                    continue  # ignores cancellation until released

        task = asyncio.create_task(stubborn())
        worker._tasks["stubborn"] = task
        await asyncio.sleep(0)
        await runtime.shutdown()
        ended = task.done()
        release.set()
        await task
        return ended

    with caplog.at_level("WARNING", logger="reference_server.app"):
        assert asyncio.run(scenario()) is False  # shutdown returned although the task was still running
    assert "1 task(s) did not stop within" in caplog.text
