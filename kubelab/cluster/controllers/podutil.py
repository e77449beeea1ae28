"""What workload controllers read from a pod: ready, available, active, terminating, and who goes first.

The predicates follow kube-controller-manager's (podutil.IsPodReady / IsPodAvailable,
controller.IsPodActive / IsPodTerminating) so counts in ReplicaSet and Deployment status mean
what they mean upstream. `deletion_order` ranks pods for a scale-down the way ReplicaSets do
(controller.ActivePodsWithRanks): unscheduled before scheduled, Pending before Running, not
ready before ready, lower `controller.kubernetes.io/pod-deletion-cost` first, pods doubled up
on a node first, then the most recently ready, the most restarted and the newest — with
timestamps compared on a logarithmic scale (LogarithmicScaleDown), ties broken by uid.

Read by: controllers.replicas, controllers.deployment*, and the other workload controllers (daemonset,
podcontrol, history …), cluster.rolloutops. Reads: cluster.clock (timestamps).
"""

from __future__ import annotations

import math
from functools import cmp_to_key
from typing import Any

from kubelab.cluster.clock import parse_time

Obj = dict[str, Any]

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def ready_condition(pod: Obj) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod: Obj) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def ready_since(pod: Obj) -> float | None:
    """When the pod last became Ready (its Ready condition's lastTransitionTime), or None."""
    condition = ready_condition(pod)
    if condition is None or condition.get("status") != "True" or not condition.get("lastTransitionTime"):
        return None
    return parse_time(condition["lastTransitionTime"])


def available_at(pod: Obj, min_ready_seconds: int) -> float | None:
    """The simulated time from which a ready pod counts as available; None while it is not ready."""
    if not is_ready(pod):
        return None
    if not min_ready_seconds:
        return -math.inf
    since = ready_since(pod)
    return -math.inf if since is None else since + min_ready_seconds


def is_available(pod: Obj, min_ready_seconds: int, now: float) -> bool:
    """Ready for at least minReadySeconds. Upstream compares with a strict `Before`; a simulated clock has
    no skew, so the instant the period ends already counts (the re-check lands exactly there)."""
    when = available_at(pod, min_ready_seconds)
    return when is not None and when <= now


FINISHED = ("Succeeded", "Failed")  # the phases a pod never leaves


def is_active(pod: Obj) -> bool:
    """Counted as a replica: not finished and not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in FINISHED and not pod["metadata"].get("deletionTimestamp")


def is_terminating(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return bool(pod["metadata"].get("deletionTimestamp")) and phase not in FINISHED


def controller_of(obj: Obj) -> Obj | None:
    """The ownerReference with `controller: true`, if any."""
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def controller_ref(owner: Obj) -> Obj:
    """metav1.NewControllerRef: the reference a controller puts on what it creates or adopts."""
    meta = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


# ----------------------------------------------------------------- scale-down ranking
def deletion_order(pods: list[Obj], related: list[Obj], now: float) -> list[Obj]:
    """`pods` sorted so that the first ones are the best to delete. `related` are the active pods of the
    whole workload (all ReplicaSets of the Deployment) used to find pods doubled up on a node."""
    on_node: dict[str, int] = {}
    for pod in related:
        if is_active(pod):
            node = (pod.get("spec") or {}).get("nodeName") or ""
            on_node[node] = on_node.get(node, 0) + 1
    ranks = {id(p): on_node.get((p.get("spec") or {}).get("nodeName") or "", 0) for p in pods}

    def compare(a: Obj, b: Obj) -> int:
        if _less(a, b, ranks, now):
            return -1
        if _less(b, a, ranks, now):
            return 1
        return 0

    return sorted(pods, key=cmp_to_key(compare))


def _less(a: Obj, b: Obj, ranks: dict[int, int], now: float) -> bool:
    node_a, node_b = (a.get("spec") or {}).get("nodeName") or "", (b.get("spec") or {}).get("nodeName") or ""
    if node_a != node_b and (not node_a or not node_b):
        return not node_a
    phase_a = _PHASE_ORDER.get((a.get("status") or {}).get("phase") or "", 0)
    phase_b = _PHASE_ORDER.get((b.get("status") or {}).get("phase") or "", 0)
    if phase_a != phase_b:
        return phase_a < phase_b
    if is_ready(a) != is_ready(b):
        return not is_ready(a)
    cost_a, cost_b = _deletion_cost(a), _deletion_cost(b)
    if cost_a != cost_b:
        return cost_a < cost_b
    if ranks[id(a)] != ranks[id(b)]:
        return ranks[id(a)] > ranks[id(b)]
    if is_ready(a) and is_ready(b):
        verdict = _newer(ready_since(a), ready_since(b), a, b, now)
        if verdict is not None:
            return verdict
    restarts_a, restarts_b = _max_restarts(a), _max_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b
    created_a = _time(a["metadata"].get("creationTimestamp"))
    created_b = _time(b["metadata"].get("creationTimestamp"))
    verdict = _newer(created_a, created_b, a, b, now)
    return bool(verdict)


def _newer(t1: float | None, t2: float | None, a: Obj, b: Obj, now: float) -> bool | None:
    """Is `a` (at t1) younger than `b` (at t2) on the logarithmic scale? None when the times are equal."""
    if t1 == t2:
        return None
    if t1 is None or t2 is None:
        return t1 is None  # an unknown time sorts first (afterOrZero)
    r1, r2 = _log_rank(now - t1), _log_rank(now - t2)
    if r1 == r2:
        return a["metadata"].get("uid", "") < b["metadata"].get("uid", "")
    return r1 < r2


def _log_rank(age_seconds: float) -> int:
    nanoseconds = age_seconds * 1e9
    return int(math.log2(nanoseconds)) if nanoseconds > 0 else -1


def _deletion_cost(pod: Obj) -> int:
    text = (pod["metadata"].get("annotations") or {}).get(DELETION_COST)
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


def _max_restarts(pod: Obj) -> tuple[int, int]:
    """(regular containers, restartable init containers): the higher count is deleted first."""
    status = pod.get("status") or {}
    regular = max((c.get("restartCount", 0) for c in status.get("containerStatuses") or ()), default=0)
    sidecars = {c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or ()
                if c.get("restartPolicy") == "Always"}
    sidecar = max((c.get("restartCount", 0) for c in status.get("initContainerStatuses") or ()
                   if c.get("name") in sidecars), default=0)
    return regular, sidecar


def _time(text: str | None) -> float | None:
    return parse_time(text) if text else None
