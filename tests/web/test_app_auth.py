"""Who may see the dashboard and who may act: read-only without an auth hook or when asked,
basic auth, a hook of your own, the action header, and a dashboard mounted in another app."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

pytest.importorskip("starlette", reason="the dashboard needs the web extra")

from oban import JobState
from oban.web import BasicAuth, create_app
from tests.web.app_support import ACTION, client_for, parse

PAGES = ("/queues", "/queues/default", "/jobs")


def no_actions(html):
    return [e for e in html.all() if e.attrs.get("data-testid", "").startswith("action-")] == []


async def test_without_an_auth_hook_the_dashboard_is_read_only_and_says_why(oban, seeded):
    async for http in client_for(create_app(oban)):
        for path in (*PAGES, f"/jobs/{seeded.discarded.id}"):
            html = parse((await http.get(path)).text)
            assert "no auth hook is configured" in html.one("read-only-banner").text
            assert no_actions(html) and html.all("job-select") == [] and html.all("scale-input") == []
        response = await http.post(f"/actions/jobs/{seeded.discarded.id}/retry", headers=ACTION)
        assert response.status_code == 403 and "no auth hook is configured" in response.json()["message"]
        assert (await http.post("/actions/queues/default/pause", headers=ACTION)).status_code == 403
    assert (await oban.get_job(seeded.discarded.id)).state is JobState.DISCARDED


async def test_read_only_refuses_actions_even_with_auth(oban, seeded):
    app = create_app(oban, read_only=True, auth=BasicAuth("admin", "s3cret"))
    async for http in client_for(app, auth=("admin", "s3cret")):
        for path in (*PAGES, f"/jobs/{seeded.discarded.id}"):
            html = parse((await http.get(path)).text)
            assert "read-only mode" in html.one("read-only-banner").text and no_actions(html)
        body = {"action": "delete", "ids": [seeded.discarded.id]}
        response = await http.post("/actions/jobs/bulk", headers=ACTION, json=body)
        assert response.status_code == 403 and response.json()["ok"] is False
    assert (await oban.get_job(seeded.discarded.id)).state is JobState.DISCARDED


@pytest.mark.engines("sqlite")
async def test_basic_auth_guards_every_page_but_healthz(oban, seeded):
    app = create_app(oban, auth=BasicAuth("admin", "s3cret"))
    async for http in client_for(app):
        for path in ("/", *PAGES, f"/jobs/{seeded.discarded.id}", "/static/oban.js"):
            refused = await http.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == 'Basic realm="Oban", charset="UTF-8"'
        assert (await http.get("/queues", auth=("admin", "wrong"))).status_code == 401
        assert (await http.get("/queues", auth=("root", "s3cret"))).status_code == 401
        garbled = {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}
        assert (await http.get("/queues", headers=garbled)).status_code == 401
        assert (await http.get("/queues", headers={"Authorization": "Basic %%%"})).status_code == 401
        assert (await http.get("/queues", auth=("admin", "s3cret"))).status_code == 200
        assert (await http.get("/healthz")).text == "ok"
        refused_action = await http.post(f"/actions/jobs/{seeded.discarded.id}/retry", headers=ACTION)
        assert refused_action.status_code == 401
    assert (await oban.get_job(seeded.discarded.id)).state is JobState.DISCARDED


@pytest.mark.engines("sqlite")
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_auth_hook_of_your_own_guards_pages_and_turns_actions_on(oban, seeded, kind):
    def staff(request):
        return request.cookies.get("staff") == "yes"

    async def staff_async(request):
        return staff(request)

    app = create_app(oban, auth=staff if kind == "sync" else staff_async)
    async for http in client_for(app):
        refused = await http.get("/queues")
        assert refused.status_code == 403 and "www-authenticate" not in refused.headers
        http.cookies.set("staff", "yes")
        html = parse((await http.get(f"/jobs/{seeded.discarded.id}")).text)
        assert html.all("read-only-banner") == [] and html.one("action-retry")
        response = await http.post(f"/actions/jobs/{seeded.discarded.id}/retry", headers=ACTION)
        assert response.status_code == 200 and response.json()["count"] == 1
    assert (await oban.get_job(seeded.discarded.id)).state is JobState.AVAILABLE


async def test_an_action_without_the_action_header_is_refused(oban, seeded):
    app = create_app(oban, auth=BasicAuth("admin", "s3cret"))
    async for http in client_for(app, auth=("admin", "s3cret")):
        forged = await http.post(f"/actions/jobs/{seeded.discarded.id}/delete", data={"confirm": "1"})
        assert forged.status_code == 403 and "X-Oban-Action: 1" in forged.json()["message"]
        wrong = await http.post(f"/actions/jobs/{seeded.discarded.id}/delete", headers={"X-Oban-Action": "yes"})
        assert wrong.status_code == 403
        cross_site = await http.post(
            f"/actions/jobs/{seeded.discarded.id}/delete", headers={**ACTION, "Sec-Fetch-Site": "cross-site"}
        )
        assert cross_site.status_code == 403
    assert (await oban.get_job(seeded.discarded.id)).state is JobState.DISCARDED


async def test_a_dashboard_mounted_in_a_fastapi_app_links_under_its_path(oban, seeded):
    fastapi = pytest.importorskip("fastapi")
    host = fastapi.FastAPI()

    @host.get("/")
    def home() -> dict[str, str]:
        return {"app": "host"}

    host.mount("/admin/oban", create_app(oban, auth=BasicAuth("admin", "s3cret"), title="Jobs of Host"))
    async for http in client_for(host, auth=("admin", "s3cret")):
        assert (await http.get("/")).json() == {"app": "host"}
        root = await http.get("/admin/oban/")
        assert root.status_code == 307 and root.headers["location"] == "/admin/oban/queues"
        html = parse((await http.get("/admin/oban/queues")).text)
        assert html.one("nav-queues").attrs["href"] == "/admin/oban/queues"
        assert html.one("nav-jobs").attrs["href"] == "/admin/oban/jobs"
        assert "Jobs of Host" in html.all(tag="title")[0].text
        assets = [e.attrs.get("href") or e.attrs.get("src") for e in html.all(tag="link") + html.all(tag="script")]
        assets = [asset for asset in assets if not asset.startswith("data:")]  # the empty favicon
        assert assets and all(a.startswith("/admin/oban/static/") for a in assets)
        for asset in assets:
            assert (await http.get(asset)).status_code == 200
        links = [e.attrs["href"] for e in html.one("queue-row", queue="default").all(tag="a")]
        assert links and all(link.startswith("/admin/oban/") for link in links)
        detail = parse((await http.get(f"/admin/oban/jobs/{seeded.discarded.id}")).text)
        action = detail.one("action-retry").attrs["data-action"]
        assert action == f"/admin/oban/actions/jobs/{seeded.discarded.id}/retry"
        assert (await http.post(action, headers=ACTION)).json()["count"] == 1
        deleted = await http.post(f"/admin/oban/actions/jobs/{seeded.scheduled.id}/delete", headers=ACTION)
        assert deleted.json()["redirect"] == "/admin/oban/jobs"
        jobs = parse((await http.get("/admin/oban/jobs?state=available")).text)
        assert jobs.one("state-filter", state="completed").attrs["href"] == "/admin/oban/jobs?state=completed"
        assert (await http.get("/admin/oban/healthz", auth=None)).text == "ok"
    assert (await oban.get_job(seeded.discarded.id)).state is JobState.AVAILABLE


@pytest.mark.engines("sqlite")
async def test_create_app_and_basic_auth_refuse_bad_arguments(oban):
    with pytest.raises(ValueError, match="create_app needs an Oban instance, got 'oban'"):
        create_app("oban")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="auth must be a callable"):
        create_app(oban, auth="admin:secret")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="BasicAuth password must be a non-empty string"):
        BasicAuth("admin", "")
    with pytest.raises(ValueError, match="BasicAuth username must not contain ':'"):
        BasicAuth("ad:min", "pw")
    assert "pw" not in repr(BasicAuth("admin", "pw"))


def test_importing_oban_does_not_import_the_web_stack():
    code = "import sys, oban, oban.cli; print([m for m in ('starlette', 'jinja2', 'uvicorn') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
