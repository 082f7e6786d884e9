"""Run one oban node in its own process until its queue has nothing left (multi-process tests).

Usage: python -m tests.node_process <dsn> <node-name> <limit> [seconds-idle-before-exit]
"""

from __future__ import annotations

import asyncio
import sys

import tests.workers  # noqa: F401  (defines the workers the jobs name)
from oban import JobState, Oban
from oban.engines.registry import engine_from_dsn


async def main(dsn: str, node: str, limit: int, idle: float) -> None:
    engine = engine_from_dsn(dsn)
    async with Oban(engine, queues={"default": limit}, node=node, stage_interval=0.1) as oban:
        print("started", flush=True)
        quiet_since = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - quiet_since < idle:
            await asyncio.sleep(0.1)
            pending = await oban.list_jobs(state=[JobState.AVAILABLE, JobState.EXECUTING], limit=1)
            if pending or oban.check_queue("default").running:
                quiet_since = asyncio.get_running_loop().time()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 1.0))
