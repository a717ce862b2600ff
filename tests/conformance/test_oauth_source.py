"""The token source on an injected clock and sleep: refresh before expiry (reaching Schemathesis' requests
too), 429 waited out per Retry-After, the attempt and per-run caps; no real waiting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from questionnaire_exports_client.redact import Redactor

import contract
from conformance.config import OAuthConfig, RunConfig
from conformance.context import Context
from conformance.model import Tally
from conformance.oauth import MintedTokens
from conformance.oauth_checks import INVALID_CLIENT, expired_token
from conformance.transport import CannotRun, ReadOnlyRefused, Target, TokenUnavailable

from ..lib.conftest import FakeTime
from .fake_token import CLIENT_ID, CLIENT_SECRET, RunningTokens, TokenConfig, running_tokens


@dataclass
class Source:
    tokens: MintedTokens
    ctx: Context
    target: Target
    tally: Tally
    clock: FakeTime
    lines: list[str]


_TARGETS: list[Target] = []


@pytest.fixture(autouse=True)
def _close_targets() -> Iterator[None]:
    yield
    while _TARGETS:
        _TARGETS.pop().close()


def _source(server: RunningTokens, *, cap: int = 4) -> Source:
    oauth = OAuthConfig(CLIENT_ID, CLIENT_SECRET, token_url=server.token_url, max_token_requests=cap)
    config = RunConfig(base_url=server.base_url, questionnaire_id=None, token="", oauth=oauth, deadline=300)
    tally, redactor = Tally(), Redactor([CLIENT_SECRET])
    target = Target(config, tally, redactor)
    _TARGETS.append(target)
    lines: list[str] = []
    ctx = Context(config=config, target=target, tally=tally, redactor=redactor, progress=lines.append)
    clock = FakeTime()
    server.state.clock = clock.clock  # tokens expire on the same clock the source waits on
    tokens = MintedTokens(ctx, oauth, clock=clock.clock, sleep=clock.sleep)
    target.tokens = tokens
    return Source(tokens, ctx, target, tally, clock, lines)


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningTokens]:
    with running_tokens() as running:
        yield running


@pytest.fixture
def server(shared: RunningTokens) -> RunningTokens:
    return shared.reset(TokenConfig(lifetime=100))


def _get(source: Source, token: str) -> int:
    url = source.target.config.base_url + contract.operation_path(contract.GET_OP, id="conformance-unknown")
    headers = [(b"authorization", f"Bearer {token}".encode())]
    return source.target.engine_send("GET", url, headers, None).status


def test_refreshes_a_margin_before_expiry_and_schemathesis_gets_the_new_token(server: RunningTokens) -> None:
    source = _source(server)
    source.tokens.start()
    first = source.tokens.current()
    source.clock.now += 89.9  # lifetime 100, margin min(60 s, a tenth): refresh from 90 s on
    assert source.tokens.current() == first and server.state.requests == 1
    source.clock.now += 0.1
    second = source.tokens.current()
    assert second != first and server.state.requests == 2
    assert first in server.state.revoked  # the fake revoked it: a request carrying it would answer 401
    assert _get(source, first) == 404  # the engine's stale token of ours was swapped for the current one
    assert _get(source, "someone-elses-token-123") == 401  # any other token is sent as it is


def test_a_429_is_waited_out_per_retry_after(server: RunningTokens) -> None:
    server.state.config.rate_limited, server.state.config.retry_after = 2, "7"
    source = _source(server)
    source.tokens.start()
    assert source.clock.sleeps == [7.0, 7.0]
    assert server.state.requests == 3
    assert source.tally.requests["errors-auth"] == 3  # every token request is in the budget


def test_a_429_without_retry_after_backs_off_and_is_a_finding(server: RunningTokens) -> None:
    server.state.config.rate_limited, server.state.config.retry_after = 1, None
    source = _source(server)
    source.tokens.start()
    assert len(source.clock.sleeps) == 1 and 1.0 <= source.clock.sleeps[0] <= 30.0
    messages = [f.message for r in source.tally.results() for f in r.findings]
    assert messages == ["token endpoint 429: missing the required header retry-after"]


def test_a_429_that_goes_on_stops_after_three_attempts(server: RunningTokens) -> None:
    server.state.config.rate_limited, server.state.config.retry_after = 10, "1"
    source = _source(server)
    with pytest.raises(CannotRun, match=r"kept answering 429 \(rate limited, Retry-After 1 s\) after 3"):
        source.tokens.start()
    assert server.state.requests == 3 and source.clock.sleeps == [1.0, 1.0]


def test_the_per_run_cap_stops_the_run_instead_of_looping(server: RunningTokens) -> None:
    source = _source(server, cap=2)
    source.tokens.start()
    source.clock.now += 90
    source.tokens.current()
    source.clock.now += 90
    with pytest.raises(TokenUnavailable, match="cap of 2 token requests"):
        source.tokens.current()
    assert server.state.requests == 2


def test_the_up_front_line_names_client_and_url_and_never_the_secret(server: RunningTokens) -> None:
    source = _source(server)
    source.tokens.start()
    assert len(source.lines) == 1
    assert CLIENT_ID in source.lines[0] and server.token_url in source.lines[0]
    assert CLIENT_SECRET not in source.lines[0]


def test_the_wrong_secret_code_is_one_the_document_has() -> None:
    assert INVALID_CLIENT in contract.token_error_codes()


def _findings(source: Source) -> list[str]:
    return [f.message for r in source.tally.results() for f in r.findings]


@pytest.mark.parametrize("enforced", [True, False], ids=["expired-answers-401", "expired-still-works"])
def test_the_expired_token_check_waits_the_token_out_then_expects_401(
    server: RunningTokens, enforced: bool
) -> None:
    server.state.config.expiry_enforced = enforced
    source = _source(server)
    source.tokens.start()
    source.clock.now += 30
    expired_token(source.ctx, source.tokens)
    assert source.clock.sleeps == [70.0 + source.ctx.config.clock_skew]  # the rest of its 100 s, + skew
    assert source.tokens.held and server.state.requests == 1  # no refresh while it waited
    assert _findings(source) == ([] if enforced else ["GET with an expired token answered 404, expected 401"])
    assert source.tally.results()[-1].outcome.value == ("passed" if enforced else "failed")


def test_the_expired_token_check_is_not_exercised_when_it_cannot_fit(server: RunningTokens) -> None:
    server.state.config.lifetime = 3600
    source = _source(server)
    source.tokens.start()
    expired_token(source.ctx, source.tokens)
    assert source.clock.sleeps == [] and server.state.requests == 1
    (note,) = source.tally.notes
    assert re.fullmatch(
        r"expired-token check not exercised: tokens last 3600 s, longer than the run's remaining \d+ s deadline",
        note,
    )


def test_a_token_request_is_allowed_under_read_only_while_api_writes_are_not(server: RunningTokens) -> None:
    source = _source(server)
    source.target.config.read_only = True
    source.tokens.start()  # POST /oauth/token: to the token endpoint, not the API
    assert server.state.requests == 1
    with pytest.raises(ReadOnlyRefused):
        source.target.api("lifecycle", "POST", contract.operations()[contract.CREATE_OP].path, json_body={})
