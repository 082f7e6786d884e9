"""The job model: defaults, validation, normalisation, updates, uniqueness keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oban import Job, JobState, UniqueOptions
from oban._time import utcnow


def test_defaults_match_oban():
    job = Job(worker="app.Worker")
    assert (job.queue, job.attempt, job.max_attempts, job.priority) == ("default", 0, 20, 0)
    assert job.args == {} and job.meta == {} and job.tags == [] and job.errors == []
    assert job.state is JobState.AVAILABLE and job.id is None and job.extra == {}


def test_job_state_is_a_string_enum():
    assert JobState.AVAILABLE == "available"
    assert JobState("discarded") is JobState.DISCARDED


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"worker": ""}, "worker"),
        ({"worker": "app.Worker", "queue": "  "}, "queue"),
        ({"worker": "app.Worker", "max_attempts": 0}, "max_attempts"),
        ({"worker": "app.Worker", "priority": 10}, "priority"),
        ({"worker": "app.Worker", "priority": -1}, "priority"),
        ({"worker": "app.Worker", "args": [1, 2]}, "args"),
        ({"worker": "app.Worker", "meta": "x"}, "meta"),
        ({"worker": "app.Worker", "tags": "urgent"}, "tags"),
        ({"worker": "app.Worker", "schedule_in": "soon"}, "schedule_in"),
        ({"worker": "app.Worker", "state": "sleeping"}, "state"),
        ({"worker": "w" * 128}, "worker must be at most 127"),
        ({"worker": "app.Worker", "queue": "q" * 128}, "queue must be at most 127"),
        ({"worker": "app.\x00Worker"}, "worker must not contain NUL"),
        ({"worker": "app.Worker", "queue": "a\x00"}, "queue must not contain NUL"),
        ({"worker": "app.Worker", "tags": ["a\x00"]}, "tags must not contain NUL"),
        ({"worker": "app.Worker", "max_attempts": 2**31}, "max_attempts must be an integer from 1 to 2147483647"),
        ({"worker": "app.Worker", "max_attempts": 2, "attempt": 3}, r"max_attempts must be at least .* \(3\)"),
    ],
)
def test_invalid_fields_raise_naming_the_field_and_value(fields, named):
    with pytest.raises(ValueError, match=named):
        Job(**fields)


def test_tags_are_stripped_lowercased_deduplicated_and_sorted():
    assert Job(worker="w", tags=[" B", "a", "b", "", "  "]).tags == ["a", "b"]


def test_schedule_in_sets_scheduled_at_and_the_scheduled_state():
    job = Job(worker="w", schedule_in=timedelta(minutes=5))
    assert job.state is JobState.SCHEDULED
    assert abs((job.scheduled_at - (utcnow() + timedelta(minutes=5))).total_seconds()) < 2


def test_a_past_scheduled_at_stays_available_and_naive_times_are_utc():
    job = Job(worker="w", scheduled_at=datetime(2020, 1, 1, 12, 0))
    assert job.state is JobState.AVAILABLE
    assert job.scheduled_at == datetime(2020, 1, 1, 12, 0, tzinfo=UTC)


def test_update_changes_the_job_in_place_validated_and_returns_it():
    job = Job(worker="w", priority=1)
    updated = job.update({"priority": 2, "tags": ["X"]})
    assert updated is job and (job.priority, job.tags) == (2, ["x"])
    with pytest.raises(ValueError, match="priority"):
        job.update({"priority": 42, "tags": ["kept?"]})
    assert (job.priority, job.tags) == (2, ["x"]), "a refused update changes nothing"
    with pytest.raises(ValueError, match="state"):
        job.update({"state": "completed"})
    job.update({"scheduled_in": 60})
    assert job.scheduled_at is not None and 59 < (job.scheduled_at - datetime.now(UTC)).total_seconds() <= 60


def test_tags_are_converted_with_str_and_unknown_options_kept_in_extra():
    assert Job(worker="w", tags=[1, " B ", None, "", "b", 2.5]).tags == ["1", "2.5", "b"]
    assert Job(worker="w", scheduled_in=30).state is JobState.SCHEDULED


def test_a_job_copies_what_it_is_given_so_jobs_never_share_dicts():
    args, meta, tags = {"a": 1}, {"m": 1}, ["t"]
    first, second = Job(worker="w", args=args, meta=meta, tags=tags), Job(worker="w", args=args, meta=meta)
    first.meta["changed"] = True
    first.args["a"] = 2
    assert second.meta == {"m": 1} and meta == {"m": 1} and args == {"a": 1}
    updated = first.update({"meta": meta})
    updated.meta["again"] = True
    assert meta == {"m": 1}


def test_updating_max_attempts_below_the_attempt_is_refused():
    job = Job(worker="w", max_attempts=5, attempt=2)
    with pytest.raises(ValueError, match=r"max_attempts must be at least the job's attempt \(2\), got 1"):
        job.update({"max_attempts": 1})
    assert job.update({"max_attempts": 2}).max_attempts == 2


def test_str_shows_id_short_worker_args_queue_and_state():
    job = Job(worker="myapp.workers.EmailWorker", args={"to": "a"}, queue="mailers")
    assert str(job) == "Job(id=None, worker=EmailWorker, args={'to': 'a'}, queue=mailers, state=available)"


def test_cancelled_is_false_until_requested():
    job = Job(worker="w")
    assert job.cancelled() is False


class TestUniqueOptions:
    def test_true_means_oban_defaults(self):
        options = UniqueOptions.parse(True)
        assert options.period == 60 and options.fields == ("args", "queue", "worker")
        assert JobState.COMPLETED in options.states and JobState.CANCELLED not in options.states
        assert options.timestamp == "inserted_at"

    @pytest.mark.parametrize(
        ("options", "named"),
        [
            ({"period": -1}, "period"),
            ({"fields": ["state"]}, "fields"),
            ({"states": "sometimes"}, "states"),
            ({"states": ["bogus"]}, "states"),
            ({"timestamp": "completed_at"}, "timestamp"),
            ({"color": "red"}, "color"),
        ],
    )
    def test_bad_options_are_named(self, options, named):
        with pytest.raises(ValueError, match=named):
            UniqueOptions.parse(options)

    def test_the_key_depends_only_on_the_compared_fields(self):
        options = UniqueOptions.parse({"fields": ["worker", "args"], "keys": ["id"]})
        a = Job(worker="w", args={"id": 1, "noise": 1}, queue="a")
        b = Job(worker="w", args={"id": 1, "noise": 2}, queue="b")
        c = Job(worker="w", args={"id": 2}, queue="a")
        assert options.key_for(a) == options.key_for(b) != options.key_for(c)

    def test_the_key_ignores_the_order_of_keys_at_every_depth(self):
        options = UniqueOptions.parse(True)
        a = Job(worker="w", args={"a": 1, "b": {"x": [1, {"p": 1, "q": 2}], "y": 2}})
        b = Job(worker="w", args={"b": {"y": 2, "x": [1, {"q": 2, "p": 1}]}, "a": 1})
        assert options.key_for(a) == options.key_for(b)
        assert options.key_for(a) != options.key_for(Job(worker="w", args={"a": 1, "b": {"x": [{"p": 1, "q": 2}, 1]}}))

    def test_a_unique_jobs_key_is_its_options_key_and_others_have_none(self):
        job = Job(worker="w", args={"a": 1}, unique=True)
        assert job.unique_key == UniqueOptions.parse(True).key_for(job)
        assert Job(worker="w").unique_key is None

    def test_infinite_period(self):
        assert UniqueOptions.parse({"period": "infinity"}).period is None
