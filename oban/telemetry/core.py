"""Events and handlers: ``attach`` a handler to event names, ``execute`` an event, ``span`` a block.

The API and the event names are those of the Python port of Oban (oban-py 0.7), so handlers
written for it work here. Handlers run synchronously, in the thread and event loop that emitted
the event, each with its own copy of the metadata. A handler that raises is logged with its
traceback and detached, so one faulty handler can never break a job or a loop, nor flood the log.

With no handler attached to an event, emitting it costs one dictionary lookup: the runtime
checks ``attached(name)`` before it builds metadata for the hot paths.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

Handler = Callable[[str, dict[str, Any]], None]
"""A handler is called as ``handler(event_name, metadata)``; what it returns is ignored."""

Metadata = dict[str, Any]

log = logging.getLogger("oban.telemetry")

_lock = threading.Lock()
# Event name -> the (id, handler) pairs attached to it. Each tuple is replaced, never changed
# in place, so ``execute`` reads it without taking the lock.
_handlers: dict[str, tuple[tuple[str, Handler], ...]] = {}
# Span prefixes with a handler on any of their events, so an unwatched span costs next to nothing.
_watched_spans: frozenset[str] = frozenset()
_SPAN_SUFFIXES = (".start", ".stop", ".exception")


def _rewatch() -> None:
    global _watched_spans
    _watched_spans = frozenset(name.rsplit(".", 1)[0] for name in _handlers if name.endswith(_SPAN_SUFFIXES))


class Collector:
    """Handed out by ``span``: what is ``add``-ed goes into the span's stop or exception event."""

    __slots__ = ("_metadata",)

    def __init__(self) -> None:
        self._metadata: dict[str, Any] = {}

    def add(self, metadata: dict[str, Any]) -> None:
        """Merge ``metadata`` into the event that ends the span."""
        self._metadata.update(metadata)

    def get_all(self) -> dict[str, Any]:
        """A copy of everything added so far."""
        return dict(self._metadata)


def attach(id: str, events: Iterable[str], handler: Handler) -> None:
    """Call ``handler(name, metadata)`` for each event in ``events``; ``id`` names it for ``detach``.

    Attaching the same id twice to one event attaches it twice; detach removes both.
    """
    if not isinstance(id, str) or not id:
        raise ValueError(f"telemetry handler id must be a non-empty string, got {id!r}")
    if not callable(handler):
        raise TypeError(f"telemetry handler for {id!r} must be callable, got {handler!r}")
    names = [events] if isinstance(events, str) else list(events)
    with _lock:
        for name in names:
            _handlers[name] = (*_handlers.get(name, ()), (id, handler))
        _rewatch()


def detach(id: str) -> None:
    """Remove every handler attached under ``id`` (nothing happens if there is none)."""
    with _lock:
        for name, entries in list(_handlers.items()):
            kept = tuple(entry for entry in entries if entry[0] != id)
            if kept:
                _handlers[name] = kept
            else:
                del _handlers[name]
        _rewatch()


def attached(name: str) -> bool:
    """Whether any handler listens to ``name`` (cheap: the runtime calls it per job)."""
    return name in _handlers


def handlers() -> dict[str, list[str]]:
    """Event name -> ids of the handlers attached to it, for inspection and tests."""
    return {name: [entry[0] for entry in entries] for name, entries in _handlers.items()}


def execute(name: str, metadata: Metadata) -> None:
    """Call every handler attached to ``name`` with a copy of ``metadata``.

    A handler that raises is logged (with the event name and its traceback) and detached.
    """
    entries = _handlers.get(name)
    if not entries:
        return
    for handler_id, handler in entries:
        try:
            handler(name, dict(metadata))
        except Exception:
            log.exception("telemetry handler %r raised on %s; it is detached", handler_id, name)
            detach(handler_id)


class _NullCollector(Collector):
    """What an unwatched span hands out: ``add`` keeps nothing."""

    __slots__ = ()

    def add(self, metadata: dict[str, Any]) -> None:
        return None


_NULL_COLLECTOR = _NullCollector()


class _Span:
    __slots__ = ("_collector", "_metadata", "_prefix", "_started")

    def __init__(self, prefix: str, metadata: Metadata) -> None:
        self._prefix = prefix
        self._metadata = metadata
        self._started = 0
        self._collector: Collector = _NULL_COLLECTOR

    def __enter__(self) -> Collector:
        if self._prefix not in _watched_spans:
            return _NULL_COLLECTOR
        self._started = time.monotonic_ns()
        self._collector = Collector()
        execute(f"{self._prefix}.start", {"system_time": self._started, **self._metadata})
        return self._collector

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._collector is _NULL_COLLECTOR:
            return
        ended = time.monotonic_ns()
        metadata = {
            "system_time": ended,
            "duration": ended - self._started,
            **self._metadata,
            **self._collector.get_all(),
        }
        if error is None:
            execute(f"{self._prefix}.stop", metadata)
        elif isinstance(error, Exception):
            metadata.update(
                error_type=type(error).__name__,
                error_message=str(error),
                traceback="".join(traceback.format_exception(kind, error, _tb)),
            )
            execute(f"{self._prefix}.exception", metadata)


def span(prefix: str, start_metadata: Metadata) -> _Span:
    """Emit ``prefix.start`` now, then ``prefix.stop`` or ``prefix.exception`` when the block ends.

    Use as ``with span("myapp.report", {"id": 1}) as collector: ...; collector.add({...})``.
    Every event carries ``start_metadata`` and ``system_time`` (``time.monotonic_ns()``, as in
    oban-py); stop and exception add ``duration`` in nanoseconds and whatever the block added to
    the yielded ``Collector``; exception adds ``error_type``, ``error_message`` and ``traceback``,
    and the exception propagates. A span nobody listens to costs next to nothing.
    """
    return _Span(prefix, start_metadata)
