"""Job activity: how many jobs finished in each time bucket, per queue and state."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ..._time import utcnow
from ...engines.protocol import Activity, Engine
from ...job import Job, JobState
from ...oban import Oban
from ._helpers import ack, id_of, insert, reload

COMPLETED, DISCARDED, CANCELLED, RETRYABLE = (
    JobState.COMPLETED,
    JobState.DISCARDED,
    JobState.CANCELLED,
    JobState.RETRYABLE,
)
_ERROR = {"at": "2020-01-01T00:00:00.000000Z", "attempt": 1, "error": "e"}


def _aligned(bucket: int, hours_ago: float = 2) -> datetime:
    """A time in the past that starts a ``bucket``-second interval (a multiple of it since the epoch)."""
    seconds = int((utcnow() - timedelta(hours=hours_ago)).timestamp())
    return datetime.fromtimestamp(seconds // bucket * bucket, UTC)


async def _run(engine: Engine, queue: str, attempted_at: datetime) -> Job:
    """A job of ``queue`` claimed at ``attempted_at``."""
    await insert(engine, queue=queue)
    [job] = await engine.fetch_jobs(queue, 1, "node-a", attempted_at)
    return job


async def _finish(
    engine: Engine, state: JobState, queue: str, at: datetime, *, attempted_at: datetime | None = None
) -> Job:
    """A job of ``queue`` that reached ``state``: completed, discarded or cancelled ``at``, or
    (retryable) that failed an attempt made ``at``. It was attempted at ``attempted_at`` (``at``
    unless given); a cancelled one was cancelled while it ran."""
    job = await _run(engine, queue, at if state is RETRYABLE else attempted_at or at)
    if state is CANCELLED:
        await engine.cancel_jobs([id_of(job)], at)
    elif state is RETRYABLE:
        await engine.ack_jobs([ack(job, state, at=at + timedelta(minutes=30), delay=3600, error=_ERROR)])
    else:
        await engine.ack_jobs([ack(job, state, at=at, error=None if state is COMPLETED else _ERROR)])
    assert (await reload(engine, job)).state is state
    return job


@pytest.mark.asyncio
class TestActivity:
    async def test_no_finished_jobs_means_no_activity(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        await _run(oban_engine, "busy", utcnow())
        await insert(oban_engine, schedule_in=600)
        assert await oban_engine.job_activity(utcnow() - timedelta(days=1), 60) == []

    async def test_jobs_are_counted_per_bucket_queue_and_state_in_that_order(self, oban_engine: Engine) -> None:
        start = _aligned(60)
        for state, queue, offset in [
            (DISCARDED, "mail", 70),
            (COMPLETED, "mail", 5),
            (COMPLETED, "sms", 10),
            (COMPLETED, "mail", 50),
            (COMPLETED, "mail", 65),
            (CANCELLED, "mail", 61),
            (RETRYABLE, "alerts", 119),
        ]:
            await _finish(oban_engine, state, queue, start + timedelta(seconds=offset))
        minute = timedelta(minutes=1)
        assert await oban_engine.job_activity(start, 60) == [
            Activity(start, "mail", COMPLETED, 2),
            Activity(start, "sms", COMPLETED, 1),
            Activity(start + minute, "alerts", RETRYABLE, 1),
            Activity(start + minute, "mail", CANCELLED, 1),
            Activity(start + minute, "mail", COMPLETED, 1),
            Activity(start + minute, "mail", DISCARDED, 1),
        ]

    async def test_each_state_is_dated_by_its_own_timestamp(self, oban_engine: Engine) -> None:
        start = _aligned(60)
        minutes = [start + timedelta(minutes=n) for n in range(8)]
        # Every job was attempted in minute 0; each finished in a minute of its own.
        await _finish(oban_engine, COMPLETED, "q", minutes[1] + timedelta(seconds=30), attempted_at=minutes[0])
        await _finish(oban_engine, DISCARDED, "q", minutes[2] + timedelta(seconds=30), attempted_at=minutes[0])
        await _finish(oban_engine, CANCELLED, "q", minutes[3] + timedelta(seconds=30), attempted_at=minutes[0])
        # A failed attempt is dated by when it was attempted, not when it was acked (30 min later).
        await _finish(oban_engine, RETRYABLE, "q", minutes[4] + timedelta(seconds=30))
        assert await oban_engine.job_activity(start, 60) == [
            Activity(minutes[1], "q", COMPLETED, 1),
            Activity(minutes[2], "q", DISCARDED, 1),
            Activity(minutes[3], "q", CANCELLED, 1),
            Activity(minutes[4], "q", RETRYABLE, 1),
        ]

    async def test_since_counts_jobs_finished_at_or_after_it_and_none_before(self, oban_engine: Engine) -> None:
        start = _aligned(60)
        since = start + timedelta(minutes=2)
        tick = timedelta(microseconds=1)
        for state in (COMPLETED, DISCARDED, CANCELLED, RETRYABLE):
            await _finish(oban_engine, state, "q", since - tick)
            await _finish(oban_engine, state, "q", since)
            await _finish(oban_engine, state, "q", since + timedelta(seconds=59))
        # A job attempted long before `since` that finished after it counts.
        await _finish(oban_engine, COMPLETED, "old", since + tick, attempted_at=start)
        assert await oban_engine.job_activity(since, 60) == [
            Activity(since, "old", COMPLETED, 1),
            Activity(since, "q", CANCELLED, 2),
            Activity(since, "q", COMPLETED, 2),
            Activity(since, "q", DISCARDED, 2),
            Activity(since, "q", RETRYABLE, 2),
        ]
        assert await oban_engine.job_activity(since + timedelta(minutes=1), 60) == []

    async def test_buckets_start_at_multiples_of_their_length_since_the_epoch(self, oban_engine: Engine) -> None:
        start = _aligned(300)
        tick = timedelta(microseconds=1)
        five = timedelta(minutes=5)
        times = [start, start + five - tick, start + five, start + 3 * five + timedelta(seconds=1)]
        for at in times:
            await _finish(oban_engine, COMPLETED, "q", at)
        found = await oban_engine.job_activity(start - timedelta(hours=1), 300)
        assert found == [
            Activity(start, "q", COMPLETED, 2),
            Activity(start + five, "q", COMPLETED, 1),
            Activity(start + 3 * five, "q", COMPLETED, 1),
        ]
        for item in found:
            assert item.at.utcoffset() == timedelta(0) and int(item.at.timestamp()) % 300 == 0
        # The same jobs in 7-second buckets, which do not line up with minutes.
        sevens = await oban_engine.job_activity(start - timedelta(hours=1), 7)
        expected = Counter(datetime.fromtimestamp(int(at.timestamp()) // 7 * 7, UTC) for at in times)
        assert [(item.at, item.count) for item in sevens] == sorted(expected.items())

    async def test_a_job_counts_only_in_its_current_state(self, oban_engine: Engine) -> None:
        start = _aligned(60)
        completed = await _finish(oban_engine, COMPLETED, "q", start + timedelta(seconds=1))
        await _finish(oban_engine, RETRYABLE, "q", start + timedelta(seconds=2))
        await oban_engine.retry_jobs([id_of(completed)], utcnow())  # available again: no longer completed
        assert await oban_engine.job_activity(start, 60) == [Activity(start, "q", RETRYABLE, 1)]
        await oban_engine.stage_jobs(utcnow() + timedelta(days=1), 100)  # the retryable job is due: available
        assert await oban_engine.job_activity(start, 60) == []

    @pytest.mark.parametrize("bucket", [0, -60, 1.5, "60", True, None, 2**40])
    async def test_a_bucket_that_is_not_a_positive_integer_is_refused(
        self, oban_engine: Engine, bucket: object
    ) -> None:
        with pytest.raises(ValueError, match=rf"bucket.*{re.escape(repr(bucket))}"):
            await oban_engine.job_activity(utcnow(), bucket)  # type: ignore[arg-type]

    async def test_the_facade_counts_by_the_minute_unless_told(self, oban_engine: Engine) -> None:
        start = _aligned(3600)
        await _finish(oban_engine, COMPLETED, "q", start + timedelta(minutes=1, seconds=5))
        await _finish(oban_engine, COMPLETED, "q", start + timedelta(minutes=59))
        async with Oban(oban_engine, testing="manual", name="conformance-activity") as oban:
            assert await oban.job_activity(since=start) == [
                Activity(start + timedelta(minutes=1), "q", COMPLETED, 1),
                Activity(start + timedelta(minutes=59), "q", COMPLETED, 1),
            ]
            assert await oban.job_activity(since=start, bucket=3600) == [Activity(start, "q", COMPLETED, 2)]
