"""Taints and tolerations: which toleration tolerates which taint, as component-helpers decides it.

A toleration matches a taint when its effect is empty or equal, its key is empty or equal, and
its operator is `Exists` or (`Equal`, the default) its value equals the taint's. An empty key
with `Exists` tolerates everything. The scheduler, the taint-eviction controller and drain all
use these helpers, so they agree on what "tolerated" means.

Read by: scheduling.filters, scheduling.scoring, controllers.tainteviction, cluster.nodes.
Reads: nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]

NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE = "NoSchedule", "PreferNoSchedule", "NoExecute"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def tolerates(toleration: Obj, taint: Obj) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(tolerations: Iterable[Obj] | None, taint: Obj) -> bool:
    return any(tolerates(t, taint) for t in tolerations or ())


def first_untolerated(taints: Iterable[Obj] | None, tolerations: Iterable[Obj] | None,
                      effects: tuple[str, ...] = (NO_SCHEDULE, NO_EXECUTE)) -> Obj | None:
    """The first taint with one of `effects` that no toleration tolerates (FindMatchingUntoleratedTaint)."""
    tolerations = list(tolerations or ())
    for taint in taints or ():
        if taint.get("effect") in effects and not tolerated(tolerations, taint):
            return taint
    return None


def matching_tolerations(tolerations: Iterable[Obj] | None, taint: Obj) -> list[Obj]:
    return [t for t in tolerations or () if tolerates(t, taint)]


def describe(taint: Obj) -> str:
    """`{node-role.kubernetes.io/control-plane: }`, the form kube-scheduler logs a taint in."""
    return "{" + f"{taint.get('key', '')}: {taint.get('value', '')}" + "}"


def text(taint: Obj) -> str:
    """`key=value:Effect` (or `key:Effect`), as kubectl prints and accepts taints."""
    key = taint.get("key", "")
    value = taint.get("value")
    return f"{key}={value}:{taint.get('effect', '')}" if value else f"{key}:{taint.get('effect', '')}"
