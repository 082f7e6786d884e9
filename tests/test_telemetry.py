"""Telemetry: handlers, spans, the events a running node emits on every engine, the loggers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from oban import Job, JobState, Oban, telemetry
from oban._time import utcnow
from oban.cron import parse_entry
from oban.runtime.cron import Cron
from oban.telemetry import logger as telemetry_logger
from tests import workers
from tests.support import wait_until


class Recorder:
    """A handler that keeps (name, metadata) of every event it hears."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, metadata: dict[str, Any]) -> None:
        self.events.append((name, metadata))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [metadata for event, metadata in self.events if event == name]

    def for_job(self, job: Job) -> list[tuple[str, dict[str, Any]]]:
        return [(name, meta) for name, meta in self.events if name.startswith("oban.job.") and meta["id"] == job.id]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    telemetry.attach("test-recorder", telemetry.EVENTS, recorder)
    yield recorder
    telemetry.detach("test-recorder")


@pytest.fixture(autouse=True)
def _no_handlers_left() -> Iterator[None]:
    yield
    telemetry_logger.detach()
    assert telemetry.handlers() == {}, "a test left a telemetry handler attached"


class TestHandlers:
    def test_execute_calls_each_handler_attached_to_the_event_with_its_own_copy(self):
        seen: list[tuple[str, str, dict[str, Any]]] = []

        def first(name: str, meta: dict[str, Any]) -> None:
            meta["changed"] = True
            seen.append(("first", name, meta))

        telemetry.attach("a", ["my.event", "other.event"], first)
        telemetry.attach("b", ["my.event"], lambda name, meta: seen.append(("b", name, meta)))
        telemetry.execute("my.event", {"n": 1})
        telemetry.execute("unrelated", {"n": 2})
        assert seen == [("first", "my.event", {"n": 1, "changed": True}), ("b", "my.event", {"n": 1})]
        telemetry.detach("a")
        telemetry.execute("my.event", {"n": 3})
        assert seen[-1] == ("b", "my.event", {"n": 3}) and len(seen) == 3
        telemetry.detach("b")
        assert telemetry.handlers() == {}

    def test_a_raising_handler_is_logged_and_detached_and_others_still_run(self, caplog):
        heard: list[str] = []

        def broken(name: str, meta: dict[str, Any]) -> None:
            raise RuntimeError("handler bug")

        telemetry.attach("broken", ["e"], broken)
        telemetry.attach("fine", ["e"], lambda name, meta: heard.append(name))
        with caplog.at_level(logging.ERROR, logger="oban.telemetry"):
            telemetry.execute("e", {})
            telemetry.execute("e", {})
        assert heard == ["e", "e"]
        [record] = [r for r in caplog.records if "broken" in r.getMessage()]
        assert "detached" in record.getMessage() and "handler bug" in record.exc_text
        assert telemetry.handlers() == {"e": ["fine"]}
        telemetry.detach("fine")

    def test_attach_names_a_bad_id_or_handler(self):
        with pytest.raises(ValueError, match="id must be a non-empty string, got ''"):
            telemetry.attach("", ["e"], print)
        with pytest.raises(TypeError, match="must be callable, got 3"):
            telemetry.attach("x", ["e"], 3)  # type: ignore[arg-type]

    def test_span_emits_start_then_stop_with_duration_and_added_metadata(self, recorder):
        with telemetry.span("oban.stager.stage", {"limit": 5}) as span:
            span.add({"available_queues": ["a"]})
        start, stop = recorder.named("oban.stager.stage.start"), recorder.named("oban.stager.stage.stop")
        assert start[0]["limit"] == 5 and "system_time" in start[0]
        assert stop[0]["available_queues"] == ["a"] and stop[0]["duration"] > 0 and stop[0]["limit"] == 5

    def test_span_emits_exception_with_the_error_and_reraises(self, recorder):
        with pytest.raises(KeyError), telemetry.span("oban.pruner.prune", {"limit": 1}):
            raise KeyError("gone")
        [event] = recorder.named("oban.pruner.prune.exception")
        assert event["error_type"] == "KeyError" and event["error_message"] == "'gone'"
        assert "raise KeyError" in event["traceback"] and event["duration"] >= 0
        assert recorder.named("oban.pruner.prune.stop") == []

    def test_a_span_nobody_watches_still_runs_its_block(self):
        ran = []
        with telemetry.span("oban.nobody.listens", {}) as span:
            span.add({"x": 1})
            ran.append(True)
        assert ran == [True]


@pytest.fixture(autouse=True)
def _clear_workers() -> None:
    workers.EVENTS.clear()
    workers.GATES.clear()


class TestJobEvents:
    async def test_each_outcome_emits_start_then_stop_or_exception_with_its_metadata(self, engine, recorder):
        oban = Oban(engine, queues={"default": 5}, stage_interval=0.1)
        done = await oban.enqueue(workers.Noop.new({}))
        failing = await oban.enqueue(workers.AlwaysFails.new({"n": 1}))
        discarded = await oban.enqueue(workers.AlwaysFails.new({"n": 2}, max_attempts=1))
        cancelled = await oban.enqueue(workers.Returns.new({"kind": "cancel"}))
        snoozed = await oban.enqueue(workers.Returns.new({"kind": "snooze"}))
        await oban.start()
        try:
            await wait_until(lambda: len(recorder.named("oban.job.start")) >= 6)
            await wait_until(lambda: all(len(recorder.for_job(j)) >= 2 for j in (done, discarded, cancelled, snoozed)))
        finally:
            await oban.stop()

        (start, start_meta), (stop, stop_meta) = recorder.for_job(done)[:2]
        assert (start, stop) == ("oban.job.start", "oban.job.stop")
        assert start_meta["job"].id == done.id and start_meta["queue"] == "default" and start_meta["attempt"] == 1
        assert start_meta["worker"] == "tests.workers.Noop"
        assert stop_meta["state"] == "completed" and stop_meta["duration"] > 0 and stop_meta["queue_time"] >= 0

        name, meta = recorder.for_job(failing)[1]
        assert name == "oban.job.exception" and meta["state"] == "retryable"
        assert meta["error_type"] == "ValueError" and meta["error_message"] == "bad input 1"
        assert isinstance(meta["error"], ValueError) and "raise ValueError" in meta["traceback"]
        assert meta["scheduled_at"] is not None

        name, meta = recorder.for_job(discarded)[1]
        assert name == "oban.job.exception" and meta["state"] == "discarded"
        name, meta = recorder.for_job(cancelled)[1]
        assert name == "oban.job.stop" and meta["state"] == "cancelled" and meta["reason"] == "not needed"
        name, meta = recorder.for_job(snoozed)[1]
        assert name == "oban.job.stop" and meta["state"] == "scheduled"

    async def test_a_raising_handler_never_breaks_a_job(self, engine, caplog):
        def broken(name: str, meta: dict[str, Any]) -> None:
            raise RuntimeError("handler bug")

        telemetry.attach("broken-job-handler", telemetry.JOB_EVENTS, broken)
        oban = Oban(engine, queues={"default": 2}, stage_interval=0.1)
        job = await oban.enqueue(workers.Echo.new({"tag": "x"}))
        await oban.start()
        try:

            async def completed() -> bool:
                return (await oban.get_job(job)).state is JobState.COMPLETED

            await wait_until(completed)
        finally:
            await oban.stop()
        assert workers.EVENTS == [("x", job.id, 1)]
        assert "broken-job-handler" not in str(telemetry.handlers())
        assert any("handler bug" in (r.exc_text or "") for r in caplog.records)


class TestLoopEvents:
    async def test_a_node_reports_its_queues_fetches_acks_and_chores(self, engine, recorder):
        oban = Oban(
            engine,
            queues={"default": 3},
            stage_interval=0.1,
            heartbeat_interval=0.2,
            pruner={"interval": 0.1, "max_age": 60},
            lifeline={"interval": 0.1},
        )
        await oban.start()
        try:
            await oban.enqueue(workers.Noop.new({}, schedule_in=0.2))
            wanted = [
                "oban.queue.start",
                "oban.producer.get.stop",
                "oban.producer.ack.stop",
                "oban.stager.stage.stop",
                "oban.pruner.prune.stop",
                "oban.lifeline.rescue.stop",
                "oban.leader.election.stop",
                "oban.refresher.refresh.stop",
            ]
            await wait_until(lambda: all(recorder.named(name) for name in wanted), within=15)
        finally:
            await oban.stop()
        [started] = recorder.named("oban.queue.start")
        assert started["queue"] == "default" and started["limit"] == 3 and started["node"] == oban.node
        [stopped] = recorder.named("oban.queue.stop")
        assert stopped["queue"] == "default" and stopped["orphaned"] == []
        assert any(e["count"] == 1 for e in recorder.named("oban.producer.get.stop"))
        assert sum(e["acked_count"] for e in recorder.named("oban.producer.ack.stop")) == 1
        assert any(e["available_queues"] == ["default"] for e in recorder.named("oban.stager.stage.stop"))
        assert {"pruned_count"} <= recorder.named("oban.pruner.prune.stop")[0].keys()
        assert {"rescued_count", "discarded_count"} <= recorder.named("oban.lifeline.rescue.stop")[0].keys()
        assert recorder.named("oban.leader.election.stop")[0]["leader"] is True
        assert recorder.named("oban.refresher.refresh.stop")[0]["queues"] == ["default"]
        assert recorder.named("oban.queue.shutdown") == [], "nothing was orphaned"

    async def test_cron_evaluation_reports_what_it_inserted(self, engine, recorder):
        oban = Oban(engine)
        cron = Cron([parse_entry(("* * * * *", workers.Noop))], oban.enqueue_many, when=lambda: True)
        minute = utcnow().replace(second=0, microsecond=0)
        [job] = await cron.evaluate(minute)
        await cron.evaluate(minute)  # the same minute again: a conflict, nothing inserted
        first, again = recorder.named("oban.scheduler.evaluate.stop")
        assert first["cron_at"] == minute and first["enqueued_count"] == 1 and first["jobs"][0].id == job.id
        assert again["enqueued_count"] == 0
        await oban.stop()

    async def test_jobs_orphaned_at_shutdown_are_reported(self, engine, recorder):
        oban = Oban(engine, queues={"default": 1}, stage_interval=0.1, shutdown_grace_period=0.2)
        workers.GATES["never"] = asyncio.Event()
        job = await oban.enqueue(workers.Blocking.new({"gate": "never"}))
        await oban.start()
        await wait_until(lambda: recorder.named("oban.job.start"))
        await oban.stop()
        [shutdown] = recorder.named("oban.queue.shutdown")
        assert shutdown["queue"] == "default" and shutdown["orphaned"] == [job.id] and shutdown["elapsed"] > 0


class TestLogger:
    def _job(self) -> Job:
        job = workers.AlwaysFails.new({"n": 1}, tags=["t"])
        job.id, job.attempt = 7, 3
        return job

    def test_json_lines_carry_oban_pys_fields(self, caplog):
        telemetry_logger.attach()
        job = self._job()
        with caplog.at_level(logging.DEBUG, logger="oban"):
            telemetry.execute("oban.job.start", {"job": job, "id": 7, "queue": "default"})
            telemetry.execute(
                "oban.job.exception",
                {
                    "job": job,
                    "id": 7,
                    "state": "discarded",
                    "duration": 2_500_000,
                    "queue_time": 1_000_000,
                    "error_type": "ValueError",
                    "error_message": "bad input 1",
                    "traceback": "Traceback...",
                },
            )
            with telemetry.span("oban.stager.stage", {"limit": 10}) as span:
                span.add({"available_queues": ["default"]})
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "oban"]
        start, failed, stage = lines
        assert start == {
            "id": 7,
            "worker": "tests.workers.AlwaysFails",
            "queue": "default",
            "attempt": 3,
            "max_attempts": 3,
            "args": {"n": 1},
            "meta": {},
            "tags": ["t"],
            "event": "oban.job.start",
        }
        assert failed["state"] == "discarded" and failed["duration"] == 2.5 and failed["queue_time"] == 1.0
        assert failed["error_type"] == "ValueError" and failed["error_message"] == "bad input 1"
        assert stage["event"] == "oban.stager.stage.stop" and stage["available_queues"] == ["default"]
        assert "system_time" not in stage and isinstance(stage["duration"], float)
        levels = [r.levelno for r in caplog.records if r.name == "oban"]
        assert levels == [logging.INFO, logging.INFO, logging.DEBUG]

    def test_text_lines_say_what_happened_with_durations_and_tracebacks(self, caplog):
        telemetry_logger.attach(format="text")
        job = self._job()
        later = utcnow() + timedelta(seconds=30)
        common = {"job": job, "id": 7, "worker": job.worker, "queue": "default", "attempt": 3}
        with caplog.at_level(logging.DEBUG, logger="oban"):
            telemetry.execute(
                "oban.job.stop", {**common, "state": "completed", "duration": 3_210_000, "queue_time": 400_000}
            )
            telemetry.execute(
                "oban.job.exception",
                {
                    **common,
                    "state": "retryable",
                    "duration": 1_000_000,
                    "scheduled_at": later,
                    "error_type": "ValueError",
                    "error_message": "bad input 1",
                    "traceback": "Traceback (most recent call last):\n  ...\nValueError: bad input 1",
                },
            )
            telemetry.execute(
                "oban.job.exception",
                {
                    **common,
                    "state": "discarded",
                    "duration": 1_000_000,
                    "error_type": "ValueError",
                    "error_message": "x",
                    "traceback": "",
                },
            )
        completed, retry, discard = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "oban"]
        assert completed == (
            logging.INFO,
            "job 7 tests.workers.AlwaysFails (queue default, attempt 3/3) completed in 3.21 ms (waited 0.4 ms)",
        )
        assert retry[0] == logging.WARNING and "failed after 1.0 ms, retrying at" in retry[1]
        assert retry[1].endswith("Traceback (most recent call last):\n  ...\nValueError: bad input 1")
        assert discard[0] == logging.ERROR and "is discarded, out of attempts: ValueError: x" in discard[1]

    def test_a_bad_format_is_named(self):
        with pytest.raises(ValueError, match="log format must be 'json' or 'text', got 'xml'"):
            telemetry_logger.attach(format="xml")  # type: ignore[arg-type]
