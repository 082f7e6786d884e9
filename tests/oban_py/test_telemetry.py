"""Telemetry as oban-py's handlers use it: attach, detach, execute, span, events, the logger."""

from __future__ import annotations

import json
import logging

import pytest

from oban import JobState, telemetry, worker
from oban.telemetry import logger as telemetry_logger
from tests.support import wait_until


@worker(queue="default")
class Fine:
    async def process(self, job):  # type: ignore[no-untyped-def]
        return None


@worker(queue="default", max_attempts=1)
class Broken:
    async def process(self, job):  # type: ignore[no-untyped-def]
        raise ValueError("nope")


def test_attach_execute_detach():
    seen = []
    telemetry.attach("mine", ["myapp.report.start"], lambda name, meta: seen.append((name, meta)))
    telemetry.execute("myapp.report.start", {"report_id": 123})
    telemetry.detach("mine")
    telemetry.execute("myapp.report.start", {"report_id": 456})
    assert seen == [("myapp.report.start", {"report_id": 123})]


def test_span_adds_collected_metadata_and_duration():
    seen = []
    telemetry.attach("mine", ["myapp.report.stop", "myapp.report.exception"], lambda n, m: seen.append((n, m)))
    try:
        with telemetry.span("myapp.report", {"report_id": 1}) as collector:
            collector.add({"row_count": 10})
        with pytest.raises(ZeroDivisionError), telemetry.span("myapp.report", {"report_id": 2}):
            1 / 0  # noqa: B018
    finally:
        telemetry.detach("mine")
    (stop, stop_meta), (failed, failed_meta) = seen
    assert stop == "myapp.report.stop" and stop_meta["row_count"] == 10 and stop_meta["duration"] > 0
    assert failed == "myapp.report.exception" and failed_meta["error_type"] == "ZeroDivisionError"
    assert "system_time" in stop_meta and "traceback" in failed_meta


def test_every_event_name_of_oban_py_is_emitted():
    oban_py_events = {
        "oban.job.exception",
        "oban.job.start",
        "oban.job.stop",
        "oban.leader.election.exception",
        "oban.leader.election.start",
        "oban.leader.election.stop",
        "oban.lifeline.rescue.exception",
        "oban.lifeline.rescue.start",
        "oban.lifeline.rescue.stop",
        "oban.producer.ack.exception",
        "oban.producer.ack.start",
        "oban.producer.ack.stop",
        "oban.producer.get.exception",
        "oban.producer.get.start",
        "oban.producer.get.stop",
        "oban.pruner.prune.exception",
        "oban.pruner.prune.start",
        "oban.pruner.prune.stop",
        "oban.queue.shutdown",
        "oban.refresher.refresh.exception",
        "oban.refresher.refresh.start",
        "oban.refresher.refresh.stop",
        "oban.scheduler.evaluate.exception",
        "oban.scheduler.evaluate.start",
        "oban.scheduler.evaluate.stop",
        "oban.stager.stage.exception",
        "oban.stager.stage.start",
        "oban.stager.stage.stop",
    }
    assert oban_py_events <= set(telemetry.EVENTS)


async def test_job_events_carry_the_job_state_duration_and_queue_time(oban_instance):
    events = []
    job_events = ["oban.job.start", "oban.job.stop", "oban.job.exception"]
    telemetry.attach("jobs", job_events, lambda n, m: events.append((n, m)))
    oban = oban_instance(queues={"default": 2}, stager={"interval": 0.1})
    fine, broken = await oban.enqueue_many(Fine.new({}), Broken.new({}))
    async with oban:

        async def done() -> bool:
            return (await oban.get_job(broken.id)).state == JobState.DISCARDED and len(events) >= 4

        await wait_until(done)
    by_job = {(name, meta["job"].id): meta for name, meta in events}
    assert ("oban.job.start", fine.id) in by_job
    stop = by_job[("oban.job.stop", fine.id)]
    assert stop["state"] == "completed" and stop["duration"] > 0 and stop["queue_time"] >= 0
    failure = by_job[("oban.job.exception", broken.id)]
    assert failure["state"] == "discarded" and failure["error_type"] == "ValueError"
    assert failure["error_message"] == "nope" and "ValueError: nope" in failure["traceback"]


async def test_the_logger_writes_oban_pys_json_fields(oban_instance, caplog):
    telemetry_logger.attach()
    oban = oban_instance(queues={"default": 1}, stager={"interval": 0.1})
    job = await oban.enqueue(Fine.new({"a": 1}, tags=["t"]))
    with caplog.at_level(logging.INFO, logger="oban"):
        async with oban:

            async def done() -> bool:
                return (await oban.get_job(job.id)).state == JobState.COMPLETED

            await wait_until(done)
            await wait_until(lambda: any('"oban.job.stop"' in r.getMessage() for r in caplog.records))
    telemetry_logger.detach()
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "oban" and r.getMessage().startswith("{")]
    stop = next(line for line in lines if line["event"] == "oban.job.stop")
    assert {k: stop[k] for k in ("id", "worker", "queue", "attempt", "max_attempts", "args", "meta", "tags")} == {
        "id": job.id,
        "worker": Fine.new().worker,
        "queue": "default",
        "attempt": 1,
        "max_attempts": 20,
        "args": {"a": 1},
        "meta": {},
        "tags": ["t"],
    }
    assert stop["state"] == "completed" and isinstance(stop["duration"], float)
