"""Engines: the ``Engine`` protocol, the kit engines are built from, and the databases oban runs on.

``LiteEngine`` (SQLite), ``PostgresEngine`` and ``MySQLEngine`` are imported, with their drivers,
only when first named: ``import oban`` loads no database driver.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .protocol import CHANNELS, Ack, Activity, Engine, NotificationHandler
from .registry import engine_from_dsn, register_engine

__all__ = [
    "CHANNELS",
    "Ack",
    "Activity",
    "Engine",
    "LiteEngine",
    "MySQLEngine",
    "NotificationHandler",
    "PostgresEngine",
    "engine_from_dsn",
    "register_engine",
]

_LAZY = {"LiteEngine": ".lite", "PostgresEngine": ".postgres", "MySQLEngine": ".mysql"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'oban.engines' has no attribute {name!r}")
