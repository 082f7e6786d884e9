"""The schema: install, upgrade, downgrade, and doing each twice."""

from __future__ import annotations

from typing import Any

import pytest

from ...engines.protocol import Engine
from ...errors import SchemaError
from ._helpers import EngineFactory, insert, reload


@pytest.mark.asyncio
class TestMigrations:
    async def test_a_fresh_database_has_no_schema(self, oban_engine_factory: EngineFactory) -> None:
        engine = await oban_engine_factory(install=False)
        assert await engine.schema_version() == 0

    async def test_install_reaches_the_newest_version_and_is_harmless_to_repeat(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        engine = await oban_engine_factory(install=False)
        await engine.install()
        version = await engine.schema_version()
        assert version >= 1
        job = await insert(engine, args={"kept": True})
        await engine.install()
        assert await engine.schema_version() == version
        assert (await reload(engine, job)).args == {"kept": True}

    async def test_install_reaches_the_latest_schema_version_the_engine_declares(
        self, oban_engine_factory: EngineFactory
    ) -> None:
        engine = await oban_engine_factory(install=False)
        latest = engine.latest_schema_version
        assert isinstance(latest, int) and not isinstance(latest, bool) and latest >= 1
        assert await engine.schema_version() == 0
        assert await engine.migrate() == latest
        assert await engine.schema_version() == latest
        with pytest.raises(SchemaError):
            await engine.migrate(latest + 1)

    async def test_migrating_down_and_up_again_works(self, oban_engine_factory: EngineFactory) -> None:
        engine = await oban_engine_factory(install=False)
        newest = await engine.migrate()
        assert newest == await engine.schema_version()
        if newest > 1:
            assert await engine.migrate(1) == 1
            assert await engine.schema_version() == 1
        assert await engine.migrate(0) == 0
        assert await engine.schema_version() == 0
        assert await engine.migrate() == newest
        job = await insert(engine)
        assert (await reload(engine, job)).id == job.id

    async def test_uninstall_removes_the_schema(self, oban_engine_factory: EngineFactory) -> None:
        engine = await oban_engine_factory()
        await engine.uninstall()
        assert await engine.schema_version() == 0
        await engine.uninstall()
        assert await engine.schema_version() == 0

    async def test_versions_outside_the_history_are_refused(self, oban_engine: Engine) -> None:
        newest = await oban_engine.schema_version()
        refused: tuple[Any, ...] = (-1, newest + 1, "1", True)
        for version in refused:
            with pytest.raises(SchemaError):
                await oban_engine.migrate(version)
        assert await oban_engine.schema_version() == newest

    async def test_a_schema_removed_and_installed_again_is_empty(self, oban_engine: Engine) -> None:
        await insert(oban_engine)
        await oban_engine.migrate(0)
        await oban_engine.migrate()
        assert await oban_engine.list_jobs() == []
