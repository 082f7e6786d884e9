"""Acks: every outcome, written in batches, applied only to the attempt that is still executing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ..._time import to_iso, utcnow
from ...engines.protocol import Engine
from ...job import JobState
from ._helpers import EngineFactory, ack, claim, close_to, id_of, insert, insert_many, job_ids, reload


def _error(attempt: int, text: str = "boom") -> dict[str, Any]:
    return {"at": to_iso(utcnow()), "attempt": attempt, "error": text}


@pytest.mark.asyncio
class TestAcks:
    async def test_complete_marks_completed_with_a_timestamp(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [job] = await claim(oban_engine)
        changed = await oban_engine.ack_jobs([ack(job, JobState.COMPLETED)])
        stored = await reload(oban_engine, job)
        assert changed == [job.id]
        assert stored.state is JobState.COMPLETED and close_to(stored.completed_at, utcnow(), 5)

    async def test_complete_merges_meta(self, oban_engine: Engine) -> None:
        await insert(oban_engine, meta={"keep": 1})
        [job] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.COMPLETED, meta={"recorded": True, "return": {"rows": [1, 2]}})])
        stored = await reload(oban_engine, job)
        assert stored.meta == {"keep": 1, "recorded": True, "return": {"rows": [1, 2]}}

    async def test_ack_meta_replaces_whole_keys_and_keeps_nulls(self, oban_engine: Engine) -> None:
        await insert(oban_engine, meta={"keep": 1, "return": {"old": True}})
        [job] = await claim(oban_engine)
        value = {"a": None, "b": 1, "nested": {"x": None, "list": [None, 1]}}
        await oban_engine.ack_jobs([ack(job, JobState.COMPLETED, meta={"recorded": True, "return": value})])
        stored = await reload(oban_engine, job)
        assert stored.meta == {"keep": 1, "recorded": True, "return": value}

    async def test_a_later_recorded_value_replaces_the_earlier_one(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        [first] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(first, JobState.COMPLETED, meta={"recorded": True, "return": {"b": 1}})])
        await oban_engine.retry_jobs([id_of(job)], utcnow())
        [second] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(second, JobState.COMPLETED, meta={"recorded": True, "return": {"c": 3}})])
        assert (await reload(oban_engine, job)).meta["return"] == {"c": 3}

    async def test_retryable_schedules_the_retry_and_appends_the_error(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [job] = await claim(oban_engine)
        error = _error(1, "ValueError: nope")
        await oban_engine.ack_jobs([ack(job, JobState.RETRYABLE, delay=30, error=error)])
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.RETRYABLE
        assert close_to(stored.scheduled_at, utcnow() + timedelta(seconds=30), 5)
        assert stored.errors == [error]
        assert stored.attempt == 1

    async def test_errors_accumulate_across_attempts(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        for attempt in (1, 2):
            await oban_engine.stage_jobs(utcnow() + timedelta(seconds=60), 100)
            [job] = await claim(oban_engine)
            await oban_engine.ack_jobs([ack(job, JobState.RETRYABLE, delay=1, error=_error(attempt, f"e{attempt}"))])
        stored = await reload(oban_engine, job)
        assert [(e["attempt"], e["error"]) for e in stored.errors] == [(1, "e1"), (2, "e2")]
        assert set(stored.errors[0]) == {"at", "attempt", "error"}

    async def test_discard_marks_discarded_with_the_error(self, oban_engine: Engine) -> None:
        await insert(oban_engine, max_attempts=1)
        [job] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.DISCARDED, error=_error(1))])
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.DISCARDED and close_to(stored.discarded_at, utcnow(), 5)
        assert stored.errors[0]["error"] == "boom"

    async def test_cancel_marks_cancelled_with_the_reason(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [job] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.CANCELLED, error=_error(1, "cancelled: no longer needed"))])
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.CANCELLED and close_to(stored.cancelled_at, utcnow(), 5)
        assert stored.errors[0]["error"] == "cancelled: no longer needed"

    async def test_snooze_reschedules_and_gives_the_attempt_back(self, oban_engine: Engine) -> None:
        await insert(oban_engine, max_attempts=1)
        [job] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.SCHEDULED, delay=120, meta={"snoozed": 1})])
        stored = await reload(oban_engine, job)
        assert stored.state is JobState.SCHEDULED and stored.attempt == 0
        assert close_to(stored.scheduled_at, utcnow() + timedelta(seconds=120), 5)
        assert stored.meta["snoozed"] == 1
        await oban_engine.stage_jobs(utcnow() + timedelta(seconds=300), 10)
        [again] = await claim(oban_engine)
        assert again.id == job.id and again.attempt == 1

    async def test_a_batch_applies_mixed_outcomes_at_once(self, oban_engine: Engine) -> None:
        await insert_many(oban_engine, 4)
        jobs = await claim(oban_engine)
        acks = [
            ack(jobs[0], JobState.COMPLETED),
            ack(jobs[1], JobState.RETRYABLE, delay=10, error=_error(1)),
            ack(jobs[2], JobState.CANCELLED, error=_error(1)),
            ack(jobs[3], JobState.SCHEDULED, delay=10, meta={"snoozed": 1}),
        ]
        changed = await oban_engine.ack_jobs(acks)
        assert sorted(changed) == sorted(job_ids(jobs))
        states = [(await reload(oban_engine, job)).state for job in jobs]
        assert states == [JobState.COMPLETED, JobState.RETRYABLE, JobState.CANCELLED, JobState.SCHEDULED]

    async def test_an_ack_for_a_job_no_longer_executing_changes_nothing(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [job] = await claim(oban_engine)
        await oban_engine.cancel_jobs([id_of(job)], utcnow())
        assert await oban_engine.ack_jobs([ack(job, JobState.COMPLETED)]) == []
        assert (await reload(oban_engine, job)).state is JobState.CANCELLED

    async def test_a_late_ack_from_an_earlier_attempt_changes_nothing(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [first] = await claim(oban_engine, node="dead-node")
        await oban_engine.rescue_jobs(utcnow(), utcnow() + timedelta(seconds=1))
        [second] = await claim(oban_engine, node="live-node")
        assert second.attempt == 2
        assert await oban_engine.ack_jobs([ack(first, JobState.COMPLETED)]) == []
        stored = await reload(oban_engine, first)
        assert stored.state is JobState.EXECUTING and stored.attempt == 2
        assert await oban_engine.ack_jobs([ack(second, JobState.COMPLETED)]) == [second.id]

    async def test_a_large_batch_is_written_in_one_call(self, oban_engine: Engine) -> None:
        await insert_many(oban_engine, 600)
        jobs = await claim(oban_engine, demand=600)
        changed = await oban_engine.ack_jobs([ack(job, JobState.COMPLETED) for job in jobs])
        assert len(changed) == 600
        completed = await oban_engine.list_jobs(states=[JobState.COMPLETED])
        assert len(completed) == 600

    async def test_an_ack_for_an_unknown_job_changes_nothing(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        [claimed] = await claim(oban_engine)
        ghost = ack(claimed, JobState.COMPLETED)
        ghost = type(ghost)(999_999_999, ghost.attempt, ghost.state, ghost.at)
        assert await oban_engine.ack_jobs([ghost]) == []
        assert (await reload(oban_engine, job)).state is JobState.EXECUTING

    async def test_an_empty_batch_changes_nothing(self, oban_engine: Engine) -> None:
        assert await oban_engine.ack_jobs([]) == []

    async def test_an_ack_from_another_engine_applies(self, oban_engine_factory: EngineFactory) -> None:
        one, other = await oban_engine_factory(), await oban_engine_factory()
        await insert(one)
        [claimed] = await claim(one)
        assert await other.ack_jobs([ack(claimed, JobState.COMPLETED)]) == [claimed.id]
        assert (await reload(one, claimed)).state is JobState.COMPLETED

    async def test_a_snooze_keeps_the_rest_of_meta_and_replaces_its_counter(self, oban_engine: Engine) -> None:
        await insert(oban_engine, meta={"keep": True, "snoozed": 4})
        [job] = await claim(oban_engine)
        await oban_engine.ack_jobs([ack(job, JobState.SCHEDULED, delay=60, meta={"snoozed": 5})])
        assert (await reload(oban_engine, job)).meta == {"keep": True, "snoozed": 5}

    async def test_an_ack_leaves_the_claim_fields_alone(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        [job] = await claim(oban_engine, node="node-z")
        await oban_engine.ack_jobs([ack(job, JobState.COMPLETED)])
        stored = await reload(oban_engine, job)
        assert stored.attempted_by == ["node-z"] and stored.attempted_at == job.attempted_at and stored.attempt == 1
        assert stored.discarded_at is None and stored.cancelled_at is None and stored.errors == []

    async def test_errors_and_meta_round_trip_exactly(self, oban_engine: Engine) -> None:
        tricky = {
            "text": "h\u00e9llo \u65e5\u672c \U0001f389 \u2028 \\ \" '",
            "floats": [0.1, 1e-300, 1.7976931348623157e308, 1e21],
            "ints": [2**63 - 1, -(2**63), 2**64 - 1],
            "nested": {"a": [None, True, {"b": {}}]},
        }
        await insert(oban_engine, meta={"keep": 2**63 - 1})
        [job] = await claim(oban_engine)
        error = {"at": to_iso(utcnow()), "attempt": 1, "error": tricky["text"], "detail": tricky}
        await oban_engine.ack_jobs([ack(job, JobState.RETRYABLE, delay=1, error=error, meta={"extra": tricky})])
        stored = await reload(oban_engine, job)
        assert stored.errors == [error] and stored.meta == {"keep": 2**63 - 1, "extra": tricky}
