"""The orders app's jobs, run by ``python manage.py oban start --queues default:10``."""

from __future__ import annotations

from django.db import close_old_connections

from oban import Job, Worker, worker

from .models import Order


@worker(queue="default", max_attempts=5)
class FulfilOrder(Worker):
    """Ship an order: runs only if the transaction that placed the order committed."""

    # A plain `def`: the ORM is synchronous, and oban runs sync workers in a thread.
    def process(self, job: Job) -> None:
        # As Django does per request: drop connections past CONN_MAX_AGE or broken ones.
        close_old_connections()
        Order.objects.filter(id=job.args["order_id"]).update(status="fulfilled")
