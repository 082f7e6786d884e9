"""A Flask app that enqueues jobs through a blocking ``SyncClient``: see README.md.

``flask --app docs/examples/flask_app run`` serves it; ``flask --app docs/examples/flask_app oban
start --queues mailers:5`` runs its jobs (any ``oban`` command works, on the app's database).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from oban import cli
from oban.sync import SyncClient


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app; ``OBAN_DSN`` (config or environment) says where its jobs live."""
    app = Flask(__name__)
    app.config.from_mapping(OBAN_DSN=os.environ.get("OBAN_DSN", "sqlite:///flask_app.db"))
    if config is not None:
        app.config.from_mapping(config)
    # One client for the whole app: it is safe to share between request threads.
    app.extensions["oban"] = SyncClient(app.config["OBAN_DSN"])

    from . import views

    app.register_blueprint(views.bp)
    app.cli.add_command(oban_command)
    return app


def oban_client() -> SyncClient:
    """The current app's client."""
    client: SyncClient = current_app.extensions["oban"]
    return client


@click.command(
    "oban",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
@with_appcontext
def oban_command(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Run an oban command (install, start, jobs, ...) on this app's database."""
    os.environ["OBAN_DSN"] = current_app.config["OBAN_DSN"]
    ctx.exit(cli.main(list(args)))
