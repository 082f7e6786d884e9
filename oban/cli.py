"""The ``oban`` command: install or migrate the schema, run a node, see and manage jobs, check health.

Every setting (``--dsn``, ``--queues``...) can also come from ``$OBAN_<KEY>`` or a TOML file;
:mod:`oban.cli_config` says how.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import __version__, cli_config, cli_manage, cli_web, telemetry
from .engines.kit import dsn_secrets, scrub
from .engines.protocol import Engine
from .engines.registry import engine_from_dsn
from .errors import ObanError
from .oban import Oban

log = logging.getLogger("oban.cli")


class CLIError(Exception):
    """A problem to report on one line before exiting non-zero (2 by default)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class _Step:
    """Names the step under way and the (masked) DSN in any error that escapes it."""

    def __init__(self, step: str, engine: Engine) -> None:
        self._step = step
        self._engine = engine

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        if error is None or not isinstance(error, Exception) or isinstance(error, CLIError):
            return
        detail = f"{type(error).__name__}: {error}"
        if self._engine.dsn not in detail:  # a DatabaseError already names the DSN and method
            detail = f"{self._engine.dsn}: {detail}"
        raise CLIError(f"{self._step} failed: {detail}", status=1) from error


VERSION_LINE = f"oban-sql {__version__}"
"""What ``oban --version`` and ``oban version`` print: the distribution and its version."""


def _build_engine(args: argparse.Namespace) -> Engine:
    if not args.dsn:
        where = cli_config.where_to_set("dsn", args.config_file)
        raise CLIError(f"no database given: {where} (e.g. sqlite:///jobs.db)")
    try:
        return engine_from_dsn(args.dsn)
    except (ValueError, ObanError) as error:
        raise CLIError(str(error)) from None


async def _schema(args: argparse.Namespace) -> str:
    engine = _build_engine(args)
    command = args.command
    target = {"install": None, "uninstall": 0}.get(command, getattr(args, "version", None))
    try:
        with _Step("connecting", engine):
            await engine.connect()
        with _Step(command, engine):
            await engine.migrate(target)
            return f"{engine.dsn}: schema version {await engine.schema_version()}"
    finally:
        await engine.close()


def import_modules(imports: Sequence[str], path: str) -> None:
    """Import the ``--import`` modules with ``path`` (the project root) first on ``sys.path``.

    A module that cannot be found is one clear line; a module that fails while importing shows
    its traceback, since the fault is in that module's code.
    """
    root = os.path.abspath(path)
    if root not in sys.path:
        sys.path.insert(0, root)
    for module in [m.strip() for item in imports for m in item.split(",") if m.strip()]:
        try:
            importlib.import_module(module)
        except Exception as error:
            missing = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
            if missing is not None and (module == missing or module.startswith(missing + ".")):
                raise CLIError(f"--import {module!r} failed: no module named {missing!r} under {root}") from None
            trace = traceback.format_exc().rstrip()
            raise CLIError(f"--import {module!r} failed while importing it:\n{trace}") from None


async def _start(args: argparse.Namespace) -> None:
    if args.queues is None:
        raise CLIError(f"no queues given: {cli_config.where_to_set('queues', args.config_file)} (e.g. default:10)")
    import_modules(args.imports, args.path)
    engine = _build_engine(args)
    oban = Oban(
        engine,
        queues=args.queues,
        node=args.node,
        name=args.name,
        shutdown_grace_period=args.grace,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with _Step("starting the node", engine):
        await oban.start()
    queues = ",".join(f"{queue}:{limit}" for queue, limit in args.queues.items())
    log.info("oban %s running queues %s on %s as node %s", __version__, queues, engine.dsn, oban.node)
    try:
        await stop.wait()
        log.info("shutting down (grace period %ss)", args.grace)
    finally:
        await oban.stop()


LOG_LEVELS = list(cli_config.LOG_LEVELS)


def _configure_logging(args: argparse.Namespace, secrets: list[str]) -> None:
    """Root logging for the command: ``oban start`` logs every job through telemetry."""
    level = getattr(logging, str(getattr(args, "log_level", "info")).upper())
    json_lines = getattr(args, "log_format", "text") == "json"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if json_lines:
            handler.setFormatter(telemetry.logger.JsonFormatter())
        handler.addFilter(_Scrub(secrets))
    if args.command == "start":
        telemetry.logger.attach(format="json" if json_lines else "text")


async def _manage(args: argparse.Namespace) -> str:
    engine = _build_engine(args)
    try:
        with _Step("connecting", engine):
            await engine.connect()
        try:
            return await cli_manage.run(args, engine)
        except LookupError as error:
            raise CLIError(str(error.args[0]), status=1) from None
        except (ValueError, ObanError) as error:
            if isinstance(error, ValueError) and not isinstance(error, ObanError):
                raise CLIError(str(error)) from None
            raise CLIError(f"{args.command} failed: {error}", status=1) from None
    finally:
        await engine.close()


async def _check(args: argparse.Namespace) -> tuple[bool, str]:
    engine = _build_engine(args)
    try:
        checks = await cli_manage.health(engine, name=args.name, require_nodes=args.require_nodes, timeout=args.timeout)
    finally:
        await engine.close()
    return all(check.passed for check in checks), cli_manage.render_health(checks, args.name, args.json)


async def _web(args: argparse.Namespace) -> None:
    engine = _build_engine(args)
    try:
        await cli_web.run(args, engine, os.environ)
    except cli_web.WebError as error:
        raise CLIError(str(error), error.status) from None
    finally:
        await engine.close()


CONFIG_HELP = (
    "TOML file of settings (or $OBAN_CONFIG; default: [tool.oban-sql] of the nearest pyproject.toml); "
    "every setting is also $OBAN_<KEY>, and flags win"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``oban``.

    Flags that are settings (see :data:`oban.cli_config.SETTINGS`) default to ``None`` here;
    :func:`oban.cli_config.apply` fills them from the environment, the config file or the default.
    """
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP)
    parser = argparse.ArgumentParser(prog="oban", description="Background jobs in your SQL database.", parents=[config])
    parser.add_argument("--version", action="version", version=VERSION_LINE, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    dsn_help = "database URL: sqlite:///jobs.db, postgresql://user@host/db, mysql://user@host/db (or $OBAN_DSN)"
    for name, text in (("install", "create or upgrade the schema"), ("uninstall", "drop the schema")):
        sub = commands.add_parser(name, help=text, parents=[config])
        sub.add_argument("--dsn", help=dsn_help)
    migrate = commands.add_parser("migrate", help="move the schema to a version (newest by default)", parents=[config])
    migrate.add_argument("--dsn", help=dsn_help)
    migrate.add_argument("--version", type=int, default=None, help="target version (0 removes everything)")
    start = commands.add_parser("start", help="run queues on this node until SIGINT/SIGTERM", parents=[config])
    start.add_argument("--dsn", help=dsn_help)
    start.add_argument("--queues", help="name:limit pairs, e.g. default:10,mailers:5 (required, or $OBAN_QUEUES)")
    start.add_argument(
        "--import",
        dest="imports",
        action="append",
        help="module(s) defining workers to import first (repeatable, comma-separated)",
    )
    start.add_argument(
        "--path", help="directory put first on sys.path before importing (default: the working directory)"
    )
    start.add_argument("--node", help="node name (default: host.pid)")
    start.add_argument("--name", help="instance name (default: oban)")
    start.add_argument("--grace", type=float, help="shutdown grace period in seconds (default 15)")
    start.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        help="least severe lines written (default info: every job's start and end)",
    )
    start.add_argument(
        "--log-format",
        choices=list(cli_config.LOG_FORMATS),
        help="text lines for people (default) or one JSON object per line",
    )
    cli_manage.add_commands(commands, dsn_help, parents=[config])
    cli_web.add_command(commands, dsn_help, parents=[config])
    commands.add_parser("version", help="print the version")
    return parser


class _Scrub(logging.Filter):
    """Replaces the DSN's secrets in every log record before it is written."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg = scrub(record.getMessage(), self._secrets)
            record.args = None
            if record.exc_info:
                record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), self._secrets)
                record.exc_info = None
        return True


def _settings(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Fill in what the flags left out from the environment and the config file (exit 2 if bad)."""
    try:
        args.config_file = cli_config.apply(args, cwd=Path.cwd(), environ=environ)
    except cli_config.ConfigError as error:
        raise CLIError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    # Until the settings are read, scrub whatever DSN the flags and the environment hold.
    secrets = dsn_secrets(getattr(args, "dsn", None) or os.environ.get("OBAN_DSN") or "")

    def fail(text: str, status: int) -> int:
        print(scrub(f"oban: {text}", secrets), file=sys.stderr)
        return status

    if args.command == "version":
        print(VERSION_LINE)
        return 0
    try:
        _settings(args, os.environ)
    except CLIError as error:
        return fail(str(error), error.status)
    secrets = sorted({*secrets, *dsn_secrets(getattr(args, "dsn", None) or "")}, key=len, reverse=True)
    _configure_logging(args, secrets)
    try:
        if args.command == "start":
            asyncio.run(_start(args))
        elif args.command == "check":
            healthy, report = asyncio.run(_check(args))
            print(scrub(report, secrets))
            return 0 if healthy else 1
        elif args.command == "web":
            asyncio.run(_web(args))
        elif args.command in ("jobs", "queues", "nodes"):
            print(scrub(asyncio.run(_manage(args)), secrets))
        else:
            print(scrub(asyncio.run(_schema(args)), secrets))
    except CLIError as error:
        return fail(str(error), error.status)
    except Exception as error:  # ours (ObanError, ValueError) or a driver's (bad host, refused login)
        return fail(f"{type(error).__name__}: {error}", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
