"""The public names of the package, its errors and its helpers (as httpx tests its ``__all__``).

A name added or removed is an API change: this test makes it deliberate. Every exception class exported
anywhere derives from ``QuestionnaireExportsError`` and appears in README's exception table.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import questionnaire_exports_client as package
from questionnaire_exports_client import errors, lib

README = Path(__file__).resolve().parents[2] / "README.md"


def test_package_all() -> None:
    assert set(package.__all__) == {
        "AuthenticatedClient",
        "Client",
        "QuestionnaireExportsError",
        "ResponseValidationError",
        "TRANSPORT_ERROR_KINDS",
        "TransportError",
        "UnexpectedStatus",
    }


def test_errors_all() -> None:
    assert set(errors.__all__) == {
        "QuestionnaireExportsError",
        "ResponseValidationError",
        "TRANSPORT_ERROR_KINDS",
        "TransportError",
        "UnexpectedStatus",
    }


def test_lib_all() -> None:
    assert set(lib.__all__) == {
        "CREATE_RETRY_STATUSES",
        "EXPIRED_LINK_STATUSES",
        "IDEMPOTENT_RETRY_KINDS",
        "MAX_RETRY_AFTER",
        "MAX_TOKEN_LIFETIME",
        "MAX_TOKEN_RESPONSE_BYTES",
        "POLL_RETRY_STATUSES",
        "TOKEN_ERROR_CODES",
        "UNSENT_RETRY_KINDS",
        "WEBHOOK_REJECTIONS",
        "Backoff",
        "ClientCredentials",
        "DownloadError",
        "ExportApiError",
        "HelperError",
        "Poll",
        "TerminalExport",
        "TokenError",
        "WaitTimeout",
        "WebhookEvent",
        "WebhookRejection",
        "WebhookVerificationError",
        "WebhookVerifier",
        "create_and_wait",
        "create_and_wait_async",
        "create_export",
        "create_export_async",
        "download_export",
        "download_export_async",
        "parse_retry_after",
        "redact_url",
        "sign_webhook",
        "verify_webhook",
        "wait_for_export",
        "wait_for_export_async",
        "webhook_signature",
    }


def exported_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in (package, errors, lib):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseException):
                found[name] = value
    return found


def test_every_name_exists_and_the_root_re_exports_the_same_objects() -> None:
    for module in (package, errors, lib):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    for name in errors.__all__:
        assert getattr(package, name) is getattr(errors, name)


def defined_exceptions() -> set[type[BaseException]]:
    """Every public exception class defined anywhere in the package (all its modules imported)."""
    found: set[type[BaseException]] = set()
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__.startswith(package.__name__)
                and not name.startswith("_")
            ):
                found.add(value)
    return found


def test_one_exception_tree() -> None:
    exceptions = exported_exceptions()
    assert set(exceptions.values()) == defined_exceptions()  # none defined but left unexported
    for name, cls in exceptions.items():
        assert issubclass(cls, errors.QuestionnaireExportsError), name


def test_readme_lists_every_exception() -> None:
    text = README.read_text(encoding="utf-8")
    table = re.split(r"\n##+ ", text.split("\n### Exceptions\n", 1)[1], maxsplit=1)[0]
    listed = set(re.findall(r"^\| `(\w+)`", table, flags=re.MULTILINE))
    assert listed == set(exported_exceptions())
