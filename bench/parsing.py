"""Part 1, client parsing: bytes to a typed model for a 1:1:1 mix of the status variants.

The client is timed through ``get_questionnaire_export._build_response`` on prebuilt ``httpx.Response``
objects (the path ``sync_detailed`` takes after the network), against ``json.loads`` alone (the floor),
a pydantic v2 discriminated union (``validate_json``) and msgspec tagged structs, all built from the spec.
Rejection is timed on bodies that break the spec in three ways per variant.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pydantic
from questionnaire_exports_client import _validation, models
from questionnaire_exports_client.api.exports import get_questionnaire_export
from questionnaire_exports_client.client import Client
from questionnaire_exports_client.errors import ResponseValidationError

from contract import discriminator

from . import bodies, spec_models
from .scale import Scale
from .table import Row, Target, measured_row
from .timing import compare, human_ns

ROWS = (
    "1 client parse vs pydantic v2",
    "1 client parse vs json.loads (floor)",
    "1 client parse vs msgspec",
    "1 client json.loads+dispatch vs pydantic v2",
    "1 client reject vs client accept",
    "1 pydantic reject vs pydantic accept",
)
CLIENT_TARGET = Target("<=", 2.0)
REJECT_TARGET = Target("<=", 1.0)

_CLIENT = Client(base_url="http://bench.invalid")


def _responses(items: Sequence[bodies.Body]) -> list[httpx.Response]:
    return [httpx.Response(200, content=b.raw, headers={"content-type": "application/json"}) for b in items]


def client_parse(response: httpx.Response) -> object:
    """The generated client's parse path for one 200 response."""
    return get_questionnaire_export._build_response(client=_CLIENT, response=response).parsed


def _dispatch_table() -> dict[str, Callable[[Any], object]]:
    """``{status: generated Model.from_dict}``, the table the generated union parser renders."""
    _, mapping = discriminator()
    return {status: getattr(models, name).from_dict for status, name in mapping.items()}


def client_dispatch(raw: bytes, tag: str, table: dict[str, Callable[[Any], object]]) -> object:
    """``json.loads`` then ``_validation.dispatch`` to the generated ``from_dict``: no httpx wrapper."""
    return _validation.dispatch(json.loads(raw), tag, table)


def _rejects(fn: Callable[[Any], object], item: Any, label: str, errors: tuple[type[Exception], ...]) -> None:
    try:
        fn(item)
    except errors:
        return
    raise AssertionError(f"{label} was accepted; the comparison would not be fair")


def _loop(fn: Callable[[Any], object], items: Sequence[Any], rounds: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(rounds):
            for item in items:
                fn(item)

    return run


def _loop_rejecting(
    fn: Callable[[Any], object], items: Sequence[Any], rounds: int, errors: tuple[type[Exception], ...]
) -> Callable[[], None]:
    def run() -> None:
        for _ in range(rounds):
            for item in items:
                try:  # noqa: SIM105 (contextlib.suppress would add its own cost to what is timed)
                    fn(item)
                except errors:
                    pass

    return run


def run(scale: Scale) -> list[Row]:
    valid, invalid = bodies.valid_bodies(), bodies.invalid_bodies()
    pydantic_adapter = spec_models.pydantic_union()
    msgspec_decode = spec_models.msgspec_decoder()
    ok_responses, bad_responses = _responses(valid), _responses(invalid)
    raw_valid, raw_invalid = [b.raw for b in valid], [b.raw for b in invalid]
    pydantic_errors: tuple[type[Exception], ...] = (pydantic.ValidationError,)
    client_errors: tuple[type[Exception], ...] = (ResponseValidationError,)
    for body, response in zip(invalid, bad_responses, strict=True):
        _rejects(client_parse, response, f"client: {body.label}", client_errors)
        _rejects(pydantic_adapter.validate_json, body.raw, f"pydantic: {body.label}", pydantic_errors)
    for body, response in zip(valid, ok_responses, strict=True):
        expected = type(pydantic_adapter.validate_json(body.raw)).__name__
        actual = type(client_parse(response)).__name__
        if actual != expected:
            raise AssertionError(f"{body.label}: client gave {actual}, pydantic {expected}")
    rounds = scale.parse_rounds
    per_valid = rounds * len(valid)
    per_invalid = rounds * len(invalid)
    accept = compare(
        {
            "json": _loop(json.loads, raw_valid, rounds),
            "client": _loop(client_parse, ok_responses, rounds),
            "dispatch": _loop(
                functools.partial(client_dispatch, tag=discriminator()[0], table=_dispatch_table()),
                raw_valid,
                rounds,
            ),
            "pydantic": _loop(pydantic_adapter.validate_json, raw_valid, rounds),
            "msgspec": _loop(msgspec_decode, raw_valid, rounds),
        },
        number=1,
        repeats=scale.repeats,
        budget_s=scale.budget_s,
    )
    reject = compare(
        {
            "client": _loop_rejecting(client_parse, bad_responses, rounds, client_errors),
            "pydantic": _loop_rejecting(pydantic_adapter.validate_json, raw_invalid, rounds, pydantic_errors),
        },
        number=1,
        repeats=scale.repeats,
        budget_s=scale.budget_s,
    )
    # Best repeat per body: micro-benchmarks are CPU-bound, so the least disturbed repeat is the truest.
    ok = {name: t.best_ns / per_valid for name, t in accept.items()}
    bad = {name: t.best_ns / per_invalid for name, t in reject.items()}

    def show(ns: float) -> str:
        return f"{human_ns(ns)}/body"

    return [
        measured_row(ROWS[0], ok["client"], ok["pydantic"], show, CLIENT_TARGET),
        measured_row(ROWS[1], ok["client"], ok["json"], show, None),
        measured_row(ROWS[2], ok["client"], ok["msgspec"], show, None),
        measured_row(ROWS[3], ok["dispatch"], ok["pydantic"], show, None),
        measured_row(ROWS[4], bad["client"], ok["client"], show, REJECT_TARGET),
        measured_row(ROWS[5], bad["pydantic"], ok["pydantic"], show, None),
    ]
