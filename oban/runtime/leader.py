"""Leadership: one node per cluster name holds a lease and does the cluster-wide chores."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from .. import telemetry
from .._time import utcnow
from ..engines.protocol import Engine
from ._periodic import Periodic

log = logging.getLogger("oban.leader")


class Leader:
    """Takes and renews a lease in ``oban_peers``; ``is_leader`` says whether this node holds it.

    Every node runs an election each ``interval``; a lease lasts ``ttl`` from its last renewal, so
    when the leader dies another node holds the lease within ``ttl + interval``. ``on_elected``
    runs each time this node becomes leader (the node uses it to start the chores at once).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        name: str,
        node: str,
        interval: float = 2.5,
        ttl: float = 10.0,
        on_elected: Callable[[], None] | None = None,
    ) -> None:
        if not 0 < interval < ttl:
            raise ValueError(f"leadership needs 0 < interval < ttl, got {interval!r} and {ttl!r}")
        self._engine = engine
        self.name = name
        self.node = node
        self.interval = interval
        self.ttl = ttl
        self.is_leader = False
        self._on_elected = on_elected
        # A fresh node counts as healthy for a whole lease already; one that just failed must
        # earn it again (the lifeline waits for that, see Node).
        self._healthy_since: float | None = time.monotonic() - ttl
        self._loop = Periodic("leader", interval, self.elect, max_backoff=interval)

    async def elect(self) -> bool:
        """Try to take or renew the lease now; returns whether this node leads."""
        try:
            metadata = {"name": self.name, "node": self.node, "leader": self.is_leader}
            with telemetry.span("oban.leader.election", metadata) as span:
                try:
                    leading = await self._engine.elect_leader(self.name, self.node, self.ttl, utcnow())
                except Exception:
                    span.add({"leader": False})
                    raise
                span.add({"leader": leading, "was_leader": self.is_leader})
        except Exception:
            if self.is_leader:
                log.warning("lost leadership of %s: the election failed", self.name)
            self.is_leader = False
            self._healthy_since = None
            raise
        if self._healthy_since is None:
            self._healthy_since = time.monotonic()
        if leading != self.is_leader:
            log.info("node %s %s leader of %s", self.node, "became" if leading else "is no longer", self.name)
        became = leading and not self.is_leader
        self.is_leader = leading
        if became and self._on_elected is not None:
            self._on_elected()
        return leading

    def healthy_for(self) -> float:
        """Seconds this node has reached the database at every election since its last failure."""
        return 0.0 if self._healthy_since is None else time.monotonic() - self._healthy_since

    async def start(self) -> None:
        """Run a first election, then keep renewing in the background."""
        try:
            await self.elect()
        except Exception as error:
            log.warning("first leader election failed: %r", error)
        self._loop.start()

    def on_resigned(self) -> None:
        """Another leader stepped down: run an election at once."""
        if not self.is_leader:
            self._loop.kick()

    async def stop(self) -> None:
        """Stop renewing; a leader deletes its lease and tells the others."""
        await self._loop.stop()
        if self.is_leader:
            self.is_leader = False
            try:
                await self._engine.resign_leader(self.name, self.node)
                await self._engine.notify("leader", [{"name": self.name, "down": self.node}])
            except Exception as error:
                log.warning("resigning leadership failed; the lease will expire: %r", error)
