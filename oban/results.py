"""What a worker's ``process`` may return to steer its job, besides a plain value or an exception."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from . import _json
from ._etf import encode_recorded
from ._time import to_seconds

RECORDED_LIMIT = 64_000_000
"""The default largest encoded size of a recorded value, in bytes (oban-py's)."""


@dataclass(frozen=True, slots=True)
class Snooze:
    """Run the job again after ``seconds`` without counting this run as a failed attempt.

    ``meta`` keys are written into the job's meta with the snooze (each replacing that key whole),
    alongside the ``snoozed`` counter, as in oban-py.
    """

    seconds: float
    meta: dict[str, Any] | None = None

    def __init__(self, seconds: float | timedelta, meta: dict[str, Any] | None = None) -> None:
        value = to_seconds(seconds, "Snooze.seconds")
        if value < 0:
            raise ValueError(f"Snooze.seconds must not be negative, got {seconds!r}")
        if meta is not None:
            if not isinstance(meta, dict):
                raise ValueError(f"Snooze.meta must be a dict, got {meta!r}")
            _json.encode_bytes(meta, "Snooze.meta")
        object.__setattr__(self, "seconds", value)
        object.__setattr__(self, "meta", None if meta is None else dict(meta))


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the job for good: it becomes ``cancelled`` and ``reason`` is added to its errors."""

    reason: str = "cancelled"


@dataclass(frozen=True, slots=True)
class Record:
    """Complete the job and keep ``value`` with it (``job.recorded``, stored in ``meta``).

    The value is stored as oban-py and Oban Pro store it (an Erlang term, base64: see
    ``oban._etf``), so either reads what the other recorded. It may hold ``None``, booleans,
    numbers, strings, bytes, lists, tuples and dicts; its encoding may be at most ``limit``
    bytes. Otherwise building the ``Record`` raises ``ValueError`` naming the value or both sizes.
    """

    value: Any
    limit: int = RECORDED_LIMIT
    encoded: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        encoded = encode_recorded(self.value)
        if len(encoded) > self.limit:
            raise ValueError(f"Record.value is {len(encoded)} bytes encoded, exceeds limit of {self.limit}")
        object.__setattr__(self, "encoded", encoded)
