"""The whole conformance suite on MemoryEngine, set up exactly as docs/conformance.md shows."""

import uuid

import pytest_asyncio
from oban.testing.conformance import *  # noqa: F403  (collects every conformance test class)

from oban_memory import MemoryEngine


@pytest_asyncio.fixture
async def oban_engine_factory():
    dsn = f"memory://conformance-{uuid.uuid4().hex}"  # a fresh database for this test
    engines = []

    async def factory(install: bool = True):
        engine = MemoryEngine.from_dsn(dsn)
        await engine.connect()
        if install:
            await engine.migrate()
        engines.append(engine)
        return engine

    # Optional: lets the transactional-insert tests run. Returns an async context manager that
    # yields your driver's native connection inside a transaction: commit on normal exit, roll
    # back when the block raises.
    factory.transaction = lambda: engines[0].transaction()

    yield factory
    for engine in engines:
        await engine.close()
