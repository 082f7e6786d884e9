"""The dashboard's pages over HTTP, against a seeded database on every engine."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("starlette", reason="the dashboard needs the web extra")

from oban import Job, Oban
from oban.testing import drain_queue
from oban.web import create_app
from tests.support import wait_until
from tests.web.app_support import ChargeCard, SendEmail, client_for, parse

STATES = ["available", "suspended", "scheduled", "executing", "retryable", "completed", "discarded", "cancelled"]


async def page(http, path):
    response = await http.get(path)
    assert response.status_code == 200, response.text
    return parse(response.text)


async def test_the_root_redirects_to_the_queues_and_healthz_answers_ok(http):
    root = await http.get("/")
    assert root.status_code == 307 and root.headers["location"] == "/queues"
    health = await http.get("/healthz", auth=None)
    assert health.status_code == 200 and health.text == "ok"


async def test_every_page_has_the_nav_and_the_live_toggle(http, seeded):
    for path in ("/queues", "/queues/default", "/jobs", f"/jobs/{seeded.discarded.id}"):
        html = await page(http, path)
        assert html.one("nav-queues").attrs["href"] == "/queues"
        assert html.one("nav-jobs").attrs["href"] == "/jobs"
        assert html.one("live-toggle").text == "Live"
        assert html.all("read-only-banner") == []  # auth is configured: actions are on


async def test_the_queues_page_shows_every_queue_with_its_counts_by_state(http, seeded):
    html = await page(http, "/queues")
    rows = {row.attrs["data-queue"]: row for row in html.all("queue-row")}
    assert list(rows) == ["default", "later", "mailers"]
    expected = {
        "default": {"completed": 1, "discarded": 1, "retryable": 1},
        "later": {"scheduled": 1},
        "mailers": {"completed": 3, "available": 1},
    }
    for queue, counts in expected.items():
        shown = {cell.attrs["data-state"]: int(cell.text) for cell in rows[queue].all("queue-count")}
        assert shown == {state: counts.get(state, 0) for state in STATES}
        # No node runs these queues: no limit, no nodes, neither paused nor running.
        assert rows[queue].one("queue-limit").text == "-"
        assert rows[queue].one("queue-nodes").text == "0"
        assert rows[queue].one("queue-paused").text == "no nodes"


async def test_the_charts_count_this_hours_completions_and_failures_per_minute(http, seeded):
    html = await page(http, "/queues")
    throughput = html.one("chart-throughput")
    failures = html.one("chart-failures")
    assert throughput.tag == failures.tag == "svg"
    completed = [int(bar.attrs["data-count"]) for bar in throughput.all("chart-bucket")]
    failed = [int(bar.attrs["data-count"]) for bar in failures.all("chart-bucket")]
    assert len(completed) == len(failed) == 60  # a bucket a minute over the last hour
    assert sum(completed) == 4 and sum(failed) == 2  # 4 completed; 1 discarded + 1 retryable
    assert completed[-1] + completed[-2] == 4  # they ran just now: this minute (or the last, at a turn)

    # Per queue: the mailers' chart counts only the three e-mails
    mailers = await page(http, "/queues?chart=mailers")
    assert sum(int(bar.attrs["data-count"]) for bar in mailers.one("chart-throughput").all("chart-bucket")) == 3
    assert sum(int(bar.attrs["data-count"]) for bar in mailers.one("chart-failures").all("chart-bucket")) == 0
    queue_page = await page(http, "/queues/default")
    assert sum(int(bar.attrs["data-count"]) for bar in queue_page.one("chart-failures").all("chart-bucket")) == 2


async def test_a_queue_run_by_a_node_shows_its_limit_status_and_nodes(http, seeded, oban_engine_factory):
    node = Oban(await oban_engine_factory(), queues={"mailers": 3, "media": 2}, node="worker-1", heartbeat_interval=1.0)
    await node.start()
    try:
        await wait_until(lambda: _heartbeats(http, {"mailers", "media"}))
        html = await page(http, "/queues")
        rows = {row.attrs["data-queue"]: row for row in html.all("queue-row")}
        assert list(rows) == ["default", "later", "mailers", "media"]  # media: run by a node, no jobs yet
        media = rows["media"]
        assert (media.one("queue-limit").text, media.one("queue-paused").text, media.one("queue-nodes").text) == (
            "2",
            "running",
            "1",
        )
        detail = await page(http, "/queues/mailers")
        [row] = detail.all("node-row")
        assert row.attrs["data-node"] == "worker-1"
        assert (row.one("node-limit").text, row.one("node-paused").text) == ("3", "running")
        assert row.one("node-running").text.isdigit()
        counts = {cell.attrs["data-state"]: int(cell.text) for cell in detail.all("queue-count")}
        assert counts["completed"] + counts["executing"] + counts["available"] == 4  # the node runs the 4th e-mail
    finally:
        await node.stop()


async def _heartbeats(http, queues):
    html = parse((await http.get("/queues")).text)
    return {row.attrs["data-queue"] for row in html.all("queue-row") if row.one("queue-nodes").text == "1"} == queues


async def test_an_unknown_queue_or_job_is_a_404_page(http, seeded):
    for path in ("/queues/nowhere", "/jobs/987654", "/jobs/99999999999999999999", "/jobs/not-a-number", "/no/such"):
        response = await http.get(path)
        assert response.status_code == 404, path
        html = parse(response.text)
        assert html.one("nav-queues") and "Not found" in html.one("message").text


async def test_the_jobs_page_lists_newest_first_with_attempts_and_args(http, seeded):
    html = await page(http, "/jobs")
    rows = html.all("job-row")
    assert [int(row.attrs["data-job-id"]) for row in rows] == sorted((job.id for job in seeded.all), reverse=True)
    discarded = html.one("job-row", job_id=str(seeded.discarded.id))
    assert discarded.one("job-state").text == "discarded"
    assert discarded.one("job-worker").text == "tests.web.app_support.ChargeCard"
    assert discarded.one("job-queue").text == "default"
    assert discarded.one("job-attempt").text == "1/1"
    assert json.loads(discarded.one("job-args").text) == {"order": "B-200"}
    filters = {link.attrs["data-state"]: link for link in html.all("state-filter")}
    assert list(filters) == STATES
    assert filters["completed"].text == "completed 4" and filters["cancelled"].text == "cancelled 0"
    assert filters["discarded"].attrs["href"] == "/jobs?state=discarded"
    assert html.all("page-next") == []


async def test_long_args_are_cut_in_the_list_and_whole_in_the_detail(http, oban):
    job = await oban.enqueue(SendEmail.new({"body": "x" * 500}))
    html = await page(http, "/jobs")
    cell = html.one("job-row", job_id=str(job.id)).one("job-args").text
    assert cell.endswith("…") and len(cell) < 120
    detail = await page(http, f"/jobs/{job.id}")
    assert json.loads(detail.one("detail-args").raw_text) == {"body": "x" * 500}


async def test_the_jobs_page_filters_by_state_queue_worker_and_search(http, seeded):
    async def ids(query):
        return {int(row.attrs["data-job-id"]) for row in (await page(http, f"/jobs?{query}")).all("job-row")}

    assert await ids("state=completed") == {job.id for job in [*seeded.completed, seeded.recorded]}
    assert await ids("queue=mailers") == {job.id for job in [*seeded.completed, seeded.available]}
    assert await ids("queue=mailers&state=available") == {seeded.available.id}
    assert await ids("worker=tests.web.app_support.ChargeCard") == {seeded.discarded.id}
    assert await ids("q=b-200") == {seeded.discarded.id}  # args, any case
    assert await ids("q=checkout") == {seeded.discarded.id}  # a tag
    assert await ids("q=CallUpstream") == {seeded.retryable.id}  # the worker
    assert await ids(f"q={seeded.scheduled.id}") >= {seeded.scheduled.id}  # an id
    assert await ids("q=nothing-matches-this") == set()

    # The form keeps what was asked, and the state links keep the other filters
    html = await page(http, "/jobs?queue=mailers&q=example")
    assert html.one("search-input").attrs["value"] == "example"
    [selected] = [o for o in html.one("queue-filter").all(tag="option") if "selected" in o.attrs]
    assert selected.attrs["value"] == "mailers"
    link = html.one("state-filter", state="completed").attrs["href"]
    assert link == "/jobs?state=completed&queue=mailers&q=example"
    counts = {f.attrs["data-state"]: f.one("state-count").text for f in html.all("state-filter")}
    assert counts["completed"] == "3" and counts["available"] == "1"  # the mailers queue's counts


async def test_the_jobs_page_pages_older_jobs_fifty_at_a_time(http, oban):
    jobs = await oban.enqueue_many([SendEmail.new({"n": n}) for n in range(120)])
    newest_first = sorted((job.id for job in jobs), reverse=True)
    seen, path, pages = [], "/jobs", 0
    while path:
        html = await page(http, path)
        seen += [int(row.attrs["data-job-id"]) for row in html.all("job-row")]
        pages += 1
        more = html.all("page-next")
        path = more[0].attrs["href"].replace("&amp;", "&") if more else None
    assert seen == newest_first and pages == 3
    second = await page(http, f"/jobs?before={newest_first[49]}")
    assert len(second.all("job-row")) == 50 and second.one("page-first").attrs["href"] == "/jobs"


async def test_bad_filters_are_a_400_naming_the_parameter(http, seeded):
    state = await http.get("/jobs?state=finished")
    assert state.status_code == 400
    assert "state must be one of available" in state.text and "got &#39;finished&#39;" in state.text
    before = await http.get("/jobs?before=abc")
    assert before.status_code == 400 and "before must be a positive job id, got &#39;abc&#39;" in before.text


async def test_a_job_page_shows_args_meta_tags_attempts_and_errors_with_tracebacks(http, seeded):
    html = await page(http, f"/jobs/{seeded.discarded.id}")
    detail = html.one("job-detail")
    assert detail.one("job-state").text == "discarded"
    assert json.loads(detail.one("detail-args").raw_text) == {"order": "B-200"}
    assert json.loads(detail.one("detail-meta").raw_text)["source"] == "web"
    assert detail.one("detail-tags").text == "checkout"
    assert detail.one("detail-attempts").text == "1/1"
    assert "UTC" in detail.one("detail-inserted-at").text and detail.one("detail-discarded-at")
    [error] = detail.all("detail-error")
    assert error.one("error-attempt").text == "attempt 1"
    traceback = error.one("detail-traceback").raw_text
    assert "Traceback (most recent call last)" in traceback
    assert "app_support.py" in traceback and "ValueError: card declined for order B-200" in traceback
    assert detail.all("detail-recorded") == []


async def test_a_job_page_shows_the_recorded_value_decoded(http, seeded):
    html = await page(http, f"/jobs/{seeded.recorded.id}")
    assert json.loads(html.one("detail-recorded").raw_text) == {"report": "monthly-sales", "rows": 42}
    assert html.one("detail-no-errors")


async def test_a_fragment_is_only_the_content_for_live_updates(http, seeded, oban):
    whole = (await http.get("/queues")).text
    fragment = (await http.get("/queues?fragment=1")).text
    assert "<html" in whole and "<html" not in fragment and "live-toggle" not in fragment
    assert parse(fragment).all("queue-row") and fragment.strip() in whole
    # It is read fresh each time: a new job shows up in the next poll
    await oban.enqueue(SendEmail.new({"to": "new@example.com"}, queue="brand-new"))
    again = parse((await http.get("/queues?fragment=1")).text)
    assert "brand-new" in {row.attrs["data-queue"] for row in again.all("queue-row")}
    jobs = (await http.get("/jobs?state=completed&fragment=1")).text
    assert "<html" not in jobs and len(parse(jobs).all("job-row")) == 4


async def test_static_files_are_served_from_the_package(http):
    script = await http.get("/static/oban.js")
    style = await http.get("/static/oban.css")
    assert script.status_code == style.status_code == 200
    assert "X-Oban-Action" in script.text and "javascript" in script.headers["content-type"]
    assert "text/css" in style.headers["content-type"]


@pytest.mark.engines("sqlite")
async def test_a_database_without_the_schema_is_a_503_page_saying_what_to_run(tmp_path, engine_name):
    from oban.engines import LiteEngine

    client = Oban(LiteEngine(str(tmp_path / "empty.db"), install=False), cron=False)
    try:
        async for http in client_for(create_app(client)):
            response = await http.get("/queues")
            assert response.status_code == 503
            assert "the oban schema is not installed" in parse(response.text).one("message").text
            assert (await http.get("/healthz")).text == "ok"
    finally:
        await client.stop()


@pytest.mark.engines("postgres")
async def test_an_unreachable_database_is_a_503_page_and_a_503_action(engine_name):
    from oban.engines.postgres import PostgresEngine

    client = Oban(PostgresEngine("postgresql://oban:hunter2@127.0.0.1:1/jobs"), cron=False)
    try:
        async for http in client_for(create_app(client, auth=lambda request: True)):
            response = await http.get("/jobs")
            assert response.status_code == 503 and "Database unavailable" in response.text
            assert "hunter2" not in response.text
            action = await http.post("/actions/jobs/1/retry", headers={"X-Oban-Action": "1"})
            assert action.status_code == 503 and action.json()["ok"] is False
    finally:
        await client.stop()


async def test_markup_in_stored_values_is_shown_as_text_never_run(http, oban):
    # Args, meta, tags, worker and queue names come from whoever enqueued the job, and errors
    # from an exception's message: every page must escape them.
    evil = '<script>window.owned=1</script><img src=x onerror="window.owned=2">'
    queue = "q<b>x</b>"
    failed = await oban.enqueue(ChargeCard.new({"order": evil}, queue=queue, meta={"note": evil}, tags=[evil]))
    await drain_queue(queue, oban=oban, with_recursion=False, with_scheduled=False, with_safety=True)
    odd = await oban.enqueue(Job(worker=f"W{evil}", queue=queue, args={"to": evil}))
    for path in ("/queues", f"/queues/{queue}", "/jobs", f"/jobs/{failed.id}", f"/jobs/{odd.id}", f"/jobs?q={evil}"):
        response = await http.get(path)
        assert response.status_code == 200, (path, response.text)
        assert "<script>window.owned" not in response.text, path
        assert "<img src=x" not in response.text, path
        assert "<b>x</b>" not in response.text, path
    detail = (await http.get(f"/jobs/{failed.id}")).text
    assert "card declined for order &lt;script&gt;window.owned=1&lt;/script&gt;" in detail
