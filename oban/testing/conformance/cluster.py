"""What nodes share: the leadership lease and notifications."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from ..._time import utcnow
from ...engines.protocol import Engine
from ._helpers import EngineFactory, Inbox, eventually


@pytest.mark.asyncio
class TestLeadership:
    async def test_one_node_holds_the_lease_until_it_resigns(self, oban_engine_factory: EngineFactory) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        now = utcnow()
        assert await a.elect_leader("oban", "node-a", 30, now) is True
        assert await b.elect_leader("oban", "node-b", 30, now) is False
        assert await a.elect_leader("oban", "node-a", 30, now + timedelta(seconds=10)) is True
        await a.resign_leader("oban", "node-a")
        assert await b.elect_leader("oban", "node-b", 30, now) is True
        assert await a.elect_leader("oban", "node-a", 30, now) is False

    async def test_an_expired_lease_passes_to_another_node(self, oban_engine_factory: EngineFactory) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        now = utcnow()
        assert await a.elect_leader("oban", "node-a", 30, now)
        assert await b.elect_leader("oban", "node-b", 30, now + timedelta(seconds=31)) is True
        assert await a.elect_leader("oban", "node-a", 30, now + timedelta(seconds=32)) is False

    async def test_leases_are_per_cluster_name(self, oban_engine: Engine) -> None:
        now = utcnow()
        assert await oban_engine.elect_leader("one", "node-a", 30, now)
        assert await oban_engine.elect_leader("two", "node-b", 30, now)

    async def test_resigning_a_lease_held_by_another_node_changes_nothing(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        now = utcnow()
        assert await a.elect_leader("oban", "node-a", 30, now)
        await b.resign_leader("oban", "node-b")
        assert await b.elect_leader("oban", "node-b", 30, now) is False

    async def test_renewing_extends_the_lease_from_the_renewal(self, oban_engine_factory: EngineFactory) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        now = utcnow()
        assert await a.elect_leader("oban", "node-a", 30, now)
        assert await a.elect_leader("oban", "node-a", 30, now + timedelta(seconds=20))
        assert await b.elect_leader("oban", "node-b", 30, now + timedelta(seconds=35)) is False
        assert await b.elect_leader("oban", "node-b", 30, now + timedelta(seconds=51)) is True

    async def test_a_resigned_node_can_lead_again(self, oban_engine: Engine) -> None:
        now = utcnow()
        assert await oban_engine.elect_leader("oban", "node-a", 30, now)
        await oban_engine.resign_leader("oban", "node-a")
        await oban_engine.resign_leader("oban", "node-a")
        assert await oban_engine.elect_leader("oban", "node-a", 30, now)

    async def test_many_nodes_racing_for_the_lease_leave_one_leader(self, oban_engine_factory: EngineFactory) -> None:
        engines = [await oban_engine_factory() for _ in range(4)]
        now = utcnow()
        results = await asyncio.gather(
            *(engine.elect_leader("race", f"node-{i}", 30, now) for i, engine in enumerate(engines * 3))
        )
        winners = {f"node-{i % 4}" for i, won in enumerate(results) if won}
        assert len(winners) == 1


@pytest.mark.asyncio
class TestNotifications:
    async def test_every_listener_on_the_database_receives_each_payload_once(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        got_a: list[tuple[str, dict[str, Any]]] = []
        got_b: list[tuple[str, dict[str, Any]]] = []
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

    async def test_unlisten_stops_delivery(self, oban_engine_factory: EngineFactory) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        got: list[dict[str, Any]] = []
        handler = lambda channel, payload: got.append(payload)  # noqa: E731
        await b.listen(handler)
        await a.notify("signal", [{"n": 1}])
        await eventually(lambda: len(got) == 1)
        await b.unlisten(handler)
        await a.notify("signal", [{"n": 2}])
        await asyncio.sleep(0.5)
        assert got == [{"n": 1}]

    async def test_large_payloads_arrive_intact(self, oban_engine_factory: EngineFactory) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        got: list[dict[str, Any]] = []
        handler = lambda channel, payload: got.append(payload)  # noqa: E731
        await b.listen(handler)
        payload = {"action": "pkill", "job_ids": list(range(5000)), "note": "é" * 3000}
        await a.notify("signal", [payload])
        await eventually(lambda: len(got) == 1)
        assert got[0] == payload
        await b.unlisten(handler)

    async def test_an_unknown_channel_is_refused(self, oban_engine: Engine) -> None:
        with pytest.raises(ValueError, match="channel"):
            await oban_engine.notify("sonar", [{"n": 1}])

    async def test_a_payload_that_is_not_an_object_is_refused(self, oban_engine: Engine) -> None:
        with pytest.raises(ValueError, match="dict"):
            not_an_object: Any = ["not", "an", "object"]
            await oban_engine.notify("signal", [not_an_object])

    async def test_a_handler_that_raises_does_not_stop_the_others(self, oban_engine: Engine) -> None:
        def broken(_channel: str, _payload: dict[str, Any]) -> None:
            raise RuntimeError("handler bug")

        inbox = Inbox()
        await oban_engine.listen(broken)
        await oban_engine.listen(inbox)
        await oban_engine.notify("signal", [{"n": 1}, {"n": 2}])
        await eventually(lambda: len(inbox.items) == 2)
        assert inbox.items == [("signal", {"n": 1}), ("signal", {"n": 2})]
        await oban_engine.unlisten(broken)
        await oban_engine.unlisten(inbox)

    async def test_an_engine_hears_its_own_notifications_once(self, oban_engine: Engine) -> None:
        inbox = Inbox()
        await oban_engine.listen(inbox)
        await oban_engine.notify("leader", [{"name": "oban", "down": "x"}])
        await eventually(lambda: inbox.items)
        await asyncio.sleep(0.5)  # a poller that read its own row back would deliver it again by now
        assert inbox.items == [("leader", {"name": "oban", "down": "x"})]
        await oban_engine.unlisten(inbox)

    async def test_notifications_sent_before_listening_are_not_delivered(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        await a.notify("signal", [{"n": "old"}])
        inbox = Inbox()
        await b.listen(inbox)
        await a.notify("signal", [{"n": "new"}])
        await eventually(lambda: inbox.received("signal", n="new"))
        await asyncio.sleep(0.3)
        assert inbox.received("signal", n="old") == []
        await b.unlisten(inbox)

    async def test_a_notification_sent_the_moment_listen_returns_arrives(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        sender = await oban_engine_factory()
        for round_ in range(3):
            receiver = await oban_engine_factory()
            inbox = Inbox()
            await receiver.listen(inbox)
            await sender.notify("signal", [{"round": round_}])
            await eventually(lambda inbox=inbox, round_=round_: inbox.received("signal", round=round_))
            await receiver.close()

    async def test_payloads_of_one_call_arrive_in_order(self, oban_engine_factory: EngineFactory) -> None:
        a, b = await oban_engine_factory(), await oban_engine_factory()
        inbox = Inbox()
        await b.listen(inbox)
        await a.notify("signal", [{"n": n} for n in range(20)])
        await eventually(lambda: len(inbox.items) == 20)
        assert [p["n"] for _, p in inbox.items] == list(range(20))
        await b.unlisten(inbox)

    async def test_unlistening_an_unknown_handler_changes_nothing(self, oban_engine: Engine) -> None:
        inbox = Inbox()
        await oban_engine.listen(inbox)
        await oban_engine.unlisten(lambda channel, payload: None)
        await oban_engine.notify("signal", [{"n": 1}])
        await eventually(lambda: inbox.items)
        await oban_engine.unlisten(inbox)

    async def test_notifying_nothing_sends_nothing(self, oban_engine: Engine) -> None:
        inbox = Inbox()
        await oban_engine.listen(inbox)
        await oban_engine.notify("signal", [])
        await inbox.settle(oban_engine)
        assert inbox.items == []
        await oban_engine.unlisten(inbox)
