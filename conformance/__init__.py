"""Conformance suite: proves that a live deployment of the export API follows ``openapi.yaml``.

Why: generic tools check one response at a time; this suite also follows exports through their
lifecycle, checks time and links, and maps Schemathesis' findings onto stable rule ids.
"""

from __future__ import annotations

from .config import RunConfig
from .model import Finding, Report
from .rules import RULES, Outcome, Rule
from .runner import run_suite

__all__ = ["RULES", "Finding", "Outcome", "Report", "Rule", "RunConfig", "run_suite"]
