"""``python manage.py oban <command>``: the ``oban`` command line on the project's database.

``python manage.py oban install`` creates oban's tables, ``python manage.py oban start --queues
default:10`` runs the queues until SIGINT/SIGTERM, ``python manage.py oban jobs list`` shows jobs.
The DSN is ``settings.OBAN_DSN``, and Django is set up, so workers may use the ORM.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oban import cli


class Command(BaseCommand):
    help = "Run an oban command (install, start, jobs, queues, nodes, ...) on this project's database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("oban_args", nargs=argparse.REMAINDER, help="the oban command and its options")

    def handle(self, *args: Any, **options: Any) -> None:
        # The environment is where every oban command looks for its DSN; --dsn still wins.
        os.environ["OBAN_DSN"] = settings.OBAN_DSN
        status = cli.main(options["oban_args"])
        if status:
            raise CommandError(f"oban exited with status {status}", returncode=status)
