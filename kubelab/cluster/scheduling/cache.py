"""The scheduler's cache: every Node and, per node, the pods already bound to it and what they use.

Like kube-scheduler's cache it is fed by watch events (`observe_pod`, `observe_node`) rather
than re-listing the store on every attempt: a bound pod counts against its node (requests,
non-zero requests for scoring, host ports, pod count) from the moment `spec.nodeName` is set
until it is deleted or reaches Succeeded/Failed. Terminating pods still count, as upstream.
A journal names the nodes whose pods changed, so a scheduling cycle can look at those alone
(`mark`, `changed_since`).

Read by: cluster.scheduler, scheduling.filters, scheduling.scoring, scheduling.memo, scheduling.board.
Reads: scheduling.resources.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kubelab.cluster.scheduling import resources

Obj = dict[str, Any]
PodKey = tuple[str, str]
VERSIONS = itertools.count(1)  # NodeInfo versions and SchedulerCache epochs, never reused
JOURNAL_LIMIT = 10_000  # changed-node names kept; a reader further behind recomputes everything


@dataclass(slots=True)  # slots: one per bound pod, kept while it runs
class BoundPod:
    namespace: str
    name: str
    node: str
    labels: dict[str, str]  # the stored pod's own (stored objects are immutable): read only
    requests: dict[str, int]
    non_zero: tuple[int, int]
    ports: tuple[tuple[str, str, int], ...]
    priority: int
    terminating: bool


@dataclass
class NodeInfo:
    """One node and its bound pods, with running totals."""

    name: str
    node: Obj | None = None
    pods: dict[PodKey, BoundPod] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    non_zero_cpu: int = 0
    non_zero_memory: int = 0
    # (namespace, labels) → how many live pods carry them: spreading asks "how many pods here match
    # this selector" for every node and every pod, and a ReplicaSet's pods share one label set.
    label_groups: dict[tuple[str, frozenset[tuple[str, str]]], int] = field(default_factory=dict)
    # Changes whenever a pod is added or removed, and is unique across NodeInfos: what a filter or
    # score computed for this node stays valid while it is unchanged (scheduling.memo).
    version: int = field(default_factory=lambda: next(VERSIONS))

    def _derived(self) -> tuple:
        """(node, allocatable, labels, taints, unschedulable), read once per Node object: plugins ask
        for them on every node in every cycle, and stored Nodes are immutable (a change is a new object)."""
        node = self.node or {}
        cached = self.__dict__.get("_view")
        if cached is None or cached[0] is not node:
            spec = node.get("spec") or {}
            cached = self.__dict__["_view"] = (node, resources.allocatable(node),
                                               (node.get("metadata") or {}).get("labels") or {},
                                               spec.get("taints") or [], bool(spec.get("unschedulable")))
        return cached

    @property
    def allocatable(self) -> dict[str, int]:
        return self._derived()[1]

    @property
    def labels(self) -> dict[str, str]:
        return self._derived()[2]

    @property
    def taints(self) -> list[Obj]:
        return self._derived()[3]

    @property
    def unschedulable(self) -> bool:
        return self._derived()[4]

    def clone(self) -> NodeInfo:
        return NodeInfo(self.name, self.node, dict(self.pods), dict(self.requested), self.non_zero_cpu,
                        self.non_zero_memory, dict(self.label_groups))

    def matching(self, namespace: str, selector: Any, memo_key: Any = None) -> int:
        """Live (not terminating) pods in `namespace` on this node whose labels `selector` matches.
        Remembered per `version`: spreading asks every node for every pod, and between two cycles
        only the node the previous pod went to changed. `memo_key` stands for (namespace, selector)
        when the caller has a cheaper one (scoring passes the selector's text)."""
        memo = self.__dict__.get("_matching")
        if memo is None or memo[0] != self.version:
            counts: dict[Any, int] = {}
            memo = self.__dict__["_matching"] = (self.version, counts)
        key = (namespace, selector) if memo_key is None else memo_key
        count = memo[1].get(key)
        if count is None:
            count = memo[1][key] = sum(c for (ns, labels), c in self.label_groups.items()
                                       if ns == namespace and selector.matches(_as_dict(labels)))
        return count

    def used_ports(self) -> list[tuple[str, str, int]]:
        return [port for pod in self.pods.values() for port in pod.ports]

    def add(self, pod: BoundPod) -> None:
        self.pods[(pod.namespace, pod.name)] = pod
        self._count(pod, +1)

    def remove(self, key: PodKey) -> None:
        pod = self.pods.pop(key, None)
        if pod is not None:
            self._count(pod, -1)

    def _count(self, pod: BoundPod, sign: int) -> None:
        self.version = next(VERSIONS)
        for name, value in pod.requests.items():
            self.requested[name] = self.requested.get(name, 0) + sign * value
        self.non_zero_cpu += sign * pod.non_zero[0]
        self.non_zero_memory += sign * pod.non_zero[1]
        if not pod.terminating:
            group = (pod.namespace, frozenset(pod.labels.items()))
            count = self.label_groups.get(group, 0) + sign
            if count:
                self.label_groups[group] = count
            else:
                self.label_groups.pop(group, None)


@lru_cache(maxsize=4096)
def _as_dict(labels: frozenset[tuple[str, str]]) -> dict[str, str]:
    # A label group's dict, built once: spreading asks for it on every node in every cycle.
    return dict(labels)


def bound_pod(pod: Obj) -> BoundPod | None:
    """The cache entry for a pod, or None when it uses nothing on any node."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    node = spec.get("nodeName")
    if not node or resources.is_terminal(pod):
        return None
    uses = resources.usage(pod)
    return BoundPod(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        node=node,
        labels=meta.get("labels") or {},
        requests=uses.requests,  # read only
        non_zero=uses.non_zero,
        ports=uses.ports,
        priority=int(spec.get("priority") or 0),
        terminating=bool(meta.get("deletionTimestamp")),
    )


class SchedulerCache:
    def __init__(self) -> None:
        self._infos: dict[str, NodeInfo] = {}
        self._where: dict[PodKey, str] = {}
        self.epoch = next(VERSIONS)  # changes with any Node object (labels, taints, images, size)
        # Names of the nodes whose pods changed, oldest first; position i of it is mark _journal_start + i.
        self._journal: list[str] = []
        self._journal_start = 0

    def info(self, name: str) -> NodeInfo:
        if name not in self._infos:
            self._infos[name] = NodeInfo(name)
        return self._infos[name]

    def nodes(self) -> list[NodeInfo]:
        """Every known Node, by name (the order kube-scheduler's snapshot lists them in is not stable;
        a sorted one keeps runs reproducible)."""
        listed = self.__dict__.get("_listed")
        if listed is None or listed[0] != self.epoch:  # a Node came, went or changed: sort again
            listed = self.__dict__["_listed"] = (self.epoch, [info for name, info in sorted(self._infos.items())
                                                              if info.node is not None])
        return list(listed[1])

    def observe_node(self, node: Obj | None, name: str) -> None:
        """A Node was added or changed (`node`), or deleted (None)."""
        self.info(name).node = node
        self.epoch = next(VERSIONS)

    def observe_pod(self, pod: Obj | None, key: PodKey) -> None:
        """A Pod was added or changed (`pod`), or deleted (None)."""
        previous = self._where.pop(key, None)
        if previous is not None:
            self.info(previous).remove(key)
            self._note(previous)
        entry = bound_pod(pod) if pod is not None else None
        if entry is not None:
            self.info(entry.node).add(entry)
            self._where[key] = entry.node
            self._note(entry.node)

    def _note(self, node: str) -> None:
        if len(self._journal) >= JOURNAL_LIMIT:
            self._journal_start += len(self._journal)
            self._journal = []
        self._journal.append(node)

    @property
    def mark(self) -> int:
        """A position in the journal of changed nodes: `changed_since(mark)` later names what changed after it."""
        return self._journal_start + len(self._journal)

    def changed_since(self, mark: int) -> list[str] | None:
        """The nodes (with repeats) whose bound pods changed since `mark`, or None when the journal no
        longer reaches back that far. Node objects changing are not in it: they move `epoch`."""
        if mark < self._journal_start:
            return None
        return self._journal[mark - self._journal_start:]

    def node_of(self, key: PodKey) -> str | None:
        return self._where.get(key)

    def clear(self) -> None:
        self._infos.clear()
        self._where.clear()
        self.epoch = next(VERSIONS)
