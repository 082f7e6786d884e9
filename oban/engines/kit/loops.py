"""Letting go of what an earlier event loop owned, when an engine is called from a new one.

A driver's connections, tasks and locks belong to the event loop they were made on. Code that
calls ``asyncio.run(...)`` per request, a test framework with a loop per test, or a thread with
a loop of its own all reach one engine object from several loops in turn. ``EngineBase`` notices
the change (one identity check per call) and calls the engine's ``_leave_loop(previous)``, which
drops those objects with the helpers here: never awaiting on the old loop, which may be closed
or busy in another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterable

log = logging.getLogger("oban.engines")


def on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    """Call ``callback()`` where objects of ``loop`` may be touched.

    On ``loop`` itself when it is still running (in another thread), else here and now: a loop
    that is not running has nobody else touching its objects. A failure is logged, not raised,
    since the objects are being thrown away.
    """
    if loop.is_running():
        try:
            loop.call_soon_threadsafe(callback)
            return
        except RuntimeError:  # it closed just now
            pass
    try:
        callback()
    except Exception as error:  # best effort, on objects nobody will use again
        log.debug("dropping connections of an earlier event loop: %r", error)


def shut_down(transports: Iterable[asyncio.Transport | None]) -> None:
    """End each transport's connection at once, even when its event loop is closed.

    A transport of a closed loop cannot schedule its own closing (``abort()`` raises "Event loop
    is closed" half way), so its socket is shut down here: the server sees the connection end
    now instead of whenever the garbage collector reaches the transport.
    """
    for transport in transports:
        if transport is None:
            continue
        with contextlib.suppress(RuntimeError, OSError):
            transport.abort()
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
