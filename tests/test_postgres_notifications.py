"""LISTEN/NOTIFY: payload sizes and encodings, delivery on commit, and a listener that comes back.

Absence is checked with a marker: PostgreSQL delivers notifications in commit order, so once a
marker sent after some event has arrived, a notification that event caused would have too.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import uuid
from typing import Any

import pytest

from oban.engines.postgres import PostgresEngine
from tests.support import POSTGRES_DSN, POSTGRES_TEST_DATABASE, wait_until, with_database

TEST_DSN = with_database(POSTGRES_DSN, POSTGRES_TEST_DATABASE)
WORKER = "tests.workers.Noop"


pytestmark = pytest.mark.engines("postgres")


class Inbox:
    """Collects what a handler receives and waits for it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, channel: str, payload: dict[str, Any]) -> None:
        self.items.append((channel, payload))

    async def wait_for(self, item: tuple[str, dict[str, Any]], seconds: float = 10.0) -> bool:
        for _ in range(int(seconds / 0.01)):
            if item in self.items:
                return True
            await asyncio.sleep(0.01)
        return item in self.items

    async def settle(self, engine: PostgresEngine) -> None:
        """Send a marker and wait for it: everything committed before it has arrived."""
        marker = ("signal", {"marker": uuid.uuid4().hex})
        await engine.notify("signal", [marker[1]])
        assert await self.wait_for(marker), "the marker never arrived"
        self.items.remove(marker)


async def test_a_payload_over_the_limit_is_compressed_on_the_wire_and_arrives_intact(engine, admin) -> None:  # type: ignore[no-untyped-def]
    wire: list[str] = []
    await admin.add_listener(f"{engine.prefix}.oban_signal", lambda _c, _p, _ch, text: wire.append(text))
    inbox = Inbox()
    await engine.listen(inbox)
    payload = {"action": "pkill", "job_ids": list(range(500)), "note": "compressible " * 600}
    assert len(json.dumps(payload)) > 8000
    await engine.notify("signal", [payload])
    assert await inbox.wait_for(("signal", payload))
    await inbox.settle(engine)
    assert inbox.items == [("signal", payload)]
    [text] = [text for text in wire if "marker" not in text and not text.startswith("{")]
    assert len(text.encode()) < 8000
    assert json.loads(gzip.decompress(base64.b64decode(text))) == payload  # Oban's own encoding


async def test_a_payload_too_big_even_compressed_is_split_and_put_back_together(engine, admin) -> None:  # type: ignore[no-untyped-def]
    wire: list[str] = []
    await admin.add_listener(f"{engine.prefix}.oban_signal", lambda _c, _p, _ch, text: wire.append(text))
    inbox = Inbox()
    await engine.listen(inbox)
    noise = base64.b64encode(os.urandom(30_000)).decode()  # barely compresses
    before, big, after = {"n": 1}, {"n": 2, "noise": noise}, {"n": 3}
    await engine.notify("signal", [before, big, after])
    assert await inbox.wait_for(("signal", after))
    await inbox.settle(engine)
    assert inbox.items == [("signal", before), ("signal", big), ("signal", after)]
    # The admin connection hears the same NOTIFYs in order on its own: once the last payload has
    # reached it, every chunk before it has too.
    await wait_until(lambda: '{"n":3}' in wire)
    assert len([text for text in wire if text.startswith("#")]) >= 4
    assert all(len(text.encode()) < 8000 for text in wire)


async def test_payloads_in_obans_compressed_encoding_are_read(engine, admin) -> None:  # type: ignore[no-untyped-def]
    inbox = Inbox()
    await engine.listen(inbox)
    payload = {"action": "scale", "queue": "default", "limit": 5}
    packed = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    await admin.execute("SELECT pg_notify($1, $2)", f"{engine.prefix}.oban_signal", packed)
    assert await inbox.wait_for(("signal", payload))


async def test_unreadable_payloads_are_skipped_and_listening_goes_on(engine, admin) -> None:  # type: ignore[no-untyped-def]
    inbox = Inbox()
    await engine.listen(inbox)
    channel = f"{engine.prefix}.oban_signal"
    for junk in ("not base64 at all!", "{broken json", "[1, 2, 3]", "#abc:0:2:half"):
        await admin.execute("SELECT pg_notify($1, $2)", channel, junk)
    await admin.execute("SELECT pg_notify($1, $2)", channel, '{"after": "junk"}')
    assert await inbox.wait_for(("signal", {"after": "junk"}))
    assert inbox.items == [("signal", {"after": "junk"})]


async def test_the_listener_comes_back_after_the_server_drops_it(engine, admin) -> None:  # type: ignore[no-untyped-def]
    inbox = Inbox()
    await engine.listen(inbox)
    for drop in range(3):
        listener = engine._listener  # the engine's one listening connection
        assert listener is not None
        old_pid = listener.backend_pid
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", old_pid)
        # Notifications sent while it reconnects are lost by design; keep sending until one lands.
        probe = 0
        while not await inbox.wait_for(("signal", {"drop": drop, "probe": probe}), seconds=0.1):
            probe += 1
            assert probe < 300, "the listener did not come back"
            await admin.execute(
                "SELECT pg_notify($1, $2)", f"{engine.prefix}.oban_signal", json.dumps({"drop": drop, "probe": probe})
            )
        assert listener.backend_pid not in (None, old_pid)
    assert engine._listener.reconnects == 3
    inbox.items.clear()
    await engine.notify("signal", [{"after": "reconnects"}])
    await inbox.settle(engine)
    assert inbox.items == [("signal", {"after": "reconnects"})]


async def test_the_last_unlisten_closes_the_listening_connection(engine, admin) -> None:  # type: ignore[no-untyped-def]
    first, second = Inbox(), Inbox()
    await engine.listen(first)
    await engine.listen(second)
    pid = engine._listener.backend_pid
    await engine.unlisten(first)
    assert engine._listener is not None and engine._listener.backend_pid == pid
    await engine.unlisten(second)
    assert engine._listener is None
    for _ in range(500):
        if not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            break
        await asyncio.sleep(0.01)
    assert not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
