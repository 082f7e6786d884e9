"""Fixtures the dashboard's HTTP tests share: a client ``Oban`` on each engine, the seeded jobs,
and an HTTP client signed in through basic auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from oban import Oban

USER, PASSWORD = "admin", "s3cret"


@pytest.fixture
async def oban(engine: Any) -> AsyncIterator[Oban]:
    client = Oban(engine, cron=False)
    yield client
    await client.stop()


@pytest.fixture
async def seeded(oban: Oban) -> Any:
    from tests.web.app_support import seed

    return await seed(oban)


@pytest.fixture
async def http(oban: Oban) -> AsyncIterator[Any]:
    pytest.importorskip("starlette", reason="the dashboard needs the web extra")
    from oban.web import BasicAuth, create_app
    from tests.web.app_support import client_for

    async for client in client_for(create_app(oban, auth=BasicAuth(USER, PASSWORD)), auth=(USER, PASSWORD)):
        yield client
