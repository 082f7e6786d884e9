"""The engine conformance suite: what every oban engine must do, as pytest tests.

An engine passes by running these tests with one fixture of its own, ``oban_engine_factory``:
an async callable ``factory(install=True) -> Engine`` returning a new, connected engine each
call, every call within one test pointing at the same fresh, isolated database (schema
installed unless ``install=False``), the engines closed by the fixture afterwards. Optionally,
give the factory a ``transaction()`` attribute returning an async context manager that yields
the driver's native connection inside a transaction (commit on normal exit, rollback on error)
to run the transactional-insert tests. Then, in a test module::

    from oban.testing.conformance import *  # noqa: F403

The ``oban_engine`` fixture comes from the suite's pytest plugin (``oban.testing.conformance.plugin``,
registered through the ``pytest11`` entry point when oban is installed). Requires pytest and
pytest-asyncio, in strict or auto mode. See ``docs/conformance.md``.
"""

from __future__ import annotations

from .acks import TestAcks
from .activity import TestActivity
from .bad_input import TestBadInput
from .cluster import TestLeadership, TestNotifications
from .connection import TestConnection
from .event_loops import TestEventLoops
from .fetch import TestFetch
from .insert import TestInsert, TestTransactionalInsert, TestUniqueInsert
from .listing import TestPaging, TestSearch
from .maintenance import TestHeartbeats, TestPrune, TestRescue, TestStage
from .manage import TestCancel, TestDelete, TestGetAndList, TestRetry, TestUpdate
from .migrations import TestMigrations
from .runtime import TestRuntime

__all__ = [
    "TestAcks",
    "TestActivity",
    "TestBadInput",
    "TestCancel",
    "TestConnection",
    "TestDelete",
    "TestEventLoops",
    "TestFetch",
    "TestGetAndList",
    "TestHeartbeats",
    "TestInsert",
    "TestLeadership",
    "TestMigrations",
    "TestNotifications",
    "TestPaging",
    "TestPrune",
    "TestRescue",
    "TestRetry",
    "TestRuntime",
    "TestSearch",
    "TestStage",
    "TestTransactionalInsert",
    "TestUniqueInsert",
    "TestUpdate",
]
