"""MySQLEngine: a batch of unique jobs with distinct keys, looked up in one statement."""

from __future__ import annotations

from typing import Any

import pytest

from oban import Job

pytestmark = pytest.mark.engines("mysql")


def _unique(n: int) -> Job:
    return Job(worker="w.U", args={"n": n}, unique=True)


async def test_a_batch_in_an_older_snapshot_still_sees_each_committed_duplicate(oban_engine_factory: Any) -> None:
    engine = await oban_engine_factory()
    async with oban_engine_factory.transaction() as conn:
        async with conn.cursor() as cursor:
            # REPEATABLE READ fixes this transaction's snapshot at its first read.
            await cursor.execute("SELECT COUNT(*) FROM oban_jobs")
            await cursor.fetchall()
        first, second = await engine.insert_jobs([_unique(1), _unique(2)])
        stored = await engine.insert_jobs([_unique(1), _unique(3), _unique(2)], conn=conn)
    assert [job.conflict for job in stored] == [True, False, True]
    assert stored[0].id == first.id and stored[2].id == second.id
    assert len(await engine.list_jobs(worker="w.U")) == 3


@pytest.mark.parametrize("strategy", ["consecutive", "returning", "per_row"])
async def test_new_unique_jobs_share_the_plain_ones_insert_and_keep_their_ids(
    oban_engine_factory: Any, strategy: str
) -> None:
    engine = await oban_engine_factory()
    engine._id_strategy = strategy
    [kept] = await engine.insert_jobs([_unique(0)])
    batch = [Job(worker="w.P", args={"n": 1}), _unique(2), _unique(0), _unique(3), Job(worker="w.P", args={"n": 4})]
    stored = await engine.insert_jobs(batch)
    assert [job.args for job in stored] == [job.args for job in batch]
    assert [job.conflict for job in stored] == [False, False, True, False, False]
    assert stored[2].id == kept.id
    for job in stored:
        assert (await engine.get_job(job.id)).args == job.args
