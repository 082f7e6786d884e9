"""Every ``python`` block in the docs and the README runs, as the docs convention says.

The blocks of one page run in order as one program sharing one namespace, in a fresh temporary
working directory (which is on ``sys.path``), in a subprocess, with top-level ``await`` allowed,
and must exit 0 within 60 seconds. Markers on the line before a fence (blank lines allowed)
change what happens to that block:

- ``<!-- sample: file NAME.py -->`` writes the block to ``NAME.py`` instead of running it;
- ``<!-- sample: skip REASON -->`` does not run it; the reason says it needs a server
  (PostgreSQL/MySQL) or that it is a fragment (and then the block contains ``...``).

A failure names the page, the line of the failing block's opening fence, and the program's stderr.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE_TIMEOUT = 60.0

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ANY_MARKER = re.compile(r"<!--\s*sample\b", re.IGNORECASE)
_FILE_MARKER = re.compile(r"^<!-- sample: file (?P<name>[A-Za-z_][A-Za-z0-9_]*\.py) -->$")
_SKIP_MARKER = re.compile(r"^<!-- sample: skip (?P<reason>\S.*?) -->$")
_SERVER_REASON = re.compile(r"postgres|mysql|mariadb|server", re.IGNORECASE)
_FRAGMENT_REASON = re.compile(r"fragment", re.IGNORECASE)
# Tags that look like Python but would silently escape this test.
_LOOKALIKE_TAGS = {"py", "python3", "py3"}
_FAILED_AT = re.compile(r"^SAMPLE FAILED: .*?:(?P<line>\d+): ", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One fenced ``python`` block: where it opens, its code, and what its marker asks for."""

    fence_line: int
    code: str
    action: str = "run"  # "run", "file" or "skip"
    argument: str = ""  # the file name for "file", the reason for "skip"

    @property
    def first_line(self) -> int:
        return self.fence_line + 1


@dataclass
class Page:
    """A Markdown page's python blocks, in order, and whatever is wrong with its markers."""

    path: Path
    blocks: list[Block] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.relative_to(ROOT).as_posix() if self.path.is_relative_to(ROOT) else str(self.path)


def sample_pages() -> list[Path]:
    """The pages the convention covers: ``docs/**/*.md`` and ``README.md``."""
    return [*sorted((ROOT / "docs").glob("**/*.md")), ROOT / "README.md"]


def parse_page(path: Path) -> Page:
    """Read a page's fenced blocks and sample markers (markers inside code blocks are text)."""
    page = Page(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    pending: tuple[int, str, str] | None = None  # (line, action, argument) of a marker awaiting its block
    number = 0
    while number < len(lines):
        text = lines[number]
        number += 1
        opening = _FENCE_OPEN.match(text)
        if opening is not None and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            indent, fence, info = len(opening["indent"]), opening["fence"], opening["info"].strip()
            tag = info.split()[0].strip("{}.").lower() if info else ""
            fence_line = number
            body: list[str] = []
            closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            while number < len(lines) and not closing.match(lines[number]):
                line = lines[number]
                body.append(line[min(indent, len(line) - len(line.lstrip(" \t"))) :])
                number += 1
            if number >= len(lines):
                page.problems.append(f"{page.name}:{fence_line}: this code fence is never closed")
            number += 1
            if tag in _LOOKALIKE_TAGS:
                page.problems.append(
                    f"{page.name}:{fence_line}: a block tagged {tag!r} is not run; tag it 'python' (a sample) or 'text'"
                )
            if tag == "python":
                code = "\n".join(body) + "\n"
                if pending is None:
                    page.blocks.append(Block(fence_line, code))
                else:
                    page.blocks.append(Block(fence_line, code, pending[1], pending[2]))
                    if pending[1] == "skip":
                        _check_skip_reason(page, pending[0], pending[2], code)
            elif pending is not None:
                page.problems.append(
                    f"{page.name}:{pending[0]}: the sample marker is followed by a {tag or 'untagged'!r} "
                    "block, not a python one"
                )
            pending = None
            continue
        stripped = text.strip()
        if _ANY_MARKER.search(stripped):
            if pending is not None:
                page.problems.append(f"{page.name}:{pending[0]}: the sample marker is not followed by a python block")
            pending = _read_marker(page, number, stripped)
        elif stripped and pending is not None:
            page.problems.append(f"{page.name}:{pending[0]}: the sample marker is not followed by a python block")
            pending = None
    if pending is not None:
        page.problems.append(f"{page.name}:{pending[0]}: the sample marker is not followed by a python block")
    return page


def _read_marker(page: Page, number: int, text: str) -> tuple[int, str, str] | None:
    if (found := _FILE_MARKER.match(text)) is not None:
        return (number, "file", found["name"])
    if (found := _SKIP_MARKER.match(text)) is not None:
        return (number, "skip", found["reason"])
    page.problems.append(
        f"{page.name}:{number}: malformed sample marker {text!r}; expected '<!-- sample: file NAME.py -->' "
        "or '<!-- sample: skip REASON -->', alone on its line"
    )
    return None


def _check_skip_reason(page: Page, number: int, reason: str, code: str) -> None:
    if _SERVER_REASON.search(reason):
        return
    if _FRAGMENT_REASON.search(reason):
        if "..." not in code:
            page.problems.append(
                f"{page.name}:{number}: skipped as a fragment, but the block contains no '...'; "
                "make it run, or mark what is left out with '...'"
            )
        return
    page.problems.append(
        f"{page.name}:{number}: skip reason {reason!r} is not allowed; a block is skipped only because it "
        "needs a server (PostgreSQL/MySQL) or because it is a fragment (contains '...')"
    )


def _run_program(spec_path: str, progress_path: str) -> None:
    """The page's program, run in the subprocess (its source is sent with ``python -c``)."""
    import ast
    import asyncio
    import builtins
    import inspect
    import json
    import os
    import sys
    import traceback
    import types

    with open(spec_path, encoding="utf-8") as file:
        spec = json.load(file)
    workdir = os.getcwd()
    sys.path.insert(0, workdir)
    # The blocks' namespace is a real ``__main__`` module, so classes defined in a sample can be
    # found by module name (dataclasses, pickle, worker names) like in a script.
    main = types.ModuleType("__main__")
    main.__file__ = spec["page_path"]
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    loop = asyncio.new_event_loop()

    def fail(block: dict, message: str) -> None:
        sys.stderr.write(f"\nSAMPLE FAILED: {spec['page']}:{block['fence_line']}: {message}\n")
        sys.stderr.flush()
        os._exit(1)

    blocks = spec["blocks"]
    for index, block in enumerate(blocks):
        with open(progress_path, "w", encoding="utf-8") as file:
            file.write(str(block["fence_line"]))
        if block["action"] == "file":
            with open(os.path.join(workdir, block["argument"]), "w", encoding="utf-8") as file:
                file.write(block["code"])
            continue
        # Leading newlines make tracebacks give the page's own line numbers.
        source = "\n" * block["fence_line"] + block["code"]
        asyncio.set_event_loop(loop)
        try:
            code = compile(source, spec["page_path"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
            if code.co_flags & inspect.CO_COROUTINE:
                loop.run_until_complete(eval(code, main.__dict__))
            else:
                exec(code, main.__dict__)
        except SystemExit as exit:
            if exit.code not in (None, 0):
                fail(block, f"the block exited with status {exit.code!r}")
            if index != len(blocks) - 1:
                fail(block, "the block exits the program, so the blocks after it never run")
            break
        except BaseException:
            traceback.print_exc()
            fail(block, "the block raised an exception (traceback above)")
    left = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if left:
        names = ", ".join(sorted(task.get_name() + " " + repr(task.get_coro()) for task in left))
        fail(blocks[-1], f"the page's program left {len(left)} task(s) running (stop what you start): {names}")
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def run_page(page: Page, workdir: Path, timeout: float = PAGE_TIMEOUT) -> tuple[int, str, str, str]:
    """Run a page's program; returns ``(returncode, stdout, stderr, progress)``, ``returncode`` -9 on timeout."""
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path = workdir.parent / f"{workdir.name}.spec.json"
    progress_path = workdir.parent / f"{workdir.name}.progress"
    spec = {
        "page": page.name,
        "page_path": str(page.path),
        "blocks": [
            {"fence_line": block.fence_line, "code": block.code, "action": block.action, "argument": block.argument}
            for block in page.blocks
            if block.action != "skip"
        ],
    }
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    program = (
        "import sys\n" + textwrap.dedent(inspect.getsource(_run_program)) + "\n_run_program(sys.argv[1], sys.argv[2])\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("OBAN_")}
    env["PYTHONUNBUFFERED"] = "1"
    # Pages on the memory engine import ``oban_memory``: its source tree stands in for installing it,
    # so the README's test command (which installs only oban and the dev group) runs these pages too.
    memory = str(ROOT / "engines" / "memory")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), memory]))
    process = subprocess.Popen(
        [sys.executable, "-c", program, str(spec_path), str(progress_path)],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        returncode = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        returncode = -9
    progress = progress_path.read_text(encoding="utf-8") if progress_path.exists() else "?"
    return returncode, stdout, stderr, progress


def check_page(page: Page, workdir: Path, timeout: float = PAGE_TIMEOUT) -> str | None:
    """``None`` if the page's program ran and exited 0, else a report naming the failing block."""
    returncode, stdout, stderr, progress = run_page(page, workdir, timeout)
    tail = stdout[-2000:]
    if returncode == -9:
        return (
            f"{page.name}: the program did not finish within {timeout:g} s; it was running the python block "
            f"at line {progress}.\n--- stderr ---\n{stderr}\n--- stdout (end) ---\n{tail}"
        )
    if returncode != 0:
        found = _FAILED_AT.search(stderr)
        line = found["line"] if found else progress
        return (
            f"{page.name}: the python block at line {line} failed (exit status {returncode}).\n"
            f"--- stderr ---\n{stderr}\n--- stdout (end) ---\n{tail}"
        )
    return None


_PAGES = [parse_page(path) for path in sample_pages() if path.exists()]


@pytest.mark.parametrize("page", [page for page in _PAGES if page.blocks], ids=lambda page: page.name)
def test_page_samples_run(page: Page, tmp_path: Path) -> None:
    report = check_page(page, tmp_path / "work")
    if report is not None:
        pytest.fail(report, pytrace=False)


def test_sample_markers_are_well_formed() -> None:
    problems = [problem for page in _PAGES for problem in page.problems]
    assert not problems, "sample markers break the docs convention:\n" + "\n".join(problems)


# The harness itself, on small pages written here: it must find what it claims to find.


def _page(tmp_path: Path, text: str) -> Page:
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return parse_page(path)


def test_blocks_share_a_namespace_import_file_blocks_and_await(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        <!-- sample: file greeting.py -->

        ```python
        def greet(name):
            return f"hello {name}"
        ```

        ```python
        import asyncio
        from greeting import greet
        message = greet("docs")
        ```

        - in a list:

          ```python
          await asyncio.sleep(0)
          assert message == "hello docs", message
          ```

        <!-- sample: skip needs a PostgreSQL server -->
        ```python
        raise AssertionError("skipped blocks do not run")
        ```
        """,
    )
    assert page.problems == []
    assert [block.action for block in page.blocks] == ["file", "run", "run", "skip"]
    assert check_page(page, tmp_path / "work") is None


def test_a_failing_block_is_reported_with_its_line_and_stderr(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        # Title

        ```python
        total = 1
        ```

        ```python
        assert total == 2, "total is not two"
        ```
        """,
    )
    report = check_page(page, tmp_path / "work")
    assert report is not None
    assert "the python block at line 7 failed" in report
    assert "total is not two" in report
    assert 'page.md", line 8' in report


def test_a_program_that_leaves_tasks_running_fails(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        ```python
        import asyncio
        forever = asyncio.create_task(asyncio.Event().wait(), name="forgotten")
        await asyncio.sleep(0)
        ```
        """,
    )
    report = check_page(page, tmp_path / "work")
    assert report is not None
    assert "left 1 task(s) running" in report and "forgotten" in report


def test_a_page_that_runs_too_long_names_the_running_block(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        ```python
        import time
        ```

        ```python
        time.sleep(30)
        ```
        """,
    )
    report = check_page(page, tmp_path / "work", timeout=2)
    assert report is not None
    assert "did not finish within 2 s" in report
    assert "block at line 5" in report


def test_malformed_markers_and_bad_skip_reasons_are_found(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        <!-- sample:skip no space -->
        ```python
        pass
        ```

        <!-- sample: skip looks nicer -->
        ```python
        pass
        ```

        <!-- sample: skip a fragment -->
        ```python
        pass
        ```

        <!-- sample: file workers.py -->
        Some prose in between.

        ```py
        pass
        ```
        """,
    )
    problems = "\n".join(page.problems)
    assert "page.md:1: malformed sample marker" in problems
    assert "page.md:6: skip reason 'looks nicer' is not allowed" in problems
    assert "page.md:11: skipped as a fragment, but the block contains no '...'" in problems
    assert "page.md:16: the sample marker is not followed by a python block" in problems
    assert "page.md:19: a block tagged 'py' is not run" in problems


def test_a_block_without_await_may_run_its_own_event_loop(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        ```python
        import asyncio

        async def main():
            return 42

        answer = asyncio.run(main())
        ```

        ```python
        await asyncio.sleep(0)
        assert answer == 42
        ```
        """,
    )
    assert check_page(page, tmp_path / "work") is None
