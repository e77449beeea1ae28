"""What the Job controller reads from, and writes into, a Job's pods.

Pods of a Job carry the `batch.kubernetes.io/job-tracking` finalizer until the controller has
counted them, so a pod deleted early still counts as failed. An Indexed Job's pods are named
`<job>-<index>-xxxxx`, carry the index as the `batch.kubernetes.io/job-completion-index`
annotation and label, get hostname `<job>-<index>` and the `JOB_COMPLETION_INDEX` variable.
`status.completedIndexes` is written as Kubernetes writes intervals ("0-2,5"). The pod-failure
back-off is 10 s doubling per failure since the last success, capped at 10 minutes (the constant
kube-controller-manager uses), measured from when the last failed pod finished.

Read by: controllers.job. Reads: controllers.podutil, cluster.clock.
"""

from __future__ import annotations

from typing import Any

from kubelab.cluster.clock import parse_time
from kubelab.cluster.controllers.podcontrol import pod_from_template

Obj = dict[str, Any]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
BACKOFF, MAX_BACKOFF = 10.0, 600.0


def phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def tracked(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or ())


def is_failed(pod: Obj, job: Obj) -> bool:
    """isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded."""
    if phase(pod) == "Failed":
        return True
    spec = job.get("spec") or {}
    if spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None:
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase(pod) != "Succeeded"


def index_of(pod: Obj) -> int | None:
    text = (pod["metadata"].get("annotations") or {}).get(INDEX_KEY)
    return int(text) if text is not None and text.isdigit() else None


def finished_at(pod: Obj) -> float:
    """getFinishedTime: the last container's finish, else Ready=False, else deletion, else creation."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    finishes = [((s.get("state") or {}).get("terminated") or {}).get("finishedAt") for s in statuses]
    if finishes and all(finishes):
        return max(parse_time(str(t)) for t in finishes)
    for condition in (pod.get("status") or {}).get("conditions") or ():
        since = condition.get("lastTransitionTime")
        if condition.get("type") == "Ready" and condition.get("status") == "False" and since:
            return parse_time(since)
    meta = pod["metadata"]
    if meta.get("deletionTimestamp"):
        return parse_time(meta["deletionTimestamp"]) - float(meta.get("deletionGracePeriodSeconds") or 0)
    return parse_time(meta["creationTimestamp"])


def backoff_remaining(failures: int, last_failure: float | None, now: float) -> float:
    """Seconds before a replacement pod may start after `failures` failures since the last success."""
    if not failures or last_failure is None:
        return 0.0
    delay = BACKOFF
    for _ in range(1, failures):
        delay *= 2
        if delay >= MAX_BACKOFF:
            delay = MAX_BACKOFF
            break
    return max(0.0, delay - (now - last_failure))


def new_pod(job: Obj, index: int | None) -> Obj:
    template = (job.get("spec") or {}).get("template") or {}
    name = job["metadata"]["name"]
    pod = pod_from_template(template, job, generate_name=None if index is None else f"{name}-{index}-")
    meta, spec = pod["metadata"], pod["spec"]
    meta["finalizers"] = [*[f for f in meta.get("finalizers") or () if f != TRACKING_FINALIZER], TRACKING_FINALIZER]
    if index is not None:
        meta["annotations"] = {**(meta.get("annotations") or {}), INDEX_KEY: str(index)}
        meta["labels"] = {**(meta.get("labels") or {}), INDEX_KEY: str(index)}
        spec["hostname"] = f"{name}-{index}"
        env = {"name": INDEX_ENV, "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{INDEX_KEY}']"}}}
        for container in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
            if not any(e.get("name") == INDEX_ENV for e in container.get("env") or ()):
                container["env"] = [*(container.get("env") or ()), env]
    return pod


# ---------------------------------------------------------------- index sets
def parse_indexes(text: str | None, limit: int) -> set[int]:
    result: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            result.update(i for i in range(int(low), int(high or low) + 1) if i < limit)
    return result


def format_indexes(indexes: set[int]) -> str:
    """Intervals in increasing order: {0, 1, 2, 5} → "0-2,5"."""
    parts: list[str] = []
    ordered = sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)
