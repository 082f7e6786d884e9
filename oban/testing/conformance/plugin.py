"""The conformance suite's pytest plugin, registered as ``oban_conformance`` (entry point ``pytest11``).

It provides ``oban_engine``: one installed engine on a fresh database, taken from the
``oban_engine_factory`` fixture that the engine under test provides. The suite's test classes
carry their own ``asyncio`` marks, so the suite runs the same in pytest-asyncio's strict and
auto modes. Installed with oban, the plugin adds nothing else to a test session; without
pytest-asyncio it adds nothing at all.
"""

from __future__ import annotations

from typing import Any

try:
    import pytest_asyncio
except ImportError:  # the suite needs pytest-asyncio; without it there is nothing to provide
    _HAVE_PYTEST_ASYNCIO = False
else:
    _HAVE_PYTEST_ASYNCIO = True

if _HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def oban_engine(oban_engine_factory: Any) -> Any:
        """One engine, schema installed, on the fresh database of this test."""
        return await oban_engine_factory()
