"""Hostile and broken input: clear errors, nothing half-written, nothing interpreted as SQL."""

from __future__ import annotations

import pytest

from ..._time import utcnow
from ...job import JobState
from ._helpers import claim, insert, new_job, reload

pytestmark = pytest.mark.asyncio

HOSTILE = "q'; DROP TABLE oban_jobs; --\"`\\"


class TestBadInput:
    async def test_args_that_cannot_be_encoded_raise_naming_the_field(self, engine):
        job = new_job(args={"when": {1, 2}})
        with pytest.raises(ValueError, match="args"):
            await engine.insert_jobs([job])
        assert await engine.list_jobs() == []

    async def test_integers_beyond_64_bits_are_rejected_not_truncated(self, engine):
        with pytest.raises(ValueError, match="meta"):
            await engine.insert_jobs([new_job(meta={"huge": 2**70})])
        assert await engine.list_jobs() == []

    async def test_queue_and_worker_names_are_data_not_sql(self, engine):
        job = await insert(engine, queue=HOSTILE, worker=HOSTILE + ".Worker", args={HOSTILE: HOSTILE}, tags=[HOSTILE])
        [claimed] = await claim(engine, queue=HOSTILE)
        assert claimed.id == job.id
        stored = await reload(engine, job)
        assert stored.queue == HOSTILE and stored.worker == HOSTILE + ".Worker"
        assert stored.args == {HOSTILE: HOSTILE} and stored.state is JobState.EXECUTING
        assert [j.id for j in await engine.list_jobs(queue=HOSTILE, worker=HOSTILE + ".Worker")] == [job.id]

    async def test_empty_id_lists_change_nothing(self, engine):
        await insert(engine)
        assert await engine.retry_jobs([], utcnow()) == 0
        assert await engine.delete_jobs([]) == 0
        assert await engine.update_jobs([], lambda job: job) == []
        assert len(await engine.list_jobs()) == 1

    async def test_an_empty_insert_returns_nothing(self, engine):
        assert await engine.insert_jobs([]) == []
