"""The conformance suite as a third party runs it: the documented set-up, a fresh virtualenv, strict mode."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _documented_example() -> str:
    text = (ROOT / "docs" / "conformance.md").read_text()
    match = re.search(r"```python\n(# tests/test_conformance\.py\n.*?)```", text, re.S)
    assert match, "docs/conformance.md lost its example"
    return match.group(1)


@pytest.mark.timeout(600)
def test_the_documented_example_passes_in_strict_mode_from_a_fresh_virtualenv(tmp_path):
    wheels = tmp_path / "wheels"
    for project in (ROOT, ROOT / "engines" / "memory"):
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(project)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # Only the wheels, pytest and pytest-asyncio: nothing of this checkout is importable there.
    packages = [*map(str, sorted(wheels.glob("*.whl"))), "pytest", "pytest-asyncio"]
    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True, capture_output=True, timeout=300)
    project = tmp_path / "third-party"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_conformance.py").write_text(_documented_example())
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=strict", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 150 and "skipped" not in summary and "error" not in summary, summary


def test_the_plugin_is_registered_for_pytest():
    from importlib.metadata import entry_points

    [plugin] = [ep for ep in entry_points(group="pytest11") if ep.name == "oban_conformance"]
    assert plugin.value == "oban.testing.conformance.plugin"
