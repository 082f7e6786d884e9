"""The app's jobs. ``flask --app docs/examples/flask_app oban start --queues mailers:5`` runs them."""

from __future__ import annotations

import logging

from oban import Record, job

log = logging.getLogger(__name__)


@job(queue="mailers", max_attempts=3)
def send_welcome(email: str) -> Record:
    """Welcome a new user (a log line stands in for the mail); the address is kept on the job."""
    log.info("welcome mail to %s", email)
    return Record({"sent_to": email})
