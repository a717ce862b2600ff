"""The docs' tables follow the code: rule ids (README and docs), the Schemathesis check -> rule mapping, options.

Why a test and not generated docs: the tables carry prose a generator could not write; what must not drift
(which ids, which checks map where, which options exist) is read back from the docs and compared here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis.checks

from conformance.cli import build_parser
from conformance.rules import RULES, WEBHOOK_RULE
from conformance.st_engine import rule_for

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "conformance.md"
README = ROOT / "README.md"
_TABLE_ROW = re.compile(r"^\| `([a-z-]+)` \| .* \| passed / failed / not-exercised \|$", re.M)


@pytest.mark.parametrize("doc", [README, DOCS], ids=lambda p: p.name)
def test_rules_table_lists_every_rule_in_report_order(doc: Path) -> None:
    documented = _TABLE_ROW.findall(doc.read_text(encoding="utf-8"))
    assert documented == [rule.id for rule in (*RULES, WEBHOOK_RULE)]


def _documented_mapping(text: str) -> tuple[dict[str, tuple[str, str, str]], str]:
    """``{check: (rule when the status matches, the condition, rule otherwise)}`` and the default rule."""
    start = text.index("Schemathesis checks map as:")
    sentence = " ".join(text[start : text.index("\n\n", start)].split())
    mapping: dict[str, tuple[str, str, str]] = {}
    default = ""
    for part in sentence.removeprefix("Schemathesis checks map as:").rstrip(".").split(";"):
        found = re.fullmatch(r"\s*(.+?) -> `([a-z-]+)`(?: for (a 2xx|4xx/5xx), else `([a-z-]+)`)?\s*", part)
        assert found, f"cannot read {part!r}"
        names, rule, condition, other = found.groups()
        if names.strip() == "everything else":
            default = rule
            continue
        for name in re.findall(r"`(\w+)`", names):
            mapping[name] = (rule, condition or "", other or rule)
    return mapping, default


def _expected(mapping: dict[str, tuple[str, str, str]], default: str, check: str, status: int) -> str:
    if check not in mapping:
        return default
    rule, condition, other = mapping[check]
    matches = {"a 2xx": status < 300, "4xx/5xx": status >= 400, "": True}[condition]
    return rule if matches else other


def test_schemathesis_mapping_in_the_docs_is_the_code() -> None:
    """Every check the installed Schemathesis has maps, for a 2xx and for a 4xx, to the rule the docs say."""
    mapping, default = _documented_mapping(DOCS.read_text(encoding="utf-8"))
    schemathesis.checks.load_all_checks()
    checks = schemathesis.checks.CHECKS.get_all_names()
    assert set(mapping) <= set(checks), set(mapping) - set(checks)
    wrong = [
        f"{check} (HTTP {status}): docs say {_expected(mapping, default, check, status)}, code {rule_for(check, status)}"
        for check in checks
        for status in (200, 404)
        if _expected(mapping, default, check, status) != rule_for(check, status)
    ]
    assert wrong == []


def _options(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    choices: dict[str, object] = sub.choices  # type: ignore[assignment]
    chosen = choices[command]
    return {s for a in chosen._actions for s in a.option_strings if s.startswith("--") and s != "--help"}  # type: ignore[attr-defined]


def test_every_run_option_is_documented_and_every_documented_option_exists() -> None:
    text = DOCS.read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`", text)
    mentioned = {option for span in spans for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", span)}
    run, webhooks, traffic = _options("run"), _options("webhooks"), _options("check-traffic")
    proxy = _options("proxy")
    assert run - mentioned == set(), "run options missing from docs/conformance.md"
    assert webhooks - mentioned == set(), "webhooks options missing from docs/conformance.md"
    assert traffic - mentioned == set(), "check-traffic options missing from docs/conformance.md"
    assert proxy - mentioned == set(), "proxy options missing from docs/conformance.md"
    assert mentioned - run - webhooks - traffic - proxy == set(), (
        "docs/conformance.md names options the CLI does not have"
    )


def test_the_options_table_rows_are_run_options() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("| option | default |") :].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(--[a-z-]+)", table, re.M)
    assert rows and set(rows) <= _options("run")
