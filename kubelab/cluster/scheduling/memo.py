"""Per-node results of the last scheduling cycles, reused while neither the node nor the pod's shape changed.

Scheduling a burst of similar pods (a ReplicaSet's replicas, a density test's bare pods) runs
every filter and score on every node for each pod, although between two cycles usually one
node changed (the one the previous pod was bound to). A node's filter verdict and raw scores
depend only on the pod's PodFacts (its `shape`), the node's bound pods (`NodeInfo.version`) and
the Node objects (`SchedulerCache.epoch`: ImageLocality counts the nodes holding an image), so
with those as the key the cached result is exactly what recomputing would give.

Read by: cluster.scheduler. Reads: scheduling.filters, scheduling.scoring, scheduling.podfacts, scheduling.cache.
"""

from __future__ import annotations

import sys
from typing import Any

from kubelab.cluster.scheduling import filters, scoring
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.cluster.scheduling.podfacts import PodFacts

Obj = dict[str, Any]


def shape_of(facts: PodFacts) -> str:
    """Everything in `facts` the filters and per-node scores read, as one comparable key (interned:
    comparing it with each node's entry is then an identity check)."""
    return sys.intern(repr((facts.tolerations, facts.node_selector, facts.required_terms, facts.preferred_terms,
                            facts.host_ports, sorted(facts.requests.items()), facts.non_zero, facts.images)))


class NodeMemo:
    """{node name: [shape, epoch, version, rejection or None, raw scores or None]} for the latest cycle
    on each node."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Any]] = {}
        self._images: tuple[tuple[str, int], scoring.Images | None] | None = None
        # The latest answer: (shape, epoch, versions, feasible, rejected, raw). NodeInfo versions are unique
        # across nodes, so equal version lists also mean the same nodes in the same order.
        self._last: tuple[str, int, list[int], list[NodeInfo], dict[str, filters.Rejection],
                          dict[str, scoring.Raw] | None] | None = None

    def evaluate(self, pod: Obj, facts: PodFacts, shape: str, epoch: int, infos: list[NodeInfo]
                 ) -> tuple[list[NodeInfo], dict[str, filters.Rejection], dict[str, scoring.Raw] | None]:
        """(feasible nodes, {node: rejection}, each feasible node's raw scores — None when fewer than two
        are feasible, as the scheduler then skips scoring), each node recomputed only when it changed.
        For the same pod shape as the cycle before, only the nodes whose version moved are looked at,
        and the previous answer is patched while none of them changed feasibility (fresh containers:
        the caller keeps them in its decision)."""
        versions = [info.version for info in infos]
        last = self._last
        if last is not None and last[0] == shape and last[1] == epoch and len(last[2]) == len(versions) \
                and last[5] is not None:
            patched = self._patch(pod, facts, shape, epoch, infos, versions, last)
            if patched is not None:
                return patched
        answer = self._evaluate(pod, facts, shape, epoch, infos)
        self._last = (shape, epoch, versions, *answer)
        return answer[0], dict(answer[1]), None if answer[2] is None else dict(answer[2])

    def _patch(self, pod: Obj, facts: PodFacts, shape: str, epoch: int, infos: list[NodeInfo], versions: list[int],
               last: tuple) -> tuple[list[NodeInfo], dict[str, filters.Rejection], dict[str, scoring.Raw]] | None:
        _, _, before, feasible, rejected, raw = last
        entries = self._entries
        changed = [i for i, (old, new) in enumerate(zip(before, versions, strict=True)) if old != new]
        if changed:
            raw = dict(raw)
            images = self._images
            for i in changed:
                info = infos[i]
                name = info.name
                entry = entries.get(name)
                if name not in raw or entry is None or entry[0] != shape or entry[1] != epoch:
                    return None  # another node, or one that was not feasible: the full pass
                entry = entries[name] = [shape, epoch, info.version, filters.run_filters(pod, info, facts), None]
                if entry[3] is not None or images is None or images[0] != (shape, epoch):
                    return None  # no longer feasible: the full pass (which reuses this entry)
                entry[4] = raw[name] = scoring.raw_scores(facts, info, images[1])
            self._last = (shape, epoch, versions, feasible, rejected, raw)
        return list(feasible), dict(rejected), dict(raw)

    def _evaluate(self, pod: Obj, facts: PodFacts, shape: str, epoch: int, infos: list[NodeInfo]
                  ) -> tuple[list[NodeInfo], dict[str, filters.Rejection], dict[str, scoring.Raw] | None]:
        """`evaluate`'s full pass: one pass over the nodes, each recomputed only when it changed."""
        entries = self._entries
        feasible: list[NodeInfo] = []
        rejected: dict[str, filters.Rejection] = {}
        raw: dict[str, scoring.Raw] = {}
        missing: list[tuple[NodeInfo, list[Any]]] = []
        for info in infos:
            name = info.name
            entry = entries.get(name)
            if entry is None or entry[2] != info.version or entry[1] != epoch or entry[0] != shape:
                entry = entries[name] = [shape, epoch, info.version, filters.run_filters(pod, info, facts), None]
            if entry[3] is None:
                feasible.append(info)
                if entry[4] is None:
                    missing.append((info, entry))
                else:
                    raw[name] = entry[4]
            else:
                rejected[name] = entry[3]
        if len(feasible) < 2:
            return feasible, rejected, None
        if missing:
            images = self._images  # ImageLocality's PreScore: depends on the pod's images and the Nodes only
            if images is None or images[0] != (shape, epoch):
                images = self._images = ((shape, epoch), scoring.image_state(facts, infos))
            for info, entry in missing:
                entry[4] = scoring.raw_scores(facts, info, images[1])
            raw = {info.name: entries[info.name][4] for info in feasible}  # in node order, as scores are shown
        return feasible, rejected, raw
