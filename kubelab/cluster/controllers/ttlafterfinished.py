"""The TTL-after-finished controller: a finished Job with `ttlSecondsAfterFinished` is deleted when it expires.

The clock starts when the Job got its Complete or Failed condition (the condition's
lastTransitionTime); once `ttlSecondsAfterFinished` seconds have passed the Job is deleted with
Foreground propagation, so the garbage collector removes its pods before the Job itself goes —
which is why `kubectl get jobs` still lists it, Terminating, for a moment. A TTL changed or
removed before expiry is honoured.

Read by: cluster.components. Reads: controllers.rechecks, cluster.clock.
"""

from __future__ import annotations

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import parse_time
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.rechecks import RecheckTimers

COMPONENT = "ttl-after-finished-controller"
JOB = kinds.resolve("jobs.batch")


def finished_condition(job: dict) -> dict | None:
    """The Job's Complete or Failed condition once it is True (the moment the TTL counts from)."""
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition
    return None


class TTLAfterFinishedController(RecheckTimers):
    name = COMPONENT
    primary = ("batch", "jobs")

    def reconcile(self, key: Key) -> float | None:
        self.forget_recheck(key)
        job = self.store.get(self.primary, *key)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return None
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        finished = finished_condition(job)
        if ttl is None or finished is None or not finished.get("lastTransitionTime"):
            return None
        left = parse_time(finished["lastTransitionTime"]) + ttl - self.cluster.clock.now()
        if left > 0:
            return left
        try:
            self.api.delete(JOB, key[0], key[1], propagation="Foreground")
        except ApiError as err:
            if err.reason != "NotFound":
                raise
            return None
        self.cluster.trace_log.add(COMPONENT, "deleted", job, f"finished {ttl}s ago (ttlSecondsAfterFinished)")
        return None
