"""Pages from templates: root-path-aware links, a fragment mode for live updates, and the filters
the templates use (times, JSON, truncation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .._time import utcnow
from .._version import __version__

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def link(request: Request, path: str, **params: Any) -> str:
    """``path`` (relative to the dashboard's root) as a URL path that works wherever the app is
    mounted; ``params`` left ``None`` or ``""`` are dropped."""
    query = {key: value for key, value in params.items() if value is not None and value != ""}
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root + path + (f"?{urlencode(query)}" if query else "")


def pretty_json(value: Any) -> str:
    """``value`` as indented JSON; what JSON cannot hold (bytes, sets) shown as its repr."""
    return orjson.dumps(value, default=repr, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def compact_json(value: Any, limit: int = 90) -> str:
    """``value`` as one line of JSON, cut to ``limit`` characters with an ellipsis."""
    text = orjson.dumps(value, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(at: datetime | str | None) -> str:
    """A UTC timestamp to the second, or ``-``."""
    if at is None:
        return "-"
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            return str(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def ago(at: datetime | None, now: datetime | None = None) -> str:
    """How long ago (``12s ago``) or how far ahead (``in 5m``) ``at`` is."""
    if at is None:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    seconds = ((now or utcnow()) - at).total_seconds()
    span = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if span >= size:
            amount = f"{int(span // size)}{unit}"
            break
    else:
        amount = f"{int(span)}s"
    return f"{amount} ago" if seconds >= 0 else f"in {amount}"


class Renderer:
    """Renders a page whole, or only its ``content`` block when the request asks for a fragment."""

    def __init__(self, *, title: str, globals_: Mapping[str, Any]) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            auto_reload=False,  # the templates ship with the package and do not change while it runs
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(pretty_json=pretty_json, compact_json=compact_json, when=when, ago=ago)
        self.env.globals.update(title=title, version=__version__, **globals_)

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """The page, or with ``?fragment=1`` only what goes inside ``<main id="content">``."""
        compiled = self.env.get_template(template)

        def url(path: str, **params: Any) -> str:
            return link(request, path, **params)

        variables = {"request": request, "url": url, "now": utcnow(), **context}
        if request.query_params.get("fragment"):
            block = compiled.blocks["content"]
            html = "".join(block(compiled.new_context(variables)))
        else:
            html = compiled.render(variables)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
