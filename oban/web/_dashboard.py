"""What every page and action of one dashboard shares: the ``Oban`` it reads, and who may act."""

from __future__ import annotations

from dataclasses import dataclass

from ..engines.kit import MAX_ID
from ..oban import Oban
from .auth import AuthHook, BasicAuth

MAX_JOB_ID = MAX_ID
"""The largest id any engine stores (a signed 64-bit column); a larger one names no job."""


@dataclass(frozen=True, slots=True)
class Dashboard:
    """One ``create_app`` call's settings."""

    oban: Oban
    read_only: bool
    auth: AuthHook | BasicAuth | None
    title: str

    @property
    def actions_allowed(self) -> bool:
        """Actions need an auth hook (it guards every request) and read-only mode off."""
        return self.auth is not None and not self.read_only

    @property
    def read_only_reason(self) -> str:
        """Why actions are off, as the banner says it ("" when they are on)."""
        if self.read_only:
            return (
                "Read-only: this dashboard was started in read-only mode, "
                "so retry, cancel, delete, pause, resume and scale are off."
            )
        if self.auth is None:
            return (
                "Read-only: no auth hook is configured, so actions are off. "
                "Pass auth= to oban.web.create_app (or --basic-auth to oban web) to turn them on."
            )
        return ""
