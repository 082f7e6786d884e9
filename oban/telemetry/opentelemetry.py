"""OpenTelemetry traces and metrics for oban (the optional ``opentelemetry`` extra).

``OpenTelemetry().attach()`` makes one span per job run, named ``process <worker>``
(kind CONSUMER, with the ``messaging.*`` attributes of OTel's messaging conventions and
``oban.job.*`` ones), ended with the run: an exception is recorded on it and its status set to
ERROR. The span is the current span while the job runs, so spans an async worker starts are its
children. It also records three instruments: ``oban.job.count`` (runs ended, by queue, worker and
state), ``oban.job.duration`` and ``oban.job.queue_time`` (histograms, in seconds). Pass your own
``tracer_provider`` / ``meter_provider``, or the global ones are used.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context, metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import core

_SCOPE = "oban"


class OpenTelemetry:
    """Spans per job run and job metrics, from telemetry events."""

    def __init__(self, *, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        self._tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, meter_provider=meter_provider)
        self.count = meter.create_counter("oban.job.count", unit="{job}", description="Job runs ended, by state.")
        self.duration = meter.create_histogram("oban.job.duration", unit="s", description="Time a job run took.")
        self.queue_time = meter.create_histogram(
            "oban.job.queue_time", unit="s", description="Time from a job being due to being claimed."
        )
        self._id = f"oban-opentelemetry-{id(self)}"
        self._spans: dict[tuple[Any, Any], Any] = {}

    def attach(self) -> OpenTelemetry:
        """Start tracing and measuring job runs."""
        core.attach(self._id, ["oban.job.start"], self._on_start)
        core.attach(self._id, ["oban.job.stop", "oban.job.exception"], self._on_end)
        return self

    def detach(self) -> None:
        """Stop; spans of runs still going are ended as they are."""
        core.detach(self._id)
        spans, self._spans = self._spans, {}
        for span, _token in spans.values():
            span.end()

    def _on_start(self, _name: str, meta: dict[str, Any]) -> None:
        worker = str(meta.get("worker"))
        span = self._tracer.start_span(
            f"process {worker}",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "oban",
                "messaging.operation.type": "process",
                "messaging.destination.name": str(meta.get("queue")),
                "messaging.message.id": str(meta.get("id")),
                "oban.job.id": int(meta.get("id") or 0),
                "oban.job.worker": worker,
                "oban.job.attempt": int(meta.get("attempt") or 0),
                "oban.job.max_attempts": int(getattr(meta.get("job"), "max_attempts", 0) or 0),
            },
        )
        # The job runs in this task from here on: spans it starts (async workers) are children.
        token = context.attach(trace.set_span_in_context(span))
        self._spans[(meta.get("id"), meta.get("attempt"))] = (span, token)

    def _on_end(self, name: str, meta: dict[str, Any]) -> None:
        attributes = {
            "queue": str(meta.get("queue")),
            "worker": str(meta.get("worker")),
            "state": str(meta.get("state")),
        }
        self.count.add(1, attributes)
        self.duration.record((meta.get("duration") or 0) / 1e9, attributes)
        self.queue_time.record((meta.get("queue_time") or 0) / 1e9, {k: attributes[k] for k in ("queue", "worker")})
        entry = self._spans.pop((meta.get("id"), meta.get("attempt")), None)
        if entry is None:
            return
        span, token = entry
        try:
            context.detach(token)
        except Exception:  # ended from another context than it started in: nothing to restore
            pass
        span.set_attribute("oban.job.state", str(meta.get("state")))
        if name == "oban.job.exception":
            error = meta.get("error")
            if isinstance(error, BaseException):
                span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{meta.get('error_type')}: {meta.get('error_message')}"))
        span.end()
