"""What nodes share: the leadership lease and notifications."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from ..._time import utcnow
from ._helpers import eventually


@pytest.mark.asyncio
class TestLeadership:
    async def test_one_node_holds_the_lease_until_it_resigns(self, oban_engine_factory):
        a, b = await oban_engine_factory(), await oban_engine_factory()
        now = utcnow()
        assert await a.elect_leader("oban", "node-a", 30, now) is True
        assert await b.elect_leader("oban", "node-b", 30, now) is False
        assert await a.elect_leader("oban", "node-a", 30, now + timedelta(seconds=10)) is True
        await a.resign_leader("oban", "node-a")
        assert await b.elect_leader("oban", "node-b", 30, now) is True
        assert await a.elect_leader("oban", "node-a", 30, now) is False

    async def test_an_expired_lease_passes_to_another_node(self, oban_engine_factory):
        a, b = await oban_engine_factory(), await oban_engine_factory()
        now = utcnow()
        assert await a.elect_leader("oban", "node-a", 30, now)
        assert await b.elect_leader("oban", "node-b", 30, now + timedelta(seconds=31)) is True
        assert await a.elect_leader("oban", "node-a", 30, now + timedelta(seconds=32)) is False

    async def test_leases_are_per_cluster_name(self, oban_engine):
        now = utcnow()
        assert await oban_engine.elect_leader("one", "node-a", 30, now)
        assert await oban_engine.elect_leader("two", "node-b", 30, now)

    async def test_resigning_a_lease_held_by_another_node_changes_nothing(self, oban_engine_factory):
        a, b = await oban_engine_factory(), await oban_engine_factory()
        now = utcnow()
        assert await a.elect_leader("oban", "node-a", 30, now)
        await b.resign_leader("oban", "node-b")
        assert await b.elect_leader("oban", "node-b", 30, now) is False


@pytest.mark.asyncio
class TestNotifications:
    async def test_every_listener_on_the_database_receives_each_payload_once(self, oban_engine_factory):
        a, b = await oban_engine_factory(), await oban_engine_factory()
        got_a: list[tuple[str, dict]] = []
        got_b: list[tuple[str, dict]] = []
        handler_a = lambda channel, payload: got_a.append((channel, payload))  # noqa: E731
        handler_b = lambda channel, payload: got_b.append((channel, payload))  # noqa: E731
        await a.listen(handler_a)
        await b.listen(handler_b)
        await a.notify("signal", [{"action": "pause", "queue": "default", "n": 1}, {"action": "resume", "n": 2}])
        await b.notify("leader", [{"name": "oban", "down": "node-b"}])
        expected = [
            ("signal", {"action": "pause", "queue": "default", "n": 1}),
            ("signal", {"action": "resume", "n": 2}),
            ("leader", {"name": "oban", "down": "node-b"}),
        ]
        await eventually(lambda: len(got_a) >= 3 and len(got_b) >= 3)
        await asyncio.sleep(0.5)  # anything delivered twice would show up by now
        assert sorted(map(repr, got_a)) == sorted(map(repr, expected))
        assert sorted(map(repr, got_b)) == sorted(map(repr, expected))
        await a.unlisten(handler_a)
        await b.unlisten(handler_b)

    async def test_unlisten_stops_delivery(self, oban_engine_factory):
        a, b = await oban_engine_factory(), await oban_engine_factory()
        got: list[dict] = []
        handler = lambda channel, payload: got.append(payload)  # noqa: E731
        await b.listen(handler)
        await a.notify("signal", [{"n": 1}])
        await eventually(lambda: len(got) == 1)
        await b.unlisten(handler)
        await a.notify("signal", [{"n": 2}])
        await asyncio.sleep(0.5)
        assert got == [{"n": 1}]

    async def test_large_payloads_arrive_intact(self, oban_engine_factory):
        a, b = await oban_engine_factory(), await oban_engine_factory()
        got: list[dict] = []
        handler = lambda channel, payload: got.append(payload)  # noqa: E731
        await b.listen(handler)
        payload = {"action": "pkill", "job_ids": list(range(5000)), "note": "é" * 3000}
        await a.notify("signal", [payload])
        await eventually(lambda: len(got) == 1)
        assert got[0] == payload
        await b.unlisten(handler)
