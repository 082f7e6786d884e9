"""pytest fixtures for apps that use oban, registered as ``oban_testing`` (entry point ``pytest11``).

- ``oban_test_engine``: a fresh engine per test, schema installed: in-memory SQLite by default.
  Override it in your ``conftest.py`` to test on your real database (or on the memory engine
  from ``oban-engine-memory``: ``MemoryEngine(f"memory://{uuid4()}")``).
- ``oban``: an ``Oban`` on that engine named ``"oban"`` (the default instance, so ``enqueue``
  through workers and the assertions find it) in ``manual`` testing mode: jobs are inserted,
  nothing runs until ``drain_queue``. Stopped after the test.
- ``oban_inline``: the same in ``inline`` mode: enqueued jobs run at once and come back
  completed.

The fixtures work in pytest-asyncio's strict and auto modes; without pytest-asyncio the plugin
adds nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

try:
    import pytest_asyncio
except ImportError:  # async fixtures need pytest-asyncio; without it there is nothing to provide
    _HAVE_PYTEST_ASYNCIO = False
else:
    _HAVE_PYTEST_ASYNCIO = True

if _HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def oban_test_engine() -> AsyncIterator[Any]:
        """A fresh in-memory SQLite engine with the schema installed, closed after the test."""
        from ..engines import LiteEngine

        engine = LiteEngine(":memory:")
        await engine.connect()
        await engine.install()
        yield engine
        await engine.close()

    async def _instance(engine: Any, testing: str) -> AsyncIterator[Any]:
        from ..oban import Oban

        instance = Oban(engine, name="oban", testing=testing, cron=False)
        yield instance
        await instance.stop()

    @pytest_asyncio.fixture
    async def oban(oban_test_engine: Any) -> AsyncIterator[Any]:
        """The default ``Oban`` instance in manual mode, on this test's own engine."""
        async for instance in _instance(oban_test_engine, "manual"):
            yield instance

    @pytest_asyncio.fixture
    async def oban_inline(oban_test_engine: Any) -> AsyncIterator[Any]:
        """The default ``Oban`` instance in inline mode: enqueued jobs run at once."""
        async for instance in _instance(oban_test_engine, "inline"):
            yield instance
