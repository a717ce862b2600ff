"""Smoke test of ``make bench``: a tiny bounded run of every part prints every row; no timing is asserted.

Why no timings: the machine is shared and noisy; the bench reports ratios for people to read, and
this test only proves that every benchmark still runs, and that no secret reaches its output.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench.scale import QUICK
from bench.table import not_run
from contract import example_names, example_value

TOKEN = "bench-smoke-secret-token-7f3a9c"


def _signatures() -> list[str]:
    """The query strings (signatures) of every pre-signed link among the spec's examples."""
    out = []
    for name in example_names():
        value = example_value(name)
        if isinstance(value, dict) and "?" in str(value.get("downloadUrl", "")):
            out.append(str(value["downloadUrl"]).split("?", 1)[1])
    return out


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, object]]]:
    report = tmp_path_factory.mktemp("bench") / "rows.json"
    out = io.StringIO()
    assert bench_main.main(["--quick", "--json", str(report)], token=TOKEN, out=out) == 0
    return out.getvalue(), json.loads(report.read_text(encoding="utf-8"))


def test_every_row_is_printed_with_a_figure(quick_run: tuple[str, list[dict[str, object]]]) -> None:
    text, rows = quick_run
    expected = [name for names, _ in bench_main.PARTS.values() for name in names]
    assert [row["name"] for row in rows] == expected
    for name in expected:
        assert f"| {name} " in text
    not_run_rows = {row["name"]: row["measured"] for row in rows if row["ratio"] is None}
    assert not_run_rows == {}
    for row in rows:
        assert row["met"] in ({"yes", "no"} if row["target"] else {"n/a"}), row


def test_machine_line_and_legend(quick_run: tuple[str, list[dict[str, object]]]) -> None:
    text, _ = quick_run
    assert text.startswith("machine: nproc=")
    assert "Python 3.11" in text
    assert "best of interleaved repeats" in text


def test_no_secret_in_output(
    quick_run: tuple[str, list[dict[str, object]]], capfd: pytest.CaptureFixture[str]
) -> None:
    text, rows = quick_run
    everything = text + json.dumps(rows) + "".join(capfd.readouterr())
    assert TOKEN not in everything
    signatures = _signatures()
    assert signatures, "the spec's examples should include a pre-signed link"
    for signature in signatures:
        assert signature not in everything


def test_failing_part_prints_its_rows_as_not_run_without_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(scale: object, token: str) -> list[object]:
        raise RuntimeError(f"server refused Bearer {token}")

    monkeypatch.setitem(bench_main.PARTS, "9", (("9 a", "9 b"), broken))
    rows = bench_main.run_parts(["9"], QUICK, TOKEN, io.StringIO())
    assert [row.name for row in rows] == ["9 a", "9 b"]
    for row in rows:
        assert row.measured.startswith("not run: RuntimeError: server refused Bearer REDACTED")
        assert TOKEN not in row.measured
        assert row.met == "n/a"


def test_unknown_part_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench_main.main(["--parts", "1,42"], token=TOKEN)
    assert exit_info.value.code == 2
    assert "unknown part(s) 42" in capsys.readouterr().err


def test_not_run_row_shape() -> None:
    row = not_run("x", "dependency missing")
    assert row.cells() == ["x", "not run: dependency missing", "-", "-", "-", "n/a"]


def test_json_path_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        bench_main.PARTS, "1", (("1 only",), lambda scale, token: [not_run("1 only", "skipped")])
    )
    target = tmp_path / "rows.json"
    assert bench_main.main(["--parts", "1", "--json", str(target)], token=TOKEN, out=io.StringIO()) == 0
    assert json.loads(target.read_text(encoding="utf-8"))[0]["measured"] == "not run: skipped"
