"""Telemetry: events for every job and every background loop, with handlers you attach.

``attach(id, events, handler)``, ``detach(id)``, ``execute(name, metadata)`` and ``span(prefix,
metadata)`` follow oban-py 0.7, and so do the event names in ``EVENTS``. ``oban.telemetry.logger``
turns events into log lines; ``oban.telemetry.prometheus`` and ``oban.telemetry.opentelemetry``
(optional extras) into metrics and traces. See docs/observability.md for each event's metadata.
"""

from .core import Collector, Handler, Metadata, attach, attached, detach, execute, handlers, span

JOB_EVENTS = ["oban.job.start", "oban.job.stop", "oban.job.exception"]
"""One start per run, then stop (completed, cancelled, snoozed) or exception (retryable, discarded)."""

SPANS = [
    "oban.leader.election",
    "oban.lifeline.rescue",
    "oban.producer.ack",
    "oban.producer.get",
    "oban.pruner.prune",
    "oban.refresher.refresh",
    "oban.scheduler.evaluate",
    "oban.stager.stage",
]
"""Loops that run as spans: each emits ``.start``, then ``.stop`` or ``.exception``."""

QUEUE_EVENTS = ["oban.queue.start", "oban.queue.stop", "oban.queue.shutdown"]
"""A producer started, a producer stopped, and (only if any) jobs orphaned by a shutdown."""

EVENTS = sorted(
    [*JOB_EVENTS, *QUEUE_EVENTS, *(f"{prefix}.{kind}" for prefix in SPANS for kind in ("start", "stop", "exception"))]
)
"""Every event oban emits. Attaching to a name never emitted fails silently: check against this."""

from . import logger  # noqa: E402  (after EVENTS, which it reads)

__all__ = [
    "EVENTS",
    "JOB_EVENTS",
    "QUEUE_EVENTS",
    "SPANS",
    "Collector",
    "Handler",
    "Metadata",
    "attach",
    "attached",
    "detach",
    "execute",
    "handlers",
    "logger",
    "span",
]
