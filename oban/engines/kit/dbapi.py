"""Inserting through an application's blocking DB-API connection with an engine's async code.

An engine's insert code awaits its driver's connection; handed an object with the same methods
over a blocking DB-API connection, whose awaits never suspend, the same code runs to its end
in the caller's thread without an event loop (``complete``). One implementation of
inserting, checked by the same tests, then serves both ``insert_jobs(conn=...)`` and
``insert_jobs_dbapi`` (``oban.engines.protocol.BlockingInsert``).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def complete(work: Coroutine[Any, Any, T]) -> T:
    """The result of ``work``, a coroutine that never suspends, run here without an event loop.

    ``RuntimeError`` if it does suspend: something in it awaited real I/O after all.
    """
    try:
        work.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    work.close()
    raise RuntimeError("a blocking insert awaited an event loop")


def find_connection(conn: Any, connections: tuple[type, ...], cursors: tuple[type, ...]) -> Any | None:
    """The driver connection behind ``conn``: itself, a cursor's, or a framework's wrapper's.

    Django's ``django.db.connection`` holds it as ``.connection``, SQLAlchemy's pooled
    connections as ``.driver_connection``. ``None`` when none of ``connections`` is found.
    """
    seen = conn
    for _ in range(3):
        if isinstance(seen, connections):
            return seen
        if isinstance(seen, cursors):
            cursor: Any = seen
            return cursor.connection
        seen = getattr(seen, "driver_connection", None) or getattr(seen, "connection", None)
        if seen is None:
            break
    return None


def describe(value: object) -> str:
    """``module.Type`` of ``value``, for errors that name what was passed."""
    return f"{type(value).__module__}.{type(value).__qualname__}"
