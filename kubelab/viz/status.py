"""One status bucket per object, the way a learner should read it at a glance.

`status_of(obj, snapshot=None)` reduces any drawn object to a `Status`: a bucket (ok, pending,
error, terminating, succeeded), a short reason ("CrashLoopBackOff", "2/3 ready") and the
DESIGN palette colour. It looks past the phase: container waiting/terminated reasons,
readiness, deletionTimestamp, controller replica counts, Node conditions and, given the
snapshot, whether a Service has ready endpoints.

Read by: viz.dot, widgets. Reads: viz.snapshot (for Services only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubelab.viz.snapshot import Snapshot

OK, PENDING, ERROR, TERMINATING, SUCCEEDED = "ok", "pending", "error", "terminating", "succeeded"
BUCKETS = (OK, PENDING, ERROR, TERMINATING, SUCCEEDED)

# DESIGN decision 10 (the Lens resource-map palette); the last two buckets share grey, drawn dashed.
PALETTE = {OK: "#4caf50", PENDING: "#ff9800", ERROR: "#ce3933", TERMINATING: "#9dabb5", SUCCEEDED: "#9dabb5"}

# Container reasons that mean "this will not fix itself": kubelet's and the runtime's words.
ERROR_REASONS = frozenset({
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "PreStartHookError",
    "PostStartHookError", "ContainerCannotRun", "StartError", "OOMKilled", "Error", "DeadlineExceeded",
    "Evicted", "ImageInspectError", "RegistryUnavailable", "SignatureValidationFailed",
})


@dataclass(frozen=True)
class Status:
    """What a picture shows for one object."""

    bucket: str
    reason: str = ""

    @property
    def color(self) -> str:
        return PALETTE[self.bucket]

    @property
    def dashed(self) -> bool:
        return self.bucket in (TERMINATING, SUCCEEDED)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.reason}" if self.reason else self.bucket


def status_of(obj: Mapping[str, Any], snapshot: Snapshot | None = None) -> Status:
    """The status bucket and reason of any object; unknown kinds are ok."""
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Status(TERMINATING, "Terminating")
    reader = _READERS.get(str(obj.get("kind", "")))
    if reader is None:
        return Status(OK)
    if obj.get("kind") == "Service":
        return _service(obj, snapshot)
    return reader(obj)


def is_ready(pod: Mapping[str, Any]) -> bool:
    """The pod's Ready condition is True (what the endpoints controller reads)."""
    return _condition(pod, "Ready") == "True"


# ------------------------------------------------------------------ pods
def _pod(pod: Mapping[str, Any]) -> Status:
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded":
        return Status(SUCCEEDED, "Completed")
    if phase == "Failed":
        return Status(ERROR, status.get("reason") or _container_reason(status) or "Failed")
    if phase == "Unknown":
        return Status(ERROR, "Unknown")
    # Init containers first: a pod stuck there never gets to its main containers (kubectl's order).
    init = status.get("initContainerStatuses") or []
    for cs in init:
        reason, bad = _container_state(cs)
        if bad:
            return Status(ERROR, f"Init:{reason}")
    containers = status.get("containerStatuses") or []
    for cs in containers:
        reason, bad = _container_state(cs)
        if bad:
            return Status(ERROR, reason)
    if phase == "Pending":
        if _condition(pod, "PodScheduled") == "False":
            return Status(PENDING, _condition_reason(pod, "PodScheduled") or "Pending")
        if any(not _finished(cs) for cs in init):
            return Status(PENDING, f"Init:{sum(_finished(cs) for cs in init)}/{len(init)}")
        waiting = [(cs.get("state") or {}).get("waiting", {}).get("reason") for cs in containers]
        return Status(PENDING, next((w for w in waiting if w), "Pending"))
    # Running: ready decides ok; a started-but-unready pod is the classic "why no traffic?" case.
    ready = sum(1 for cs in containers if cs.get("ready"))
    total = len(containers) or len((pod.get("spec") or {}).get("containers") or [])
    if is_ready(pod):
        return Status(OK, "Running")
    reasons = [(cs.get("state") or {}).get("waiting", {}).get("reason") for cs in containers]
    waiting_reason = next((w for w in reasons if w), None)
    return Status(PENDING, waiting_reason or f"Running, {ready}/{total} ready")


def _container_state(cs: Mapping[str, Any]) -> tuple[str, bool]:
    """(reason, is an error) for one container status."""
    state = cs.get("state") or {}
    waiting, terminated = state.get("waiting"), state.get("terminated")
    if waiting:
        reason = waiting.get("reason") or "Waiting"
        return reason, reason in ERROR_REASONS
    if terminated:
        reason = terminated.get("reason") or ("Completed" if terminated.get("exitCode") == 0 else "Error")
        return reason, reason in ERROR_REASONS or (terminated.get("exitCode") or 0) != 0
    return "", False


def _finished(cs: Mapping[str, Any]) -> bool:
    terminated = (cs.get("state") or {}).get("terminated") or {}
    return bool(terminated) and terminated.get("exitCode") == 0


def _container_reason(status: Mapping[str, Any]) -> str:
    for cs in status.get("containerStatuses") or []:
        reason, _ = _container_state(cs)
        if reason:
            return reason
    return ""


# ------------------------------------------------------------ controllers
def _replicas(obj: Mapping[str, Any]) -> Status:
    """ReplicaSet / StatefulSet / ReplicationController: ready vs desired, ReplicaFailure is an error."""
    failure = _condition_message(obj, "ReplicaFailure")
    if failure is not None:
        return Status(ERROR, failure)
    desired = (obj.get("spec") or {}).get("replicas", 1)
    ready = (obj.get("status") or {}).get("readyReplicas") or 0
    return Status(OK if ready >= desired else PENDING, f"{ready}/{desired} ready")


def _deployment(obj: Mapping[str, Any]) -> Status:
    if _condition(obj, "Progressing") == "False":
        return Status(ERROR, _condition_reason(obj, "Progressing") or "ProgressDeadlineExceeded")
    failure = _condition_message(obj, "ReplicaFailure")
    if failure is not None:
        return Status(ERROR, failure)
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    desired = spec.get("replicas", 1)
    ready = status.get("readyReplicas") or 0
    updated = status.get("updatedReplicas") or 0
    total = status.get("replicas") or 0
    if spec.get("paused"):
        return Status(PENDING, f"{ready}/{desired} ready, paused")
    # Rolled out = every replica updated and ready, and no old ones left (kubectl rollout status).
    done = ready >= desired and updated >= desired and total <= desired
    return Status(OK if done else PENDING, f"{ready}/{desired} ready" + ("" if done else f", {updated} updated"))


def _daemonset(obj: Mapping[str, Any]) -> Status:
    status = obj.get("status") or {}
    desired, ready = status.get("desiredNumberScheduled") or 0, status.get("numberReady") or 0
    return Status(OK if ready >= desired else PENDING, f"{ready}/{desired} ready")


def _job(obj: Mapping[str, Any]) -> Status:
    if _condition(obj, "Complete") == "True" or _condition(obj, "SuccessCriteriaMet") == "True":
        return Status(SUCCEEDED, "Complete")
    if _condition(obj, "Failed") == "True":
        return Status(ERROR, _condition_reason(obj, "Failed") or "Failed")
    if (obj.get("spec") or {}).get("suspend"):
        return Status(PENDING, "Suspended")
    status = obj.get("status") or {}
    completions = (obj.get("spec") or {}).get("completions", 1)
    succeeded = status.get("succeeded") or 0
    if status.get("active"):
        return Status(OK, f"Running, {succeeded}/{completions}")
    return Status(PENDING, f"{succeeded}/{completions}")


def _cronjob(obj: Mapping[str, Any]) -> Status:
    if (obj.get("spec") or {}).get("suspend"):
        return Status(PENDING, "Suspended")
    active = len((obj.get("status") or {}).get("active") or [])
    return Status(OK, f"{active} active" if active else (obj.get("spec") or {}).get("schedule", ""))


# ------------------------------------------------------- nodes, networking
def _node(obj: Mapping[str, Any]) -> Status:
    ready = _condition(obj, "Ready")
    if ready != "True":
        return Status(ERROR, "NotReady" if ready == "False" else "Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        return Status(PENDING, "Ready,SchedulingDisabled")
    pressure = [c["type"] for c in (obj.get("status") or {}).get("conditions") or []
                if c.get("type", "").endswith("Pressure") and c.get("status") == "True"]
    if pressure:
        return Status(PENDING, ",".join(sorted(pressure)))
    return Status(OK, "Ready")


def _service(obj: Mapping[str, Any], snapshot: Snapshot | None) -> Status:
    spec = obj.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    if snapshot is None or not spec.get("selector") or kind == "ExternalName":
        return Status(OK, kind)
    meta = obj.get("metadata") or {}
    endpoints = snapshot.get("Endpoints", meta.get("name", ""), meta.get("namespace"))
    ready, not_ready = endpoint_counts(endpoints)
    if ready:
        return Status(OK, f"{kind}, {ready} endpoint{'s' if ready != 1 else ''}")
    return Status(PENDING, f"{kind}, {not_ready} not ready" if not_ready else f"{kind}, no endpoints")


def endpoint_counts(endpoints: Mapping[str, Any] | None) -> tuple[int, int]:
    """(ready addresses, not-ready addresses) of an Endpoints object, 0s when there is none."""
    subsets = (endpoints or {}).get("subsets") or []
    ready = sum(len(s.get("addresses") or []) for s in subsets)
    return ready, sum(len(s.get("notReadyAddresses") or []) for s in subsets)


def _endpoints(obj: Mapping[str, Any]) -> Status:
    ready, not_ready = endpoint_counts(obj)
    return Status(OK if ready else PENDING, f"{ready} ready" + (f", {not_ready} not ready" if not_ready else ""))


def _namespace(obj: Mapping[str, Any]) -> Status:
    phase = (obj.get("status") or {}).get("phase") or "Active"
    return Status(TERMINATING if phase == "Terminating" else OK, phase)


def _event(obj: Mapping[str, Any]) -> Status:
    return Status(ERROR if obj.get("type") == "Warning" else OK, obj.get("reason") or "")


# ----------------------------------------------------------------- helpers
def _find_condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def _condition(obj: Mapping[str, Any], kind: str) -> str | None:
    c = _find_condition(obj, kind)
    return c.get("status") if c else None


def _condition_reason(obj: Mapping[str, Any], kind: str) -> str:
    c = _find_condition(obj, kind)
    return (c.get("reason") or "") if c else ""


def _condition_message(obj: Mapping[str, Any], kind: str) -> str | None:
    """The reason of a True condition (ReplicaFailure → "FailedCreate"), None when it is not True."""
    c = _find_condition(obj, kind)
    if c is None or c.get("status") != "True":
        return None
    return c.get("reason") or kind


_READERS: dict[str, Any] = {
    "Pod": _pod, "ReplicaSet": _replicas, "StatefulSet": _replicas, "ReplicationController": _replicas,
    "Deployment": _deployment, "DaemonSet": _daemonset, "Job": _job, "CronJob": _cronjob, "Node": _node,
    "Service": _service, "Endpoints": _endpoints, "Namespace": _namespace, "Event": _event,
}
