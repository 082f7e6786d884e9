"""Listing jobs the way a dashboard does: searching them, and paging through them by id."""

from __future__ import annotations

from typing import Any

import pytest

from ...engines.protocol import Engine
from ...job import Job, JobState
from ...oban import Oban
from ._helpers import claim, id_of, insert, insert_many, job_ids


async def _found(engine: Engine, search: str, **filters: Any) -> list[int]:
    return [id_of(job) for job in await engine.list_jobs(search=search, **filters)]


@pytest.mark.asyncio
class TestSearch:
    async def test_search_matches_the_worker_ignoring_case(self, oban_engine: Engine) -> None:
        invoice = await insert(oban_engine, worker="billing.workers.SendInvoice")
        await insert(oban_engine, worker="mail.workers.Welcome")
        assert await _found(oban_engine, "sendinvoice") == [invoice.id]
        assert await _found(oban_engine, "BILLING.Workers.send") == [invoice.id]

    async def test_search_matches_the_text_of_args_keys_and_values(self, oban_engine: Engine) -> None:
        ada = await insert(oban_engine, args={"email": "Ada@Example.com", "plan": "gold"})
        await insert(oban_engine, args={"phone": "none"})
        assert await _found(oban_engine, "ada@example.COM") == [ada.id]
        assert await _found(oban_engine, "EMAIL") == [ada.id]

    async def test_search_matches_the_text_of_meta(self, oban_engine: Engine) -> None:
        traced = await insert(oban_engine, meta={"trace": "Req-7F3A"})
        await insert(oban_engine, meta={"other": "value"})
        assert await _found(oban_engine, "req-7f3a") == [traced.id]
        assert await _found(oban_engine, "trace") == [traced.id]

    async def test_search_matches_any_one_tag(self, oban_engine: Engine) -> None:
        tagged = await insert(oban_engine, tags=["customer-42", "vip"])
        await insert(oban_engine, tags=["internal"])
        assert await _found(oban_engine, "VIP") == [tagged.id]
        assert await _found(oban_engine, "mer-4") == [tagged.id]

    async def test_a_search_never_spans_two_tags(self, oban_engine: Engine) -> None:
        await insert(oban_engine, tags=["ab", "cd"])
        assert await _found(oban_engine, 'b","c') == []
        assert await _found(oban_engine, 'b", "c') == []
        assert await _found(oban_engine, "bc") == []

    async def test_a_search_of_digits_also_matches_that_job_id(self, oban_engine: Engine) -> None:
        first, second, _third = await oban_engine.insert_jobs([Job(worker="ids.Worker") for _ in range(3)])
        mentions = await insert(oban_engine, worker="ids.Worker", args={"ref": f"order-{second.id}"})
        assert await _found(oban_engine, str(second.id)) == [id_of(mentions), id_of(second)]
        assert await _found(oban_engine, str(first.id), worker="ids.Worker", before_id=id_of(mentions)) == [
            id_of(first)
        ]
        assert await _found(oban_engine, "99999999999999999999999") == []  # beyond any id, no error

    async def test_percent_and_underscore_are_literal(self, oban_engine: Engine) -> None:
        percent = await insert(oban_engine, args={"rate": "50%"})
        await insert(oban_engine, args={"rate": "500"})
        underscore = await insert(oban_engine, args={"code": "a_b"})
        await insert(oban_engine, args={"code": "axb"})
        assert await _found(oban_engine, "50%") == [percent.id]
        assert await _found(oban_engine, "%") == [percent.id]
        assert await _found(oban_engine, "a_b") == [underscore.id]
        assert await _found(oban_engine, "_") == [underscore.id]

    async def test_escape_characters_are_literal_too(self, oban_engine: Engine) -> None:
        bang = await insert(oban_engine, args={"shout": "wow!x"})
        await insert(oban_engine, args={"shout": "wowx"})
        backslash = await insert(oban_engine, tags=["dir\\sub"])
        await insert(oban_engine, tags=["dirsub"])
        assert await _found(oban_engine, "w!x") == [bang.id]
        assert await _found(oban_engine, "!") == [bang.id]
        assert await _found(oban_engine, "r\\s") == [backslash.id]

    async def test_an_empty_search_filters_nothing(self, oban_engine: Engine) -> None:
        jobs = await insert_many(oban_engine, 3)
        assert await _found(oban_engine, "") == sorted(job_ids(jobs), reverse=True)
        assert [job.id for job in await oban_engine.list_jobs(search=None)] == sorted(job_ids(jobs), reverse=True)

    async def test_search_combines_with_queue_worker_and_state_filters(self, oban_engine: Engine) -> None:
        mail = await insert(oban_engine, queue="mail", args={"to": "ada"})
        await insert(oban_engine, queue="sms", args={"to": "ada"})
        later = await insert(oban_engine, queue="mail", args={"to": "ada"}, schedule_in=600)
        other = await insert(oban_engine, queue="mail", worker="other.Worker", args={"to": "ada"})
        await insert(oban_engine, queue="mail", args={"to": "bob"})
        assert await _found(oban_engine, "ADA", queue="mail") == [id_of(other), id_of(later), id_of(mail)]
        assert await _found(oban_engine, "ada", queue="mail", states=[JobState.SCHEDULED]) == [later.id]
        assert await _found(oban_engine, "ada", queue="mail", worker="other.Worker") == [other.id]
        assert await _found(oban_engine, "ada", queue="mail", limit=2) == [id_of(other), id_of(later)]
        assert await _found(oban_engine, "ada", states=[]) == []

    async def test_searching_reads_jobs_in_every_state(self, oban_engine: Engine) -> None:
        waiting = await insert(oban_engine, args={"needle": 1})
        await insert(oban_engine, queue="busy", args={"needle": 2})
        [running] = await claim(oban_engine, queue="busy")
        found = await oban_engine.list_jobs(search="needle")
        assert [(job.id, job.state) for job in found] == [
            (running.id, JobState.EXECUTING),
            (waiting.id, JobState.AVAILABLE),
        ]

    async def test_a_search_that_is_not_a_string_is_refused(self, oban_engine: Engine) -> None:
        with pytest.raises(ValueError, match=r"search.*42"):
            await oban_engine.list_jobs(search=42)  # type: ignore[arg-type]


@pytest.mark.asyncio
class TestPaging:
    async def test_before_id_lists_only_older_jobs_newest_first(self, oban_engine: Engine) -> None:
        ids = job_ids(await insert_many(oban_engine, 5))
        assert [job.id for job in await oban_engine.list_jobs(before_id=ids[3])] == [ids[2], ids[1], ids[0]]
        assert await oban_engine.list_jobs(before_id=ids[0]) == []
        assert len(await oban_engine.list_jobs(before_id=ids[-1] + 1000)) == 5

    async def test_pages_cover_every_job_once_with_no_gaps(self, oban_engine: Engine) -> None:
        ids = job_ids(await insert_many(oban_engine, 11))
        pages: list[list[int]] = []
        before: int | None = None
        while True:
            page = [id_of(job) for job in await oban_engine.list_jobs(limit=4, before_id=before)]
            if not page:
                break
            pages.append(page)
            before = page[-1]
        assert [len(page) for page in pages] == [4, 4, 3]
        assert [job_id for page in pages for job_id in page] == sorted(ids, reverse=True)

    async def test_pages_of_a_filtered_search_skip_nothing_that_matches(self, oban_engine: Engine) -> None:
        wanted = []
        for n in range(9):
            job = await insert(oban_engine, queue="mail" if n % 3 else "sms", args={"to": "ada" if n % 2 else "bob"})
            if job.queue == "mail" and n % 2:
                wanted.append(id_of(job))
        await insert(oban_engine, queue="mail", args={"to": "ada"}, schedule_in=600)
        seen: list[int] = []
        before: int | None = None
        while page := await oban_engine.list_jobs(
            queue="mail", states=[JobState.AVAILABLE], search="ada", limit=2, before_id=before
        ):
            seen.extend(job_ids(page))
            before = page[-1].id
        assert seen == sorted(wanted, reverse=True)

    async def test_a_before_id_that_is_not_an_integer_is_refused(self, oban_engine: Engine) -> None:
        with pytest.raises(ValueError, match=r"before_id.*'10'"):
            await oban_engine.list_jobs(before_id="10")  # type: ignore[arg-type]

    async def test_the_facade_passes_search_and_before_id_through(self, oban_engine: Engine) -> None:
        first, second, third = await oban_engine.insert_jobs(
            [Job(worker="facade.Worker", args={"to": "ada"}) for _ in "abc"]
        )
        await insert(oban_engine, args={"to": "bob"})
        async with Oban(oban_engine, testing="manual", name="conformance-listing") as oban:
            found = await oban.list_jobs(search="ADA", before_id=third.id)
            assert [job.id for job in found] == [second.id, first.id]
