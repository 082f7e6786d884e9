"""Engines: the ``Engine`` protocol and the databases oban runs on.

``LiteEngine`` (SQLite) is always available; ``PostgresEngine`` and ``MySQLEngine`` import
their drivers only when first used.
"""

from __future__ import annotations

from typing import Any

from .lite import LiteEngine
from .protocol import CHANNELS, Ack, Engine, NotificationHandler
from .registry import engine_from_dsn, register_engine

__all__ = [
    "CHANNELS",
    "Ack",
    "Engine",
    "LiteEngine",
    "MySQLEngine",
    "NotificationHandler",
    "PostgresEngine",
    "engine_from_dsn",
    "register_engine",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresEngine":
        from .postgres import PostgresEngine

        return PostgresEngine
    if name == "MySQLEngine":
        from .mysql import MySQLEngine

        return MySQLEngine
    raise AttributeError(f"module 'oban.engines' has no attribute {name!r}")
