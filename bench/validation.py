"""Part 2, response validation: the suite's per-response rule evaluation against its alternatives.

Rule evaluation is ``conformance.context.Context.observe`` on real responses of the reference server
(one per status; validators compiled once, as in a run): the schema rule (``check_schema``: the
jsonschema-rs fast path ``contract.is_valid_fast``, Python ``jsonschema`` only to explain a failure),
the client parse and the time rule. Baseline: one keep-alive GET to the same server as shipped (median
of single requests, server in its own process). The last row compares the two validators on the same
union schema: Python ``jsonschema`` (the explaining path) vs ``contract.is_valid_fast`` (best of
interleaved repeats).
"""

from __future__ import annotations

import json
import statistics

import contract
from conformance import check_schema
from contract import is_valid_fast, schema_validator

from . import servers
from .scale import Scale
from .suite_harness import live_suite
from .table import Row, Target, measured_row
from .timing import compare, human_ns, latencies

ROWS = (
    "2 rule evaluation vs loopback GET",
    "2 schema rule alone vs loopback GET",
    "2 jsonschema (Python) vs jsonschema-rs",
)
RULES_TARGET = Target("<=", 0.05)
UNION = "/components/schemas/QuestionnaireExport"


def run(scale: Scale, token: str) -> list[Row]:
    with live_suite(token) as (suite, bare):
        sents = [suite.suite_get(export_id) for export_id in suite.exports.ids.values()]
        if suite.findings():
            raise RuntimeError(f"the suite flags the reference server: {suite.findings()[:3]}")
        bodies = [json.loads(sent.response.content) for sent in sents]
        statuses = sorted(str(body.get("status")) for body in bodies)
        path = servers.export_path(suite.exports.ids["completed"])
        get_ns = statistics.median(
            latencies(
                lambda: bare.get(path).raise_for_status(), count=scale.requests, budget_s=scale.budget_s
            )
        )
        observe, schema_rule = suite.context.observe, check_schema.check_response

        def rules() -> None:
            for sent in sents:
                observe(contract.GET_OP, sent)

        def schema_only() -> None:
            for sent in sents:
                schema_rule(contract.GET_OP, sent.status, sent.media_type, sent.response.content)

        python_union = schema_validator(UNION)
        for body in bodies:
            if list(python_union.iter_errors(body)) or not is_valid_fast(UNION, body):
                raise RuntimeError("a reference-server body fails the union schema")

        def python_schema() -> None:
            for body in bodies:
                list(python_union.iter_errors(body))

        def rust_schema() -> None:
            for body in bodies:
                is_valid_fast(UNION, body)

        times = compare(
            {"rules": rules, "schema": schema_only, "python": python_schema, "rust": rust_schema},
            number=max(1, scale.parse_rounds // 10),
            repeats=scale.repeats,
            budget_s=scale.budget_s,
        )
        if suite.findings():
            raise RuntimeError(f"the suite flagged a response while timed: {suite.findings()[:3]}")
    per = {name: t.best_ns / len(sents) for name, t in times.items()}
    mix = "/".join(statuses)

    def show(ns: float) -> str:
        return f"{human_ns(ns)}/resp"

    return [
        measured_row(ROWS[0], per["rules"], get_ns, show, RULES_TARGET),
        measured_row(ROWS[1], per["schema"], get_ns, show, None),
        measured_row(ROWS[2], per["python"], per["rust"], lambda ns: f"{show(ns)} ({mix})", None),
    ]
