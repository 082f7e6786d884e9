"""The dashboard's actions over HTTP: each changes the database (or the nodes) as the facade
would, on every engine."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the dashboard needs the web extra")

from oban import JobState, Oban
from tests.support import wait_until
from tests.web.app_support import ACTION, parse


async def state_of(oban, job):
    found = await oban.get_job(job.id)
    return None if found is None else found.state


async def test_the_job_page_offers_the_actions_its_state_allows(http, seeded):
    discarded = parse((await http.get(f"/jobs/{seeded.discarded.id}")).text)
    assert "disabled" not in discarded.one("action-retry").attrs
    assert "disabled" in discarded.one("action-cancel").attrs  # it has finished
    assert discarded.one("action-delete").attrs["data-action"] == f"/actions/jobs/{seeded.discarded.id}/delete"
    available = parse((await http.get(f"/jobs/{seeded.available.id}")).text)
    assert "disabled" in available.one("action-retry").attrs and "disabled" not in available.one("action-cancel").attrs
    jobs = parse((await http.get("/jobs")).text)
    assert len(jobs.all("job-select")) == len(seeded.all)
    for name in ("action-retry-selected", "action-cancel-selected", "action-delete-selected"):
        assert jobs.one(name)


async def test_retry_makes_a_discarded_job_available(http, oban, seeded):
    response = await http.post(f"/actions/jobs/{seeded.discarded.id}/retry", headers=ACTION)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "count": 1, "message": f"job {seeded.discarded.id} retried"}
    job = await oban.get_job(seeded.discarded.id)
    assert job.state is JobState.AVAILABLE and job.max_attempts == 2  # its attempts were spent: one more
    again = (await http.post(f"/actions/jobs/{seeded.discarded.id}/retry", headers=ACTION)).json()
    assert again["ok"] and again["count"] == 0 and "it is available" in again["message"]


async def test_cancel_cancels_a_waiting_job_and_says_so_when_it_had_finished(http, oban, seeded):
    reply = (await http.post(f"/actions/jobs/{seeded.scheduled.id}/cancel", headers=ACTION)).json()
    assert reply["count"] == 1 and await state_of(oban, seeded.scheduled) is JobState.CANCELLED
    finished = (await http.post(f"/actions/jobs/{seeded.recorded.id}/cancel", headers=ACTION)).json()
    assert finished["count"] == 0 and "it is completed" in finished["message"]
    assert await state_of(oban, seeded.recorded) is JobState.COMPLETED


async def test_delete_removes_the_job_and_leads_back_to_the_list(http, oban, seeded):
    reply = (await http.post(f"/actions/jobs/{seeded.retryable.id}/delete", headers=ACTION)).json()
    assert reply == {"ok": True, "count": 1, "message": f"job {seeded.retryable.id} deleted", "redirect": "/jobs"}
    assert await oban.get_job(seeded.retryable.id) is None
    missing = await http.post(f"/actions/jobs/{seeded.retryable.id}/delete", headers=ACTION)
    assert missing.status_code == 404 and missing.json()["message"] == f"no job with id {seeded.retryable.id}"
    beyond = await http.post(f"/actions/jobs/{2**64}/delete", headers=ACTION)
    assert beyond.status_code == 404


async def test_bulk_actions_act_on_the_selected_jobs_only(http, oban, seeded):
    chosen = [seeded.scheduled.id, seeded.available.id, seeded.recorded.id]
    reply = (await http.post("/actions/jobs/bulk", headers=ACTION, json={"action": "cancel", "ids": chosen})).json()
    assert reply == {"ok": True, "count": 2, "message": "cancelled 2 of 3 selected job(s)"}
    assert await state_of(oban, seeded.scheduled) is JobState.CANCELLED
    assert await state_of(oban, seeded.available) is JobState.CANCELLED
    assert await state_of(oban, seeded.retryable) is JobState.RETRYABLE  # not selected
    retried = await http.post("/actions/jobs/bulk", headers=ACTION, json={"action": "retry", "ids": chosen})
    assert retried.json()["count"] == 3 and await state_of(oban, seeded.recorded) is JobState.AVAILABLE
    deleted = await http.post("/actions/jobs/bulk", headers=ACTION, json={"action": "delete", "ids": chosen[:2]})
    assert deleted.json()["count"] == 2 and await oban.get_job(seeded.scheduled.id) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "explode", "ids": [1]}, "action must be one of retry, cancel, delete, got 'explode'"),
        ({"action": "retry", "ids": []}, "ids must be a non-empty list of job ids, got []"),
        ({"action": "retry", "ids": "1,2"}, "ids must be a non-empty list of job ids, got '1,2'"),
        ({"action": "retry", "ids": [1, "two"]}, "ids must hold positive integer job ids, got 'two'"),
        ({"action": "retry", "ids": [2**64]}, f"ids must hold positive integer job ids, got {2**64}"),
        ([1, 2], "the request body must be a JSON object, got [1, 2]"),
    ],
)
async def test_a_bad_bulk_request_is_a_400_naming_the_field(http, oban, seeded, body, message):
    response = await http.post("/actions/jobs/bulk", headers=ACTION, json=body)
    assert response.status_code == 400 and response.json() == {"ok": False, "message": message}
    assert await state_of(oban, seeded.discarded) is JobState.DISCARDED


async def test_pause_resume_and_scale_reach_a_running_node(http, oban_engine_factory):
    # Given a node (its own engine, as another process would have) running the queue
    node = Oban(await oban_engine_factory(), queues={"media": 2}, node="worker-1", heartbeat_interval=0.5)
    await node.start()
    try:
        # When the dashboard pauses it, the node stops claiming from it
        paused = await http.post("/actions/queues/media/pause", headers=ACTION)
        assert paused.json() == {"ok": True, "count": 1, "message": "queue 'media' paused on every node"}
        await wait_until(lambda: node.check_queue("media").paused)
        # And its next heartbeat shows it paused on the queues page
        await wait_until(lambda: _shown_status(http, "media", "paused"))

        await http.post("/actions/queues/media/resume", headers=ACTION)
        await wait_until(lambda: not node.check_queue("media").paused)

        scaled = await http.post("/actions/queues/media/scale", headers=ACTION, json={"limit": 7})
        assert scaled.json()["message"] == "queue 'media' scaled to 7 on every node"
        await wait_until(lambda: node.check_queue("media").limit == 7)
        await wait_until(lambda: _shown_limit(http, "media", "7"))
    finally:
        await node.stop()


async def _shown_status(http, queue, status):
    html = parse((await http.get("/queues")).text)
    return [row.one("queue-paused").text for row in html.all("queue-row", queue=queue)] == [status]


async def _shown_limit(http, queue, limit):
    # A heartbeat a little late makes the node count as gone for a moment: the page is a 404 then.
    html = parse((await http.get(f"/queues/{queue}")).text)
    inputs = [element.attrs["value"] for element in html.all("scale-input")]
    return [element.text for element in html.all("queue-limit")] == [limit] and inputs == [limit]


@pytest.mark.parametrize(
    ("body", "shown"),
    [({"limit": "many"}, "'many'"), ({"limit": 0}, "0"), ({"limit": True}, "True"), ({}, "None")],
)
async def test_scaling_to_a_bad_limit_is_a_400_naming_the_field_and_value(http, body, shown):
    response = await http.post("/actions/queues/media/scale", headers=ACTION, json=body)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "message": f"limit must be a positive integer, got {shown}"}


async def test_an_unknown_action_is_a_404(http, seeded):
    job = await http.post(f"/actions/jobs/{seeded.discarded.id}/explode", headers=ACTION)
    queue = await http.post("/actions/queues/media/drain", headers=ACTION)
    assert job.status_code == queue.status_code == 404
    assert queue.json()["message"] == "action must be one of pause, resume, scale, got 'drain'"
    assert (await http.get(f"/actions/jobs/{seeded.discarded.id}/retry")).status_code == 405
