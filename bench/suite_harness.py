"""A conformance-suite ``Context`` against a live server, built the way ``conformance.runner`` builds it.

Why: parts 2 and 3 time the suite's own per-request path (``Target.api`` then ``Context.observe``:
schema, client parse, time rules, findings recorded), not a re-implementation of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from questionnaire_exports_client.redact import Redactor

import contract
from conformance.config import RunConfig
from conformance.context import Context
from conformance.model import Tally
from conformance.transport import Sent, Target
from reference_server import seed

from . import servers

# Generous budgets: the benchmark bounds its own loops; the suite's budget must not stop it midway.
_BUDGET = 10**7


@dataclass
class Suite:
    """The live server, its three exports, a bare client and the suite's context."""

    base_url: str
    exports: servers.Exports
    context: Context

    @property
    def target(self) -> Target:
        return self.context.target

    def suite_get(self, export_id: str) -> Sent:
        """One GET through the suite: budget, rate limit, redacted reproduction, then every rule."""
        sent = self.target.api("schema", "GET", servers.export_path(export_id))
        self.context.observe(contract.GET_OP, sent)
        return sent

    def findings(self) -> list[str]:
        return [f"[{f.rule}] {f.message}" for r in self.context.tally.results() for f in r.findings]


@contextlib.contextmanager
def live_suite(token: str, *, export_delay: float = 1.0) -> Iterator[tuple[Suite, httpx.Client]]:
    """Start the reference server, create one export per status, yield the suite and a bare client."""
    with (
        servers.reference_server(token, export_delay=export_delay) as base_url,
        servers.api_client(base_url, token) as bare,
    ):
        exports = servers.create_exports(
            bare,
            succeeding=seed.SPREADSHEET_QUESTIONNAIRE_ID,
            failing=seed.FAILING_QUESTIONNAIRE_ID,
            export_delay=export_delay,
        )
        config = RunConfig(
            base_url=base_url,
            questionnaire_id=seed.SPREADSHEET_QUESTIONNAIRE_ID,
            token=token,
            profile="full",
            max_requests=_BUDGET,
            max_polls=_BUDGET,
            rate_limit=None,
        )
        redactor = Redactor([token])
        tally = Tally()
        target = Target(config, tally, redactor)
        context = Context(
            config=config, target=target, tally=tally, redactor=redactor, progress=lambda _: None
        )
        try:
            yield Suite(base_url, exports, context), bare
        finally:
            target.close()
