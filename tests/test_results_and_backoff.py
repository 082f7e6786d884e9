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
    assert Record({"a": 1}).encoded == b'{"a":1}'
    with pytest.raises(ValueError, match=r"encodes to 12 bytes, more than its limit of 10 bytes"):
        Record("x" * 10, limit=10)


def test_record_rejects_values_that_are_not_json():
    with pytest.raises(ValueError, match=r"Record\.value"):
        Record({1, 2})


@pytest.mark.parametrize("attempt", [1, 2, 5, 10, 20])
def test_default_backoff_is_15_plus_two_to_the_attempt_with_up_to_ten_percent_jitter(attempt):
    base = 15 + 2**attempt
    values = [default_backoff(attempt, 20) for _ in range(200)]
    assert all(base <= value <= base * 1.1 for value in values)
    assert max(values) > min(values)


def test_long_retry_plans_scale_the_exponent():
    assert 15 + 2**10 <= default_backoff(50, 100) <= (15 + 2**10) * 1.1
    assert 15 + 2**20 <= default_backoff(100, 100) <= (15 + 2**20) * 1.1
