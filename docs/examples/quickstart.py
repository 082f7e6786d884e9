"""Quick start: real jobs on SQLite, no server needed.

python docs/examples/quickstart.py

It type-checks with ``mypy --strict``: subclassing ``Worker`` tells type checkers about the
``new`` and ``enqueue`` that ``@worker`` adds, and a ``@job`` function's ``enqueue`` takes the
function's own parameters.
"""

from __future__ import annotations

import asyncio
import os
import tempfile

from oban import Cancel, Job, JobState, Oban, Record, Snooze, Worker, job, worker
from oban.engines import LiteEngine


@worker(queue="mailers", max_attempts=5, priority=1, tags=["email"])
class EmailWorker(Worker):
    async def process(self, job: Job) -> Cancel | Snooze | Record:
        if job.args.get("to", "").endswith("@example.invalid"):
            return Cancel("undeliverable address")
        if job.args.get("busy") and not job.meta.get("snoozed"):
            return Snooze(1)  # try again in a second, without spending an attempt
        print(f"  sending mail to {job.args['to']} (attempt {job.attempt})")
        return Record({"delivered_to": job.args["to"]})


@job(queue="default")
def resize(path: str, width: int) -> None:
    print(f"  resizing {path} to {width}px")


async def main() -> None:
    path = os.path.join(tempfile.mkdtemp(), "jobs.db")
    async with Oban(engine=LiteEngine(path), queues={"default": 10, "mailers": 5}, stage_interval=0.2) as oban:
        await EmailWorker.enqueue({"to": "a@b.c"})
        await EmailWorker.enqueue({"to": "later@b.c"}, schedule_in=1)
        await EmailWorker.enqueue({"to": "busy@b.c", "busy": True})
        await EmailWorker.enqueue({"to": "nobody@example.invalid"})
        await resize.enqueue("img.png", 200)
        await oban.enqueue_many(EmailWorker.new({"to": "x@y.z"}), EmailWorker.new({"to": "p@q.r"}))

        for _ in range(100):
            jobs = await oban.list_jobs()
            if all(j.state in (JobState.COMPLETED, JobState.CANCELLED) for j in jobs):
                break
            await asyncio.sleep(0.1)

        print(f"\n{len(jobs)} jobs in {path}:")
        for stored in reversed(jobs):  # list_jobs gives the newest first
            extra = f" recorded={stored.recorded}" if stored.recorded else ""
            print(f"  {stored}{extra}")


if __name__ == "__main__":
    asyncio.run(main())
