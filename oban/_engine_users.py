"""Which ``Oban`` instances use an engine object, so that only the last one to stop closes it.

Several instances may share one engine (a client and a node in one process, say). Each one that
has used the engine holds it until its ``stop()``; the engine is closed when the last holder
stops, never while another instance still relies on its connections or notifications.
"""

from __future__ import annotations

from typing import Any

_holders: dict[int, tuple[Any, set[int]]] = {}


def hold(engine: Any, holder: object) -> None:
    """Record that ``holder`` uses ``engine`` until it calls :func:`release`."""
    # The engine itself is kept in the entry so its id cannot be reused while it is held.
    _holders.setdefault(id(engine), (engine, set()))[1].add(id(holder))


def release(engine: Any, holder: object) -> bool:
    """Forget ``holder``'s use of ``engine``; True when nobody holds the engine any more."""
    entry = _holders.get(id(engine))
    if entry is None:
        return True
    entry[1].discard(id(holder))
    if entry[1]:
        return False
    del _holders[id(engine)]
    return True
