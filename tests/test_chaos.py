"""Chaos: real servers, several OS processes, things killed on purpose.

Each test asserts what a user relies on: no job lost, no job run twice except the jobs a killed
node had in flight, nodes recovering without a restart, clear errors. Timings are printed (run
with ``-s`` to read them); only the promised bounds are asserted.

The fast ones run in the default test run and in ``.ci/run`` (with a 1 s heartbeat); ``nox -s
chaos`` runs them all, the server restarts included, with the default 5 s heartbeat
(``OBAN_CHAOS=all``, ``OBAN_CHAOS_HEARTBEAT``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from oban import Job, JobState, UniqueOptions
from oban.engines.protocol import RESCUE_ERROR

ROOT = Path(__file__).resolve().parent.parent
HEARTBEAT = float(os.environ.get("OBAN_CHAOS_HEARTBEAT", "1"))
ALL = os.environ.get("OBAN_CHAOS") == "all"
slow = pytest.mark.skipif(not ALL, reason="slow chaos: run with OBAN_CHAOS=all (nox -s chaos)")

pytestmark = pytest.mark.timeout(300)


@dataclass
class Runs:
    """What the workers logged: each job's starts and ends, by node, with times."""

    starts: dict[int, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))
    ends: dict[int, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def read(cls, path: Path) -> Runs:
        runs = cls()
        if path.exists():
            for line in path.read_text().splitlines():
                event, job_id, _attempt, node, at = line.split()
                (runs.starts if event == "start" else runs.ends)[int(job_id)].append((node, float(at)))
        return runs


class Cluster:
    """Node processes (``tests.chaos_node``) on one database, logging runs to one file."""

    def __init__(
        self, dsn: str, tmp_path: Path, *, limit: int = 10, heartbeat: float = HEARTBEAT, rescue_after: float = 3600
    ) -> None:
        self.dsn = dsn
        self.rescue_after = rescue_after
        self.runs_file = tmp_path / "runs.log"
        self.limit = limit
        self.heartbeat = heartbeat
        self.nodes: dict[str, asyncio.subprocess.Process] = {}

    async def start(self, name: str) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.chaos_node",
            self.dsn,
            name,
            str(self.runs_file),
            str(self.limit),
            str(self.heartbeat),
            str(self.rescue_after),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line.strip() == b"ready", f"node {name} did not start"
        self.nodes[name] = process

    def leader(self) -> str | None:
        path = Path(f"{self.runs_file}.leader")
        return (path.read_text().strip() or None) if path.exists() else None

    def kill(self, name: str) -> float:
        self.nodes[name].send_signal(signal.SIGKILL)
        return time.time()

    async def stop(self) -> None:
        for process in self.nodes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.nodes.values():
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()

    def runs(self) -> Runs:
        return Runs.read(self.runs_file)


async def _until(predicate: Any, within: float, what: str) -> float:
    """Wait until ``predicate()`` (sync or async) holds; return when it did (``time.time()``)."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.time()
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within}s")
        await asyncio.sleep(0.05)


def _chaos_jobs(count: int, sleep: float) -> list[Job]:
    return [Job(worker="tests.workers.ChaosWork", queue="chaos", args={"n": n, "sleep": sleep}) for n in range(count)]


async def _all_completed(engine: Any, count: int) -> bool:
    """Whether ``count`` jobs completed; a query on a connection the test itself killed counts as no."""
    from oban import DatabaseError

    try:
        return len(await engine.list_jobs(states=[JobState.COMPLETED], limit=count + 1)) == count
    except DatabaseError:
        return False


@pytest.mark.parametrize("victim", ["leader", "follower"])
async def test_kill_9_of_a_node_mid_run_loses_nothing_and_rescues_its_jobs_within_three_heartbeats(
    oban_engine_factory, engine_name, tmp_path, victim
):
    engine = await oban_engine_factory()
    jobs = await engine.insert_jobs(_chaos_jobs(240, sleep=0.2))
    cluster = Cluster(oban_engine_factory.dsn, tmp_path)
    try:
        for name in ("node-1", "node-2", "node-3"):
            await cluster.start(name)
        await _until(lambda: cluster.leader() is not None, 30, "a leader election")
        await _until(
            lambda: len({node for starts in cluster.runs().starts.values() for node, _ in starts}) == 3,
            30,
            "every node running jobs",
        )
        leader = cluster.leader()
        target = leader if victim == "leader" else next(name for name in cluster.nodes if name != leader)

        def target_busy() -> bool:
            runs = cluster.runs()
            return any(starts[-1][0] == target and not runs.ends.get(job_id) for job_id, starts in runs.starts.items())

        await _until(target_busy, 30, "the victim running a job")
        killed_at = cluster.kill(target)
        await asyncio.sleep(0.05)
        runs = cluster.runs()
        in_flight = {
            job_id for job_id, starts in runs.starts.items() if starts[-1][0] == target and not runs.ends.get(job_id)
        }
        assert in_flight, "the victim had nothing running when it died"
        if victim == "leader":
            elected_at = await _until(lambda: cluster.leader() not in (None, target), 60, "a new leader")
            print(f"\n{engine_name}: new leader {elected_at - killed_at:.1f}s after kill -9 (heartbeat {HEARTBEAT}s)")
        await _until(lambda: _all_completed(engine, len(jobs)), 120, "every job completing")
    finally:
        await cluster.stop()

    runs = cluster.runs()
    assert sorted(runs.ends) == sorted(job.id for job in jobs)
    # A job the victim finished just before it died may not have had its ack written yet: it is
    # in flight too (at least once), and runs again. No other job may run or complete twice.
    unacked = {
        job_id
        for job_id, ends in runs.ends.items()
        if ends[0][0] == target and killed_at - 1.0 <= ends[0][1] <= killed_at
    }
    completed_twice = {job_id for job_id, ends in runs.ends.items() if len(ends) > 1}
    assert completed_twice <= unacked, "a job completed twice"
    twice = {job_id for job_id, starts in runs.starts.items() if len(starts) > 1}
    assert twice <= in_flight | unacked, "a job of a live node ran twice"
    delays = []
    for job_id in in_flight:
        assert runs.starts[job_id][-1][0] != target
        delays.append(runs.starts[job_id][-1][1] - killed_at)
        stored = await engine.get_job(job_id)
        assert stored.state is JobState.COMPLETED and RESCUE_ERROR in [e["error"] for e in stored.errors]
    print(
        f"{engine_name}: {len(in_flight)} jobs of the killed {victim} ran again {min(delays):.1f}"
        f"-{max(delays):.1f}s after kill -9 (heartbeat {HEARTBEAT}s)"
    )
    # Stale after two heartbeats, then one rescue pass and one claim: within three.
    assert max(delays) <= 3 * HEARTBEAT + 1.0


async def _kill_connections(engine_name: str, admin: Any, database: str) -> int:
    """Kill every connection to the test database but the admin's own; return how many."""
    if engine_name == "postgres":
        rows = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'oban%'"
        )
        return len(rows)
    from tests.support import mysql_query

    ids = [
        row[0]
        for row in await mysql_query(
            admin, "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()", (database,)
        )
    ]
    for thread in ids:
        try:
            await mysql_query(admin, f"KILL {int(thread)}")
        except Exception:  # it ended on its own meanwhile
            pass
    return len(ids)


async def _insert_with_retry(engine: Any, jobs: list[Job]) -> list[Job]:
    from oban import DatabaseError

    for _ in range(50):
        try:
            return await engine.insert_jobs(jobs)
        except DatabaseError:
            await asyncio.sleep(0.1)
    raise AssertionError("inserting never succeeded")


@pytest.mark.engines("postgres", "mysql")
async def test_connections_killed_while_nodes_drain_and_a_producer_inserts(
    oban_engine_factory, engine_name, admin, tmp_path
):
    from urllib.parse import urlparse

    engine = await oban_engine_factory()
    database = urlparse(oban_engine_factory.dsn).path.lstrip("/")
    cluster = Cluster(oban_engine_factory.dsn, tmp_path)
    inserted: list[Job] = []
    killed = 0
    try:
        for name in ("node-1", "node-2"):
            await cluster.start(name)

        async def produce() -> None:
            for _ in range(20):
                inserted.extend(await _insert_with_retry(engine, _chaos_jobs(10, sleep=0.02)))
                await asyncio.sleep(0.1)

        async def kill() -> None:
            nonlocal killed
            for _ in range(8):
                await asyncio.sleep(0.4)
                killed += await _kill_connections(engine_name, admin, database)

        await asyncio.gather(produce(), kill())
        await _until(lambda: _all_completed(engine, len(inserted)), 120, "every job completing")
    finally:
        await cluster.stop()
    runs = cluster.runs()
    print(f"\n{engine_name}: {killed} connections killed; {len(inserted)} jobs, each run once")
    assert killed > 0
    assert sorted(runs.ends) == sorted(job.id for job in inserted)
    assert all(len(starts) == 1 for starts in runs.starts.values()), "a job ran twice"
    assert all(len(ends) == 1 for ends in runs.ends.values())


@pytest.mark.engines("sqlite")
async def test_four_processes_on_one_sqlite_file_with_concurrent_inserts_run_every_job_once(
    oban_engine_factory, tmp_path
):
    engine = await oban_engine_factory()
    cluster = Cluster(oban_engine_factory.dsn, tmp_path, limit=5)
    inserted: list[Job] = []
    try:
        for name in ("node-1", "node-2", "node-3", "node-4"):
            await cluster.start(name)

        async def produce(batch: int) -> None:
            other = await oban_engine_factory()  # another connection, as another client would have
            for _ in range(15):
                inserted.extend(await _insert_with_retry(other, _chaos_jobs(batch, sleep=0.01)))
                await asyncio.sleep(0.02)

        await asyncio.gather(produce(1), produce(7), produce(20))
        await _until(lambda: _all_completed(engine, len(inserted)), 120, "every job completing")
    finally:
        await cluster.stop()
    runs = cluster.runs()
    nodes = {node for starts in runs.starts.values() for node, _ in starts}
    print(f"\nsqlite: {len(inserted)} jobs inserted by three clients, run once each by {len(nodes)} processes")
    assert sorted(runs.ends) == sorted(job.id for job in inserted)
    assert all(len(starts) == 1 for starts in runs.starts.values()), "a job ran twice"
    assert len(nodes) >= 3


def _fill(path: Path) -> None:
    """Write to ``path`` until the filesystem has no byte left."""
    with open(path, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A 2 MiB tmpfs, or a skip where this machine cannot mount one."""
    import shutil
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        shutil.rmtree(mount, ignore_errors=True)


@pytest.mark.engines("sqlite")
async def test_a_full_filesystem_gives_clear_errors_and_the_node_recovers_when_space_returns(
    engine_name, tiny_filesystem, tmp_path, monkeypatch
):
    from oban import DatabaseError, Oban
    from oban.engines import LiteEngine

    monkeypatch.setenv("OBAN_CHAOS_RUNS", str(tmp_path / "runs.log"))
    monkeypatch.setenv("OBAN_CHAOS_NODE", "local")
    engine = LiteEngine(str(tiny_filesystem / "jobs.db"))
    oban = Oban(engine, queues={"chaos": 5}, stage_interval=0.1, heartbeat_interval=0.5)
    await oban.start()
    try:
        first = await oban.enqueue_many(_chaos_jobs(20, sleep=0.01))
        await _until(lambda: _all_completed(engine, 20), 30, "the first jobs completing")
        filler = tiny_filesystem / "filler"
        await asyncio.to_thread(_fill, filler)
        with pytest.raises(DatabaseError, match="full") as refused:
            for _ in range(50):  # the WAL may still have room for a few pages
                await oban.enqueue_many(_chaos_jobs(50, sleep=0))
        assert "insert_jobs on sqlite:///" in str(refused.value)
        await asyncio.sleep(1.0)  # the node rides it out: heartbeats, claims and acks fail and retry
        filler.unlink()
        later = await oban.enqueue_many(_chaos_jobs(20, sleep=0.01))

        async def every_stored_job_completed() -> bool:
            stored = await engine.list_jobs(limit=100_000)
            return all(job.state is JobState.COMPLETED for job in stored)

        await _until(every_stored_job_completed, 60, "every stored job completing")
    finally:
        await oban.stop()
    runs = Runs.read(tmp_path / "runs.log")
    assert all(len(starts) == 1 for starts in runs.starts.values()), "a job ran twice"
    assert {job.id for job in [*first, *later]} <= set(runs.ends)


async def _run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 0, f"{' '.join(command)} failed: {err.decode()}"


async def _restart_server(engine_name: str) -> None:
    """Restart the real database server and wait until it answers again."""
    if engine_name == "postgres":
        version = sorted(os.listdir("/etc/postgresql"))[0]
        await _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
        await _until(lambda: _answers("pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"), 60, "PostgreSQL back")
    else:
        await _run("mysqladmin", "-h", "127.0.0.1", "-u", "root", "shutdown")

        async def gone() -> bool:  # started again before the old process exits, it would not start at all
            return not await _answers("pgrep", "-x", "mariadbd")

        await _until(gone, 60, "MariaDB to exit")
        os.makedirs("/run/mysqld", exist_ok=True)
        await _run("chown", "mysql:", "/run/mysqld")
        await _run(
            "start-stop-daemon",
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            "/usr/sbin/mariadbd",
            "--",
            "--user=mysql",
        )
        await _until(lambda: _answers("mysqladmin", "-h", "127.0.0.1", "-u", "root", "ping"), 60, "MariaDB back")


async def _answers(*command: str) -> bool:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await process.wait() == 0


@slow
@pytest.mark.engines("postgres", "mysql")
async def test_restarting_the_server_while_nodes_drain_and_a_producer_inserts_loses_nothing(
    oban_engine_factory, engine_name, tmp_path
):
    engine = await oban_engine_factory()
    cluster = Cluster(oban_engine_factory.dsn, tmp_path)
    inserted: list[Job] = []
    try:
        for name in ("node-1", "node-2"):
            await cluster.start(name)

        async def produce() -> None:
            # Unique by n, so a retried insert whose first COMMIT did land adds nothing: what a
            # careful client does when an insert fails with the outcome unknown.
            for batch in range(40):
                jobs = _chaos_jobs(10, sleep=0.05)
                for number, job in enumerate(jobs):
                    job.args["n"] = batch * 10 + number
                    job.unique = UniqueOptions.parse({"period": None, "keys": ["n"]})
                inserted.extend(await _insert_with_retry(engine, jobs))
                await asyncio.sleep(0.1)

        async def restart() -> None:
            await asyncio.sleep(1.0)
            started = time.monotonic()
            await _restart_server(engine_name)
            print(f"\n{engine_name}: server restarted in {time.monotonic() - started:.1f}s")

        await asyncio.gather(produce(), restart())
        await _until(lambda: _all_completed(engine, len(inserted)), 180, "every job completing")
    finally:
        await cluster.stop()
    runs = cluster.runs()
    print(f"{engine_name}: {len(inserted)} jobs, each completed once, through a server restart")
    assert len({job.id for job in inserted}) == len(inserted) == 400
    assert sorted(runs.ends) == sorted(job.id for job in inserted)
    assert all(len(ends) == 1 for ends in runs.ends.values()), "a job completed twice"
    assert all(len(starts) == 1 for starts in runs.starts.values()), "a job ran twice"


@slow
async def test_a_job_running_three_times_longer_than_rescue_after_on_a_live_node_runs_once(
    oban_engine_factory, engine_name, tmp_path
):
    engine = await oban_engine_factory()
    [job] = await engine.insert_jobs(_chaos_jobs(1, sleep=15))
    cluster = Cluster(oban_engine_factory.dsn, tmp_path, rescue_after=5)
    try:
        for name in ("node-1", "node-2", "node-3"):
            await cluster.start(name)
        await _until(lambda: _all_completed(engine, 1), 60, "the long job completing")
    finally:
        await cluster.stop()
    runs = cluster.runs()
    print(f"\n{engine_name}: a 15 s job with rescue_after=5 started {len(runs.starts[job.id])} time(s)")
    assert len(runs.starts[job.id]) == 1 and len(runs.ends[job.id]) == 1
    assert (await engine.get_job(job.id)).errors == []
