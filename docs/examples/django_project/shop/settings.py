"""Settings for the shop. ``DATABASE_URL`` picks the database Django and oban share.

``sqlite:///path`` (the default, ``db.sqlite3`` beside manage.py) or
``postgresql://user:password@host:5432/name``. One database for both is what lets a view enqueue
a job inside its own ``transaction.atomic()`` block.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-example-key")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = ["orders"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "shop.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")


def database_settings(url: str) -> dict[str, Any]:
    """Django's ``DATABASES["default"]`` for ``url``."""
    if url.startswith("sqlite:///"):
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": url.removeprefix("sqlite:///"),
            # IMMEDIATE takes the write lock at BEGIN, so Django's writes and oban's never deadlock.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 5, "init_command": "PRAGMA journal_mode=WAL"},
        }
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    raise ImproperlyConfigured(f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}")


DATABASES = {"default": database_settings(DATABASE_URL)}

OBAN_DSN = DATABASE_URL
"""Where oban's tables are: the same database as Django's."""
