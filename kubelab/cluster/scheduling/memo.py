"""Per-node results of the last scheduling cycles, reused while neither the node nor the pod's shape changed.

A full scheduling pass (scheduling.board rebuilding its state) runs every filter and raw score
on every node. A node's filter verdict and raw scores depend only on the pod's PodFacts (its
`shape`), the node's bound pods (`NodeInfo.version`) and the Node objects (`SchedulerCache.epoch`:
ImageLocality counts the nodes holding an image), so with those as the key the cached result is
exactly what recomputing would give, and a full pass recomputes only the nodes that changed.

Read by: cluster.scheduler, scheduling.board.
Reads: scheduling.filters, scheduling.scoring, scheduling.podfacts, scheduling.cache.
"""

from __future__ import annotations

import sys
from typing import Any

from kubelab.cluster.scheduling import filters, scoring
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.cluster.scheduling.podfacts import PodFacts

Obj = dict[str, Any]


_recent_shapes: list[tuple[tuple, str]] = []  # (the facts shape_of read, its shape), latest first


def shape_of(facts: PodFacts) -> str:
    """Everything in `facts` the filters and per-node scores read, as one comparable key (interned:
    comparing it with each node's entry is then an identity check). Pods of one workload come in
    runs: when the facts equal (==) those of one of the last few pods, that pod's key is reused —
    equal facts give the same verdicts and scores, and comparing is C-speed where the text (its
    tolerations above all) took several microseconds per pod."""
    read = (facts.tolerations, facts.node_selector, facts.required_terms, facts.preferred_terms,
            facts.host_ports, facts.requests, facts.non_zero, facts.images)
    for i, (seen, shape) in enumerate(_recent_shapes):
        if seen == read:
            if i:
                _recent_shapes.insert(0, _recent_shapes.pop(i))
            return shape
    shape = sys.intern(repr((*read[:5], sorted(facts.requests.items()), *read[6:])))
    _recent_shapes.insert(0, (read, shape))
    del _recent_shapes[4:]
    return shape


class NodeMemo:
    """{node name: [shape, epoch, version, rejection or None, raw scores or None]} for the latest cycle
    on each node."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Any]] = {}
        self._images: tuple[tuple[str, int], scoring.Images | None] | None = None

    def images(self, facts: PodFacts, shape: str, epoch: int, infos: list[NodeInfo]) -> scoring.Images | None:
        """ImageLocality's PreScore state, which depends on the pod's images and the Nodes only."""
        images = self._images
        if images is None or images[0] != (shape, epoch):
            images = self._images = ((shape, epoch), scoring.image_state(facts, infos))
        return images[1]

    def evaluate(self, pod: Obj, facts: PodFacts, shape: str, epoch: int, infos: list[NodeInfo]
                 ) -> tuple[list[NodeInfo], dict[str, filters.Rejection], dict[str, scoring.Raw] | None]:
        """(feasible nodes, {node: rejection}, each feasible node's raw scores — None when fewer than two
        are feasible, as the scheduler then skips scoring): one pass over the nodes, each recomputed only
        when it changed (fresh containers: the caller may keep them)."""
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
            images = self.images(facts, shape, epoch, infos)
            for info, entry in missing:
                entry[4] = scoring.raw_scores(facts, info, images)
            raw = {info.name: entries[info.name][4] for info in feasible}  # in node order, as scores are shown
        return feasible, rejected, raw
