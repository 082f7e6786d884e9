"""A suite written against oban-py's public API (the ``oban`` package 0.7 on PyPI).

It runs on every engine under test: the one thing that differs from an oban-py project's own
test set-up is the fixture below, which builds the engine (oban-py builds a psycopg pool
instead). Everything else is oban-py's API as its users call it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from oban import Oban, telemetry


@pytest_asyncio.fixture
async def oban_test_engine(engine: Any) -> Any:
    """The only line that changes: the engine (here each engine under test) instead of a pool."""
    return engine


@pytest_asyncio.fixture
async def oban_instance(oban_test_engine: Any) -> AsyncIterator[Callable[..., Oban]]:
    """Build ``Oban`` instances as oban-py's tests do: ``oban_instance(queues={...}, ...)``."""
    built: list[Oban] = []

    def build(**options: Any) -> Oban:
        options.setdefault("name", "Oban")
        instance = Oban(engine=oban_test_engine, **options)
        built.append(instance)
        return instance

    yield build
    for instance in reversed(built):
        await instance.stop()
    for handler_id in {hid for ids in telemetry.handlers().values() for hid in ids}:
        telemetry.detach(handler_id)
