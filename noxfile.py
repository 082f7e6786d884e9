"""Developer sessions: tests, the conformance suite per engine, lint, benchmarks.

nox -s tests                          # every test, every engine, Python 3.11-3.13
nox -s conformance                    # the conformance suite for sqlite, postgres, mysql and memory
nox -s conformance -- postgres        # ... for one engine
nox -s chaos                          # every chaos test, server restarts included, default heartbeat
nox -s lint                           # ruff check, ruff format --check, mypy --strict
nox -s bench                          # ratios to the raw SQL floor, every reachable engine (-- --peers)
"""

from __future__ import annotations

import os

import nox

ENGINES = ["sqlite", "postgres", "mysql"]
THIRD_PARTY = {"memory": "engines/memory"}  # packaged outside the core, run through the suite's plugin
PYTHONS = ["3.11", "3.12", "3.13"]

nox.options.sessions = ["lint", "tests", "conformance"]
nox.options.reuse_existing_virtualenvs = True


def _install_dev(session: nox.Session) -> None:
    # Dependency groups need pip 25.1 or newer; a new virtualenv may hold an older one.
    session.install("-U", "pip")
    session.install("-e", ".", "--group", "dev")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite against every engine."""
    _install_dev(session)
    session.run("pytest", "-q", *session.posargs)


@nox.session(python=PYTHONS[0])
def conformance(session: nox.Session) -> None:
    """The packaged engine conformance suite; positional args pick engines (default: all four)."""
    known = [*ENGINES, *THIRD_PARTY]
    engines = [arg for arg in session.posargs if arg in known] or known
    rest = [arg for arg in session.posargs if arg not in known]
    _install_dev(session)
    for engine in engines:
        session.log(f"conformance: {engine}")
        if engine in THIRD_PARTY:
            session.install("-e", THIRD_PARTY[engine])
            with session.chdir(THIRD_PARTY[engine]):  # its own pytest settings: strict asyncio mode
                session.run("pytest", "-q", "tests/test_conformance.py", *rest)
        else:
            session.run("pytest", "-q", "tests/test_conformance.py", "--engine", engine, *rest)


@nox.session(python=PYTHONS[0])
def chaos(session: nox.Session) -> None:
    """Kill -9, killed connections, real server restarts, a full disk: slow, and it restarts the
    local PostgreSQL and MariaDB servers. The default 5 s heartbeat unless OBAN_CHAOS_HEARTBEAT."""
    _install_dev(session)
    env = {"OBAN_CHAOS": "all", "OBAN_CHAOS_HEARTBEAT": os.environ.get("OBAN_CHAOS_HEARTBEAT", "5")}
    session.run("pytest", "-q", "-s", "tests/test_chaos.py", *session.posargs, env=env)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff (lint and format) over the code, then mypy --strict over the package."""
    session.install("-U", "pip")
    session.install("-e", ".", "--group", "lint")
    session.run("ruff", "check", "oban", "tests", "benchmarks", "engines", "docs/examples", "noxfile.py")
    session.run("mypy")
    session.run("ruff", "format", "--check", "oban", "tests", "benchmarks", "engines", "docs/examples", "noxfile.py")


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Print every engine's figures as ratios to a raw SQL floor measured in the same run.

    Arguments go to benchmarks/bench.py: ``-- --engine postgres --only drain``, ``-- --peers``,
    ``-- --retained 100000`` for a quicker run.
    """
    _install_dev(session)
    session.run("python", "benchmarks/bench.py", *session.posargs)
