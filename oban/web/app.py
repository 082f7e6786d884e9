"""``create_app``: the dashboard as a Starlette app, to serve alone or mount in your own app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ObanError
from ..oban import Oban
from ._actions import Actions
from ._dashboard import Dashboard
from ._pages import Pages
from ._render import STATIC, Renderer
from .auth import AuthHook, BasicAuth, authorized, refusal

OPEN_PATHS = frozenset({"/healthz"})
"""Paths answered without the auth hook: a load balancer's health check has no credentials."""

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'self'"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def _route_path(scope: Scope) -> str:
    path, root = str(scope["path"]), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


class _Guard:
    """Runs the auth hook before every request but the open ones, and adds the security headers."""

    def __init__(self, app: ASGIApp, auth: AuthHook | BasicAuth | None) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        if self.auth is not None and _route_path(scope) not in OPEN_PATHS:
            if not await authorized(self.auth, Request(scope, receive)):
                await refusal(self.auth)(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


def create_app(
    oban: Oban,
    *,
    read_only: bool = False,
    auth: AuthHook | BasicAuth | None = None,
    title: str = "Oban",
) -> Starlette:
    """The dashboard for ``oban``'s jobs and queues, as an ASGI app.

    Serve it with any ASGI server, or mount it: ``app.mount("/oban", create_app(oban, auth=...))``
    in FastAPI or Starlette. It reads through the ``Oban`` facade, connecting the engine on the
    first request; it never starts queues (``oban`` may be a plain client) and never closes the
    engine, which stays yours to stop.

    ``auth`` is a callable ``auth(request) -> bool`` (or an async one) or a :class:`BasicAuth`;
    when given, it guards every page. Actions (retry, cancel, delete; pause, resume, scale a
    queue) are on only when ``auth`` is given and ``read_only`` is false; otherwise the dashboard
    is read-only and says why in a banner. ``/healthz`` answers ``ok`` without auth.
    """
    if not isinstance(oban, Oban):
        raise ValueError(f"create_app needs an Oban instance, got {oban!r}")
    if auth is not None and not callable(auth):
        raise ValueError(f"auth must be a callable taking the request, or a BasicAuth, got {auth!r}")
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"title must be a non-blank string, got {title!r}")
    dashboard = Dashboard(oban=oban, read_only=bool(read_only), auth=auth, title=title)
    renderer = Renderer(
        title=title,
        globals_={"actions_allowed": dashboard.actions_allowed, "read_only_reason": dashboard.read_only_reason},
    )
    pages = Pages(dashboard, renderer)
    actions = Actions(dashboard)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            return pages.not_found(request)
        return renderer.page(
            request, "message.html", status=error.status_code, nav="", heading="Error", message=str(error.detail)
        )

    async def oban_error(request: Request, error: Exception) -> Response:
        # The database is unreachable or has no schema: say so instead of a bare 500.
        message = f"{type(error).__name__}: {error}"
        if request.url.path.startswith(str(request.scope.get("root_path", "")) + "/actions/"):
            return JSONResponse({"ok": False, "message": message}, status_code=503)
        return renderer.page(
            request, "message.html", status=503, nav="", heading="Database unavailable", message=message
        )

    routes = [
        Route("/", pages.home),
        Route("/healthz", healthz),
        Route("/queues", pages.queues),
        Route("/queues/{name:path}", pages.queue),
        Route("/jobs", pages.jobs),
        Route("/jobs/{id:int}", pages.job),
        Route("/actions/jobs/bulk", actions.bulk, methods=["POST"]),
        Route("/actions/jobs/{id:int}/{action}", actions.job, methods=["POST"]),
        Route("/actions/queues/{name:path}/{action}", actions.queue, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, ObanError: oban_error})
    app.add_middleware(_Guard, auth=auth)
    app.state.oban = oban
    app.state.dashboard = dashboard
    return app
