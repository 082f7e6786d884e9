"""Leadership: one leader per instance name, handed over when it stops."""

from __future__ import annotations

from tests.support import wait_until


async def test_an_instance_running_queues_leads_and_a_client_does_not(oban_instance):
    server = oban_instance(queues={"default": 1})
    client = oban_instance(name="client")
    async with server:
        await wait_until(lambda: server.is_leader)
        assert client.is_leader is False


async def test_leadership_can_be_disabled(oban_instance):
    oban = oban_instance(queues={"default": 1}, leadership=False)
    async with oban:
        assert oban.is_leader is False


async def test_two_nodes_elect_one_leader_and_the_other_takes_over_on_stop(oban_instance, oban_engine_factory):
    first = oban_instance(queues={"default": 1}, node="node-a", name="shared")
    async with first:
        await wait_until(lambda: first.is_leader)
        from oban import Oban

        second = Oban(engine=await oban_engine_factory(), queues={"default": 1}, node="node-b", name="shared")
        await second.start()
        try:
            assert second.is_leader is False
            await first.stop()
            await wait_until(lambda: second.is_leader, within=15)
        finally:
            await second.stop()
