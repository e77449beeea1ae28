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

from typing import Any

from kubelab.cluster.scheduling import filters, scoring
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.cluster.scheduling.podfacts import PodFacts

Obj = dict[str, Any]


def shape_of(facts: PodFacts) -> str:
    """Everything in `facts` the filters and per-node scores read, as one comparable key."""
    return repr((facts.tolerations, facts.node_selector, facts.required_terms, facts.preferred_terms,
                 facts.host_ports, sorted(facts.requests.items()), facts.non_zero, facts.images))


class NodeMemo:
    """{node name: (key, rejection or None, raw scores or None)} for the latest cycle on each node."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple, filters.Rejection | None, scoring.Raw | None]] = {}
        self._images: tuple[tuple[str, int], scoring.Images | None] | None = None

    def filter(self, pod: Obj, facts: PodFacts, shape: str, epoch: int,
               infos: list[NodeInfo]) -> tuple[list[NodeInfo], dict[str, filters.Rejection]]:
        """(feasible nodes, {node: rejection}) for this cycle, each node recomputed only when it changed."""
        entries = self._entries
        feasible: list[NodeInfo] = []
        rejected: dict[str, filters.Rejection] = {}
        for info in infos:
            wanted = (shape, epoch, info.version)
            entry = entries.get(info.name)
            if entry is None or entry[0] != wanted:
                entry = entries[info.name] = (wanted, filters.run_filters(pod, info, facts), None)
            if entry[1] is None:
                feasible.append(info)
            else:
                rejected[info.name] = entry[1]
        return feasible, rejected

    def raw_scores(self, facts: PodFacts, shape: str, epoch: int, feasible: list[NodeInfo],
                   all_nodes: list[NodeInfo]) -> dict[str, scoring.Raw]:
        """Each feasible node's raw scores (call after `filter` in the same cycle)."""
        entries = self._entries
        images = self._images  # ImageLocality's PreScore: depends on the pod's images and the Nodes only
        if images is None or images[0] != (shape, epoch):
            images = self._images = ((shape, epoch), scoring.image_state(facts, all_nodes))
        raw: dict[str, scoring.Raw] = {}
        for info in feasible:
            wanted, rejection, scores = entries[info.name]
            if scores is None:
                scores = scoring.raw_scores(facts, info, images[1])
                entries[info.name] = (wanted, rejection, scores)
            raw[info.name] = scores
        return raw

