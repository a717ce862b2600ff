"""One redaction module with one placeholder: ``questionnaire_exports_client.redact``.

The client's messages, the helpers' log filter, the server's access log and the suite's reports all hide
secrets through it; a second placeholder (``<redacted>``, an ellipsis) or a second redaction routine would
drift from it.
"""

from __future__ import annotations

import ast

from questionnaire_exports_client import redact

from ._scan import ROOT, hand_written, relative

HOME = "generated_client/questionnaire_exports_client/redact.py"
PLACEHOLDERS = {redact.REDACTED, "<redacted>", "[redacted]", "…", "***"}


def _placeholder_literals(tree: ast.AST) -> list[int]:
    """Lines of string literals that are (or end a URL with) a redaction placeholder."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if text in PLACEHOLDERS or text.lstrip("?") in PLACEHOLDERS:
                lines.append(node.lineno)
    return lines


def test_no_placeholder_outside_the_redaction_module() -> None:
    found = []
    for path in hand_written():
        rel = relative(path)
        if rel == HOME or rel.startswith("tests/"):
            continue  # tests assert what the output looks like
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{rel}:{line}" for line in _placeholder_literals(tree)]
    assert found == [], f"redaction placeholders outside {HOME}: {found}"


def test_the_scan_sees_a_second_placeholder() -> None:
    assert _placeholder_literals(ast.parse('HIDDEN = "<redacted>"\nurl = base + "?…"')) == [1, 2]
    assert _placeholder_literals(ast.parse('text = "redacted elsewhere"')) == []


def test_every_layer_redacts_with_the_same_placeholder() -> None:
    url = "https://storage.example.com/x.csv?expires=1&signature=abc"
    assert redact.redact_url(url) == "https://storage.example.com/x.csv?REDACTED"
    assert redact.redact_query("expires=1&signature=abc") == "expires=1&signature=REDACTED"
    assert redact.Redactor(["secret-token-1"]).text(f"Bearer secret-token-1 {url}") == (
        "Bearer REDACTED https://storage.example.com/x.csv?REDACTED"
    )
    assert (ROOT / HOME).is_file()
