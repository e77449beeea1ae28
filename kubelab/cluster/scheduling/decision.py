"""Why a pod went where it went: one record per scheduling attempt, kept for lessons to show.

A `SchedulingDecision` holds which filter turned each node away (with the detail: which taint,
how much cpu), every feasible node's plugin scores and weighted total, the nodes tied at the
top (the seeded generator picked among them), and the outcome — the node, or the
FailedScheduling message. `str(decision)` reads like an explanation. `DecisionLog` keeps the
last attempts of the most recent pods only, so a long-running cluster stays small.

Read by: cluster.scheduler, cluster.nodeops (`Cluster.scheduling_decision`). Reads: scheduling.filters.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubelab.cluster.scheduling.filters import Rejection
from kubelab.cluster.scheduling.scoring import WEIGHTS

PodKey = tuple[str, str]


@dataclass(slots=True)  # slots: one is made per attempt and the last thousand pods' are kept
class SchedulingDecision:
    pod: str  # "default/db"
    time: float
    attempt: int
    node: str | None
    rejected: dict[str, Rejection] = field(default_factory=dict)
    tied: list[str] = field(default_factory=list)
    message: str = ""
    nominated: str | None = None
    victims: list[str] = field(default_factory=list)
    # Every feasible node's plugin scores, built on first read by `_pending_scores` (scoring.totals).
    _scores: dict[str, dict[str, int]] | None = field(default=None, repr=False)
    _pending_scores: Callable[[], dict[str, dict[str, int]]] | None = field(default=None, repr=False, compare=False)

    @property
    def scores(self) -> dict[str, dict[str, int]]:
        """{node: {plugin: normalised score, …, "total": weighted sum}} for every feasible node."""
        if self._scores is None:
            self._scores = self._pending_scores() if self._pending_scores is not None else {}
            self._pending_scores = None
        return self._scores

    @scores.setter
    def scores(self, value: dict[str, dict[str, int]] | Callable[[], dict[str, dict[str, int]]]) -> None:
        """The scores, or a function that builds them when first read."""
        if callable(value):
            self._scores, self._pending_scores = None, value
        else:
            self._scores, self._pending_scores = value, None

    @property
    def bound(self) -> bool:
        return self.node is not None

    def explain(self) -> str:
        outcome = f"→ {self.node}" if self.node else "stays Pending"
        lines = [f"Pod {self.pod} {outcome} (attempt {self.attempt})"]
        names = sorted(set(self.rejected) | set(self.scores))
        width = max((len(n) for n in names), default=0)
        for name in names:
            if name in self.rejected:
                r = self.rejected[name]
                why = ", ".join(r.reasons)
                lines.append(f"  {name:<{width}}  ✗ {r.plugin}: {why}" + (f" ({r.detail})" if r.detail else ""))
                continue
            scores = self.scores[name]
            parts = " + ".join(f"{plugin} {scores[plugin]}×{weight}" for plugin, weight in WEIGHTS.items())
            mark = "  ← picked" if name == self.node else ""
            lines.append(f"  {name:<{width}}  score {scores['total']} = {parts}{mark}")
        if len(self.tied) > 1:
            lines.append(f"  tie between {', '.join(self.tied)}: picked by the seeded generator")
        if self.nominated:
            lines.append(f"  preemption: nominated {self.nominated}, evicting {', '.join(self.victims)}")
        if not self.node and self.message:
            lines.append(f"  {self.message}")
        return "\n".join(lines)

    __str__ = explain

    def as_dict(self) -> dict[str, Any]:
        return {
            "pod": self.pod,
            "time": self.time,
            "attempt": self.attempt,
            "node": self.node,
            "rejected": {name: {"plugin": r.plugin, "reasons": list(r.reasons), "detail": r.detail,
                                "resolvable": r.resolvable} for name, r in self.rejected.items()},
            "scores": {name: dict(s) for name, s in self.scores.items()},
            "tied": list(self.tied),
            "message": self.message,
            "nominated": self.nominated,
            "victims": list(self.victims),
        }


class DecisionLog:
    """The last `per_pod` decisions of the last `pods` pods scheduled."""

    def __init__(self, pods: int = 1000, per_pod: int = 5) -> None:
        self._pods = pods
        self._per_pod = per_pod
        # Least recently scheduled pod first. (A plain dict is slower here: finding its first key after many
        # deletions at the front scans them.)
        self._items: OrderedDict[PodKey, list[SchedulingDecision]] = OrderedDict()

    def add(self, key: PodKey, decision: SchedulingDecision) -> None:
        items = self._items
        history = items.pop(key, None)
        if history is None:
            history = [decision]
        else:
            history.append(decision)
            del history[:-self._per_pod]
        items[key] = history
        while len(items) > self._pods:
            items.popitem(last=False)

    def latest(self, key: PodKey) -> SchedulingDecision | None:
        history = self._items.get(key)
        return history[-1] if history else None

    def history(self, key: PodKey) -> list[SchedulingDecision]:
        return list(self._items.get(key, ()))

    def attempts(self, key: PodKey) -> int:
        history = self._items.get(key)
        return history[-1].attempt if history else 0

    def forget(self, key: PodKey) -> None:
        self._items.pop(key, None)
