"""What telemetry costs: the same drain with no handler, a no-op handler, and the JSON logger.

    python benchmarks/telemetry.py                  # sqlite, postgres, mysql (skips unreachable)
    python benchmarks/telemetry.py --engine sqlite

Each figure is printed next to its ratio to the no-handler drain measured in the same run (best
of ``--rounds``), so it travels between machines. Also the per-call cost of emitting an event and
of an unwatched span, the price every job and loop pays when nothing listens.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import reachable  # noqa: E402

from oban import Oban, telemetry, worker  # noqa: E402
from oban.telemetry import logger as telemetry_logger  # noqa: E402
from tests import support  # noqa: E402

JOBS = 5_000
_done = 0
_finished: asyncio.Event | None = None


@worker(queue="bench")
class Noop:
    async def process(self, job: Any) -> None:
        global _done
        _done += 1
        if _done >= JOBS and _finished is not None:
            _finished.set()


async def drain(name: str, tmp: Path) -> float:
    """Jobs per second draining ``JOBS`` no-op jobs at queue limit 100 on a fresh database."""
    global _done, _finished
    database = await support.create_database(name, tmp)
    engine = support.build_engine(name, database)
    await engine.connect()
    await engine.install()
    try:
        client = Oban(engine, name=f"seed-{name}")
        await client.enqueue_many([Noop.new({"i": i}) for i in range(JOBS)])
        _done, _finished = 0, asyncio.Event()
        oban = Oban(engine, queues={"bench": 100}, name=f"bench-{name}", pruner=False, lifeline=False)
        started = time.perf_counter()
        await oban.start()
        await _finished.wait()
        await oban._node._acker.drain()  # type: ignore[union-attr]
        elapsed = time.perf_counter() - started
        await oban.stop()
        await client.stop()
        return JOBS / elapsed
    finally:
        await support.drop_database(name, database)


def _noop_handler(name: str, metadata: dict[str, Any]) -> None:
    return None


def _setups() -> list[tuple[str, Any, Any]]:
    sink = logging.getLogger("oban.bench.sink")
    sink.propagate = False
    sink.addHandler(logging.StreamHandler(open("/dev/null", "w")))
    sink.setLevel(logging.INFO)
    return [
        ("no handler", lambda: None, lambda: None),
        (
            "no-op handler, every event",
            lambda: telemetry.attach("bench-noop", telemetry.EVENTS, _noop_handler),
            lambda: telemetry.detach("bench-noop"),
        ),
        ("JSON logger (to /dev/null)", lambda: telemetry_logger.attach(logger=sink), telemetry_logger.detach),
    ]


def micro() -> float:
    """Print the per-call costs; return what a job pays with nothing attached, in ns."""
    calls = 1_000_000
    per_execute = timeit.timeit(lambda: telemetry.execute("oban.job.start", {}), number=calls) / calls * 1e9

    def unwatched_span() -> None:
        with telemetry.span("oban.stager.stage", {}):
            pass

    per_span = timeit.timeit(unwatched_span, number=calls // 10) / (calls // 10) * 1e9
    per_check = timeit.timeit(lambda: telemetry.attached("oban.job.start"), number=calls) / calls * 1e9
    print(f"{'emit an event nobody listens to':<40} {per_execute:>8.0f} ns")
    print(f"{'check whether a job event is watched':<40} {per_check:>8.0f} ns")
    print(f"{'run an unwatched span':<40} {per_span:>8.0f} ns")
    # Per job: three watched-checks (executor, failure logging), one unwatched fetch span and one
    # ack span shared by a batch (counted whole, to err high).
    per_job = 3 * per_check + 2 * per_span
    print(f"{'per job, with nothing attached':<40} {per_job:>8.0f} ns")
    return per_job


async def main(engines: list[str], rounds: int) -> None:
    per_job = micro()
    with tempfile.TemporaryDirectory() as tmp:
        for name in engines:
            if not await reachable(name):
                print(f"{name}: not reachable, skipped")
                continue
            results: dict[str, float] = {}
            for label, attach, detach in _setups():
                attach()
                try:
                    results[label] = max([await drain(name, Path(tmp)) for _ in range(rounds)])
                finally:
                    detach()
            floor = results["no handler"]
            for label, rate in results.items():
                print(f"{name:<9} drain {JOBS} limit 100, {label:<28} {rate:>10,.0f} jobs/s  {rate / floor:6.1%}")
            share = per_job / (1e9 / floor)
            print(f"{name:<9} telemetry with nothing attached: {share:.2%} of a job's time in this drain")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgres", "mysql"])
    parser.add_argument("--rounds", type=int, default=2, help="runs per figure; the best is printed (default 2)")
    args = parser.parse_args()
    asyncio.run(main(args.engine or ["sqlite", "postgres", "mysql"], args.rounds))
