"""What a worker's ``process`` may return to steer its job, besides a plain value or an exception."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from . import _json
from ._time import to_seconds


@dataclass(frozen=True, slots=True)
class Snooze:
    """Run the job again after ``seconds`` without counting this run as a failed attempt."""

    seconds: float

    def __init__(self, seconds: float | timedelta) -> None:
        value = to_seconds(seconds, "Snooze.seconds")
        if value < 0:
            raise ValueError(f"Snooze.seconds must not be negative, got {seconds!r}")
        object.__setattr__(self, "seconds", value)


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the job for good: it becomes ``cancelled`` and ``reason`` is added to its errors."""

    reason: str = "cancelled"


@dataclass(frozen=True, slots=True)
class Record:
    """Complete the job and keep ``value`` with it (``job.recorded``, stored in ``meta``).

    The value must be JSON-encodable and its encoding no larger than ``limit`` bytes; otherwise
    building the ``Record`` raises ``ValueError`` with both sizes.
    """

    value: Any
    limit: int = 64_000_000
    encoded: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        encoded = _json.encode_bytes(self.value, "Record.value")
        if len(encoded) > self.limit:
            raise ValueError(
                f"Record.value encodes to {len(encoded)} bytes, more than its limit of {self.limit} bytes"
            )
        object.__setattr__(self, "encoded", encoded)
