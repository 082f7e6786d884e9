"""Screenshots of the dashboard for docs/web.md: the queues page, the jobs page and a failed job.

Regenerate the committed ones with ``.venv/bin/python -m tests.web.browser_screenshots docs/img``
(needs Chromium at /usr/bin/chromium and Playwright). The data is the browser tests' seed, on
SQLite in a temporary directory, with a node that has just run it; the browser is 1280x800.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.web.browser_support import CHROMIUM, PASSWORD, USERNAME, LoopThread, start_dashboard, stop_dashboard

PAGES = (("web-queues.png", "/queues"), ("web-jobs.png", "/jobs"), ("web-job.png", "/jobs/{failed}"))
"""Each screenshot's file name and the page it shows (``{failed}``: a discarded job's id)."""


SCROLL_TO_ERRORS = """() => {
  const errors = document.querySelector('[data-testid="detail-error"]');
  if (errors) { window.scrollTo(0, errors.getBoundingClientRect().top + window.scrollY - 420); }
}"""


def take_screenshots(out_dir: Path, *, browser: Any = None) -> list[Path]:
    """Write the PNGs of :data:`PAGES` into ``out_dir`` and return their paths.

    ``browser`` is a Playwright sync ``Browser``; without one, a headless Chromium is launched.
    """
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                return take_screenshots(out_dir, browser=launched)
            finally:
                launched.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    loop = LoopThread()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            served = loop.run(start_dashboard("sqlite", Path(workdir), loop), 90)
            try:
                return _shoot(browser, served.servers["admin"].url, served.seed.discarded[0], out_dir)
            finally:
                loop.run(stop_dashboard(served), 60)
    finally:
        loop.close()


def _shoot(browser: Any, base_url: str, failed: int, out_dir: Path) -> list[Path]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        http_credentials={"username": USERNAME, "password": PASSWORD},
    )
    written = []
    try:
        page = context.new_page()
        for name, path in PAGES:
            page.goto(base_url + path.format(failed=failed))
            page.wait_for_load_state("networkidle")
            if name == "web-job.png":
                # A failed job's story is its error: scroll it up, keeping the args above it in view.
                page.evaluate(SCROLL_TO_ERRORS)
            target = out_dir / name
            page.screenshot(path=str(target))
            written.append(target)
    finally:
        context.close()
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else Path("docs/img")
    for path in take_screenshots(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
