"""Who may see the dashboard and act in it: a hook of your own, or HTTP basic auth.

``create_app(oban, auth=...)`` takes either a callable ``auth(request) -> bool`` (sync or async;
it sees the Starlette ``Request``, so it can read your session, cookies or headers) or a
:class:`BasicAuth`. When given, the hook guards every page; it is also what unlocks the actions
(retry, cancel, delete, pause, resume, scale): without a hook the dashboard is read-only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import inspect
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

AuthHook = Callable[[Request], bool | Awaitable[bool]]
"""A callable given the request, returning (or awaiting to) ``True`` to let it through."""


class BasicAuth:
    """HTTP basic auth with one user: ``BasicAuth("admin", os.environ["OBAN_WEB_PASSWORD"])``.

    Both parts are compared in constant time; a request without the right credentials gets
    ``401`` with a ``WWW-Authenticate`` header, so a browser asks for them.
    """

    def __init__(self, username: str, password: str, *, realm: str = "Oban") -> None:
        for field, value in (("username", username), ("password", password)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"BasicAuth {field} must be a non-empty string, got {type(value).__name__}")
        if ":" in username:
            raise ValueError(f"BasicAuth username must not contain ':', got {username!r}")
        if '"' in realm:
            raise ValueError(f"BasicAuth realm must not contain '\"', got {realm!r}")
        self.username = username
        self._password = password.encode()
        self.realm = realm

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=<hidden>)"

    def __call__(self, request: Request) -> bool:
        """True when the request carries this user's credentials."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        # Both comparisons always run, so the time taken says nothing about which part was wrong.
        user_ok = hmac.compare_digest(user, self.username.encode())
        password_ok = hmac.compare_digest(password, self._password)
        return bool(sep) and user_ok and password_ok

    def challenge(self) -> Response:
        """The ``401`` that makes a browser ask for the user and password."""
        return PlainTextResponse(
            "Authentication required",
            status_code=401,
            headers={"WWW-Authenticate": f'Basic realm="{self.realm}", charset="UTF-8"'},
        )


async def authorized(auth: AuthHook | BasicAuth, request: Request) -> bool:
    """Run the hook (awaiting it if it is async) and say whether the request may pass."""
    answer = auth(request)
    if inspect.isawaitable(answer):
        answer = await answer
    return answer is True


def refusal(auth: AuthHook | BasicAuth) -> Response:
    """What a request the hook turned away gets: a basic-auth challenge, or ``403``."""
    if isinstance(auth, BasicAuth):
        return auth.challenge()
    return PlainTextResponse("Forbidden: the dashboard's auth hook refused this request", status_code=403)
