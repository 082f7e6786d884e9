"""A web dashboard for oban: queues, jobs, charts and actions, as a mountable ASGI app.

``create_app(oban)`` gives a Starlette app; serve it with any ASGI server or mount it in your
own (``app.mount("/oban", create_app(oban, auth=...))``). ``oban web --dsn ...`` serves one with
uvicorn. It needs the ``web`` extra: ``pip install 'oban-sql[web]'`` (Starlette, Jinja2, uvicorn);
``import oban`` never imports them.

Pages (relative to where the app is mounted): ``/queues`` (each queue's limit, status, live
nodes and jobs by state, with per-minute charts of completions and failures over the last hour),
``/queues/{name}``, ``/jobs`` (filters ``state``, ``queue``, ``worker``, search ``q``, older pages
with ``before``), ``/jobs/{id}``, and ``/healthz``. Pages are rendered on the server; a small
script refreshes the content every 2 seconds (``?fragment=1``) until paused, and sends the
actions: ``POST /actions/jobs/{id}/{retry|cancel|delete}``, ``POST /actions/jobs/bulk``
(``{"action", "ids"}``) and ``POST /actions/queues/{name}/{pause|resume|scale}`` (``{"limit"}``).

Actions need an ``auth`` hook (a callable or :class:`BasicAuth`, which then guards every page)
and ``read_only=False``; each must carry the ``X-Oban-Action: 1`` header the script sends.
"""

from .app import create_app
from .auth import AuthHook, BasicAuth

__all__ = ["AuthHook", "BasicAuth", "create_app"]
