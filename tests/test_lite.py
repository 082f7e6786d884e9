"""SQLite specifics: file sharing between processes, a locked file, DSNs, in-memory databases."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from oban import Job, JobState, Oban
from oban._time import utcnow
from oban.engines import LiteEngine, engine_from_dsn
from oban.engines.kit import COLUMNS
from oban.engines.protocol import Ack
from tests import workers
from tests.support import wait_until
from tests.test_oban import reached

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("jobs.db", "jobs.db"),
        ("sqlite:///jobs.db", "jobs.db"),
        ("sqlite:////tmp/x/jobs.db", "/tmp/x/jobs.db"),
        ("sqlite:///:memory:", ":memory:"),
        (":memory:", ":memory:"),
    ],
)
def test_paths_and_dsns(target, path):
    assert LiteEngine(target).path == path


def test_dsn_errors_name_the_value():
    with pytest.raises(ValueError, match="postgresql://x"):
        LiteEngine("postgresql://x")
    with pytest.raises(ValueError, match="no path"):
        LiteEngine("sqlite://")


def test_engines_built_from_a_dsn_do_not_install_the_schema(tmp_path):
    engine = engine_from_dsn(f"sqlite:///{tmp_path}/x.db")
    assert isinstance(engine, LiteEngine) and engine._auto_install is False


async def test_an_in_memory_database_runs_jobs():
    async with Oban(LiteEngine(":memory:"), queues={"default": 2}) as oban:
        job = await oban.enqueue(workers.Echo.new({"tag": "mem"}))
        await wait_until(reached(oban, job, JobState.COMPLETED))


async def test_a_direct_path_installs_the_schema_on_first_use(tmp_path):
    engine = LiteEngine(str(tmp_path / "auto.db"))
    oban = Oban(engine)
    await oban.enqueue(workers.Noop.new({}))
    assert await engine.schema_version() >= 1
    await oban.stop()


async def test_the_runtime_waits_out_a_locked_database_and_loses_nothing(tmp_path):
    path = str(tmp_path / "locked.db")
    engine = LiteEngine(path, busy_timeout=0.05)
    async with Oban(engine, queues={"default": 5}, stage_interval=0.05) as oban:
        jobs = await oban.enqueue_many([workers.Echo.new({"tag": i}) for i in range(10)])
        await wait_until(reached(oban, jobs[-1], JobState.COMPLETED))
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        more = [workers.Echo.new({"tag": f"late-{i}"}) for i in range(10)]
        insert = asyncio.create_task(oban.enqueue_many(more))
        await asyncio.sleep(1.0)
        assert not insert.done()
        blocker.execute("COMMIT")
        blocker.close()
        inserted = await insert
        for job in inserted:
            await wait_until(reached(oban, job, JobState.COMPLETED))
    assert sorted(e[1] for e in workers.EVENTS[-20:]) == sorted(j.id for j in jobs + inserted)


def test_two_processes_sharing_one_file_run_every_job_exactly_once(tmp_path):
    db = tmp_path / "shared.db"
    log = tmp_path / "runs.log"

    async def seed() -> None:
        oban = Oban(LiteEngine(str(db)))
        await oban.enqueue_many([workers.AppendToFile.new({"path": str(log), "n": i}) for i in range(1500)])
        await oban.stop()

    asyncio.run(seed())
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.node_process", f"sqlite:///{db}", f"node-{i}", "20", "1.5"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-2000:]
    runs = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert len(runs) == 1500
    assert set(runs.values()) == {1}

    async def states() -> Counter:
        engine = LiteEngine(str(db))
        jobs = await engine.list_jobs(limit=5000)
        await engine.close()
        return Counter(job.state for job in jobs)

    assert asyncio.run(states()) == Counter({JobState.COMPLETED: 1500})


def test_signals_and_inserts_reach_a_node_in_another_process(tmp_path):
    """A pause sent from this process reaches a node in another; its jobs start on notification."""
    db = tmp_path / "signals.db"
    log = tmp_path / "runs.log"
    script = (
        "import asyncio, sys\n"
        "from oban import Oban\n"
        "from oban.engines import LiteEngine\n"
        "import tests.workers\n"
        "async def main():\n"
        f"    async with Oban(LiteEngine({str(db)!r}), queues={{'default': 2}}, node='far', stage_interval=60) as o:\n"
        "        print('started', flush=True)\n"
        "        for _ in range(600):\n"
        "            await asyncio.sleep(0.05)\n"
        "            if o.check_queue('default').paused:\n"
        "                print('paused', flush=True)\n"
        "                return\n"
        "asyncio.run(main())\n"
    )

    async def drive() -> None:
        oban = Oban(LiteEngine(str(db)), node="near")
        await oban.enqueue(workers.Noop.new({}))  # installs the schema before the other process starts
        node = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        assert node.stdout is not None
        assert (await node.stdout.readline()).strip() == b"started"
        await asyncio.sleep(0.3)  # its first poll is done; the next one is 60 s away
        job = await oban.enqueue(workers.AppendToFile.new({"path": str(log)}))
        await wait_until(reached(oban, job, JobState.COMPLETED), within=10)
        await oban.pause_queue("default")
        assert (await asyncio.wait_for(node.stdout.readline(), 10)).strip() == b"paused"
        assert await node.wait() == 0
        await oban.stop()

    asyncio.run(drive())
    assert log.read_text().split()[1] != str(os.getpid())


async def test_notifications_from_other_processes_still_arrive_after_pruning_emptied_the_table(tmp_path):
    """Pruning may empty oban_notifications; ids must keep growing or listeners skip new rows."""
    db = tmp_path / "ids.db"
    engine = LiteEngine(str(db))
    got: list[dict] = []
    await engine.listen(lambda _channel, payload: got.append(payload))
    other = sqlite3.connect(db)  # writes rows the way another process's engine does
    insert = (
        "INSERT INTO oban_notifications (channel, payload, sender, inserted_at) VALUES ('signal', ?, 'elsewhere', ?)"
    )
    try:
        for n in range(3):
            other.execute(insert, (f'{{"n": {n}}}', "2000-01-01T00:00:00.000000Z"))
        other.commit()
        await wait_until(lambda: len(got) == 3)
        other.execute("DELETE FROM oban_notifications")  # what the pruner does to old rows
        other.commit()
        other.execute(insert, ('{"n": "after"}', "2000-01-01T00:00:00.000000Z"))
        other.commit()
        await wait_until(lambda: got[-1:] == [{"n": "after"}], within=5)
    finally:
        other.close()
        await engine.close()


async def test_a_second_ack_for_a_job_in_one_batch_finds_the_first_applied(tmp_path):
    """Acks without meta go in one statement; a job's later ack in the batch is applied after it."""
    engine = LiteEngine(str(tmp_path / "acks.db"))
    try:
        await engine.insert_jobs([Job(worker="W", args={"i": i}) for i in range(3)])
        first, second, third = await engine.fetch_jobs("default", 3, "node", utcnow())
        now = utcnow()
        acks = [
            Ack(first.id, first.attempt, JobState.COMPLETED, now),
            Ack(second.id, second.attempt, JobState.SCHEDULED, now, scheduled_at=now, meta={"snoozed": 1}),
            Ack(first.id, first.attempt, JobState.DISCARDED, now, error={"at": "x", "attempt": 1, "error": "late"}),
            Ack(third.id, third.attempt + 1, JobState.COMPLETED, now),  # an attempt that is not running
        ]
        assert await engine.ack_jobs(acks) == [first.id, second.id]
        stored = {job.id: job for job in await engine.list_jobs()}
        assert stored[first.id].state is JobState.COMPLETED and stored[first.id].errors == []
        assert stored[second.id].state is JobState.SCHEDULED and stored[second.id].meta == {"snoozed": 1}
        assert stored[third.id].state is JobState.EXECUTING
    finally:
        await engine.close()


async def test_a_claim_returns_each_job_as_stored(tmp_path):
    """A claim reads its jobs as one JSON document: values come back exactly, in claim order."""
    path = tmp_path / "claim.db"
    engine = LiteEngine(str(path))
    args = {"big": 2**64 - 1, "tiny": 1e-300, "text": 'h\u00e9 \u2028 "q" \\ \U0001f389', "nested": [None]}
    try:
        later, sooner = await engine.insert_jobs(
            [
                Job(worker="W", args=args, tags=["a", "b"], meta={"m": {"k": None}}, priority=1),
                Job(worker="W", args={}, priority=0),
            ]
        )
        other = sqlite3.connect(path)  # another implementation may store integers wider than 64 bits
        other.execute("UPDATE oban_jobs SET args = ? WHERE id = ?", ('{"wide": 1180591620717411303424}', sooner.id))
        other.commit()
        other.close()
        claimed = await engine.fetch_jobs("default", 5, "node", utcnow(), "uuid")
        assert [job.id for job in claimed] == [sooner.id, later.id]
        assert claimed[0].args == {"wide": 2**70}
        job = claimed[1]
        assert job.args == args and job.tags == ["a", "b"] and job.meta == {"m": {"k": None}}
        assert job.state is JobState.EXECUTING and job.attempt == 1 and job.attempted_by == ["node", "uuid"]
        assert job.inserted_at == later.inserted_at and job.scheduled_at == later.scheduled_at
        stored = await engine.get_job(job.id)
        assert stored is not None
        assert {c: getattr(stored, c) for c in COLUMNS} == {c: getattr(job, c) for c in COLUMNS}
    finally:
        await engine.close()
