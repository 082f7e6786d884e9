"""SQLite's per-state time indexes (schema v6): each holds only the state it serves.

A claim or an ack then moves no entry in an index as big as the table of finished jobs. These
tests check that jobs survive the upgrade, and that pruning, activity and rescue still find what
they look for through those indexes instead of reading every finished job.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from oban import Job, JobState
from oban._time import utcnow
from oban.engines import LiteEngine
from oban.engines.kit import load_queries
from oban.engines.protocol import Ack

QUERIES = load_queries("oban.engines.lite")
BEFORE_PARTIAL_INDEXES = 5


async def _one_job_in_each_finished_state(engine: LiteEngine) -> dict[JobState, int]:
    """One completed, one discarded and one cancelled job, and one left available: their ids."""
    jobs = await engine.insert_jobs([Job(worker="W", args={"i": i}) for i in range(4)])
    done, failed = await engine.fetch_jobs("default", 2, "node", utcnow())
    now = utcnow()
    await engine.ack_jobs([Ack(done.id, done.attempt, JobState.COMPLETED, now)])
    await engine.ack_jobs([Ack(failed.id, failed.attempt, JobState.DISCARDED, now)])
    cancelled = next(job.id for job in jobs if job.id not in (done.id, failed.id))
    await engine.cancel_jobs([cancelled], now)
    waiting = next(job.id for job in jobs if job.id not in (done.id, failed.id, cancelled))
    return {
        JobState.COMPLETED: done.id,
        JobState.DISCARDED: failed.id,
        JobState.CANCELLED: cancelled,
        JobState.AVAILABLE: waiting,
    }


async def test_a_file_upgraded_from_schema_5_keeps_its_jobs_and_prunes_only_finished_ones(tmp_path: Path) -> None:
    engine = LiteEngine(str(tmp_path / "upgrade.db"), install=False)
    try:
        await engine.migrate(BEFORE_PARTIAL_INDEXES)
        ids = await _one_job_in_each_finished_state(engine)

        await engine.migrate()

        assert await engine.schema_version() == LiteEngine.latest_schema_version
        stored = {job.id: job.state for job in await engine.list_jobs()}
        assert stored == {job_id: state for state, job_id in ids.items()}
        activity = await engine.job_activity(utcnow() - timedelta(minutes=1), 60)
        assert sorted(entry.state for entry in activity) == sorted(
            [JobState.COMPLETED, JobState.DISCARDED, JobState.CANCELLED]
        )
        assert await engine.prune_jobs(utcnow() + timedelta(seconds=1), 10) == 3
        assert [job.id for job in await engine.list_jobs()] == [ids[JobState.AVAILABLE]]
    finally:
        await engine.close()


async def test_migrating_back_below_the_partial_indexes_keeps_every_job(tmp_path: Path) -> None:
    engine = LiteEngine(str(tmp_path / "downgrade.db"))
    try:
        ids = await _one_job_in_each_finished_state(engine)

        await engine.migrate(BEFORE_PARTIAL_INDEXES)

        stored = {job.id: job.state for job in await engine.list_jobs()}
        assert stored == {job_id: state for state, job_id in ids.items()}
        assert await engine.prune_jobs(utcnow() + timedelta(seconds=1), 10) == 3
    finally:
        await engine.close()


def _plan(path: Path, query: str, params: dict[str, object]) -> str:
    db = sqlite3.connect(path)
    try:
        return "\n".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + QUERIES[query], params))
    finally:
        db.close()


async def test_maintenance_finds_finished_jobs_through_their_own_state_index(tmp_path: Path) -> None:
    """Without statistics SQLite still picks the partial indexes: the queries name their state."""
    path = tmp_path / "plans.db"
    engine = LiteEngine(str(path))
    await engine.connect()
    await engine.close()
    now = "2026-01-01T00:00:00.000000Z"

    prune = _plan(path, "prune_jobs", {"before": now, "limit": 10})
    activity = _plan(path, "job_activity", {"since": now, "bucket": 60})
    rescue = _plan(path, "rescue_jobs", {"now": now, "fallback_before": now, "error": "x"})

    for state in ("completed", "cancelled", "discarded"):
        assert f"oban_jobs_state_{state}_at_index (state=? AND {state}_at<?)" in prune
        assert f"oban_jobs_state_{state}_at_index (state=? AND {state}_at>?)" in activity
    assert "oban_jobs_state_attempted_at_index (state=? AND attempted_at>?)" in activity
    assert "SEARCH j USING INDEX oban_jobs_state_queue_priority_scheduled_at_id_index (state=?)" in rescue
