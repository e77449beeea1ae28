"""A DaemonSet's rolling update: which old pods to delete and where to surge new ones.

Pure functions of one sync's view (pods by node, which nodes should run the daemon, the current
`controller-revision-hash`), following the DaemonSet controller's rollingUpdate. Without surge,
old pods are deleted while no more than `maxUnavailable` nodes lack an available pod (unavailable
old pods go first, and do not wait). With `maxSurge`, a new pod starts next to the old one on up
to `maxSurge` nodes at a time and the old pod goes once the new one is available. Deleting is
the whole update: the manage loop then creates the pod of the new revision where one is missing.

Read by: controllers.daemonset. Reads: controllers.podutil.
"""

from __future__ import annotations

import math
from typing import Any

from kubelab.cluster.controllers.podutil import is_available

Obj = dict[str, Any]
HASH_LABEL = "controller-revision-hash"


def scaled(value: Any, total: int, round_up: bool = True) -> int:
    """intstr.GetScaledValueFromIntOrPercent: an int as is, "25%" of `total` (rounded up by default)."""
    if isinstance(value, int):
        return value
    text = str(value or "0")
    if text.endswith("%"):
        share = int(text[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(text)


def budgets(ds: Obj, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for `desired` scheduled nodes; both 0 means one at a time."""
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    surge = scaled(rolling.get("maxSurge", 0), desired)
    unavailable = scaled(rolling.get("maxUnavailable", 1), desired)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def split_pods(pods: list[Obj], hash_: str) -> tuple[Obj | None, Obj | None, bool]:
    """findUpdatedPodsOnNode: (new pod, old pod, ok) among a node's live pods; not ok with duplicates."""
    new = old = None
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if (pod["metadata"].get("labels") or {}).get(HASH_LABEL) == hash_:
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def rolling_update(ds: Obj, node_pods: dict[str, list[Obj]], should_run: dict[str, bool], hash_: str,
                   now: float) -> tuple[list[Obj], list[str]]:
    """(old pods to delete, nodes to create a surge pod on) for this sync."""
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    desired = sum(1 for run in should_run.values() if run)
    surge, max_unavailable = budgets(ds, desired)

    def available(pod: Obj) -> bool:
        return is_available(pod, min_ready, now)

    if surge == 0:
        unavailable = 0
        replace: list[Obj] = []
        candidates: list[Obj] = []
        for node in sorted(node_pods):
            new, old, ok = split_pods(node_pods[node], hash_)
            if not ok or (new is None) == (old is None):
                unavailable += 1  # the manage loop creates or prunes here first
            elif new is not None:
                unavailable += 0 if available(new) else 1
            elif old is not None and not available(old):
                replace.append(old)
            elif old is not None and unavailable < max_unavailable:
                candidates.append(old)
        room = max(0, min(max_unavailable - unavailable, len(candidates)))
        return replace + candidates[:room], []

    to_delete: list[Obj] = []
    not_wanted: list[Obj] = []
    allowed: list[str] = []
    candidate_nodes: list[str] = []
    surging = available_count = 0
    for node in sorted(node_pods):
        new, old, ok = split_pods(node_pods[node], hash_)
        if not ok:
            surging += 1
            continue
        counted = old if old is not None else new
        if counted is not None and available(counted):
            available_count += 1
        if old is None:
            continue
        if new is None:
            if not available(old):
                if should_run.get(node):
                    allowed.append(node)
                else:
                    to_delete.append(old)
            elif not should_run.get(node):
                not_wanted.append(old)
            elif surging < surge:
                candidate_nodes.append(node)
        elif not available(new):
            surging += 1
        else:
            to_delete.append(old)
    # With surge the owner expects full availability: a pod on a node that no longer qualifies
    # only goes once enough pods elsewhere are available.
    spare = min(available_count - desired, len(not_wanted))
    to_delete.extend(not_wanted[:max(0, spare)])
    room = max(0, min(surge - surging, len(candidate_nodes)))
    return to_delete, allowed + candidate_nodes[:room]
