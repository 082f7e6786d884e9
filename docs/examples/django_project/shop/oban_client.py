"""The project's one oban client, on the database named by ``settings.OBAN_DSN``."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from oban.sync import SyncClient


@cache
def oban_client() -> SyncClient:
    """The process's ``SyncClient``, made on first use and shared by every request thread."""
    return SyncClient(settings.OBAN_DSN)
