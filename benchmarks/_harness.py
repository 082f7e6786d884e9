"""What every benchmark module shares: fresh databases, the floor's connections, best-of-N, the table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import floor
import ours

from oban.engines import Engine
from tests import support

POSTGRES_DSN = support.with_database(support.POSTGRES_DSN, support.POSTGRES_TEST_DATABASE)
MYSQL_DSN = support.MYSQL_DSN


@asynccontextmanager
async def database(name: str, tmp: Path) -> AsyncIterator[tuple[Engine, str]]:
    """A fresh installed database and a connected engine on it; dropped afterwards."""
    engine, db = await ours.fresh_engine(name, tmp)
    try:
        yield engine, db
    finally:
        await engine.close()
        await support.drop_database(name, db)


async def open_floor(name: str, db: str) -> floor.Floor:
    """The raw-driver floor on database ``db`` of engine ``name``."""
    return await floor.open_floor(name, db, postgres_dsn=POSTGRES_DSN, mysql_dsn=MYSQL_DSN)


async def best(rounds: int, *measures: Callable[[], Awaitable[float]]) -> list[float]:
    """The shortest time of each measure over ``rounds`` rounds, the measures alternating."""
    times: list[list[float]] = [[] for _ in measures]
    for _ in range(rounds):
        for index, measure in enumerate(measures):
            times[index].append(await measure())
    return [min(found) for found in times]


def section(title: str, base: str, value: str, ratio: str) -> None:
    """A heading and the column names of the rows that follow."""
    print(f"\n{title}", flush=True)
    print(f"{'engine':<9} {'workload':<30} {base:>15} {value:>15} {ratio:>10}  note", flush=True)


def row(engine: str, workload: str, base: float | None, value: float, unit: str, note: str = "") -> None:
    """One line: the base figure (the floor, unless the section says otherwise), ours, value/base."""
    shown = f"{base:,.0f} {unit}" if base is not None else "n/a"
    ratio = f"{value / base:.2f}" if base else "n/a"
    print(f"{engine:<9} {workload:<30} {shown:>15} {value:>10,.0f} {unit:<4} {ratio:>10}  {note}", flush=True)


def millis(engine: str, workload: str, value: float, note: str) -> None:
    """One line of an absolute time in milliseconds (nothing to divide it by)."""
    print(f"{engine:<9} {workload:<30} {'n/a':>15} {value:>12.2f} ms {'n/a':>10}  {note}", flush=True)


def note(engine: str, text: str) -> None:
    print(f"{engine:<9} {'':<30} {text}", flush=True)
