"""The app's routes: sign up (which enqueues a welcome mail) and look at a job."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request

from oban import Job

from . import oban_client
from .workers import send_welcome

bp = Blueprint("jobs", __name__)


def job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "worker": job.worker,
        "queue": job.queue,
        "state": job.state.value,
        "attempt": job.attempt,
        "args": job.args,
        "recorded": job.recorded,
        "errors": job.errors,
    }


@bp.post("/signups")
def sign_up() -> tuple[dict[str, Any], int]:
    """Enqueue the welcome mail; the response names the job to follow at /jobs/<id>."""
    email = (request.get_json(silent=True) or {}).get("email")
    if not isinstance(email, str) or "@" not in email:
        abort(400, f"email must be an address, got {email!r}")
    job = oban_client().enqueue(send_welcome.new(email))
    return {"job_id": job.id}, 202


@bp.get("/jobs/<int:job_id>")
def show_job(job_id: int) -> dict[str, Any]:
    job = oban_client().get_job(job_id)
    if job is None:
        abort(404, f"no job {job_id}")
    return job_view(job)
