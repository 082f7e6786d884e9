"""Reading a ``mysql://`` DSN into asyncmy connection options, and showing it without secrets."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..kit import mask_dsn

SCHEMES = ("mysql", "mariadb", "mysql+asyncmy", "mariadb+asyncmy")

ENGINE_OPTIONS = ("pool_min_size", "pool_max_size", "poll_interval", "lock_wait_timeout")
"""Engine settings a DSN may carry as query parameters (keyword arguments take precedence)."""

_CONNECTION_OPTIONS = ("unix_socket", "connect_timeout", "ssl", "ssl_ca")


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect, as asyncmy wants it, plus the engine options found in the DSN."""

    host: str
    port: int
    user: str
    password: str
    database: str
    unix_socket: str | None = None
    connect_timeout: float = 10.0
    ssl: ssl.SSLContext | None = None
    options: dict[str, str] = field(default_factory=dict)

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``asyncmy.connect`` / ``asyncmy.create_pool``."""
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": self.connect_timeout,
        }
        if self.unix_socket:
            kwargs["unix_socket"] = self.unix_socket
        if self.ssl is not None:
            kwargs["ssl"] = self.ssl
        return kwargs

    @property
    def hub_key(self) -> str:
        """Names this database for in-process notification delivery."""
        where = self.unix_socket or f"{self.host.lower()}:{self.port}"
        return f"mysql://{where}/{self.database}"


def parse(dsn: str) -> Target:
    """Parse ``mysql://user:password@host:port/database?option=value``; raise ``ValueError`` naming the problem."""
    if not isinstance(dsn, str) or "://" not in dsn:
        raise ValueError(
            f"MySQLEngine needs a DSN like mysql://user:password@host:3306/database, got {mask_dsn(dsn)!r}"
        )
    parts = urlsplit(dsn)
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError(f"MySQLEngine needs a mysql:// or mariadb:// DSN, got {parts.scheme!r} in {mask_dsn(dsn)!r}")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ValueError(f"the DSN must name one database, e.g. mysql://root@127.0.0.1/app, got {mask_dsn(dsn)!r}")
    try:
        port = parts.port or 3306
    except ValueError:
        raise ValueError(f"the DSN has an invalid port: {mask_dsn(dsn)!r}") from None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - set(ENGINE_OPTIONS) - set(_CONNECTION_OPTIONS)
    if unknown:
        known = sorted(ENGINE_OPTIONS + _CONNECTION_OPTIONS)
        raise ValueError(f"unknown DSN option(s) {sorted(unknown)!r}; known: {known}")
    try:
        connect_timeout = float(query.get("connect_timeout", 10.0))
    except ValueError:
        raise ValueError(f"connect_timeout must be seconds, got {query['connect_timeout']!r}") from None
    return Target(
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=database,
        unix_socket=query.get("unix_socket") or None,
        connect_timeout=connect_timeout,
        ssl=_ssl_context(query),
        options={key: query[key] for key in ENGINE_OPTIONS if key in query},
    )


def _ssl_context(query: dict[str, str]) -> ssl.SSLContext | None:
    wanted = query.get("ssl", "").lower()
    if wanted not in ("", "true", "false", "1", "0"):
        raise ValueError(f"ssl must be true or false, got {query['ssl']!r}")
    if wanted in ("true", "1") or query.get("ssl_ca"):
        return ssl.create_default_context(cafile=query.get("ssl_ca") or None)
    return None
