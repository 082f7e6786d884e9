"""The testing mode in force: ``Oban(testing=...)``, overridden by ``oban.testing.mode(...)``.

- ``"inline"``: ``enqueue`` runs each job at once, in the caller's task, without touching the
  database, and returns it in the state its run left it (``completed``, ``cancelled``, ...);
  an exception the worker raised propagates to the caller.
- ``"manual"``: jobs are inserted as usual but ``start()`` runs no queue and no background work,
  so a test decides when jobs run (``oban.testing.drain_queue``).
- ``None`` (the default): normal operation.
"""

from __future__ import annotations

from contextvars import ContextVar

MODES = ("inline", "manual")

_override: ContextVar[str | None] = ContextVar("oban_testing_mode", default=None)


def check(mode: object, where: str = "testing") -> str | None:
    """``mode`` if it is a testing mode (or ``None``); ``ValueError`` naming it otherwise."""
    if mode is None or (isinstance(mode, str) and mode in MODES):
        return mode
    raise ValueError(f"{where} must be 'inline', 'manual' or None, got {mode!r}")


def in_force(configured: str | None) -> str | None:
    """The mode that applies now: the ``mode()`` override, else the instance's own."""
    return _override.get() or configured
