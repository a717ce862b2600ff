"""Exit codes and the usage error, shared by every command (kept apart so no command imports another)."""

from __future__ import annotations

#: ``0`` conforming, ``1`` violations found, ``2`` the suite could not run (usage, network, internal).
EXIT_OK, EXIT_VIOLATIONS, EXIT_CANNOT_RUN = 0, 1, 2


class UsageError(Exception):
    """Bad usage: reported as one line, exit code 2."""
