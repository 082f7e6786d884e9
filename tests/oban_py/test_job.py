"""``Job``, its validation and normalisation, and the result types, as oban-py defines them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oban import Cancel, Job, Record, Snooze
from oban._etf import decode_recorded


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"queue": ""}, "queue"),
        ({"queue": "   "}, "queue"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": -1}, "max_attempts"),
        ({"priority": -1}, "priority"),
        ({"priority": 10}, "priority"),
    ],
)
def test_bad_fields_raise_value_error_naming_the_field(fields, named):
    with pytest.raises(ValueError, match=named):
        Job(worker="Worker", **fields)
    with pytest.raises(ValueError, match="worker"):
        Job(worker="  ")


def test_tags_are_strings_trimmed_lowercased_deduplicated_and_blanks_dropped():
    assert Job(worker="W", tags=["", " ", "\n"]).tags == []
    assert Job(worker="W", tags=["ALPHA", " alpha ", "\nbeta\n"]).tags == ["alpha", "beta"]
    assert Job(worker="W", tags=[None, 1, 2]).tags == ["1", "2"]


@pytest.mark.parametrize("delay", [timedelta(minutes=5), 60, 30.5])
def test_scheduled_in_and_schedule_in_set_scheduled_at(delay):
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
    for name in ("scheduled_in", "schedule_in"):
        before = datetime.now(UTC)
        job = Job(worker="W", **{name: delay})
        assert before + timedelta(seconds=seconds) <= job.scheduled_at <= datetime.now(UTC) + timedelta(seconds=seconds)
        assert job.state == "scheduled"


def test_update_changes_the_job_in_place_with_validation():
    job = Job(worker="W", priority=1)
    assert job.update({"priority": 0, "tags": ["Urgent"]}) is job
    assert (job.priority, job.tags) == (0, ["urgent"])
    job.update({"scheduled_in": 300})
    assert 299 <= (job.scheduled_at - datetime.now(UTC)).total_seconds() <= 300
    with pytest.raises(ValueError, match="priority"):
        job.update({"priority": 11})
    assert job.priority == 0


def test_str_and_cancelled():
    job = Job(worker="myapp.workers.EmailWorker", args={"to": "a"}, queue="mailers")
    assert str(job).startswith("Job(id=None, worker=EmailWorker") and "queue=mailers" in str(job)
    assert job.cancelled() is False


def test_record_stores_the_encoded_value_and_enforces_its_limit():
    for value in [{"key": "value"}, "string", 123, [1, 2, 3], None, {"nested": {"a": 1}}]:
        assert decode_recorded(Record(value).encoded) == value
    with pytest.raises(ValueError, match="exceeds limit"):
        Record("x" * 100, limit=10)


def test_snooze_and_cancel_carry_their_details():
    assert Snooze(60).seconds == 60 and Snooze(60).meta is None
    assert Snooze(5, meta={"why": "busy"}).meta == {"why": "busy"}
    assert Cancel("no longer needed").reason == "no longer needed"
