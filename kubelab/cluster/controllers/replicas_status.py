"""A ReplicaSet's or ReplicationController's status, from the counts its sync made over its pods.

`calculate_status` turns those counts into replicas, fullyLabeledReplicas, readyReplicas,
availableReplicas (ready for minReadySeconds), terminatingReplicas and the ReplicaFailure condition
(set while creating or deleting pods fails, removed once a sync succeeds); `update_status` writes it
through the status subresource only when something changed, as the Go structs marshal it (omitempty).

Read by: controllers.replicas. Reads: api.errors, cluster.clock, controllers.podutil, store.memory (thaw).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers import podutil
from kubelab.store.memory import thaw

if TYPE_CHECKING:
    from kubelab.cluster.apiserver import ApiServer

Obj = dict[str, Any]


class ManageError(Exception):
    """Creating or deleting pods failed; the message becomes the ReplicaFailure condition's."""


def calculate_status(owner: Obj, replicas: int, fully: int, ready: list[Obj], terminating: int | None,
                     error: Exception | None, now: float) -> Obj:
    """The status for `replicas` active pods, `fully` of them fully labeled, `ready` the ready ones,
    `terminating` being deleted (None: the kind has no terminatingReplicas), after the sync's `error`."""
    spec = owner.get("spec") or {}
    old = owner.get("status") or {}
    min_ready = spec.get("minReadySeconds") or 0
    # Without minReadySeconds every ready pod is available (is_available's answer, without asking twice).
    available = sum(1 for p in ready if podutil.is_available(p, min_ready, now)) if min_ready else len(ready)
    conditions = [thaw(c) for c in old.get("conditions") or ()]
    failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
    if error is not None and failure is None:
        diff = replicas - replicas_of(owner)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions.append({"type": "ReplicaFailure", "status": "True", "lastTransitionTime": rfc3339(now),
                           "reason": reason, "message": str(error) if isinstance(error, ManageError)
                           else text_of(error)})
    elif error is None and failure is not None:
        conditions.remove(failure)
    status: Obj = {"replicas": replicas, "fullyLabeledReplicas": fully, "readyReplicas": len(ready),
                   "availableReplicas": available}
    if terminating is not None:
        status["terminatingReplicas"] = terminating
    status["observedGeneration"] = old.get("observedGeneration", 0)
    status["conditions"] = conditions
    return status


def update_status(api: ApiServer, owner: Obj, status: Obj) -> None:
    """Write `status` unless the owner already shows it; `owner` then carries the stored status."""
    old = owner.get("status") or {}
    generation = owner["metadata"].get("generation", 0)
    same = all(old.get(k, 0) == status[k] for k in
               ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"))
    if same and old.get("terminatingReplicas") == status.get("terminatingReplicas") \
            and generation == old.get("observedGeneration", 0) \
            and (old.get("conditions") or []) == status["conditions"]:
        return
    status["observedGeneration"] = generation
    body = dict(owner)
    body["status"] = _omit_empty(status)
    stored = api.update(body, subresource="status")
    owner["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
    owner["status"] = thaw(stored.get("status") or {})


def replicas_of(owner: Obj) -> int:
    """spec.replicas, 1 when unset."""
    replicas = (owner.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def text_of(err: Exception) -> str:
    """An error as Go's err.Error() prints it: the Status message, without kubelab's hint line."""
    if isinstance(err, ApiError):
        hint = f"\nhint: {err.hint}" if err.hint else ""
        return err.message[: len(err.message) - len(hint)] if hint else err.message
    return str(err)


def _omit_empty(status: Obj) -> Obj:
    """JSON as the Go structs marshal it: `replicas` always, the other counters only when non-zero
    (omitempty), terminatingReplicas whenever it is reported (a pointer)."""
    out: Obj = {"replicas": status["replicas"]}
    for key in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
        if status.get(key):
            out[key] = status[key]
    if "terminatingReplicas" in status:
        out["terminatingReplicas"] = status["terminatingReplicas"]
    if status.get("observedGeneration"):
        out["observedGeneration"] = status["observedGeneration"]
    if status.get("conditions"):
        out["conditions"] = status["conditions"]
    return out


