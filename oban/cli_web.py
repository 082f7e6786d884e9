"""``oban web``: serve the dashboard (:mod:`oban.web`) with uvicorn until SIGINT or SIGTERM.

Needs the ``web`` extra (``pip install 'oban-sql[web]'``); without it the command says so and
exits. Actions are on only with basic auth (``--basic-auth USER:PASSWORD`` or, to keep the
password out of ``ps``, ``$OBAN_WEB_BASIC_AUTH``) and without ``--read-only``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import ipaddress
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .engines.protocol import Engine
from .oban import Oban

BASIC_AUTH_VARIABLE = "OBAN_WEB_BASIC_AUTH"
EXTRA_MODULES = ("starlette", "jinja2", "uvicorn")
INSTALL_HINT = "pip install 'oban-sql[web]'"


class WebError(Exception):
    """Why ``oban web`` cannot start, in one line for the user; ``status`` is the exit status
    (2 for bad usage, 1 for a database that cannot be used)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def add_command(commands: Any, dsn_help: str, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Register ``web`` on the ``oban`` parser's subcommands."""
    web = commands.add_parser(
        "web",
        help="serve the web dashboard (queues, jobs, charts, actions) until SIGINT/SIGTERM",
        description=(
            "Serve the dashboard with uvicorn. Without basic auth it is read-only. "
            f"Give the credentials as ${BASIC_AUTH_VARIABLE}=USER:PASSWORD rather than --basic-auth "
            "to keep the password out of the process list. Needs: " + INSTALL_HINT
        ),
        parents=parents,
    )
    web.add_argument("--dsn", help=dsn_help)
    web.add_argument("--name", help="the Oban instance (cluster) name (default: oban)")
    web.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=_port, default=4000, help="port to listen on (default 4000; 0 picks a free one)")
    web.add_argument("--read-only", action="store_true", help="no actions, even with basic auth")
    web.add_argument(
        "--basic-auth",
        metavar="USER:PASSWORD",
        help=(
            "require these credentials for every page and turn actions on "
            f"(or ${BASIC_AUTH_VARIABLE}, which keeps the password out of ps)"
        ),
    )
    web.add_argument("--title", default="Oban", help="the name shown in the header (default Oban)")


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return int(text)


def missing_extra() -> list[str]:
    """The web extra's modules that are not installed."""

    def absent(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):  # a blocked or half-removed package counts as missing
            return True

    return [name for name in EXTRA_MODULES if absent(name)]


def check_extra() -> None:
    """Raise :class:`WebError` saying what to install when the web extra is missing."""
    missing = missing_extra()
    if missing:
        raise WebError(f"oban web needs {', '.join(missing)}, which are not installed: {INSTALL_HINT}")


def credentials(flag: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``(user, password)`` from ``--basic-auth`` or ``$OBAN_WEB_BASIC_AUTH``, or ``None``."""
    source = "--basic-auth" if flag else f"${BASIC_AUTH_VARIABLE}"
    value = flag or environ.get(BASIC_AUTH_VARIABLE) or ""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        # Never echo the value: it may be the password alone.
        raise WebError(f"{source} must look like USER:PASSWORD with both parts non-empty (got {len(value)} characters)")
    return user, password


def _url(host: str, port: int) -> str:
    try:
        shown = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        shown = host
    return f"http://{shown}:{port}/"


async def run(args: argparse.Namespace, engine: Engine, environ: Mapping[str, str]) -> None:
    """``oban web``: check the extra and the credentials, connect to the database and check its
    schema (so a bad database fails now, not on the first page), then :func:`serve`."""
    check_extra()
    basic_auth = credentials(args.basic_auth, environ)
    try:
        await engine.connect()
        installed = await engine.schema_version()
    except Exception as error:
        detail = f"{type(error).__name__}: {error}"
        if engine.dsn not in detail:  # a DatabaseError already names the DSN
            detail = f"{engine.dsn}: {detail}"
        raise WebError(f"connecting failed: {detail}", status=1) from error
    if installed == 0:
        raise WebError(f"the oban schema is not installed in {engine.dsn}; run: oban install --dsn ...", status=1)
    await serve(args, engine, basic_auth=basic_auth)


async def serve(
    args: argparse.Namespace,
    engine: Engine,
    *,
    basic_auth: tuple[str, str] | None,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the dashboard for ``engine`` until SIGINT or SIGTERM, then close the engine.

    ``engine`` is connected and its schema checked by the caller, and ``basic_auth`` read by
    :func:`credentials`; this builds the app, prints where it listens (and whether it is
    read-only), and runs uvicorn.
    """
    check_extra()

    import uvicorn

    from .web import BasicAuth, create_app

    oban = Oban(engine, name=args.name, cron=False)
    auth = BasicAuth(*basic_auth) if basic_auth else None
    app = create_app(oban, read_only=args.read_only, auth=auth, title=args.title)
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_config=None, access_log=False, lifespan="off", server_header=False
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it is done; these no-op handlers take it,
    # so the engine is still closed and the command exits 0.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn exits when it cannot listen, after logging why
            raise WebError(f"could not listen on {args.host}:{args.port} (see the error above)", status=1) from None

    try:
        task = asyncio.ensure_future(run())
        # uvicorn has no "listening" callback: watch its flag (a few polls, once, at startup).
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else args.port
            if args.read_only:
                mode = "read-only (--read-only)"
            elif auth is None:
                mode = f"read-only: no --basic-auth or ${BASIC_AUTH_VARIABLE}, so actions are off"
            else:
                mode = f"actions on for basic-auth user {auth.username!r}"
            say(f"oban web: serving {engine.dsn} at {_url(args.host, port)} ({mode}); Ctrl-C stops")
        await task
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        await oban.stop()
