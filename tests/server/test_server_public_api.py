"""The public names of ``reference_server`` and its embedding modules (tests, the suite and the bench use them).

A name added or removed is an API change: this test makes it deliberate, and checks that every public
class or function a module defines is either exported or deliberately private (``_`` prefix).
"""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

import reference_server
from reference_server import serving, testing

EXPECTED = {
    reference_server: {"ManualClock", "RateLimit", "ServerConfig", "SystemClock"},
    testing: {"ServerHandle", "running_server"},
    serving: {
        "START_TIMEOUT",
        "STOP_TIMEOUT",
        "NotifyingServer",
        "ServingOptions",
        "ThreadedServer",
        "base_url",
        "bind_socket",
        "protocol_class",
        "serve_in_thread",
        "uvicorn_server",
    },
}


@pytest.mark.parametrize("module", list(EXPECTED), ids=lambda m: m.__name__)
def test_all_is_the_documented_surface(module: ModuleType) -> None:
    assert sorted(module.__all__) == sorted(EXPECTED[module])
    for name in module.__all__:
        assert hasattr(module, name), f"{module.__name__}.{name}"


@pytest.mark.parametrize("module", [testing, serving], ids=lambda m: m.__name__)
def test_every_public_definition_is_exported(module: ModuleType) -> None:
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }
    assert defined <= set(module.__all__), defined - set(module.__all__)
