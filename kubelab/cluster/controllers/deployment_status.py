"""Deployment status: counters, the Available/Progressing/ReplicaFailure conditions, the progress deadline.

`calculate_status` sums the ReplicaSets' status into the Deployment's (zero counters omitted as
Go marshals them) and sets Available from `replicas - maxUnavailable`. `sync_rollout_status` adds
what a rollout reports (kube-controller-manager's progress.go): Progressing True with
NewReplicaSetCreated/FoundNewReplicaSet/ReplicaSetUpdated/NewReplicaSetAvailable while pods move,
False with ProgressDeadlineExceeded once `progressDeadlineSeconds` pass without progress, a
ReplicaSet's ReplicaFailure copied up — and says when to look again for a stuck rollout.

Read by: controllers.deployment, controllers.deployment_rolling. Reads: controllers.deployment_util,
cluster.clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kubelab.cluster.clock import parse_time, rfc3339
from kubelab.cluster.controllers import deployment_util as du

if TYPE_CHECKING:
    from kubelab.cluster.controllers.deployment import DeploymentController

Obj = dict[str, Any]
RATE_LIMITED_REQUEUE = 0.005  # the work queue's first back-off step: "look again right away"

# Condition reasons (deployment/util).
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"


# ------------------------------------------------------------------------------- conditions
def get_condition(status: Obj | None, kind: str) -> Obj | None:
    return next((c for c in (status or {}).get("conditions") or () if c.get("type") == kind), None)


def new_condition(kind: str, status: str, reason: str, message: str, now: float) -> Obj:
    stamp = rfc3339(now)
    return {"type": kind, "status": status, "lastUpdateTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def set_condition(status: Obj, condition: Obj) -> None:
    """Replace the condition of that type (moved to the end), unless status and reason are unchanged;
    the transition time survives while the status stays the same."""
    current = get_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"] \
            and current.get("reason") == condition["reason"]:
        return
    if current is not None and current.get("status") == condition["status"]:
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, condition["type"])
    status.setdefault("conditions", []).append(condition)


def remove_condition(status: Obj, kind: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or () if c.get("type") != kind]


def rs_condition_for_deployment(condition: Obj) -> Obj:
    return {"type": condition["type"], "status": condition["status"],
            "lastUpdateTime": condition.get("lastTransitionTime"),
            "lastTransitionTime": condition.get("lastTransitionTime"),
            "reason": condition.get("reason", ""), "message": condition.get("message", "")}


# ----------------------------------------------------------------------------------- status
def calculate_status(all_rss: Sequence[Obj | None], new_rs: Obj | None, d: Obj, now: float) -> Obj:
    available = du.status_count(all_rss, "availableReplicas")
    unavailable = max(du.spec_replicas(all_rss) - available, 0)
    old = d.get("status") or {}
    status: Obj = {
        "observedGeneration": d["metadata"].get("generation", 0),
        "replicas": du.status_count(all_rss, "replicas"),
        "updatedReplicas": du.status_count([new_rs], "replicas"),
        "readyReplicas": du.status_count(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
        "terminatingReplicas": du.terminating_count(all_rss),
        "conditions": [dict(c) for c in old.get("conditions") or ()],
        "collisionCount": old.get("collisionCount"),
    }
    if available >= du.replicas(d) - du.max_unavailable(d):
        set_condition(status, new_condition("Available", "True", MIN_AVAILABLE_REASON,
                                            "Deployment has minimum availability.", now))
    else:
        set_condition(status, new_condition("Available", "False", MIN_UNAVAILABLE_REASON,
                                            "Deployment does not have minimum availability.", now))
    return normalize_status(status)


def normalize_status(status: Obj) -> Obj:
    """DeploymentStatus as Go marshals it: zero counters omitted, pointers kept when set."""
    out: Obj = {}
    for key in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                "unavailableReplicas"):
        if status.get(key):
            out[key] = status[key]
    if status.get("terminatingReplicas") is not None:
        out["terminatingReplicas"] = status["terminatingReplicas"]
    if status.get("conditions"):
        out["conditions"] = status["conditions"]
    if status.get("collisionCount") is not None:
        out["collisionCount"] = status["collisionCount"]
    return out


def deployment_complete(d: Obj, status: Obj) -> bool:
    want = du.replicas(d)
    return (status.get("updatedReplicas", 0) == want and status.get("replicas", 0) == want
            and status.get("availableReplicas", 0) == want
            and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0))


def deployment_progressing(d: Obj, new: Obj) -> bool:
    """More updated, ready or available pods than last time, or fewer old ones."""
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def deadline_of(d: Obj, status: Obj) -> float | None:
    """When the current rollout runs out of time: the Progressing condition's lastUpdateTime plus
    progressDeadlineSeconds (None when there is nothing to time out)."""
    condition = get_condition(status, "Progressing")
    if not du.has_progress_deadline(d) or condition is None or not condition.get("lastUpdateTime"):
        return None
    return parse_time(condition["lastUpdateTime"]) + d["spec"]["progressDeadlineSeconds"]


def deployment_timed_out(d: Obj, status: Obj, now: float) -> bool:
    condition = get_condition(status, "Progressing")
    if not du.has_progress_deadline(d) or condition is None:
        return False
    if condition.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False
    if condition.get("reason") == TIMED_OUT_REASON:
        return True
    deadline = deadline_of(d, status)
    return deadline is not None and deadline < now


# --------------------------------------------------------------------- sync passes
def sync_deployment_status(dc: DeploymentController, all_rss: Sequence[Obj | None], new_rs: Obj | None,
                           d: Obj) -> None:
    """Counters and Available only (scaling, paused, being deleted)."""
    status = calculate_status(all_rss, new_rs, d, dc.cluster.clock.now())
    if status != normalize_status(d.get("status") or {}):
        d["status"] = status
        dc.write_status(d)


def sync_rollout_status(dc: DeploymentController, all_rss: Sequence[Obj | None], new_rs: Obj | None,
                        d: Obj) -> float | None:
    """Status plus the Progressing condition; returns when to look again for a stuck rollout."""
    now = dc.cluster.clock.now()
    status = calculate_status(all_rss, new_rs, d, now)
    if not du.has_progress_deadline(d):
        remove_condition(status, "Progressing")
    current = get_condition(d.get("status"), "Progressing")
    complete_before = (status.get("replicas", 0) == status.get("updatedReplicas", 0) and current is not None
                       and current.get("reason") == NEW_RS_AVAILABLE_REASON)
    what = f'ReplicaSet "{new_rs["metadata"]["name"]}"' if new_rs else f'Deployment "{d["metadata"]["name"]}"'
    if du.has_progress_deadline(d) and not complete_before:
        if deployment_complete(d, status):
            set_condition(status, new_condition("Progressing", "True", NEW_RS_AVAILABLE_REASON,
                                                f"{what} has successfully progressed.", now))
        elif deployment_progressing(d, status):
            condition = new_condition("Progressing", "True", RS_UPDATED_REASON, f"{what} is progressing.", now)
            if current is not None:
                # Progress refreshes lastUpdateTime (the deadline restarts) but not the transition time.
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(status, "Progressing")
            set_condition(status, condition)
        elif deployment_timed_out(d, status, now):
            set_condition(status, new_condition("Progressing", "False", TIMED_OUT_REASON,
                                                f"{what} has timed out progressing.", now))
    failures = _replica_failures(all_rss, new_rs)
    if failures:
        set_condition(status, failures[0])
    else:
        remove_condition(status, "ReplicaFailure")
    status = normalize_status(status)
    if status == normalize_status(d.get("status") or {}):
        return _recheck_stuck(d, status, now)
    d["status"] = status
    dc.write_status(d)
    return None  # the status write brings the Deployment back here, where the stuck check is made


def _replica_failures(all_rss: Sequence[Obj | None], new_rs: Obj | None) -> list[Obj]:
    """The new ReplicaSet's ReplicaFailure first, else any old one's."""
    for group in ([new_rs], all_rss):
        found = [rs_condition_for_deployment(c) for rs in group if rs is not None
                 for c in (rs.get("status") or {}).get("conditions") or () if c.get("type") == "ReplicaFailure"]
        if found:
            return found
    return []


def _recheck_stuck(d: Obj, status: Obj, now: float) -> float | None:
    """Seconds until an unfinished rollout reaches its progress deadline (None: nothing to time out)."""
    current = get_condition(d.get("status"), "Progressing")
    if not du.has_progress_deadline(d) or current is None:
        return None
    if deployment_complete(d, status) or current.get("reason") == TIMED_OUT_REASON:
        return None
    finished = status.get("replicas", 0) == status.get("updatedReplicas", 0)
    if finished and current.get("reason") == NEW_RS_AVAILABLE_REASON:
        # A finished rollout that lost availability (its node failed) never times out: sync_rollout_status
        # keeps its condition. (kube-controller-manager's rate-limited requeues back off; a fixed one would spin.)
        return None
    deadline = deadline_of(d, d.get("status") or {})
    if deadline is None:
        return None
    # Exactly at the deadline the rollout has not yet "passed" it; a rate-limited requeue later it has.
    return max(deadline - now, 0.0) + RATE_LIMITED_REQUEUE
