"""A typed application as a user writes it; ``tests/test_typing.py`` checks it with ``mypy --strict``.

Nothing here runs jobs: it is what a type checker sees of oban's public API.
"""

from __future__ import annotations

from datetime import timedelta

from oban import Cancel, Job, JobState, Oban, Record, Snooze, Worker, job, worker
from oban.engines import LiteEngine
from oban.worker import JobFunction


@worker(queue="mailers", max_attempts=5, tags=["email"])
class Mailer(Worker):
    """An async worker: it may snooze, cancel or record a value."""

    async def process(self, job: Job) -> Snooze | Cancel | Record | None:
        to = str(job.args["to"])
        if to.endswith(".invalid"):
            return Cancel(f"undeliverable: {to}")
        if job.meta.get("snoozed", 0) < 1:
            return Snooze(timedelta(seconds=5), meta={"reason": "warming up"})
        return Record({"delivered_to": to})

    def backoff(self, job: Job) -> float:
        return 2.0 * job.attempt

    def timeout(self, job: Job) -> float | None:
        return 30.0


@worker(queue="reports")
class Report(Worker):
    """A sync worker (run in a thread) that returns a plain value."""

    def process(self, job: Job) -> int:
        return len(job.args)


@job(queue="mailers", priority=1)
def send_email(to: str, subject: str, urgent: bool = False) -> str:
    """A sync ``@job`` function."""
    return f"{to}: {subject}{'!' if urgent else ''}"


@job()
async def resize(path: str, width: int) -> tuple[str, int]:
    """An async ``@job`` function."""
    return path, width


def build_jobs() -> list[Job]:
    """``new`` builds jobs without inserting them."""
    return [
        Mailer.new({"to": "a@b.c"}, priority=3, schedule_in=60),
        Mailer.new(),
        send_email.new("a@b.c", subject="hi"),
        resize.new("img.png", 200),
    ]


def direct_calls() -> tuple[str, int]:
    """Calling a ``@job`` function still calls it, with its own signature and result."""
    text: str = send_email("a@b.c", "hi", urgent=True)
    function: JobFunction[[str, str, bool], str] = send_email
    return text + function.name, len(text)


async def main() -> dict[int, JobState]:
    """Enqueue through the default instance, then read the jobs back."""
    async with Oban(engine=LiteEngine(":memory:"), queues={"mailers": 5, "reports": 1, "default": 2}) as oban:
        first: Job = await Mailer.enqueue({"to": "a@b.c"})
        await Report.enqueue({"rows": [1, 2]}, oban="oban", conn=None)
        await send_email.enqueue("a@b.c", "hello")
        await send_email.enqueue(to="a@b.c", subject="hello", urgent=True)
        await resize.enqueue(path="img.png", width=100)
        await oban.enqueue_many(*build_jobs())
        path, width = await resize("img.png", 10)
        assert (path, width) == ("img.png", 10)
        stored = await oban.get_job(first)
        assert stored is not None and stored.worker == first.worker
        assert [job.worker for job in await oban.list_jobs(worker=send_email)] == [send_email.name] * 3
        return {job.id: job.state for job in await oban.list_jobs(queue="mailers") if job.id is not None}
