"""UTC timestamps: the one clock the core uses, and the text form SQLite stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import overload


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Read a naive datetime as UTC and convert an aware one to UTC."""
    tzinfo = value.tzinfo
    if tzinfo is UTC:  # already UTC (every timestamp oban makes): no conversion, which costs a microsecond or two
        return value
    if tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_seconds(value: float | int | timedelta, field: str) -> float:
    """Turn seconds or a ``timedelta`` into seconds, rejecting anything else by name."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field} must be seconds (int or float) or a timedelta, got {value!r}")
    return float(value)


def to_iso(value: datetime) -> str:
    """Fixed-width ISO-8601 in UTC ending in ``Z``, so text order is time order."""
    # isoformat, not strftime: it runs for every ack on SQLite, and strftime takes twice as long
    # (and writes years before 1000 without their leading zeros).
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_iso(text: str | None) -> datetime | None:
    """Parse a timestamp written by any Oban implementation; naive text is read as UTC."""
    if text is None:
        return None
    return as_utc(datetime.fromisoformat(text))


def naive_utc(value: datetime) -> datetime:
    """UTC without tzinfo: what a ``timestamp without time zone`` or ``DATETIME`` column holds."""
    return as_utc(value).replace(tzinfo=None)


@overload
def aware_utc(value: datetime) -> datetime: ...
@overload
def aware_utc(value: None) -> None: ...
@overload
def aware_utc(value: datetime | None) -> datetime | None: ...
def aware_utc(value: datetime | None) -> datetime | None:
    """A stored timestamp (naive UTC, or aware) as aware UTC; ``None`` stays ``None``."""
    return None if value is None else as_utc(value)
