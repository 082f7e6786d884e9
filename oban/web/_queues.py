"""What the queue pages show: each queue's counts by state and the live nodes running it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..job import JobState
from ..runtime.producer import QueueInfo

STATES: tuple[str, ...] = tuple(state.value for state in JobState)


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """One queue across the cluster: jobs by state and its live producers (one per node)."""

    name: str
    counts: dict[str, int]
    nodes: tuple[QueueInfo, ...]

    @property
    def paused(self) -> bool:
        """True when every live node running the queue has it paused (and one does run it)."""
        return bool(self.nodes) and all(info.paused for info in self.nodes)

    @property
    def status_detail(self) -> str:
        """Says how many nodes are paused, for a tooltip."""
        if not self.nodes:
            return "no live node runs this queue"
        paused = sum(info.paused for info in self.nodes)
        return f"paused on {paused} of {len(self.nodes)} node(s)"

    @property
    def node_count(self) -> int:
        """How many live nodes run the queue."""
        return len({info.node for info in self.nodes})

    @property
    def limit(self) -> int | None:
        """The concurrency limit when every node has the same one, else ``None``."""
        limits = {info.limit for info in self.nodes}
        return limits.pop() if len(limits) == 1 else None

    @property
    def limit_text(self) -> str:
        """The limit, the limits per node when they differ (``5, 10``), or ``-`` without nodes."""
        if not self.nodes:
            return "-"
        return ", ".join(str(limit) for limit in sorted({info.limit for info in self.nodes}))

    @property
    def running(self) -> int:
        """How many of the queue's jobs its nodes are running."""
        return sum(len(info.running) for info in self.nodes)

    @property
    def total(self) -> int:
        """How many jobs the queue holds, in any state."""
        return sum(self.counts.values())


def summaries(counts: Mapping[tuple[str, JobState], int], producers: Sequence[QueueInfo]) -> list[QueueSummary]:
    """Every queue that holds jobs or runs on a live node, by name."""
    names = sorted({queue for queue, _ in counts} | {info.queue for info in producers})
    return [
        QueueSummary(
            name=name,
            counts={state: counts.get((name, JobState(state)), 0) for state in STATES},
            nodes=tuple(sorted((i for i in producers if i.queue == name), key=lambda i: (i.node, i.uuid))),
        )
        for name in names
    ]


def state_totals(counts: Mapping[tuple[str, JobState], int], queue: str | None = None) -> dict[str, int]:
    """Jobs per state over every queue, or over ``queue`` only."""
    totals = dict.fromkeys(STATES, 0)
    for (name, state), count in counts.items():
        if queue is None or name == queue:
            totals[JobState(state).value] += count
    return totals
