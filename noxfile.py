"""Developer sessions: tests, the conformance suite per engine, lint, benchmarks.

    nox -s tests                          # every test, every engine, Python 3.11-3.13
    nox -s conformance                    # the conformance suite for sqlite, postgres and mysql
    nox -s conformance -- postgres        # ... for one engine
    nox -s lint
    nox -s bench                          # figures for every reachable engine (add -- --peers)
"""

from __future__ import annotations

import nox

ENGINES = ["sqlite", "postgres", "mysql"]
PYTHONS = ["3.11", "3.12", "3.13"]

nox.options.sessions = ["lint", "tests", "conformance"]
nox.options.reuse_existing_virtualenvs = True


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite against every engine."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs)


@nox.session(python=PYTHONS[0])
def conformance(session: nox.Session) -> None:
    """The packaged engine conformance suite; positional args pick engines (default: all three)."""
    engines = [arg for arg in session.posargs if arg in ENGINES] or ENGINES
    rest = [arg for arg in session.posargs if arg not in ENGINES]
    session.install("-e", ".[dev]")
    for engine in engines:
        session.log(f"conformance: {engine}")
        session.run("pytest", "-q", "tests/test_conformance.py", "--engine", engine, *rest)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff over the package, tests and benchmarks."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "oban", "tests", "benchmarks", "noxfile.py")


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Print throughput and latency figures for every reachable engine."""
    session.install("-e", ".[dev]")
    session.run("python", "benchmarks/bench.py", *session.posargs)
