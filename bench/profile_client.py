"""``python -m bench.profile_client``: where the generated client's parse time goes, step by step.

Why: part 1 measures the whole parse path; when it misses its target, this names the statements that
cost what (nanoseconds per body over the 1:1:1 mix, best of repeats), so a change to
``questionnaire_exports_client/_validation.py`` or the templates can be aimed and then checked with ``make bench``.
Each step includes the ones above it where the label says so; per-field rows are per call.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import timeit
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from questionnaire_exports_client import _validation, models
from questionnaire_exports_client.api.exports import get_questionnaire_export
from questionnaire_exports_client.types import Response

from contract import discriminator

from . import bodies, parsing, spec_models
from .timing import human_ns


def _best_ns(fn: Callable[[], object], number: int, repeats: int, per: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number / per * 1e9


def steps() -> list[tuple[str, Callable[[], object], int]]:
    """(label, callable, bodies or calls per callable) for every step of the parse path."""
    tag, mapping = discriminator()
    classes = [getattr(models, mapping[status]) for status in mapping]
    shapes = [sys.modules[cls.__module__]._SHAPE for cls in classes]
    valid = bodies.valid_bodies()
    raws = [b.raw for b in valid]
    datas = [json.loads(raw) for raw in raws]
    responses = parsing._responses(valid)
    table = {status: cls.from_dict for status, cls in zip(mapping, classes, strict=True)}
    n = len(raws)
    adapter = spec_models.pydantic_union()
    out: list[tuple[str, Callable[[], object], int]] = [
        (
            "pydantic validate_json(raw) (part 1's baseline, whole parse)",
            lambda: [adapter.validate_json(raw) for raw in raws],
            n,
        ),
        ("json.loads(raw)", lambda: [json.loads(raw) for raw in raws], n),
        ("response.json() (what _parse_response calls)", lambda: [r.json() for r in responses], n),
        (
            "_validation.check_object(_SHAPE, data)",
            lambda: [_validation.check_object(s, d) for s, d in zip(shapes, datas, strict=True)],
            n,
        ),
        (
            "Model.from_dict(data) (includes check_object)",
            lambda: [c.from_dict(d) for c, d in zip(classes, datas, strict=True)],
            n,
        ),
        (
            "_validation.dispatch(data) (includes from_dict)",
            lambda: [_validation.dispatch(d, tag, table) for d in datas],
            n,
        ),
        (
            "_parse_response(response) (includes json + dispatch)",
            lambda: [
                get_questionnaire_export._parse_response(client=parsing._CLIENT, response=r)
                for r in responses
            ],
            n,
        ),
        ("_build_response(response) (whole path)", lambda: [parsing.client_parse(r) for r in responses], n),
        (
            "HTTPStatus(...) + Response(...) wrapper alone",
            lambda: [
                Response(
                    status_code=HTTPStatus(r.status_code), content=r.content, headers=r.headers, parsed=None
                )
                for r in responses
            ],
            n,
        ),
    ]
    seen: set[str] = set()
    for shape, data in zip(shapes, datas, strict=True):
        for name, field in shape.fields.items():
            if field.kind in seen or name not in data:
                continue
            seen.add(field.kind)
            value: Any = data[name]
            out.append(
                (
                    f"_check_value({field.kind}) per field",
                    functools.partial(_validation._check_value, field, value),
                    1,
                )
            )
    sample = next(
        d[k] for s, d in zip(shapes, datas, strict=True) for k, f in s.fields.items() if f.kind == "date-time"
    )
    out.append(
        (
            "parse_datetime(value) per call (from_dict repeats it)",
            lambda: _validation.parse_datetime(sample),
            1,
        )
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_client", description=__doc__)
    parser.add_argument("--number", type=int, default=5000, help="calls per repeat (default 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the best is shown (default 5)")
    args = parser.parse_args(argv)
    if args.number < 1 or args.repeats < 1:
        parser.error("--number and --repeats must be >= 1")
    for label, fn, per in steps():
        print(f"{label:62s} {human_ns(_best_ns(fn, args.number, args.repeats, per)):>10s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
