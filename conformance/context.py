"""The state one run shares between rules, and `observe`, which every API answer passes through.

Why a single `observe`: "every response validated" and "every 200/202 body through the client" hold only
if no rule can bypass them. `Rules` is the part that needs no live target, so recorded and proxied traffic
(`conformance.traffic`) is judged by the same code as `run`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from questionnaire_exports_client.redact import Redactor

import contract
from contract import discriminator

from . import check_client, check_schema, check_time
from .config import RunConfig
from .model import Tally
from .rules import CLIENT, ERRORS_AUTH, SCHEMA, TIME
from .transport import Sent, Target

Progress = Callable[[str], None]


class RuleConfig(Protocol):
    """What the per-response and link rules read from a configuration (a run's or a traffic check's)."""

    @property
    def clock_skew(self) -> float: ...

    @property
    def expiry_policy(self) -> str: ...

    @property
    def link_lifetime_hours(self) -> float: ...

    @property
    def plain_http_loopback(self) -> bool: ...


@dataclass
class Rules:
    """The rules' shared state without a target: enough to judge answers someone else received."""

    config: RuleConfig
    tally: Tally
    redactor: Redactor
    progress: Progress

    def fail(self, rule: str, operation_id: str, message: str, sent: Sent | None) -> None:
        operation = (
            contract.operations()[operation_id].label
            if operation_id in contract.operations()
            else operation_id
        )
        message = self.redactor.text(message)
        if self.tally.fail(rule, operation, message, sent.exchange if sent else None):
            self.progress(f"  FAIL [{rule}] {operation}: {message}")

    def observe(self, operation_id: str, sent: Sent) -> None:
        """Schema, server-error, client and time checks for one API answer; coverage recorded."""
        with self.tally.lock:
            self.tally.responses[(operation_id, str(sent.status))] += 1
        if sent.cut:  # the transport already reported the cut answer; a part of a body proves nothing
            return
        if contract.media_types(operation_id, sent.status) is not None:  # a documented status: judged here
            self.tally.exercise(SCHEMA)
        for message in check_schema.check_response(
            operation_id, sent.status, sent.media_type, sent.response.content
        ):
            self.fail(SCHEMA, operation_id, message, sent)
        if sent.status >= 500:
            self.fail(ERRORS_AUTH, operation_id, f"server error {sent.status}", sent)
        if sent.status not in (200, 202):
            return
        body = sent.json()
        prop, mapping = discriminator()
        if isinstance(body, dict):
            with self.tally.lock:
                if isinstance(body.get(prop), str) and body[prop] in mapping:
                    self.tally.variants[str(body[prop])] += 1
                if body.get("format") in contract.enum_values("ExportFormat"):
                    self.tally.formats[str(body["format"])] += 1
        self.tally.exercise(CLIENT)
        for message in check_client.check_body(operation_id, sent.response, body):
            self.fail(CLIENT, operation_id, message, sent)
        self.tally.exercise(TIME)
        config = self.config
        for message in check_time.check_times(
            body,
            sent.date(),
            skew=config.clock_skew,
            policy=config.expiry_policy,
            lifetime=timedelta(hours=config.link_lifetime_hours),
        ):
            self.fail(TIME, operation_id, message, sent)


@dataclass
class Context(Rules):
    """A run's state: the rules plus the live target the suite's own steps send through."""

    config: RunConfig
    target: Target
    exports_created: int = 0
    created_ids: list[str] = field(default_factory=list)
