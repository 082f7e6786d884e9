"""``EngineBase``: what every engine would otherwise write again.

- ``install()`` and ``uninstall()`` are ``migrate()`` and ``migrate(0)``, defined once here.
- Driver errors become ``oban.errors.DatabaseError`` at the engine's boundary. A subclass lists
  its driver's exception types in ``driver_errors``; when one of them (or an ``OSError``, which
  is what a refused or dropped socket raises) leaves a protocol method, it is raised again as a
  ``DatabaseError`` naming the method and the engine's masked ``dsn``, the original as its
  ``__cause__``. ``ValueError``, ``TypeError``, ``ObanError`` and cancellation pass unchanged,
  so callers see one vocabulary whichever database is underneath.
- Event loops may change under an engine (``asyncio.run`` per request): each protocol call
  checks that it runs on the loop of the previous call, and if not, calls ``_leave_loop`` so
  the engine drops what the old loop owned and connects again on the new one.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from ...errors import DatabaseError, ObanError
from ..protocol import PARTS

PROTOCOL_METHODS = frozenset(
    name
    for part in PARTS
    for name, member in vars(part).items()
    if not name.startswith("_") and inspect.iscoroutinefunction(member)
)
"""The names of every coroutine method the protocol defines."""


def _at_boundary(method: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def call(self: EngineBase, *args: Any, **kwargs: Any) -> Any:
        if self._loop is not asyncio.get_running_loop():
            self._follow_loop()
        try:
            return await method(self, *args, **kwargs)
        except (ObanError, ValueError, TypeError):
            raise
        except Exception as error:
            if not isinstance(error, (*type(self).driver_errors, OSError)):
                raise
            raise DatabaseError(
                f"{name} on {getattr(self, 'dsn', '?')} failed: {type(error).__name__}: {error}"
            ) from error

    call.__oban_boundary__ = True  # type: ignore[attr-defined]
    return call


class EngineBase:
    """A base class for engines: ``install``/``uninstall`` over ``migrate``, one error vocabulary."""

    driver_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    """The exception types the engine's driver raises; they leave the engine as ``DatabaseError``."""

    _loop: asyncio.AbstractEventLoop | None = None
    """The event loop the engine's connections belong to: the one that called it last."""
    _loop_pid: int | None = None

    def _follow_loop(self) -> None:
        """Move to the running loop, letting go of what the previous one owned."""
        previous, self._loop = self._loop, asyncio.get_running_loop()
        pid, self._loop_pid = self._loop_pid, os.getpid()
        if previous is not None:
            self._leave_loop(previous if pid == self._loop_pid else None)

    def _leave_loop(self, previous: asyncio.AbstractEventLoop | None) -> None:
        """Drop every connection, task and lock made on ``previous``, without awaiting on it.

        Called before the first call from a different event loop than the last (``asyncio.run``
        per request, a loop per test or per thread); the call then connects again. ``previous``
        may be closed, or still running in another thread: ``oban.engines.kit.loops`` has the
        helpers for both. ``None`` means this process is a fork of the one that owned them: forget
        them without touching them, since they are the parent's. Engines whose objects are not
        tied to a loop keep this no-op.
        """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in PROTOCOL_METHODS:
            method = cls.__dict__.get(name)
            if inspect.iscoroutinefunction(method) and not getattr(method, "__oban_boundary__", False):
                setattr(cls, name, _at_boundary(method, name))

    async def migrate(self, version: int | None = None) -> int:  # pragma: no cover - a subclass's job
        raise NotImplementedError

    async def install(self) -> None:
        """Create the schema, or upgrade it to the newest version: ``migrate()``. Harmless to repeat."""
        await self.migrate()

    async def uninstall(self) -> None:
        """Drop everything ``install`` created: ``migrate(0)``."""
        await self.migrate(0)
