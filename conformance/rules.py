"""The rule catalogue: stable ids, one-line descriptions, outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_EXERCISED = "not-exercised"


@dataclass(frozen=True)
class Rule:
    id: str
    description: str


SCHEMA = "schema"
CLIENT = "client"
LIFECYCLE = "lifecycle"
TIME = "time"
LINK = "link"
ERRORS_AUTH = "errors-auth"
WEBHOOKS = "webhooks"

#: Rules checked by `conformance run`, in report order.
RULES: tuple[Rule, ...] = (
    Rule(
        SCHEMA,
        "Every response matches openapi.yaml (status variant chosen by the discriminator, formats checked)",
    ),
    Rule(CLIENT, "The generated client parses every 200/202 body into the class that `status` names"),
    Rule(
        LIFECYCLE,
        "create -> 202 pending -> poll -> terminal; format and id echoed; terminal states never change",
    ),
    Rule(TIME, "requestedAt <= completedAt/failedAt <= Date (+skew); expiresAt follows the expiry policy"),
    Rule(
        LINK,
        "downloadUrl is https (or loopback http), downloads without the API token, and never gets shorter-lived",
    ),
    Rule(
        ERRORS_AUTH,
        "unknown id -> 404, missing/wrong/expired token -> 401, invalid body -> 400, problem+json, never 5xx; "
        "token endpoint answers follow oauth-token.yaml, a wrong client secret -> 401 invalid_client",
    ),
)

#: The rule checked by `conformance webhooks`.
WEBHOOK_RULE = Rule(
    WEBHOOKS, "Deliveries carry a valid Svix signature, a payload matching the spec, and agree with GET"
)

RULE_IDS = frozenset(rule.id for rule in (*RULES, WEBHOOK_RULE))
