"""The helpers users test their own code with."""

from __future__ import annotations

import pytest

from oban import Oban, Record
from oban.testing import all_enqueued, assert_enqueued, perform_job, refute_enqueued
from tests import workers


async def test_perform_job_runs_a_worker_with_json_round_tripped_args():
    result = await perform_job(workers.Returns, {"kind": "record", "rows": (1, 2)})
    assert isinstance(result, Record) and result.value == {"rows": [1, 2]}
    await perform_job(workers.add_to_events, {"label": "x", "count": 2})
    assert workers.EVENTS[-1] == ("function", "x", 2)
    with pytest.raises(ValueError, match="bad input"):
        await perform_job(workers.AlwaysFails, {"n": 1})
    with pytest.raises(TypeError, match="not a worker"):
        await perform_job(dict, {})


async def test_enqueued_assertions_match_on_worker_queue_args_and_meta(engine):
    oban = Oban(engine)
    await oban.enqueue(workers.Echo.new({"tag": "a", "user": 1}, meta={"source": "signup"}, queue="mail"))
    await oban.enqueue(workers.Noop.new({"tag": "b"}, schedule_in=60))
    found = await assert_enqueued(oban, worker=workers.Echo, args={"user": 1})
    assert found.args == {"tag": "a", "user": 1}
    await assert_enqueued(oban, queue="mail", meta={"source": "signup"})
    await assert_enqueued(oban, worker="tests.workers.Noop")
    assert len(await all_enqueued(oban)) == 2
    await refute_enqueued(oban, worker=workers.Echo, args={"user": 2})
    with pytest.raises(AssertionError, match="Expected a job matching"):
        await assert_enqueued(oban, worker=workers.Echo, args={"user": 2})
    with pytest.raises(AssertionError, match="Expected no jobs matching"):
        await refute_enqueued(oban, worker=workers.Noop)
    await oban.stop()
