"""The web dashboard in Chromium, against a seeded database and a node running real jobs, on every engine."""

from __future__ import annotations

import itertools
import os
import re
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oban import JobState
from tests.web.browser_support import *  # noqa: F403  (the pytest fixtures: browser, dashboard, page, anonymous_page)
from tests.web.browser_support import (
    MOUNT_PATH,
    PASSWORD,
    SEARCH_VALUE,
    STAFF_COOKIE,
    TITLE,
    USERNAME,
    Dashboard,
    open_context,
)
from tests.web.browser_workers import BuildReport

pytest.importorskip("starlette", reason="the dashboard needs starlette (and uvicorn to serve it)")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def by_testid(page: Any, testid: str, **data: str) -> Any:
    """The elements with this ``data-testid`` (and these ``data-*`` attributes)."""
    attributes = "".join(f'[data-{name.replace("_", "-")}="{value}"]' for name, value in data.items())
    selector = f'[data-testid="{testid}"]' + attributes
    return page.locator(selector)


def job_ids_on(page: Any) -> list[int]:
    return [int(value) for value in by_testid(page, "job-row").evaluate_all("rows => rows.map(r => r.dataset.jobId)")]


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def bucket_counts(page: Any, chart: str) -> list[int]:
    bars = by_testid(page, chart).locator('[data-testid="chart-bucket"]')
    return [int(n) for n in bars.evaluate_all("bars => bars.map(b => b.dataset.count)")]


def count_cell(page: Any, queue: str, state: str) -> Any:
    return by_testid(page, "queue-row", queue=queue).locator(f'[data-testid="queue-count"][data-state="{state}"]')


# -- 1. queues ------------------------------------------------------------------------------------


def test_queues_page_shows_the_counts_per_state_and_updates_live(page: Any, dashboard: Dashboard) -> None:
    # Given the queues page, showing what the database holds
    page.goto(dashboard.url("/queues"))
    expect()(page).to_have_title(re.compile(TITLE))
    for (queue, state), count in dashboard.counts().items():
        expect()(count_cell(page, queue, state.value)).to_have_text(re.compile(rf"\b{count}\b"))
    media = by_testid(page, "queue-row", queue="media")  # run by the node, no jobs yet
    expect()(media.locator('[data-testid="queue-nodes"]')).to_have_text(re.compile(r"\b1\b"))
    expect()(media.locator('[data-testid="queue-paused"]')).to_have_text("running")
    expect()(media.locator('[data-testid="queue-limit"]')).to_have_text(re.compile(r"\d+"))
    expect()(by_testid(page, "chart-throughput")).to_be_visible()
    expect()(by_testid(page, "chart-failures")).to_be_visible()
    available = dashboard.counts()[("reports", JobState.AVAILABLE)]

    # When a job is enqueued after the page loaded, it shows up without a reload
    dashboard.enqueue(BuildReport.new({"report": "live-1"}))
    expect()(count_cell(page, "reports", "available")).to_have_text(re.compile(rf"\b{available + 1}\b"))

    # And once polling is paused, new jobs no longer show up
    toggle = by_testid(page, "live-toggle")
    expect()(toggle).to_have_text(re.compile("Live"))
    toggle.click()
    expect()(toggle).to_have_text(re.compile("Paused"))
    page.wait_for_timeout(500)  # a poll already in flight when pausing lands before the next job exists
    dashboard.enqueue(BuildReport.new({"report": "live-2"}))
    page.wait_for_timeout(5_000)  # two and a half poll intervals
    expect()(count_cell(page, "reports", "available")).to_have_text(re.compile(rf"\b{available + 1}\b"))
    assert dashboard.counts()[("reports", JobState.AVAILABLE)] == available + 2


def test_queues_page_charts_draw_a_bar_per_bucket(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url("/queues"))
    for chart in ("chart-throughput", "chart-failures"):
        bars = by_testid(page, chart).locator('[data-testid="chart-bucket"]')
        assert bars.count() > 0, f"{chart} has no bars"
    throughput, failures = (bucket_counts(page, chart) for chart in ("chart-throughput", "chart-failures"))
    # The seeded run completed 9 jobs and failed 2 for good (and 1 for now) a moment ago.
    assert sum(throughput) >= 9
    assert sum(failures) >= 2


# -- 2. jobs list ---------------------------------------------------------------------------------


def test_jobs_page_filters_by_state(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url("/jobs"))
    by_testid(page, "state-filter", state="discarded").click()
    page.wait_for_url(re.compile(r"state=discarded"))
    expected = {job.id for job in dashboard.run(dashboard.client.list_jobs(state="discarded"))}
    assert set(job_ids_on(page)) == expected
    assert set(by_testid(page, "job-state").all_inner_texts()) == {"discarded"}


def test_jobs_page_filters_by_queue(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url("/jobs"))
    by_testid(page, "queue-filter").select_option("mailers")
    page.wait_for_url(re.compile(r"queue=mailers"))
    expected = {job.id for job in dashboard.run(dashboard.client.list_jobs(queue="mailers"))}
    assert expected and set(job_ids_on(page)) == expected
    assert set(by_testid(page, "job-queue").all_inner_texts()) == {"mailers"}


def test_jobs_page_searches_by_an_arg_value(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url("/jobs"))
    search = by_testid(page, "search-input")
    search.fill(SEARCH_VALUE)
    search.press("Enter")
    page.wait_for_url(re.compile(r"q=ada"))
    assert job_ids_on(page) == [dashboard.seed.searched]
    expect()(by_testid(page, "job-args")).to_contain_text(SEARCH_VALUE)


def test_jobs_page_pages_to_older_jobs_without_duplicates(page: Any, dashboard: Dashboard) -> None:
    # Given more jobs in `reports` than one page holds
    expected = [job.id for job in dashboard.run(dashboard.client.list_jobs(queue="reports"))]
    page.goto(dashboard.url("/jobs?queue=reports"))
    pages = [job_ids_on(page)]

    # When following page-next until there is none
    while by_testid(page, "page-next").count():
        by_testid(page, "page-next").click()
        page.wait_for_url(re.compile(r"before="))
        page.wait_for_load_state()
        pages.append(job_ids_on(page))
        assert len(pages) < 50, "page-next never ran out"

    # Then every job shows up once, newest first, each page older than the one before
    seen = [job_id for ids in pages for job_id in ids]
    assert len(pages) >= 2
    assert len(seen) == len(set(seen)), "a job showed up on two pages"
    assert seen == sorted(expected, reverse=True)
    for newer, older in itertools.pairwise(pages):
        assert min(newer) > max(older)


# -- 3. job detail --------------------------------------------------------------------------------


def test_a_failed_jobs_detail_shows_its_error_and_traceback(page: Any, dashboard: Dashboard) -> None:
    job_id = dashboard.seed.discarded[0]
    page.goto(dashboard.url(f"/jobs/{job_id}"))
    expect()(by_testid(page, "job-detail")).to_be_visible()
    expect()(by_testid(page, "job-state")).to_have_text("discarded")
    expect()(by_testid(page, "detail-args")).to_contain_text("declined")
    expect()(by_testid(page, "detail-tags")).to_contain_text("checkout")
    expect()(by_testid(page, "detail-meta")).to_be_visible()
    expect()(by_testid(page, "detail-attempts")).to_have_text(re.compile(r"^\s*1\b"))  # its first and only attempt
    expect()(by_testid(page, "detail-error")).to_have_count(1)
    traceback = by_testid(page, "detail-traceback")
    expect()(traceback).to_contain_text("Traceback (most recent call last)")
    expect()(traceback).to_contain_text("browser_workers.py")
    expect()(traceback).to_contain_text("ValueError: card declined for order B-200")


def test_a_completed_jobs_detail_shows_its_recorded_value(page: Any, dashboard: Dashboard) -> None:
    job_id = dashboard.seed.completed[1]
    page.goto(dashboard.url(f"/jobs/{job_id}"))
    expect()(by_testid(page, "job-state")).to_have_text("completed")
    recorded = by_testid(page, "detail-recorded")
    expect()(recorded).to_contain_text("charged")
    expect()(recorded).to_contain_text("50")
    expect()(recorded).to_contain_text("A-101")


def test_a_retryable_jobs_detail_lists_its_attempts(page: Any, dashboard: Dashboard) -> None:
    job_id = dashboard.seed.retryable[0]
    page.goto(dashboard.url(f"/jobs/{job_id}"))
    expect()(by_testid(page, "job-state")).to_have_text("retryable")
    expect()(by_testid(page, "detail-attempts")).to_have_text(re.compile(r"^\s*1\b.*5"))  # 1 of 5 attempts
    expect()(by_testid(page, "detail-error")).to_have_count(1)
    expect()(by_testid(page, "detail-error")).to_contain_text("refused the connection")


# -- 4. actions with basic auth -------------------------------------------------------------------


def test_retrying_a_discarded_job_makes_it_available(page: Any, dashboard: Dashboard) -> None:
    job = dashboard.discarded_job("C-300")
    page.goto(dashboard.url(f"/jobs/{job.id}"))
    expect()(by_testid(page, "job-state")).to_have_text("discarded")
    by_testid(page, "action-retry").click()
    expect()(by_testid(page, "flash")).to_contain_text("retried")
    expect()(by_testid(page, "job-state")).to_have_text("available")
    assert dashboard.state_of(job.id) is JobState.AVAILABLE


def test_cancelling_a_scheduled_job(page: Any, dashboard: Dashboard) -> None:
    (job,) = dashboard.enqueue(BuildReport.new({"report": "to-cancel"}, schedule_in=3600))
    page.goto(dashboard.url(f"/jobs/{job.id}"))
    expect()(by_testid(page, "job-state")).to_have_text("scheduled")
    by_testid(page, "action-cancel").click()
    expect()(by_testid(page, "flash")).to_contain_text("cancelled")
    expect()(by_testid(page, "job-state")).to_have_text("cancelled")
    assert dashboard.state_of(job.id) is JobState.CANCELLED


def test_deleting_a_job_leads_back_to_the_jobs_list(page: Any, dashboard: Dashboard) -> None:
    (job,) = dashboard.enqueue(BuildReport.new({"report": "to-delete"}, schedule_in=3600))
    page.goto(dashboard.url(f"/jobs/{job.id}"))
    by_testid(page, "action-delete").click()
    page.wait_for_url(re.compile(r"/jobs(\?.*)?$"))
    expect()(by_testid(page, "flash")).to_contain_text("deleted")
    assert dashboard.get_job(job.id) is None
    assert job.id not in job_ids_on(page)


def test_bulk_cancelling_the_selected_jobs(page: Any, dashboard: Dashboard) -> None:
    marker = "bulk-7f3a"
    jobs = dashboard.enqueue(*(BuildReport.new({"report": marker, "n": n}, schedule_in=3600) for n in range(3)))
    (kept,) = dashboard.enqueue(BuildReport.new({"report": marker, "n": 99}, schedule_in=3600))
    page.goto(dashboard.url(f"/jobs?q={marker}"))
    for job in jobs:
        by_testid(page, "job-row", job_id=str(job.id)).locator('[data-testid="job-select"]').check()
    by_testid(page, "action-cancel-selected").click()
    expect()(by_testid(page, "flash")).to_contain_text("3")
    for job in jobs:
        expect()(by_testid(page, "job-row", job_id=str(job.id)).locator('[data-testid="job-state"]')).to_have_text(
            "cancelled"
        )
        assert dashboard.state_of(job.id) is JobState.CANCELLED
    assert dashboard.state_of(kept.id) is JobState.SCHEDULED


def test_pausing_and_resuming_a_queue_reaches_the_running_node(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url("/queues/media"))
    expect()(by_testid(page, "node-row", node="worker-1")).to_be_visible()
    by_testid(page, "action-pause").click()
    expect()(by_testid(page, "flash")).to_be_visible()
    dashboard.eventually(lambda: dashboard.queue_on_node("media").paused, what="the node pausing media")

    page.goto(dashboard.url("/queues"))
    expect()(by_testid(page, "queue-row", queue="media").locator('[data-testid="queue-paused"]')).to_have_text(
        "paused", timeout=15_000
    )

    page.goto(dashboard.url("/queues/media"))
    by_testid(page, "action-resume").click()
    expect()(by_testid(page, "flash")).to_be_visible()
    dashboard.eventually(lambda: not dashboard.queue_on_node("media").paused, what="the node resuming media")


def test_scaling_a_queue_changes_its_limit_on_the_node(page: Any, dashboard: Dashboard) -> None:
    limit = dashboard.queue_on_node("media").limit + 4
    page.goto(dashboard.url("/queues/media"))
    by_testid(page, "scale-input").fill(str(limit))
    by_testid(page, "action-scale").click()
    expect()(by_testid(page, "flash")).to_be_visible()
    dashboard.eventually(lambda: dashboard.queue_on_node("media").limit == limit, what=f"media scaling to {limit}")
    page.goto(dashboard.url("/queues"))
    expect()(by_testid(page, "queue-row", queue="media").locator('[data-testid="queue-limit"]')).to_have_text(
        re.compile(rf"\b{limit}\b"), timeout=15_000
    )


# -- 5. read-only ---------------------------------------------------------------------------------


def test_without_an_auth_hook_there_are_no_actions_and_a_banner(anonymous_page: Any, dashboard: Dashboard) -> None:
    page = anonymous_page
    job_id = dashboard.seed.discarded[1]
    for path in ("/queues", "/queues/media", "/jobs", f"/jobs/{job_id}"):
        page.goto(dashboard.url(path, server="readonly"))
        expect()(by_testid(page, "read-only-banner")).to_be_visible()
        for testid in ("nav-queues", "nav-jobs", "live-toggle"):
            expect()(by_testid(page, testid)).to_be_visible()
        expect()(page.locator('[data-testid^="action-"]')).to_have_count(0)
        expect()(by_testid(page, "job-select")).to_have_count(0)
        expect()(by_testid(page, "scale-input")).to_have_count(0)


def test_a_forged_post_without_the_action_header_is_refused(
    page: Any, anonymous_page: Any, dashboard: Dashboard
) -> None:
    job_id = dashboard.seed.discarded[1]
    post = "path => fetch(path, {method: 'POST', headers: HEADERS}).then(r => r.status)"

    # Read-only: refused with or without the header
    anonymous_page.goto(dashboard.url(f"/jobs/{job_id}", server="readonly"))
    retry = f"/actions/jobs/{job_id}/retry"
    assert anonymous_page.evaluate(post.replace("HEADERS", "{}"), retry) == 403
    assert anonymous_page.evaluate(post.replace("HEADERS", "{'X-Oban-Action': '1'}"), retry) == 403

    # With auth, a POST that is not the page's own (no header) is refused too
    page.goto(dashboard.url(f"/jobs/{job_id}"))
    assert page.evaluate(post.replace("HEADERS", "{}"), retry) == 403
    assert dashboard.state_of(job_id) is JobState.DISCARDED


def test_a_mounted_dashboard_links_under_its_mount_path_and_acts(browser: Any, dashboard: Dashboard) -> None:
    # Given the dashboard mounted in another app, behind that app's own auth hook
    refused = open_context(browser)
    try:
        response = refused.new_page().goto(dashboard.url("/queues", server="mounted"))
        assert response is not None and response.status == 403
    finally:
        refused.close()
    job = dashboard.discarded_job("D-400")
    context = open_context(browser)
    name, value = STAFF_COOKIE
    context.add_cookies([{"name": name, "value": value, "url": dashboard.url("/", server="mounted")}])
    try:
        page = context.new_page()
        page.goto(dashboard.url("/queues", server="mounted"))

        # When following its links and acting
        by_testid(page, "nav-jobs").click()
        page.wait_for_url(re.compile(rf"{MOUNT_PATH}/jobs"))
        page.goto(dashboard.url(f"/jobs/{job.id}", server="mounted"))
        by_testid(page, "action-retry").click()

        # Then the links and the action stay under the mount path and reach the database
        expect()(by_testid(page, "job-state")).to_have_text("available")
        assert dashboard.state_of(job.id) is JobState.AVAILABLE
        by_testid(page, "nav-queues").click()
        page.wait_for_url(re.compile(rf"{MOUNT_PATH}/queues"))
    finally:
        context.close()


# -- 6. wrong credentials -------------------------------------------------------------------------


def test_wrong_basic_auth_credentials_get_401(browser: Any, dashboard: Dashboard) -> None:
    context = open_context(browser, http_credentials={"username": USERNAME, "password": PASSWORD + "x"})
    try:
        response = context.new_page().goto(dashboard.url("/queues"))
        assert response is not None and response.status == 401
    finally:
        context.close()


# -- the command ---------------------------------------------------------------------------------


@pytest.mark.engines("sqlite")
def test_oban_web_serves_the_dashboard_with_basic_auth_until_sigterm(browser: Any, dashboard: Dashboard) -> None:
    # Given `oban web` on the seeded database, on a port it picks
    command = [sys.executable, "-m", "oban", "web", "--dsn", dashboard.dsn, "--port", "0", "--name", "web-sqlite"]
    env = {**os.environ, "OBAN_WEB_BASIC_AUTH": "ops:hunter22", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        said: list[str] = []
        found = None
        while found is None and len(said) < 20 and (line := process.stdout.readline()):
            said.append(line)
            found = re.search(r"oban web: serving .* at (http://127\.0\.0\.1:\d+)/", line)
        assert found, "oban web did not say where it listens:\n" + "".join(said)
        context = open_context(browser, http_credentials={"username": "ops", "password": "hunter22"})
        try:
            # When a browser opens it with the credentials
            page = context.new_page()
            page.goto(found[1] + "/queues/media")

            # Then it shows the cluster's queues and nodes, with the actions on
            expect()(by_testid(page, "node-row", node="worker-1")).to_be_visible()
            expect()(by_testid(page, "action-pause")).to_be_visible()
            expect()(by_testid(page, "read-only-banner")).to_have_count(0)
            by_testid(page, "nav-jobs").click()
            expect()(by_testid(page, "job-row", job_id=str(dashboard.seed.searched))).to_be_visible()
        finally:
            context.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- 7. screenshots -------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, read from its IHDR chunk; fails if the file is no PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR", f"{path} has no IHDR chunk first"
    return struct.unpack(">II", data[16:24])


def test_screenshots_of_the_three_pages(browser: Any, tmp_path: Path) -> None:
    from tests.web.browser_screenshots import PAGES, take_screenshots

    written = take_screenshots(tmp_path, browser=browser)
    assert sorted(path.name for path in written) == sorted(name for name, _ in PAGES)
    for path in written:
        assert path.stat().st_size > 10_000, f"{path} is suspiciously small"
        assert png_size(path) == (1280, 800)
