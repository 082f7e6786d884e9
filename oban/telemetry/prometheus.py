"""Prometheus metrics for oban (the optional ``prometheus`` extra: ``prometheus-client``).

``PrometheusMetrics(oban).attach()`` counts every job run and times it from telemetry events;
``await metrics.refresh()`` (or ``metrics.start()``, which refreshes every ``refresh_interval``
seconds in the background) reads the gauges from the database: jobs per queue and state, and the
producers of every node. Expose them the usual way, e.g. ``prometheus_client.start_http_server``
or ``prometheus_client.make_asgi_app`` mounted in your web app.

Metrics (``namespace`` ``oban`` by default):

- ``oban_jobs_total{queue,worker,state}``: runs ended, by the state they left the job in;
- ``oban_job_exceptions_total{queue,worker,error_type}``: runs that raised;
- ``oban_job_duration_seconds{queue,worker,state}``: histogram of run time;
- ``oban_job_queue_time_seconds{queue,worker}``: histogram of the wait from due to claimed;
- ``oban_loop_exceptions_total{loop}``: a background loop (stager, pruner, ...) failing;
- ``oban_queue_jobs{queue,state}``: jobs in the table, from the database;
- ``oban_producer_limit{node,queue}``, ``oban_producer_running{node,queue}``,
  ``oban_producer_paused{node,queue}``: each live producer of the cluster, from its heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from .._tasks import cancel_and_wait
from ..job import JobState
from . import SPANS, core

if TYPE_CHECKING:
    from ..oban import Oban

log = logging.getLogger("oban.telemetry.prometheus")

DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class PrometheusMetrics:
    """Counters and histograms fed by telemetry, gauges read from the database."""

    def __init__(
        self,
        oban: Oban,
        *,
        registry: CollectorRegistry = REGISTRY,
        namespace: str = "oban",
        refresh_interval: float = 15.0,
        buckets: tuple[float, ...] = DURATION_BUCKETS,
    ) -> None:
        if refresh_interval <= 0:
            raise ValueError(f"refresh_interval must be positive seconds, got {refresh_interval!r}")
        self.oban = oban
        self.refresh_interval = refresh_interval
        self._id = f"oban-prometheus-{id(self)}"
        self._task: asyncio.Task[None] | None = None
        self.jobs = Counter(
            "jobs",
            "Job runs ended, by resulting state.",
            ["queue", "worker", "state"],
            namespace=namespace,
            registry=registry,
        )
        self.exceptions = Counter(
            "job_exceptions",
            "Job runs that raised.",
            ["queue", "worker", "error_type"],
            namespace=namespace,
            registry=registry,
        )
        self.duration = Histogram(
            "job_duration_seconds",
            "Time a job run took.",
            ["queue", "worker", "state"],
            namespace=namespace,
            registry=registry,
            buckets=buckets,
        )
        self.queue_time = Histogram(
            "job_queue_time_seconds",
            "Time from a job being due to being claimed.",
            ["queue", "worker"],
            namespace=namespace,
            registry=registry,
            buckets=buckets,
        )
        self.loop_exceptions = Counter(
            "loop_exceptions", "Background loop failures.", ["loop"], namespace=namespace, registry=registry
        )
        self.queue_jobs = Gauge(
            "queue_jobs",
            "Jobs in the table, by queue and state.",
            ["queue", "state"],
            namespace=namespace,
            registry=registry,
        )
        self.producer_limit = Gauge(
            "producer_limit",
            "Concurrency limit of each live producer.",
            ["node", "queue"],
            namespace=namespace,
            registry=registry,
        )
        self.producer_running = Gauge(
            "producer_running",
            "Jobs each live producer is running.",
            ["node", "queue"],
            namespace=namespace,
            registry=registry,
        )
        self.producer_paused = Gauge(
            "producer_paused", "1 if the producer is paused.", ["node", "queue"], namespace=namespace, registry=registry
        )

    def attach(self) -> PrometheusMetrics:
        """Start counting job runs and loop failures from telemetry events."""
        core.attach(self._id, ["oban.job.stop", "oban.job.exception"], self._on_job)
        core.attach(self._id, [f"{prefix}.exception" for prefix in SPANS], self._on_loop_exception)
        return self

    def detach(self) -> None:
        """Stop counting."""
        core.detach(self._id)

    def _on_job(self, name: str, meta: dict[str, Any]) -> None:
        queue, worker, state = str(meta.get("queue")), str(meta.get("worker")), str(meta.get("state"))
        self.jobs.labels(queue, worker, state).inc()
        self.duration.labels(queue, worker, state).observe((meta.get("duration") or 0) / 1e9)
        self.queue_time.labels(queue, worker).observe((meta.get("queue_time") or 0) / 1e9)
        if name == "oban.job.exception":
            self.exceptions.labels(queue, worker, str(meta.get("error_type"))).inc()

    def _on_loop_exception(self, name: str, meta: dict[str, Any]) -> None:
        self.loop_exceptions.labels(name.removeprefix("oban.").removesuffix(".exception")).inc()

    async def refresh(self) -> None:
        """Read the gauges from the database now: jobs per queue and state, live producers."""
        counts = await self.oban.count_jobs()
        producers = await self.oban.cluster_queues()
        queues = {queue for queue, _ in counts}
        self.queue_jobs.clear()
        for queue in sorted(queues):
            for state in JobState:
                self.queue_jobs.labels(queue, state.value).set(counts.get((queue, state), 0))
        for gauge in (self.producer_limit, self.producer_running, self.producer_paused):
            gauge.clear()
        for info in producers:
            self.producer_limit.labels(info.node, info.queue).set(info.limit)
            self.producer_running.labels(info.node, info.queue).set(len(info.running))
            self.producer_paused.labels(info.node, info.queue).set(1 if info.paused else 0)

    def start(self) -> PrometheusMetrics:
        """Attach, and refresh the gauges every ``refresh_interval`` seconds in the background."""
        self.attach()
        if self._task is None:
            self._task = asyncio.create_task(self._refresh_loop(), name="oban-prometheus")
        return self

    async def stop(self) -> None:
        """Stop refreshing and detach."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self.detach()

    async def _refresh_loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as error:
                log.warning("refreshing oban gauges failed: %r", error)
            await asyncio.sleep(self.refresh_interval)
