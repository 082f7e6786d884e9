"""What the dashboard's HTTP tests share: a seeded database, a client for the app, and a small
HTML reader that finds elements by ``data-testid`` as the browser tests do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from oban import Job, JobState, Oban, Record, worker
from oban.testing import drain_queue

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


@dataclass
class Element:
    """One element of a parsed page: its tag, attributes, children and text."""

    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    parts: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text content, whitespace collapsed."""
        return " ".join(self._raw().split())

    @property
    def raw_text(self) -> str:
        """The element's text content as written (for ``<pre>``)."""
        return self._raw()

    def _raw(self) -> str:
        return "".join(part if isinstance(part, str) else part._raw() for part in self.parts)

    def walk(self) -> list[Element]:
        found = [self]
        for child in self.children:
            found.extend(child.walk())
        return found

    def all(self, testid: str | None = None, tag: str | None = None, **data: str) -> list[Element]:
        """Descendants with this ``data-testid`` (and tag, and ``data-*`` attributes)."""
        wanted = {f"data-{name.replace('_', '-')}": value for name, value in data.items()}
        return [
            element
            for element in self.walk()[1:]
            if (testid is None or element.attrs.get("data-testid") == testid)
            and (tag is None or element.tag == tag)
            and all(element.attrs.get(key) == value for key, value in wanted.items())
        ]

    def one(self, testid: str, **data: str) -> Element:
        """The single descendant with this ``data-testid``; fails if there are none or several."""
        found = self.all(testid, **data)
        assert len(found) == 1, f"expected one [data-testid={testid!r}] {data}, found {len(found)}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        self.stack[-1].parts.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        self.stack[-1].parts.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def parse(html: str) -> Element:
    """The page as a tree of :class:`Element`."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


@worker(queue="default", max_attempts=1)
class ChargeCard:
    """Fails for good on its first attempt."""

    async def process(self, job: Job) -> None:
        raise ValueError(f"card declined for order {job.args['order']}")


@worker(queue="default", max_attempts=5)
class CallUpstream:
    """Fails, to be retried in an hour."""

    async def process(self, job: Job) -> None:
        raise ConnectionError(f"upstream refused the connection for {job.args['order']}")

    def backoff(self, job: Job) -> int:
        return 3600


@worker(queue="default")
class BuildReport:
    """Completes, keeping what it built."""

    async def process(self, job: Job) -> Record:
        return Record({"report": job.args["report"], "rows": 42})


@worker(queue="mailers")
class SendEmail:
    """Completes."""

    async def process(self, job: Job) -> None:
        return None


@dataclass
class Seed:
    """The seeded jobs by what became of them."""

    completed: list[Job]
    recorded: Job
    discarded: Job
    retryable: Job
    scheduled: Job
    available: Job

    @property
    def all(self) -> list[Job]:
        return [*self.completed, self.recorded, self.discarded, self.retryable, self.scheduled, self.available]


async def seed(oban: Oban) -> Seed:
    """Jobs in most states, run here (no node needed): 3 completed e-mails, a recorded report, a
    discarded and a retryable job with their tracebacks, a scheduled and an available job."""
    emails = await oban.enqueue_many(
        [SendEmail.new({"to": f"user{n}@example.com"}, tags=["welcome"]) for n in range(3)]
    )
    recorded = await oban.enqueue(BuildReport.new({"report": "monthly-sales"}))
    discarded = await oban.enqueue(ChargeCard.new({"order": "B-200"}, tags=["checkout"], meta={"source": "web"}))
    retryable = await oban.enqueue(CallUpstream.new({"order": "C-300"}))
    await drain_queue("default", oban=oban, with_recursion=False, with_scheduled=False, with_safety=True)
    await drain_queue("mailers", oban=oban, with_recursion=False, with_scheduled=False, with_safety=True)
    scheduled = await oban.enqueue(BuildReport.new({"report": "yearly"}, queue="later", schedule_in=3600))
    available = await oban.enqueue(SendEmail.new({"to": "late@example.com"}, queue="mailers"))
    seeded = Seed(emails, recorded, discarded, retryable, scheduled, available)
    states = {job.id: job.state for job in await oban.list_jobs()}
    assert [states[job.id] for job in seeded.all] == [
        JobState.COMPLETED,
        JobState.COMPLETED,
        JobState.COMPLETED,
        JobState.COMPLETED,
        JobState.DISCARDED,
        JobState.RETRYABLE,
        JobState.SCHEDULED,
        JobState.AVAILABLE,
    ]
    return seeded


async def client_for(app: Any, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``app`` in process."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dashboard", **options) as c:
        yield c


ACTION = {"X-Oban-Action": "1"}
"""The header every action needs (the dashboard's script sends it)."""
