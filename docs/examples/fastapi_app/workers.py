"""The shop's jobs. ``oban start --import fastapi_app.workers`` runs them outside the app too."""

from __future__ import annotations

import logging

from oban import Job, Record, Worker, job, worker

from . import db

log = logging.getLogger(__name__)


@job(queue="mailers", max_attempts=3)
def send_welcome(email: str) -> Record:
    """Welcome a new user (a log line stands in for the mail); the address is kept on the job."""
    log.info("welcome mail to %s", email)
    return Record({"sent_to": email})


@worker(queue="default", max_attempts=5)
class FulfilOrder(Worker):
    """Ship an order: runs only if the transaction that placed the order committed."""

    async def process(self, job: Job) -> None:
        database = db.current()
        async with database.transaction() as conn:
            await database.set_status(conn, job.args["order_id"], "fulfilled")
