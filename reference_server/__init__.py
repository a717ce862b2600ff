"""Reference server for the questionnaire-export API: a real, local implementation of ``openapi.yaml``.

Start it with ``python -m reference_server --port 0 --token T``; embed it in tests with
``reference_server.testing.running_server()``; build the ASGI app with ``reference_server.app.create_app``.
"""

from __future__ import annotations

from .clock import ManualClock, SystemClock
from .config import RateLimit, ServerConfig

__all__ = ["ManualClock", "RateLimit", "ServerConfig", "SystemClock"]
