"""The peers on the same PostgreSQL server, each in its own virtualenv under ``.bench/``.

pgqueuer (the latest release, ``benchmarks/peer_pgqueuer.py``) and oban-py (the published
``oban`` package, ``benchmarks/peer_oban_py.py``, Python 3.12+). Each script prints lines in
bench's columns (``system engine workload value unit``); they are read back here and printed as
a ratio to the PostgreSQL floor measured in the same run and as ours/peer. A virtualenv is made
once, with the newest release at the time; delete ``.bench/<name>`` to pick up a newer one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from _harness import row, section

from tests import support

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".bench"


def _python_312_or_newer() -> str | None:
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which("python3.13"), shutil.which("python3.12")]
    candidates += [str(path) for path in sorted(pyenv.glob("3.1[2-9]*/bin/python"), reverse=True)]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"], capture_output=True
        )
        if probe.returncode == 0:
            return candidate
    return None


def _venv(name: str, base: str, requirement: str) -> Path | None:
    """The interpreter of ``.bench/<name>``, created with ``requirement`` if missing; ``None`` if that failed."""
    python = VENVS / name / "bin" / "python"
    marker = VENVS / name / ".installed"
    if not marker.exists():
        print(f"creating .bench/{name} ({requirement}) ...", flush=True)
        try:
            subprocess.run([base, "-m", "venv", str(VENVS / name)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"skipping {name}: could not install {requirement}: {error}", flush=True)
            return None
        marker.write_text(requirement + "\n")
    return python


async def _run(python: Path, script: str, *args: str) -> dict[str, float]:
    """Run a peer script; its figures by workload name."""
    proc = await asyncio.create_subprocess_exec(
        str(python),
        str(ROOT / "benchmarks" / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": "", "OBAN_TEST_POSTGRES_DSN": support.POSTGRES_DSN},
    )
    out, _ = await proc.communicate()
    figures: dict[str, float] = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 5:
            figures[parts[2]] = float(parts[3].replace(",", ""))
    if proc.returncode != 0:
        print(f"{script} failed with exit status {proc.returncode} (its error is above)", flush=True)
    return figures


def _version(python: Path, package: str) -> str:
    probe = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() or "?"


def _compare(peer: str, workload: str, value: float | None, floor: float | None, mine: float | None) -> None:
    if value is None:
        print(f"{peer:<9} {workload:<30} no figure", flush=True)
        return
    against = f"ours {mine:,.0f}/s: ours/peer {mine / value:.2f}" if mine else "ours: not measured in this run"
    row(peer, workload, floor, value, "/s", against)


async def run_peers(figures: dict[str, float], rounds: int, sustain_seconds: float) -> None:
    """Run both peers and print them against the PostgreSQL floor and ours from ``figures``.

    ``figures`` holds ours and the floor by name (``ours drain_10000_limit100``,
    ``floor drain_10000_limit100``, ``ours sustained``, ...), as far as this run measured them.
    """
    section(
        "peers on the same PostgreSQL (ratio peer/PostgreSQL floor; ours/peer in the note)",
        "pg floor",
        "peer",
        "peer/floor",
    )
    pgqueuer = _venv("pgqueuer", sys.executable, "pgqueuer[asyncpg]")
    if pgqueuer is not None:
        await _pgqueuer(pgqueuer, figures, rounds, sustain_seconds)
    base = _python_312_or_newer()  # oban-py 0.5+ needs Python 3.12 or newer
    if base is None:
        print("skipping oban-py: it needs Python 3.12+ and none was found", flush=True)
        return
    oban_py = _venv("oban-py", base, "oban")
    if oban_py is not None:
        await _oban_py(oban_py, figures)


async def _pgqueuer(pgqueuer: Path, figures: dict[str, float], rounds: int, sustain_seconds: float) -> None:
    found = await _run(pgqueuer, "peer_pgqueuer.py", "--rounds", str(rounds), "--seconds", f"{sustain_seconds:g}")
    name = f"pgqueuer {_version(pgqueuer, 'pgqueuer')}"
    print(f"{name}: one consumer at batch 100 for the drain; sustained in its tools/benchmark.py shape", flush=True)
    _compare(
        "pgqueuer",
        "drain_10000_batch100",
        found.get("drain_10000_batch100"),
        figures.get("floor drain_10000_limit100"),
        figures.get("ours drain_10000_limit100"),
    )
    sustained = next((key for key in found if key.startswith("sustained")), None)
    _compare(
        "pgqueuer",
        sustained or "sustained",
        found.get(sustained or ""),
        None,
        figures.get("ours sustained"),
    )


async def _oban_py(oban_py: Path, figures: dict[str, float]) -> None:
    found = await _run(oban_py, "peer_oban_py.py")
    print(f"oban-py {_version(oban_py, 'oban')}: queue limit as ours", flush=True)
    for workload in ("enqueue_10000", "drain_10000_limit20", "drain_10000_limit100"):
        _compare(
            "oban-py", workload, found.get(workload), figures.get(f"floor {workload}"), figures.get(f"ours {workload}")
        )
    for workload in ("latency_p50", "latency_p99"):
        if workload in found:
            mine = figures.get(f"ours {workload}")
            against = f"ours {mine:.2f} ms" if mine is not None else "ours: not measured in this run"
            print(f"{'oban-py':<9} {workload:<30} {'n/a':>15} {found[workload]:>12.2f} ms {'n/a':>10}  {against}")
