"""Claiming overlaps running: slots are claimed as they free up, while the other jobs run, yet no
job runs twice, none is lost, and a node never runs more jobs of a queue than its limit."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from oban import JobState, Oban, telemetry, worker
from tests.support import wait_until

RUNS: list[tuple[int, str]] = []
RUNNING: Counter[str] = Counter()
PEAK: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _clear_runs() -> None:
    RUNS.clear()
    RUNNING.clear()
    PEAK.clear()


@worker(queue="claims")
class Counted:
    """Records which node ran the job, and how many jobs that node was running at once."""

    async def process(self, job: Any) -> None:
        node = job.attempted_by[0]
        RUNNING[node] += 1
        PEAK[node] = max(PEAK[node], RUNNING[node])
        try:
            RUNS.append((job.id, node))
            for _ in range(job.args["yields"]):
                await asyncio.sleep(0)
        finally:
            RUNNING[node] -= 1


async def completed(oban: Oban) -> int:
    counts = await oban.engine.count_jobs()
    return counts.get(("claims", JobState.COMPLETED), 0)


async def test_several_nodes_draining_one_queue_run_every_job_exactly_once_within_their_limits(
    oban_engine_factory,
) -> None:  # type: ignore[no-untyped-def]
    # given 1,200 jobs and three nodes, each with its own connections and an odd limit
    client = Oban(await oban_engine_factory(), name="claims-client")
    jobs = [Counted.new({"yields": i % 4}) for i in range(1200)]
    stored = await client.enqueue_many(jobs)
    limits = {"node-a": 7, "node-b": 1, "node-c": 10}
    nodes = [
        Oban(await oban_engine_factory(), name="claims", node=node, queues={"claims": limit}, stage_interval=0.2)
        for node, limit in limits.items()
    ]

    # when they all drain the queue at once
    for node in nodes:
        await node.start()
    try:
        await wait_until(lambda: _all_completed(client, len(stored)), within=120)
    finally:
        for node in nodes:
            await node.stop()

    # then each job ran once, on one node, and no node ran more than its limit at once
    ran = Counter(job_id for job_id, _ in RUNS)
    assert sorted(ran) == sorted(job.id for job in stored)
    assert set(ran.values()) == {1}
    for node, limit in limits.items():
        assert PEAK[node] <= limit
    assert await completed(client) == len(stored)
    await client.stop()


async def _all_completed(client: Oban, count: int) -> bool:
    return await completed(client) == count


async def test_freed_slots_are_claimed_while_other_jobs_run_and_claims_never_ask_past_the_limit(
    engine,
) -> None:  # type: ignore[no-untyped-def]
    # given more jobs than the limit, finishing at different times
    limit = 8
    client = Oban(engine, name="overlap-client")
    stored = await client.enqueue_many([Counted.new({"yields": 3 * (i % 7)}) for i in range(64)])
    oban = Oban(engine, name="overlap", node="overlap-node", queues={"claims": limit}, stage_interval=0.2)
    claims: list[tuple[int, int]] = []  # (slots asked for by claims in flight, jobs running) as each starts
    in_flight = 0

    def on_claim(name: str, metadata: dict[str, Any]) -> None:
        nonlocal in_flight
        if name.endswith(".start"):
            in_flight += metadata["demand"]
            info = oban.check_queue("claims")
            claims.append((in_flight, len(info.running) if info is not None else 0))
        else:
            in_flight -= metadata["demand"]

    events = ["oban.producer.get.start", "oban.producer.get.stop", "oban.producer.get.exception"]
    telemetry.attach("overlap-test", events, on_claim)
    try:
        # when the queue drains
        await oban.start()
        await wait_until(lambda: _all_completed(client, len(stored)), within=60)
    finally:
        telemetry.detach("overlap-test")
        await oban.stop()

    # then claims went out while jobs ran, and those in flight never asked for more than the free slots
    assert any(running > 0 for _, running in claims)
    assert all(asked + running <= limit for asked, running in claims)
    assert PEAK["overlap-node"] <= limit
    assert sorted(job_id for job_id, _ in RUNS) == sorted(job.id for job in stored)
    await client.stop()


async def test_a_job_enqueued_on_the_node_running_its_queue_starts_without_the_insert_notification(
    oban_engine,
) -> None:  # type: ignore[no-untyped-def]
    # The node stops hearing notifications and polls only every minute: what starts the job is
    # the enqueue itself waking this node's producer once the insert is committed.
    oban = Oban(oban_engine, name="local-wake", queues={"claims": 2}, stage_interval=60)
    await oban.start()
    try:
        await asyncio.sleep(0.2)  # the first poll is over
        await oban_engine.unlisten(oban._node.on_notification)
        job = await oban.enqueue(Counted.new({"yields": 0}))
        await wait_until(lambda: [job.id] == [ran for ran, _ in RUNS], within=5)
    finally:
        await oban.stop()
