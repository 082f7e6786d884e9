"""The package as a user installs it: built, installed into a fresh virtualenv, under its own name."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _build(kind: str, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "-o", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [artifact] = out.glob("*.whl" if kind == "wheel" else "*.tar.gz")
    return artifact


def _fresh_env(path: Path) -> Path:
    venv.create(path, with_pip=True)
    return path / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding only the built wheel (and what it depends on) plus mypy."""
    root = tmp_path_factory.mktemp("dist")
    wheel = _build("wheel", root / "out")
    bin_dir = _fresh_env(root / "env")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel), "mypy"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return bin_dir


def _run(bin_dir: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.timeout(900)
def test_the_wheel_installs_as_oban_sql_with_one_version_everywhere(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata as m, pathlib, oban;"
        "d = m.distribution('oban-sql');"
        "print(d.version, oban.__version__, d.metadata['License-Expression'],"
        " (pathlib.Path(oban.__file__).parent / 'py.typed').exists(),"
        " any(f.name == 'LICENSE' for f in d.files),"
        " all((pathlib.Path(oban.__file__).parent / 'web' / p).exists()"
        " for p in ('templates/layout.html', 'templates/job.html', 'static/oban.js', 'static/oban.css')))"
    )
    result = _run(installed, "python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    dist_version, package_version, license_expression, typed, licensed, dashboard = result.stdout.split()
    assert dist_version == package_version
    assert (license_expression, typed, licensed) == ("Apache-2.0", "True", "True")
    assert dashboard == "True", "the wheel lacks the dashboard's templates or static files"
    cli = _run(installed, "oban", "version", cwd=tmp_path)
    assert cli.returncode == 0 and package_version in cli.stdout, cli.stderr


@pytest.mark.timeout(900)
def test_the_quick_start_runs_and_passes_mypy_strict_against_the_installed_wheel(
    installed: Path, tmp_path: Path
) -> None:
    quickstart = tmp_path / "quickstart.py"
    quickstart.write_text((ROOT / "docs" / "examples" / "quickstart.py").read_text())
    ran = _run(installed, "python", str(quickstart), cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    checked = _run(installed, "mypy", "--strict", "--no-incremental", str(quickstart), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout[-3000:]


def test_importing_beside_pypis_oban_distribution_fails_with_one_clear_message(tmp_path: Path) -> None:
    # What pip leaves for an installed distribution named "oban": its metadata directory.
    info = tmp_path / "oban-0.7.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: oban\nVersion: 0.7.0\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import oban"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("oban._distribution.ConflictingDistributionError: the 'oban' distribution 0.7.0 at")
    assert "pip uninstall -y oban oban-sql && pip install oban-sql" in last
    alone = subprocess.run(
        [sys.executable, "-c", "import oban; print(oban.__version__)"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        timeout=60,
    )
    assert alone.returncode == 0, alone.stderr


@pytest.mark.timeout(600)
def test_the_sdist_leaves_the_tests_out_and_builds_a_working_wheel(tmp_path: Path) -> None:
    sdist = _build("sdist", tmp_path / "out")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert "LICENSE" in names and "oban/py.typed" in names
    assert "oban/web/templates/layout.html" in names and "oban/web/static/oban.js" in names
    assert any(name.startswith("oban/engines/postgres/migrations/") for name in names)
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "engines/", "docs/"))]
    bin_dir = _fresh_env(tmp_path / "env")
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(sdist)], capture_output=True, text=True, timeout=300
    )
    assert install.returncode == 0, install.stderr[-2000:]
    probe = (
        "import asyncio\nfrom oban.engines import LiteEngine\n"
        "async def main():\n    engine = LiteEngine(':memory:')\n    await engine.install()\n    await engine.close()\n"
        "asyncio.run(main())"
    )
    result = _run(bin_dir, "python", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
