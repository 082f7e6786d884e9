"""Test fixtures: a fresh, isolated database per test for every engine under test.

Engines are chosen with ``--engine sqlite --engine postgres`` or ``OBAN_TEST_ENGINES``
(default: all three). Servers come from ``OBAN_TEST_POSTGRES_DSN`` and ``OBAN_TEST_MYSQL_DSN``;
an unreachable server skips its engine's tests, unless ``OBAN_REQUIRE_ALL_ENGINES=1``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import pytest_asyncio

from oban.engines import Engine

ALL_ENGINES = ("sqlite", "postgres", "mysql")
POSTGRES_DSN = os.environ.get("OBAN_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_DSN = os.environ.get("OBAN_TEST_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")
REQUIRE_ALL = os.environ.get("OBAN_REQUIRE_ALL_ENGINES") == "1"

# The memory engine (engines/memory) is its own distribution; the README's test command installs
# only oban and the dev group, so tests that use it import it from its source tree.
if importlib.util.find_spec("oban_memory") is None:
    sys.path.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engines", "memory"))

EngineFactory = Callable[..., Awaitable[Engine]]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        action="append",
        choices=ALL_ENGINES,
        help="run engine-parametrised tests only for this engine (repeatable)",
    )


def selected_engines(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--engine")
    if chosen:
        return list(chosen)
    env = os.environ.get("OBAN_TEST_ENGINES")
    if env:
        return [name.strip() for name in env.split(",") if name.strip()]
    return list(ALL_ENGINES)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" in metafunc.fixturenames:
        metafunc.parametrize("engine_name", selected_engines(metafunc.config), scope="session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "engines(*names): run this engine-parametrised test only for these engines")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect engine-parametrised tests marked ``@pytest.mark.engines(...)`` for other engines."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("engines")
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("engine_name") if callspec is not None else None
        if marker is not None and engine is not None and engine not in marker.args:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _engine_server(request: pytest.FixtureRequest) -> None:
    """Skip (or fail) an engine-parametrised test early when its server is unreachable."""
    if "engine_name" in request.fixturenames:
        require_server(request.getfixturevalue("engine_name"))


_reachable: dict[str, str | None] = {}


async def _probe(name: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        if name == "postgres":
            import asyncpg

            conn = await asyncio.wait_for(asyncpg.connect(POSTGRES_DSN), 5)
            await conn.close()
        elif name == "mysql":
            from tests.support import mysql_connect

            conn = await asyncio.wait_for(mysql_connect(MYSQL_DSN), 5)
            conn.close()
    except Exception as error:  # the reason is shown in the skip message
        return f"{type(error).__name__}: {error}"
    return None


def require_server(name: str) -> None:
    """Skip (or fail, with OBAN_REQUIRE_ALL_ENGINES=1) when ``name``'s server is unreachable."""
    if name == "sqlite":
        return
    if name not in _reachable:
        # Probe on a thread with its own loop: callers may be sync tests or async fixtures.
        with ThreadPoolExecutor(max_workers=1) as pool:
            _reachable[name] = pool.submit(asyncio.run, _probe(name)).result()
    reason = _reachable[name]
    if reason is None:
        return
    variable = "OBAN_TEST_POSTGRES_DSN" if name == "postgres" else "OBAN_TEST_MYSQL_DSN"
    message = f"{name} server not reachable ({reason}); set {variable} to a reachable server"
    if REQUIRE_ALL:
        pytest.fail(message + " (OBAN_REQUIRE_ALL_ENGINES=1)", pytrace=False)
    pytest.skip(message)


@pytest_asyncio.fixture
async def oban_engine_factory(engine_name: str, tmp_path: Any) -> AsyncIterator[EngineFactory]:
    """``await factory(install=True)`` gives a new engine on this test's own fresh database."""
    require_server(engine_name)
    from tests import support

    engines: list[Engine] = []
    database = await support.create_database(engine_name, tmp_path)

    async def factory(install: bool = True) -> Engine:
        """A new engine (a new node's connections) on this test's database."""
        engine = support.build_engine(engine_name, database)
        await engine.connect()
        if install:
            await engine.install()
        engines.append(engine)
        return engine

    factory.transaction = lambda: support.transaction(engine_name, database)  # type: ignore[attr-defined]
    factory.dsn = support.engine_dsn(engine_name, database)  # type: ignore[attr-defined]
    try:
        yield factory
    finally:
        for engine in engines:
            await engine.close()
        await support.drop_database(engine_name, database)


@pytest_asyncio.fixture
async def admin(engine_name: str, oban_engine_factory: EngineFactory) -> AsyncIterator[Any]:
    """A plain connection of the test's own to its database, for looking behind the engine's back."""
    from urllib.parse import urlparse

    from tests import support

    if engine_name == "postgres":
        import asyncpg

        conn = await asyncpg.connect(support.with_database(support.POSTGRES_DSN, support.POSTGRES_TEST_DATABASE))
        try:
            yield conn
        finally:
            await conn.close()
    elif engine_name == "mysql":
        database = urlparse(oban_engine_factory.dsn).path.lstrip("/")  # type: ignore[attr-defined]
        conn = await support.mysql_connect(support.MYSQL_DSN, database)
        try:
            yield conn
        finally:
            conn.close()
    else:
        raise ValueError(f"no admin connection for {engine_name}")


@pytest_asyncio.fixture
async def engine(oban_engine_factory: EngineFactory) -> Engine:
    """One installed engine on a fresh database."""
    return await oban_engine_factory()
