"""Connections: open on first use, idempotent, and never final once closed."""

from __future__ import annotations

import pytest

from ..._time import utcnow
from ...engines.protocol import Engine
from ...job import JobState
from ._helpers import EngineFactory, Inbox, ack, claim, eventually, insert, reload


@pytest.mark.asyncio
class TestConnection:
    async def test_connect_is_idempotent(self, oban_engine: Engine) -> None:
        await oban_engine.connect()
        await oban_engine.connect()
        assert isinstance(oban_engine.dsn, str) and oban_engine.dsn
        assert (await insert(oban_engine)).id is not None

    async def test_every_part_works_again_after_close(self, oban_engine: Engine) -> None:
        job = await insert(oban_engine)
        await oban_engine.close()
        await oban_engine.close()
        assert (await reload(oban_engine, job)).state is JobState.AVAILABLE
        [claimed] = await claim(oban_engine)
        assert await oban_engine.ack_jobs([ack(claimed, JobState.COMPLETED)]) == [claimed.id]
        assert await oban_engine.elect_leader("oban", "node-a", 30, utcnow())
        inbox = Inbox()
        await oban_engine.listen(inbox)
        await oban_engine.notify("signal", [{"after": "close"}])
        await eventually(lambda: inbox.received("signal", after="close"))
        await oban_engine.unlisten(inbox)

    async def test_close_stops_delivering_notifications(self, oban_engine_factory: EngineFactory) -> None:
        sender, receiver = await oban_engine_factory(), await oban_engine_factory()
        inbox = Inbox()
        await receiver.listen(inbox)
        await receiver.close()
        await sender.notify("signal", [{"n": 1}])
        probe = Inbox()
        await sender.listen(probe)
        await probe.settle(sender)
        assert inbox.items == []
        await sender.unlisten(probe)

    async def test_the_dsn_shows_no_password(self, oban_engine: Engine) -> None:
        dsn = oban_engine.dsn
        assert "://" in dsn
        userinfo = dsn.split("://", 1)[1].split("@", 1)
        if len(userinfo) == 2 and ":" in userinfo[0]:
            assert userinfo[0].split(":", 1)[1] == "***"
