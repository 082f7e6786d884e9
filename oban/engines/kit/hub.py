"""In-process delivery of notifications between engines that share one database in a process.

Databases without pub/sub (SQLite, MySQL) still wake local producers at once through this hub;
each engine subscribes under a key naming its database (a file path, ``host:port/db``) and
publishes what it notifies. Rows such an engine writes for other processes carry
``process_token(key)``, so its own poller can skip what the hub delivered already.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..protocol import NotificationHandler

log = logging.getLogger("oban.notifier")

_listeners: dict[str, list[tuple[asyncio.AbstractEventLoop, NotificationHandler]]] = defaultdict(list)
_tokens: dict[tuple[int, str], str] = {}


def process_token(key: str) -> str:
    """Names this process's writes to database ``key``, so its pollers skip what this hub delivered.

    Keyed by pid too: a forked child is another process and needs its own token.
    """
    token_key = (os.getpid(), key)
    if token_key not in _tokens:
        _tokens[token_key] = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    return _tokens[token_key]


def subscribe(key: str, handler: NotificationHandler) -> None:
    """Deliver notifications for database ``key`` to ``handler`` on the current event loop."""
    _listeners[key].append((asyncio.get_running_loop(), handler))


def unsubscribe(key: str, handler: NotificationHandler) -> None:
    """Stop delivering to ``handler``; unknown handlers are ignored."""
    _listeners[key] = [(loop, h) for loop, h in _listeners[key] if h is not handler]
    if not _listeners[key]:
        del _listeners[key]


def publish(key: str, channel: str, payloads: list[dict[str, Any]]) -> None:
    """Schedule delivery of each payload to every handler for ``key``."""
    for loop, handler in list(_listeners.get(key, ())):
        for payload in payloads:
            try:
                loop.call_soon_threadsafe(_deliver, handler, channel, payload)
            except RuntimeError:  # that loop is closed; its owner forgot to unlisten
                unsubscribe(key, handler)
                break


def deliver(handlers: Iterable[NotificationHandler], channel: str, payload: dict[str, Any]) -> None:
    """Call each handler; one that raises is logged and does not stop the others."""
    for handler in list(handlers):
        try:
            handler(channel, payload)
        except Exception:
            log.exception("notification handler failed on %s: %r", channel, payload)


def _deliver(handler: NotificationHandler, channel: str, payload: dict[str, Any]) -> None:
    deliver((handler,), channel, payload)
