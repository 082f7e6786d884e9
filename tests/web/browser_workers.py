"""Workers whose jobs the dashboard's browser tests and screenshots show (``tests.web.browser_workers``)."""

from __future__ import annotations

from oban import Job, Record, worker


@worker(queue="default", max_attempts=1)
class ChargeCard:
    """Records the charge, or fails for good (one attempt) when the card is declined."""

    async def process(self, job: Job) -> Record:
        if job.args.get("card") == "declined":
            raise ValueError(f"card declined for order {job.args.get('order')}")
        return Record({"charged": job.args.get("amount"), "order": job.args.get("order")})


@worker(queue="default", max_attempts=5)
class SyncInventory:
    """Fails every time and waits an hour before the next attempt: it stays ``retryable``."""

    async def process(self, job: Job) -> None:
        raise ConnectionError(f"inventory service at {job.args.get('host')} refused the connection")

    def backoff(self, job: Job) -> int:
        return 3600


@worker(queue="mailers")
class SendEmail:
    async def process(self, job: Job) -> None:
        return None


@worker(queue="reports")
class BuildReport:
    """Never run in the tests: no node runs ``reports``, so its jobs stay where they were put."""

    async def process(self, job: Job) -> None:
        return None
