"""Result types and the default backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oban import Cancel, Record, Snooze, default_backoff


def test_snooze_accepts_seconds_or_timedelta_and_rejects_negatives():
    assert Snooze(5).seconds == 5.0
    assert Snooze(timedelta(minutes=1)).seconds == 60.0
    with pytest.raises(ValueError, match=r"Snooze\.seconds"):
        Snooze(-1)


def test_cancel_carries_its_reason():
    assert Cancel("too late").reason == "too late"


def test_record_rejects_values_over_its_limit_naming_both_sizes():
    # term_to_binary(%{"a" => 1}), base64 without padding: what oban-py and Oban Pro store.
    assert Record({"a": 1}).encoded == "g3QAAAABbQAAAAFhYQE"
    with pytest.raises(ValueError, match=r"Record.value is 22 bytes encoded, exceeds limit of 10"):
        Record("x" * 10, limit=10)


def test_record_rejects_values_that_cannot_be_stored():
    with pytest.raises(ValueError, match=r"recorded value cannot be stored: set \{1, 2\}"):
        Record({1, 2})
    with pytest.raises(ValueError, match=r"recorded value\['x'\] must be a finite number, got nan"):
        Record({"x": float("nan")})


def test_snooze_takes_meta_to_write_with_the_snooze():
    assert Snooze(5, meta={"reason": "busy"}).meta == {"reason": "busy"}
    with pytest.raises(ValueError, match=r"Snooze.meta must be a dict, got \[1\]"):
        Snooze(5, meta=[1])  # type: ignore[arg-type]


@pytest.mark.parametrize("attempt", [1, 2, 5, 10, 20])
def test_default_backoff_is_15_plus_two_to_the_attempt_with_up_to_ten_percent_jitter(attempt):
    base = 15 + 2**attempt
    values = [default_backoff(attempt, 20) for _ in range(200)]
    assert all(base <= value <= base * 1.1 for value in values)
    assert max(values) > min(values)


def test_long_retry_plans_scale_the_exponent():
    assert 15 + 2**10 <= default_backoff(50, 100) <= (15 + 2**10) * 1.1
    assert 15 + 2**20 <= default_backoff(100, 100) <= (15 + 2**20) * 1.1
