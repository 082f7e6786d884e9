"""How long a failed job waits before its next attempt (Oban's default formula)."""

from __future__ import annotations

import random


def default_backoff(attempt: int, max_attempts: int = 20, *, jitter: float = 0.1) -> float:
    """Seconds before retrying after failing ``attempt``: ``15 + 2**a`` plus up to 10 % jitter.

    ``a`` is the attempt, or ``round(attempt / max_attempts * 20)`` when ``max_attempts > 20`` so
    long retry plans stretch over the same total time instead of growing without bound.
    """
    exponent = attempt if max_attempts <= 20 else round(attempt / max_attempts * 20)
    base = 15 + 2 ** max(0, min(exponent, 20))
    return base + base * jitter * random.random()
