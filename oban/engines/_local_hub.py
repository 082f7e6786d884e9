"""In-process delivery of notifications between engines that share one database in a process.

Databases without pub/sub (SQLite, MySQL) still wake local producers at once through this hub;
each engine registers under a key naming its database.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from .protocol import NotificationHandler

log = logging.getLogger("oban.notifier")

_listeners: dict[str, list[tuple[asyncio.AbstractEventLoop, NotificationHandler]]] = defaultdict(list)


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


def _deliver(handler: NotificationHandler, channel: str, payload: dict[str, Any]) -> None:
    try:
        handler(channel, payload)
    except Exception:
        log.exception("notification handler failed on %s: %r", channel, payload)
