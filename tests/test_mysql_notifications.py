"""MySQLEngine notifications: the polled table that carries them between nodes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oban import JobState, Oban, worker
from tests.support import mysql_query, wait_until

REPO = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.engines("mysql")


async def _in_another_process(dsn: str, body: str) -> None:
    """Run ``body`` with ``engine`` bound to a connected MySQLEngine, in a new Python process."""
    script = (
        "import asyncio, sys\n"
        "from oban import Job\n"
        "from oban.engines.mysql import MySQLEngine\n"
        "async def main():\n"
        "    engine = MySQLEngine(sys.argv[1])\n"
        "    await engine.connect()\n"
        + "".join(f"    {line}\n" for line in body.splitlines())
        + "    await engine.close()\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, dsn, cwd=REPO)
    assert await process.wait() == 0


def _recorder() -> tuple[list[tuple[str, dict[str, Any]]], Callable[[str, dict[str, Any]], None]]:
    heard: list[tuple[str, dict[str, Any]]] = []
    return heard, lambda channel, payload: heard.append((channel, payload))


async def test_a_notification_from_another_process_arrives(oban_engine_factory):
    engine = await oban_engine_factory()
    heard, handler = _recorder()
    await engine.listen(handler)
    try:
        await _in_another_process(oban_engine_factory.dsn, 'await engine.notify("signal", [{"from": "child"}])')
        await wait_until(lambda: heard, within=20)
        assert heard == [("signal", {"from": "child"})]
    finally:
        await engine.unlisten(handler)


async def test_a_row_that_commits_after_a_higher_id_is_still_delivered(oban_engine_factory, admin):
    engine = await oban_engine_factory()
    heard, handler = _recorder()
    await engine.listen(handler)
    insert = "INSERT INTO oban_notifications (channel, payload, sender) VALUES ('signal', %s, 'elsewhere')"
    try:
        async with oban_engine_factory.transaction() as slow:
            await mysql_query(slow, insert, ('{"n": "first id, late commit"}',))
            await mysql_query(admin, insert, ('{"n": "second id, early commit"}',))
            await wait_until(lambda: len(heard) == 1, within=20)
        await wait_until(lambda: len(heard) == 2, within=20)
        assert [payload["n"] for _, payload in heard] == ["second id, early commit", "first id, late commit"]
    finally:
        await engine.unlisten(handler)


async def test_old_notification_rows_are_pruned(oban_engine_factory, admin):
    engine = await oban_engine_factory()
    await mysql_query(
        admin,
        "INSERT INTO oban_notifications (channel, payload, inserted_at) "
        "VALUES ('signal', '{}', UTC_TIMESTAMP(6) - INTERVAL 5 MINUTE)",
    )
    _, handler = _recorder()
    await engine.listen(handler)
    try:
        engine._poller._next_prune = 0.0  # prune on the next poll instead of in ten seconds

        async def pruned() -> bool:
            return (await mysql_query(admin, "SELECT COUNT(*) FROM oban_notifications"))[0][0] == 0

        await wait_until(pruned, within=20)
    finally:
        await engine.unlisten(handler)


@worker(queue="remote")
class RemoteWorker:
    async def process(self, job: Any) -> None:
        return None


async def test_a_job_inserted_on_another_node_wakes_this_nodes_queue(oban_engine_factory):
    engine = await oban_engine_factory()
    # With hour-long polling, only the notification can get the job started here.
    async with Oban(engine, queues={"remote": 5}, name="remote", stage_interval=3600):
        await _in_another_process(
            oban_engine_factory.dsn,
            'await engine.insert_jobs([Job(worker="tests.test_mysql_notifications.RemoteWorker", queue="remote")])',
        )

        async def completed() -> bool:
            return len(await engine.list_jobs(states=[JobState.COMPLETED])) == 1

        await wait_until(completed, within=20)
