"""LISTEN/NOTIFY for PostgresEngine: channel names, payload encoding, and the listening connection.

Channels follow Oban: ``oban_insert``, ``oban_signal`` and ``oban_leader``, prefixed with
``"<schema>."`` when the schema is not ``public``. Payloads are JSON text. PostgreSQL refuses
payloads of 8000 bytes or more, so a larger one is sent the way Oban and oban-py send every
payload, base64 of gzipped JSON, and one still too large after that is split into numbered
chunks that the receiving side puts back together (all chunks of one ``notify`` go out in one
statement, so they arrive together and in order).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import gzip
import logging
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..kit import Backoff, cancel_and_wait, decode_json, encode_json, loops

log = logging.getLogger("oban.engines.postgres.notifier")

MAX_PAYLOAD_BYTES = 7999
"""PostgreSQL's NOTIFY payload limit is 8000 bytes, exclusive."""

_CHUNK_MARK = "#"  # never starts JSON (``{``) nor base64
_CHUNK_ROOM = MAX_PAYLOAD_BYTES - 64
_CHUNK_TTL = 60.0

Deliver = Callable[[str, dict[str, Any]], None]


def channel_names(prefix: str, channels: Iterable[str]) -> dict[str, str]:
    """Map each protocol channel (``insert``) to the PostgreSQL channel we send it on."""
    head = "" if prefix == "public" else f"{prefix}."
    return {channel: f"{head}oban_{channel}" for channel in channels}


def listen_names(prefix: str, channels: Iterable[str]) -> dict[str, str]:
    """Map each PostgreSQL channel to LISTEN on to its protocol channel.

    In ``public``, inserts are also heard on ``public.oban_insert``, where current Oban for
    Elixir and oban-py announce them, so their inserts wake our queues at once.
    """
    names = {full: short for short, full in channel_names(prefix, channels).items()}
    if prefix == "public" and "insert" in channels:
        names["public.oban_insert"] = "insert"
    return names


def encode_payloads(payloads: Iterable[dict[str, Any]]) -> list[str]:
    """The NOTIFY payload texts that carry ``payloads``, each under the size limit."""
    texts: list[str] = []
    for payload in payloads:
        if not isinstance(payload, dict):
            raise ValueError(f"notification payloads must be dicts, got {payload!r:.200}")
        text = encode_json(payload, "notification payload")
        if len(text.encode()) <= MAX_PAYLOAD_BYTES:
            texts.append(text)
            continue
        packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode("ascii")
        if len(packed) <= MAX_PAYLOAD_BYTES:
            texts.append(packed)
            continue
        message = uuid.uuid4().hex
        pieces = [packed[i : i + _CHUNK_ROOM] for i in range(0, len(packed), _CHUNK_ROOM)]
        texts.extend(f"{_CHUNK_MARK}{message}:{n}:{len(pieces)}:{piece}" for n, piece in enumerate(pieces))
    return texts


def decode_payload(text: str) -> Any:
    """Read plain JSON or base64-gzipped JSON (what Oban for Elixir and oban-py send)."""
    if text.lstrip().startswith(("{", "[")):
        return decode_json(text)
    return decode_json(gzip.decompress(base64.b64decode(text, validate=True)))


class _Chunks:
    """Puts split payloads back together; incomplete messages are forgotten after a minute."""

    def __init__(self) -> None:
        self._parts: dict[str, tuple[float, dict[int, str]]] = {}

    def add(self, text: str, now: float) -> str | None:
        message, index, total, piece = text[1:].split(":", 3)
        _, parts = self._parts.setdefault(message, (now, {}))
        parts[int(index)] = piece
        if len(parts) == int(total):
            del self._parts[message]
            return "".join(parts[n] for n in range(int(total)))
        for key in [key for key, (at, _) in self._parts.items() if now - at > _CHUNK_TTL]:
            del self._parts[key]
        return None


class Listener:
    """One dedicated connection that LISTENs on every channel and reconnects when it is lost.

    ``connect`` opens a new connection; ``channels`` maps PostgreSQL channel names to the names
    handed to ``deliver``. While running, a supervisor checks the connection every
    ``keepalive`` seconds and, when the server drops it, opens another with capped exponential
    backoff and LISTENs again. Notifications sent while disconnected are lost; the runtime's
    periodic polling covers them.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        channels: dict[str, str],
        deliver: Deliver,
        *,
        keepalive: float = 15.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._connect = connect
        self._by_name = dict(channels)
        self._deliver = deliver
        self._keepalive = keepalive
        self._max_backoff = max_backoff
        self._conn: Any = None
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._chunks = _Chunks()
        self.connected = asyncio.Event()
        self.reconnects = 0

    @property
    def backend_pid(self) -> int | None:
        """The server process id of the listening connection (for operators and tests)."""
        return self._conn.get_server_pid() if self._conn is not None and not self._conn.is_closed() else None

    async def start(self) -> None:
        """Connect and LISTEN on every channel; returns once the server has executed the LISTENs."""
        if self._supervisor is not None:
            return
        self._conn = await self._open()
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise(), name="oban-pg-listener")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        task, self._supervisor = self._supervisor, None
        await cancel_and_wait(task)
        await self._drop()

    def abandon(self) -> None:
        """Stop at once without awaiting, for a listener whose event loop is gone or busy elsewhere."""
        task, self._supervisor = self._supervisor, None
        if task is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop cannot schedule the cancel
                task.cancel()
        conn, self._conn = self._conn, None
        self.connected.clear()
        if conn is not None:
            transport = getattr(conn, "_transport", None)  # asyncpg has no public accessor
            with contextlib.suppress(RuntimeError):
                conn.terminate()
            loops.shut_down([transport])

    async def _open(self) -> Any:
        conn = await self._connect()
        try:
            conn.add_termination_listener(self._on_terminated)
            for full in self._by_name:
                await conn.add_listener(full, self._on_notification)
        except BaseException:
            conn.terminate()
            raise
        self._lost.clear()
        self.connected.set()
        return conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self.connected.clear()
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.close(), 2.0)
        except Exception:
            conn.terminate()

    def _on_terminated(self, conn: Any) -> None:
        if conn is self._conn:
            self._lost.set()

    async def _supervise(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), self._keepalive)
            except TimeoutError:
                try:
                    await asyncio.wait_for(self._conn.fetchval("SELECT 1"), self._keepalive / 2)
                    continue
                except Exception as error:
                    log.warning("notification connection failed its health check: %r", error)
            log.warning("notification connection lost; reconnecting")
            await self._drop()
            backoff = Backoff(0.05, self._max_backoff, jitter=0.5)
            while True:
                try:
                    self._conn = await self._open()
                except Exception as error:
                    wait = backoff.next()
                    log.warning("reconnecting for notifications failed, retrying in %.2fs: %r", wait, error)
                    await asyncio.sleep(wait)
                    continue
                self.reconnects += 1
                log.info("notification connection restored; listening again")
                break

    def _on_notification(self, _conn: Any, _pid: int, channel: str, text: str) -> None:
        short = self._by_name.get(channel)
        if short is None:
            return
        try:
            if text.startswith(_CHUNK_MARK):
                whole = self._chunks.add(text, asyncio.get_running_loop().time())
                if whole is None:
                    return
                text = whole
            payload = decode_payload(text)
        except (ValueError, binascii.Error, OSError, EOFError, zlib.error) as error:
            log.warning("ignoring an unreadable notification on %s: %r (%.100s)", channel, error, text)
            return
        if isinstance(payload, dict):
            self._deliver(short, payload)
        else:
            log.warning("ignoring a notification on %s that is not a JSON object: %.100s", channel, text)
