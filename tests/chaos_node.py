"""One node for the chaos tests, in a process of its own, until SIGTERM (or SIGKILL).

Usage: python -m tests.chaos_node <dsn> <node> <runs-file> <limit> <heartbeat-interval> [rescue-after]

Jobs name ``tests.workers.ChaosWork``, which logs each run's start and end to the runs file.
While this node leads, the file ``<runs-file>.leader`` names it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import tests.workers  # noqa: F401  (ChaosWork, the worker the jobs name)
from oban import Oban
from oban.engines.registry import engine_from_dsn

RUNS = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("runs.log")
NODE = sys.argv[2] if len(sys.argv) > 2 else "chaos"
os.environ["OBAN_CHAOS_RUNS"] = str(RUNS)
os.environ["OBAN_CHAOS_NODE"] = NODE


async def main(dsn: str, limit: int, heartbeat: float, rescue_after: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    engine = engine_from_dsn(dsn)
    oban = Oban(
        engine,
        queues={"chaos": limit},
        node=NODE,
        name="chaos",
        stage_interval=0.2,
        heartbeat_interval=heartbeat,
        shutdown_grace_period=5,
        lifeline={"rescue_after": rescue_after},
    )
    await oban.start()
    leader_file = Path(f"{RUNS}.leader")
    print("ready", flush=True)
    while not stop.is_set():
        if oban.is_leader:
            # Written whole then renamed, so a reader never sees a half-written (empty) file.
            partial = leader_file.with_name(f"{leader_file.name}.{NODE}")
            partial.write_text(NODE)
            partial.replace(leader_file)
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except TimeoutError:
            pass
    await oban.stop()


if __name__ == "__main__":
    rescue_after = float(sys.argv[6]) if len(sys.argv) > 6 else 3600.0
    asyncio.run(main(sys.argv[1], int(sys.argv[4]), float(sys.argv[5]), rescue_after))
