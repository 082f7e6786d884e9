"""The docs site builds with ``mkdocs build --strict``, and every page in docs/ is in its nav.

Strict mode turns every warning into a failure: a broken link or anchor, a nav entry without a
page, a page left out of the nav, an object the API reference cannot find.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 300

pytest.importorskip("mkdocs", reason="the docs dependency group is not installed")


def nav_pages(entries: Any) -> list[str]:
    """Every page path named in a MkDocs ``nav`` (nested sections included, external links not)."""
    found: list[str] = []
    if isinstance(entries, str):
        if "://" not in entries:
            found.append(entries)
    elif isinstance(entries, list):
        for entry in entries:
            found.extend(nav_pages(entry))
    elif isinstance(entries, dict):
        for value in entries.values():
            found.extend(nav_pages(value))
    return found


def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    output = result.stdout + result.stderr
    problems = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    status = result.returncode
    report = "\n".join(problems)
    assert status == 0, f"mkdocs build --strict exited {status}:\n{report}\n--- output ---\n{output}"
    assert (tmp_path / "site" / "index.html").exists()


def test_every_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(nav_pages(config["nav"]))
    pages = {
        path.relative_to(DOCS).as_posix()
        for path in DOCS.glob("**/*.md")
        if not path.relative_to(DOCS).as_posix().startswith("examples/")
    }
    missing = sorted(pages - in_nav)
    assert not missing, "pages in docs/ but not in the nav of mkdocs.yml: " + ", ".join(missing)
