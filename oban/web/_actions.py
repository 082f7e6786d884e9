"""The dashboard's actions: retry, cancel and delete jobs; pause, resume and scale queues.

Each is a ``POST`` that answers JSON ``{"ok", "count", "message"}``. One runs only when the
dashboard has an auth hook and is not read-only, and only when the request carries the
``X-Oban-Action: 1`` header: the dashboard's script sends it, and a form or a simple request from
another site cannot, so no other page can make a signed-in browser act.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..job import JobState
from ._dashboard import MAX_JOB_ID, Dashboard
from ._render import link

ACTION_HEADER = "x-oban-action"
JOB_ACTIONS = ("retry", "cancel", "delete")
QUEUE_ACTIONS = ("pause", "resume", "scale")
BULK_MAX = 1000
"""The most job ids one bulk action takes."""

_PAST = {"retry": "retried", "cancel": "cancelled", "delete": "deleted"}


class BadInput(ValueError):
    """An action's input that cannot be used: answered with 400 naming the field and value."""


def _reply(status: int = 200, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _job_ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise BadInput(f"ids must be a non-empty list of job ids, got {_show(value)}")
    if len(value) > BULK_MAX:
        raise BadInput(f"ids must hold at most {BULK_MAX} job ids, got {len(value)}")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= MAX_JOB_ID:
            raise BadInput(f"ids must hold positive integer job ids, got {_show(item)}")
    return list(dict.fromkeys(value))


def _limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(f"limit must be a positive integer, got {_show(value)}")
    return value


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        document = await request.json()
    except ValueError:
        raise BadInput("the request body must be a JSON object, got text that is not JSON") from None
    if not isinstance(document, dict):
        raise BadInput(f"the request body must be a JSON object, got {_show(document)}")
    return document


def _not_done(action: str, job_id: int, state: JobState) -> str:
    why = {
        "retry": "available and executing jobs are not retried",
        "cancel": "it has already finished",
        "delete": "executing jobs are not deleted; cancel it first",
    }[action]
    return f"job {job_id} was not {_PAST[action]}: it is {state.value} ({why})"


class Actions:
    """The POST endpoints."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard

    def _refusal(self, request: Request) -> Response | None:
        if request.headers.get(ACTION_HEADER) != "1":
            message = "actions must carry the header X-Oban-Action: 1 (the dashboard's script sends it)"
            return _reply(403, ok=False, message=message)
        if request.headers.get("sec-fetch-site") == "cross-site":
            return _reply(403, ok=False, message="actions are refused when sent from another site")
        if not self.dashboard.actions_allowed:
            return _reply(403, ok=False, message=self.dashboard.read_only_reason)
        return None

    def _many(self, action: str) -> Callable[[Iterable[int]], Awaitable[int]]:
        oban = self.dashboard.oban
        return {"retry": oban.retry_many_jobs, "cancel": oban.cancel_many_jobs, "delete": oban.delete_many_jobs}[action]

    async def job(self, request: Request) -> Response:
        """``POST /actions/jobs/{id}/{retry|cancel|delete}``."""
        refused = self._refusal(request)
        if refused is not None:
            return refused
        job_id, action = request.path_params["id"], request.path_params["action"]
        if action not in JOB_ACTIONS:
            return _reply(404, ok=False, message=f"action must be one of {', '.join(JOB_ACTIONS)}, got {action!r}")
        job = await self.dashboard.oban.get_job(job_id) if job_id <= MAX_JOB_ID else None
        if job is None:
            return _reply(404, ok=False, message=f"no job with id {job_id}")
        count = await self._many(action)([job_id])
        if not count:
            return _reply(ok=True, count=0, message=_not_done(action, job_id, job.state))
        body: dict[str, Any] = {"ok": True, "count": count, "message": f"job {job_id} {_PAST[action]}"}
        if action == "delete":
            body["redirect"] = link(request, "/jobs")
        return _reply(**body)

    async def bulk(self, request: Request) -> Response:
        """``POST /actions/jobs/bulk`` with ``{"action": "retry"|"cancel"|"delete", "ids": [...]}``."""
        refused = self._refusal(request)
        if refused is not None:
            return refused
        try:
            body = await _body(request)
            action = body.get("action")
            if action not in JOB_ACTIONS:
                raise BadInput(f"action must be one of {', '.join(JOB_ACTIONS)}, got {_show(action)}")
            ids = _job_ids(body.get("ids"))
        except BadInput as error:
            return _reply(400, ok=False, message=str(error))
        count = await self._many(action)(ids)
        return _reply(ok=True, count=count, message=f"{_PAST[action]} {count} of {len(ids)} selected job(s)")

    async def queue(self, request: Request) -> Response:
        """``POST /actions/queues/{name}/{pause|resume|scale}`` (scale with ``{"limit": n}``).

        Each is a signal every node running the queue acts on; what they did shows in their next
        heartbeat.
        """
        refused = self._refusal(request)
        if refused is not None:
            return refused
        name, action = request.path_params["name"], request.path_params["action"]
        if action not in QUEUE_ACTIONS:
            return _reply(404, ok=False, message=f"action must be one of {', '.join(QUEUE_ACTIONS)}, got {action!r}")
        oban = self.dashboard.oban
        if action == "scale":
            try:
                limit = _limit((await _body(request)).get("limit"))
            except BadInput as error:
                return _reply(400, ok=False, message=str(error))
            await oban.scale_queue(name, limit=limit)
            return _reply(ok=True, count=1, message=f"queue {name!r} scaled to {limit} on every node")
        if action == "pause":
            await oban.pause_queue(name)
        else:
            await oban.resume_queue(name)
        return _reply(ok=True, count=1, message=f"queue {name!r} {action}d on every node")
