"""The Prometheus and OpenTelemetry extras, against the real libraries, on every engine."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from oban import JobState, Oban, telemetry, worker
from oban.telemetry.opentelemetry import OpenTelemetry
from oban.telemetry.prometheus import PrometheusMetrics
from tests import workers
from tests.support import wait_until

_TRACER_PROVIDER = TracerProvider()
_EXPORTER = InMemorySpanExporter()
_TRACER_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))


@worker(queue="default")
class Traced:
    """Starts a span of its own inside the job's span."""

    async def process(self, job):  # type: ignore[no-untyped-def]
        with _TRACER_PROVIDER.get_tracer("app").start_as_current_span("inside the job"):
            await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def _no_handlers_left() -> Iterator[None]:
    yield
    assert telemetry.handlers() == {}


async def _run(engine, jobs, **options):  # type: ignore[no-untyped-def]
    """Start a node on ``engine`` with ``jobs`` enqueued; return it once those of ``default`` finished."""
    oban = Oban(engine, queues={"default": 3}, stage_interval=0.1, heartbeat_interval=0.5, **options)
    stored = await oban.enqueue_many(jobs)
    await oban.start()

    async def finished() -> bool:
        states = [(await oban.get_job(job)).state for job in stored if job.queue == "default"]
        return all(state in (JobState.COMPLETED, JobState.DISCARDED) for state in states)

    await wait_until(finished)
    await wait_until(oban.cluster_queues)
    return oban, stored


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def test_prometheus_counts_times_and_reads_gauges_served_to_a_real_scrape(engine):
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(Oban(engine, name="scraped"), registry=registry).attach()
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        oban, _ = await _run(
            engine,
            [
                workers.Noop.new({}),
                workers.Noop.new({}),
                workers.AlwaysFails.new({"n": 1}, max_attempts=1),
                workers.Noop.new({}, queue="later", schedule_in=3600),
            ],
            name="scraped",
        )
        await metrics.refresh()
        samples = await asyncio.to_thread(_scrape, server.server_port)
    finally:
        metrics.detach()
        server.shutdown()
        thread.join(5)
    noop, fails = "tests.workers.Noop", "tests.workers.AlwaysFails"
    assert samples[("oban_jobs_total", (("queue", "default"), ("state", "completed"), ("worker", noop)))] == 2
    assert samples[("oban_jobs_total", (("queue", "default"), ("state", "discarded"), ("worker", fails)))] == 1
    assert (
        samples[("oban_job_exceptions_total", (("error_type", "ValueError"), ("queue", "default"), ("worker", fails)))]
        == 1
    )
    assert (
        samples[("oban_job_duration_seconds_count", (("queue", "default"), ("state", "completed"), ("worker", noop)))]
        == 2
    )
    assert samples[("oban_job_queue_time_seconds_count", (("queue", "default"), ("worker", noop)))] == 2
    assert samples[("oban_queue_jobs", (("queue", "default"), ("state", "completed")))] == 2
    assert samples[("oban_queue_jobs", (("queue", "default"), ("state", "discarded")))] == 1
    assert samples[("oban_queue_jobs", (("queue", "later"), ("state", "scheduled")))] == 1
    assert samples[("oban_producer_limit", (("node", oban.node), ("queue", "default")))] == 3
    assert samples[("oban_producer_paused", (("node", oban.node), ("queue", "default")))] == 0
    await oban.stop()


async def test_prometheus_refreshes_in_the_background_until_stopped(engine):
    registry = CollectorRegistry()
    client = Oban(engine)
    metrics = PrometheusMetrics(client, registry=registry, refresh_interval=0.05).start()
    try:
        await client.enqueue(workers.Noop.new({}))
        await wait_until(
            lambda: registry.get_sample_value("oban_queue_jobs", {"queue": "default", "state": "available"}) == 1
        )
    finally:
        await metrics.stop()
        await client.stop()
    with pytest.raises(ValueError, match="refresh_interval must be positive seconds, got 0"):
        PrometheusMetrics(client, registry=CollectorRegistry(), refresh_interval=0)


async def test_opentelemetry_traces_each_run_and_records_job_metrics(engine):
    _EXPORTER.clear()
    reader = InMemoryMetricReader()
    otel = OpenTelemetry(tracer_provider=_TRACER_PROVIDER, meter_provider=MeterProvider(metric_readers=[reader]))
    otel.attach()
    try:
        oban, (ok, _failed, _traced) = await _run(
            engine,
            [
                workers.Noop.new({}),
                workers.AlwaysFails.new({"n": 2}, max_attempts=1),
                Traced.new({}),
            ],
        )
        await oban.stop()
    finally:
        otel.detach()
    spans = {span.name: span for span in _EXPORTER.get_finished_spans()}
    run = spans["process tests.workers.Noop"]
    assert run.kind is SpanKind.CONSUMER and run.status.status_code is StatusCode.UNSET
    assert run.attributes["oban.job.id"] == ok.id and run.attributes["messaging.destination.name"] == "default"
    assert run.attributes["oban.job.state"] == "completed" and run.attributes["oban.job.attempt"] == 1
    failing = spans["process tests.workers.AlwaysFails"]
    assert failing.status.status_code is StatusCode.ERROR and "bad input 2" in failing.status.description
    assert [event.name for event in failing.events] == ["exception"]
    child, parent = spans["inside the job"], spans["process tests.test_metrics.Traced"]
    assert child.parent is not None and child.parent.span_id == parent.context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN, "a job's span leaked into the test's context"

    data = reader.get_metrics_data()
    points = {
        metric.name: list(metric.data.data_points)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    counts = {(p.attributes["worker"], p.attributes["state"]): p.value for p in points["oban.job.count"]}
    assert counts == {
        ("tests.workers.Noop", "completed"): 1,
        ("tests.workers.AlwaysFails", "discarded"): 1,
        ("tests.test_metrics.Traced", "completed"): 1,
    }
    assert sum(p.count for p in points["oban.job.duration"]) == 3
    assert sum(p.count for p in points["oban.job.queue_time"]) == 3
