"""How long a failed job waits before its next attempt (Oban's default formula)."""

from __future__ import annotations

import random


def default_backoff(attempt: int, max_attempts: int = 20, *, jitter: float = 0.1) -> float:
    """Seconds before retrying after failing ``attempt``: ``15 + 2**a`` plus up to 10 % jitter.

    ``a`` is the attempt, or ``round(attempt / max_attempts * 20)`` when ``max_attempts > 20`` so
    long retry plans stretch over the same total time instead of growing without bound.
    """
    exponent = attempt if max_attempts <= 20 else round(attempt / max_attempts * 20)
    base: int = 15 + 2 ** max(0, min(exponent, 20))
    return base + base * jitter * random.random()


class Backoff:
    """Delays for a retry loop: ``base * 2**n`` for the n-th failure in a row, at most ``cap``.

    ``jitter`` spreads each delay by up to that fraction either way (``1.0``: anywhere from 0 to
    twice the delay), so many nodes retrying at once do not retry in step. ``next()`` gives the
    delay for a failure and counts it; ``reset()`` after a success starts again from ``base``.
    """

    __slots__ = ("base", "cap", "failures", "jitter")

    def __init__(self, base: float, cap: float, *, jitter: float = 0.0) -> None:
        if base <= 0 or cap < base or not 0 <= jitter <= 1:
            raise ValueError(f"backoff needs 0 < base <= cap and 0 <= jitter <= 1, got {base!r}, {cap!r}, {jitter!r}")
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.failures = 0

    def delay(self, failures: int) -> float:
        """The delay after ``failures`` failures in a row (1 for the first), without counting."""
        value: float = min(self.cap, self.base * 2 ** min(max(failures - 1, 0), 62))
        if self.jitter:
            value *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return value

    def next(self) -> float:
        """Count a failure and return how long to wait before trying again."""
        self.failures += 1
        return self.delay(self.failures)

    def reset(self) -> None:
        """A success: the next failure waits ``base`` again."""
        self.failures = 0
