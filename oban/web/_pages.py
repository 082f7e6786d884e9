"""The dashboard's pages: queues, one queue, jobs, one job. Each reads through the ``Oban`` facade."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .._time import utcnow
from ..job import FINAL_STATES, Job, JobState
from ..oban import Oban
from . import _charts
from ._dashboard import MAX_JOB_ID, Dashboard
from ._queues import STATES, state_totals, summaries
from ._render import Renderer, link

PAGE_SIZE = 50
"""Jobs per page of the jobs list."""

SEARCH_MAX = 200


class BadParameter(ValueError):
    """A query parameter that cannot be used: the page answers 400 naming it and its value."""


def _state_param(request: Request) -> str | None:
    state = request.query_params.get("state", "").strip()
    if state and state not in STATES:
        raise BadParameter(f"state must be one of {', '.join(STATES)}, got {state!r}")
    return state or None


def _id_param(request: Request, name: str) -> int | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_JOB_ID:
        raise BadParameter(f"{name} must be a positive job id, got {text!r}")
    return int(text)


def _text_param(request: Request, name: str) -> str | None:
    text = request.query_params.get(name, "").strip()
    if len(text) > SEARCH_MAX:
        raise BadParameter(f"{name} must be at most {SEARCH_MAX} characters, got {len(text)}")
    return text or None


def errors_newest_first(job: Job) -> list[dict[str, Any]]:
    """The job's errors, the latest attempt's first, each with a one-line ``summary``."""
    entries = []
    for entry in reversed(job.errors):
        text = str(entry.get("error", ""))
        lines = [line for line in text.strip().splitlines() if line.strip()]
        entries.append({**entry, "error": text, "summary": lines[-1].strip() if lines else "(no message)"})
    return entries


class Pages:
    """The GET endpoints; each renders a whole page or, with ``?fragment=1``, its content only."""

    def __init__(self, dashboard: Dashboard, renderer: Renderer) -> None:
        self.dashboard = dashboard
        self.render = renderer

    @property
    def oban(self) -> Oban:
        return self.dashboard.oban

    async def _charts(self, queue: str | None) -> list[_charts.Chart]:
        """The last hour's throughput and failure charts, for ``queue`` or every queue."""
        now = utcnow()
        activity = await self.oban.job_activity(since=_charts.since(now), bucket=_charts.BUCKET_SECONDS)
        return _charts.charts(activity, now, queue)

    async def home(self, request: Request) -> Response:
        """``/`` goes to the queues."""
        return RedirectResponse(link(request, "/queues"), status_code=307)

    async def queues(self, request: Request) -> Response:
        """Every queue with its limit, status, nodes and counts by state, and the last hour's charts."""
        counts = await self.oban.count_jobs()
        queues = summaries(counts, await self.oban.cluster_queues())
        chart_queue = _text_param(request, "chart")
        return self.render.page(
            request,
            "queues.html",
            nav="queues",
            queues=queues,
            states=STATES,
            totals=state_totals(counts),
            chart_queue=chart_queue,
            charts=await self._charts(chart_queue),
        )

    async def queue(self, request: Request) -> Response:
        """One queue: its nodes (limit, paused, running), counts by state, actions and charts."""
        name = request.path_params["name"]
        counts = await self.oban.count_jobs()
        found = summaries(counts, await self.oban.cluster_queues(name))
        summary = next((q for q in found if q.name == name), None)
        if summary is None:
            return self.not_found(request, f"No queue named {name!r}: it holds no jobs and no live node runs it.")
        return self.render.page(
            request,
            "queue.html",
            nav="queues",
            queue=summary,
            states=STATES,
            charts=await self._charts(name),
        )

    async def jobs(self, request: Request) -> Response:
        """Jobs newest first, filtered by state, queue, worker and a search, 50 a page."""
        try:
            state = _state_param(request)
            queue = _text_param(request, "queue")
            worker = _text_param(request, "worker")
            search = _text_param(request, "q")
            before = _id_param(request, "before")
        except BadParameter as error:
            return self.bad_request(request, str(error))
        counts = await self.oban.count_jobs()
        queue_names = sorted({q for q, _ in counts} | {info.queue for info in await self.oban.cluster_queues()})
        if queue and queue not in queue_names:
            queue_names = sorted([*queue_names, queue])
        listed = await self.oban.list_jobs(
            queue=queue, worker=worker, state=state, search=search, before_id=before, limit=PAGE_SIZE + 1
        )
        more = len(listed) > PAGE_SIZE
        jobs = listed[:PAGE_SIZE]
        filters = {"state": state, "queue": queue, "worker": worker, "q": search}
        return self.render.page(
            request,
            "jobs.html",
            nav="jobs",
            jobs=jobs,
            states=STATES,
            totals=state_totals(counts, queue),
            queue_names=queue_names,
            filters=filters,
            before=before,
            next_before=jobs[-1].id if more and jobs else None,
        )

    async def job(self, request: Request) -> Response:
        """One job whole: args, meta, tags, attempts, timestamps, errors with tracebacks, recorded value."""
        job_id = request.path_params["id"]
        job = await self.oban.get_job(job_id) if job_id <= MAX_JOB_ID else None
        if job is None:
            return self.not_found(request, f"No job with id {job_id}: it never existed, or was pruned or deleted.")
        recorded = bool(job.meta.get("recorded"))
        return self.render.page(
            request,
            "job.html",
            nav="jobs",
            job=job,
            errors=errors_newest_first(job),
            has_recorded=recorded,
            recorded=job.recorded if recorded else None,
            can_retry=job.state not in (JobState.AVAILABLE, JobState.EXECUTING),
            can_cancel=job.state not in FINAL_STATES,
            can_delete=job.state is not JobState.EXECUTING,
        )

    def not_found(self, request: Request, message: str = "There is no such page.") -> Response:
        """The 404 page."""
        return self.render.page(request, "message.html", status=404, nav="", heading="Not found", message=message)

    def bad_request(self, request: Request, message: str) -> Response:
        """The 400 page, naming the parameter at fault."""
        return self.render.page(request, "message.html", status=400, nav="", heading="Bad request", message=message)
