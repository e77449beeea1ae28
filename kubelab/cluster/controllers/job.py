"""The Job controller: run pods until enough succeed, or give up.

Keeps `parallelism` pods running until `completions` succeed (Indexed: one per index); with only
parallelism, the first success ends the Job. Finished pods are counted through
`uncountedTerminatedPods` and lose their `batch.kubernetes.io/job-tracking` finalizer, as upstream
tracks them. After a failure the next pod waits 10 s, 20 s, 40 s…; more failures than
`backoffLimit` ends the Job with BackoffLimitExceeded, running past `activeDeadlineSeconds` with
DeadlineExceeded — first `FailureTarget` while the remaining pods go, then `Failed`. Success sets
`SuccessCriteriaMet`, then `Complete` and `completionTime`. Suspending deletes the active pods. Pod
events reach a Job one second later (upstream batches them); pods of a deleted Job lose the finalizer.

Read by: cluster.components. Reads: controllers.{rechecks,ownership,podcontrol,podutil,jobpods}.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from kubelab.api.errors import ApiError
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.clock import parse_time, rfc3339
from kubelab.cluster.controllers import jobpods as jp
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.ownership import claim
from kubelab.cluster.controllers.podcontrol import POD, create_pod, delete_pod, owner_keys, without_empty
from kubelab.cluster.controllers.podutil import controller_of, deletion_order, is_active, is_ready
from kubelab.cluster.controllers.rechecks import RecheckTimers
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

COMPONENT = "job-controller"
RESOURCE = ("batch", "jobs")
BATCH_PERIOD = 1.0  # syncJobBatchPeriod: pod events reach the Job one second later
ORPHAN = "orphan-pod"  # third element of the work-queue key of a pod whose Job is gone
STATUS_OMITEMPTY = ("conditions", "startTime", "completionTime", "active", "succeeded", "failed", "completedIndexes")
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_LIMIT = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")


def condition(job: Obj, kind: str) -> Obj | None:
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") == kind and c.get("status") == "True":
            return c
    return None


def is_finished(job: Obj) -> bool:
    return condition(job, "Complete") is not None or condition(job, "Failed") is not None


class JobController(RecheckTimers):
    name = COMPONENT
    primary = RESOURCE
    secondary = (("", "pods"),)

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._backoff: dict[Key, tuple[int, float | None]] = {}  # failures since last success, last failure
        self._batched: set[Key] = set()

    def handle(self, event: Event) -> None:
        if event.resource == RESOURCE:
            super().handle(event)
            if event.type == "DELETED":  # its pods' finalizers now belong to nobody
                uid = event.object["metadata"]["uid"]
                for pod in self.store.list(("", "pods"), event.object["metadata"]["namespace"])[0]:
                    if jp.tracked(pod) and (controller_of(pod) or {}).get("uid") == uid:
                        self.queue.add((pod["metadata"]["namespace"], pod["metadata"]["name"], ORPHAN))
            return
        pod, old = event.object, event.old
        meta = pod["metadata"]
        # Only an owned pod has a Job to tell (most pods in a cluster have none or another owner).
        if meta.get("ownerReferences") or (old is not None and old["metadata"].get("ownerReferences")):
            for key in owner_keys(event, "Job"):
                if key not in self._batched:
                    self._batched.add(key)
                    self.cluster.clock.call_later(BATCH_PERIOD, partial(self._batch_due, key))
        # Only a pod with finalizers can carry the Job's tracking finalizer (jp.tracked), asked only then.
        if meta.get("finalizers") and event.type != "DELETED" and jp.tracked(pod) and self._owning_job(pod) is None:
            self.queue.add((meta["namespace"], meta["name"], ORPHAN))

    def _batch_due(self, key: Key) -> None:
        self._batched.discard(key)
        self.queue.add(key)

    def _owning_job(self, pod: Obj) -> Obj | None:
        """The unfinished Job that controls `pod` (by name and uid), if any."""
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
            return None
        job = self.store.get(RESOURCE, pod["metadata"]["namespace"], ref["name"])
        if job is None or job["metadata"]["uid"] != ref.get("uid") or is_finished(job):
            return None
        return job

    def _release_orphan(self, namespace: str, name: str) -> None:
        """syncOrphanPod: a tracked pod whose Job is gone or finished loses the tracking finalizer."""
        pod = self.store.get(("", "pods"), namespace, name)
        if pod is None or not jp.tracked(pod) or self._owning_job(pod) is not None:
            return
        ref = controller_of(pod)
        if ref is not None and (ref.get("kind"), ref.get("apiVersion")) != ("Job", "batch/v1"):
            return  # someone else's pod that merely carries our finalizer
        self._drop_finalizer(pod)

    # ------------------------------------------------------------------ sync
    def reconcile(self, key: Key) -> float | None:
        if len(key) == 3:
            self._release_orphan(key[0], key[1])
            return None
        self.forget_recheck(key)
        job = self.store.get(RESOURCE, *key)
        if job is None or is_finished(job):
            self._backoff.pop(key, None)
            return None
        spec = job.get("spec") or {}
        managed_by = spec.get("managedBy")
        if managed_by and managed_by != "kubernetes.io/job-controller":
            return None
        job = thaw(job)
        status = job.setdefault("status", {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        selector = LabelSelector.from_spec(spec.get("selector"))
        pods = claim(self.api, job, POD, self.store.list(("", "pods"), key[0])[0],
                     lambda p: selector.matches(p["metadata"].get("labels")))
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        now = self.cluster.clock.now()
        active_pods = [p for p in pods if is_active(p)]
        ctx = _Context(pods, active_pods, now)
        seen_ok = set(uncounted.get("succeeded") or ())
        seen_failed = set(uncounted.get("failed") or ())
        new_ok = [p for p in pods if jp.tracked(p) and p["metadata"]["uid"] not in seen_ok
                  and jp.phase(p) == "Succeeded" and self._valid_index(p, indexed, completions)]
        new_failed = [p for p in pods if jp.tracked(p) and p["metadata"]["uid"] not in seen_failed
                      and jp.is_failed(p, job) and self._valid_index(p, indexed, completions)]
        ctx.succeeded = status.get("succeeded", 0) + len(new_ok) + len(seen_ok)
        ctx.failed = status.get("failed", 0) + len(new_failed) + len(seen_failed)
        suspended = bool(spec.get("suspend"))
        if not status.get("startTime") and not suspended:
            status["startTime"] = rfc3339(now)
        backoff = self._next_backoff(key, new_ok, new_failed)
        waits: list[float] = []
        finished = self._finished_condition(job, pods, ctx, waits, suspended)
        if indexed:
            done = {jp.index_of(p) for p in pods if jp.phase(p) == "Succeeded"}
            ctx.succeeded_indexes = jp.parse_indexes(status.get("completedIndexes"), completions or 0) | {
                i for i in done if i is not None and i < (completions or 0)}
            ctx.succeeded = len(ctx.succeeded_indexes)
        active = len(active_pods)
        if finished is not None:
            for pod in active_pods:
                delete_pod(self.cluster, pod, job, COMPONENT)
                ctx.terminating += 1
                ctx.ready -= 1 if is_ready(pod) else 0
            active = 0
        else:
            if not job["metadata"].get("deletionTimestamp"):
                active = self._manage(job, ctx, backoff, waits)
            if completions is None:
                complete = ctx.succeeded > 0 and active == 0
            else:
                complete = ctx.succeeded >= completions and active == 0
            if complete:
                finished = _condition("SuccessCriteriaMet", *COMPLETIONS_REACHED, now)
            else:
                self._suspension(job, suspended, now)
        status["active"] = active
        status["ready"] = ctx.ready
        status["terminating"] = ctx.terminating
        self._track(job, ctx, finished)
        self._backoff[key] = backoff
        return min(waits) if waits else None

    def _valid_index(self, pod: Obj, indexed: bool, completions: int | None) -> bool:
        if not indexed:
            return True
        index = jp.index_of(pod)
        return index is not None and index < (completions or 0)

    def _next_backoff(self, key: Key, new_ok: list[Obj], new_failed: list[Obj]) -> tuple[int, float | None]:
        failures, last = self._backoff.get(key, (0, None))
        if not new_failed:
            return (0, None) if new_ok else (failures, last)
        failed_times = sorted(jp.finished_at(p) for p in new_failed)
        if not new_ok:
            return failures + len(new_failed), failed_times[-1]
        last_ok = max(jp.finished_at(p) for p in new_ok)
        after = [t for t in failed_times if t > last_ok]
        return len(after), (after[-1] if after else None)

    def _finished_condition(self, job: Obj, pods: list[Obj], ctx: _Context, waits: list[float],
                            suspended: bool) -> Obj | None:
        met = condition(job, "SuccessCriteriaMet")
        if met is not None:
            return met
        target = condition(job, "FailureTarget")
        if target is not None:
            return target
        spec = job["spec"]
        if ctx.failed > spec.get("backoffLimit", 6) or _past_backoff_on_failure(job, pods):
            return _condition("FailureTarget", *BACKOFF_LIMIT, ctx.now)
        deadline = spec.get("activeDeadlineSeconds")
        start = job["status"].get("startTime")
        if deadline is not None and start and not suspended:
            left = parse_time(start) + deadline - ctx.now
            if left <= 0:
                return _condition("FailureTarget", *DEADLINE, ctx.now)
            waits.append(left)
        return None

    def _suspension(self, job: Obj, suspended: bool, now: float) -> None:
        conditions = job["status"].setdefault("conditions", [])
        current = next((c for c in conditions if c.get("type") == "Suspended"), None)
        if suspended and (current is None or current.get("status") != "True"):
            fresh = _condition("Suspended", "JobSuspended", "Job suspended", now)
            conditions[:] = [c for c in conditions if c is not current] + [fresh]
            self.cluster.record_event(job, "Normal", "Suspended", "Job suspended", COMPONENT)
        elif not suspended and current is not None and current.get("status") == "True":
            current.update(_condition("Suspended", "JobResumed", "Job resumed", now, status="False"))
            self.cluster.record_event(job, "Normal", "Resumed", "Job resumed", COMPONENT)
            job["status"]["startTime"] = rfc3339(now)  # the deadline counts from the resume

    # ---------------------------------------------------------------- manage
    def _manage(self, job: Obj, ctx: _Context, backoff: tuple[int, float | None], waits: list[float]) -> int:
        spec = job["spec"]
        active = len(ctx.active_pods)
        if spec.get("suspend"):
            self._delete_pods(job, ctx, ctx.active_pods)
            return 0
        parallelism = spec.get("parallelism", 1)
        completions = spec.get("completions")
        if completions is None:
            wanted = active if ctx.succeeded > 0 else parallelism
        else:
            wanted = max(0, min(completions - ctx.succeeded, parallelism))
        surplus = self._surplus(job, ctx, max(0, active - wanted))
        if surplus:
            self._delete_pods(job, ctx, surplus)
            return active - len(surplus)
        missing = wanted - active
        if missing <= 0:
            return active
        remaining = jp.backoff_remaining(*backoff, ctx.now)
        if remaining > 0:
            waits.append(max(remaining, BATCH_PERIOD))
            return active
        indexes: list[int | None] = [None] * missing
        if spec.get("completionMode") == "Indexed":
            busy = ctx.succeeded_indexes | {jp.index_of(p) for p in ctx.active_pods}
            pending: list[int | None] = [i for i in range(completions or 0) if i not in busy]
            indexes = pending[:missing]
        created = 0
        for index in indexes:
            if create_pod(self.cluster, jp.new_pod(job, index), job, COMPONENT) is None:
                break
            created += 1
        return active + created

    def _surplus(self, job: Obj, ctx: _Context, at_least: int) -> list[Obj]:
        """activePodsForRemoval: duplicated or out-of-range indexes first, then the least advanced pods."""
        remove, keep = [], list(ctx.active_pods)
        if job["spec"].get("completionMode") == "Indexed":
            seen: set[int] = set()
            keep = []
            for pod in sorted(ctx.active_pods, key=lambda p: p["metadata"].get("creationTimestamp") or ""):
                index = jp.index_of(pod)
                if index is None or index >= (job["spec"].get("completions") or 0) or index in seen \
                        or index in ctx.succeeded_indexes:
                    remove.append(pod)
                else:
                    seen.add(index)
                    keep.append(pod)
        if len(remove) < at_least:
            remove += deletion_order(keep, ctx.active_pods, ctx.now)[:at_least - len(remove)]
        return remove

    def _delete_pods(self, job: Obj, ctx: _Context, pods: list[Obj]) -> None:
        """deleteJobPods: pods removed on purpose are not failures — drop the finalizer, then delete."""
        for pod in pods:
            self._drop_finalizer(pod)
            if delete_pod(self.cluster, pod, job, COMPONENT):
                ctx.terminating += 1
                ctx.ready -= 1 if is_ready(pod) else 0

    def _drop_finalizer(self, pod: Obj) -> None:
        meta = pod["metadata"]
        live = self.store.get(("", "pods"), meta["namespace"], meta["name"])
        if live is None or live["metadata"]["uid"] != meta["uid"] or not jp.tracked(live):
            return
        fresh = thaw(live)
        fresh["metadata"]["finalizers"] = [f for f in fresh["metadata"]["finalizers"] if f != jp.TRACKING_FINALIZER]
        if not fresh["metadata"]["finalizers"]:
            del fresh["metadata"]["finalizers"]
        try:
            self.api.update(fresh)
        except ApiError as err:
            if err.reason != "NotFound":
                raise

    # -------------------------------------------------------------- tracking
    def _track(self, job: Obj, ctx: _Context, finished: Obj | None) -> None:
        """trackJobStatusAndRemoveFinalizers: record finished pods as uncounted, drop their finalizers,
        move them into the counters, and declare the Job finished once nothing is left in flight."""
        status = job["status"]
        uncounted = status["uncountedTerminatedPods"]
        indexed = job["spec"].get("completionMode") == "Indexed"
        completions = job["spec"].get("completions")
        release = []
        new_indexes: set[int] = set()
        for pod in ctx.pods:
            if not jp.tracked(pod):
                continue
            failed = jp.is_failed(pod, job)
            if not (job["metadata"].get("deletionTimestamp") or finished or jp.phase(pod) == "Succeeded" or failed):
                continue
            release.append(pod)
            uid = pod["metadata"]["uid"]
            if jp.phase(pod) == "Succeeded" and uid not in (uncounted.get("failed") or ()):
                if indexed:
                    index = jp.index_of(pod)
                    if index is not None and index < (completions or 0):
                        new_indexes.add(index)
                elif uid not in (uncounted.get("succeeded") or ()):
                    uncounted.setdefault("succeeded", []).append(uid)
            elif failed or (finished is not None and finished["type"] != "SuccessCriteriaMet"):
                if uid not in (uncounted.get("failed") or ()) and self._valid_index(pod, indexed, completions):
                    uncounted.setdefault("failed", []).append(uid)
        if indexed:
            ctx.succeeded_indexes |= new_indexes
            status["completedIndexes"] = jp.format_indexes(ctx.succeeded_indexes)
            status["succeeded"] = len(ctx.succeeded_indexes)
        final = None
        if finished is not None:
            if finished["type"] in ("FailureTarget", "SuccessCriteriaMet"):
                if condition(job, finished["type"]) is None:
                    status.setdefault("conditions", []).append(finished)
                final_type = "Failed" if finished["type"] == "FailureTarget" else "Complete"
                final = _condition(final_type, finished["reason"], finished["message"], ctx.now)
        self._write(job)
        for pod in release:
            self._drop_finalizer(pod)
        for kind in ("succeeded", "failed"):
            status[kind] = status.get(kind, 0) + len(uncounted.pop(kind, None) or ())
        if final is not None and status.get("terminating", 0) == 0:
            status["conditions"].append(final)
            if final["type"] == "Complete":
                status["completionTime"] = final["lastTransitionTime"]
        self._write(job)
        if final is not None and status.get("terminating", 0) == 0:
            if final["type"] == "Complete":
                if completions is not None and status.get("succeeded", 0) > completions:
                    self.cluster.record_event(job, "Warning", "TooManySucceededPods",
                                              "Too many succeeded pods running after completion count reached",
                                              COMPONENT)
                self.cluster.record_event(job, "Normal", "Completed", "Job completed", COMPONENT)
            else:
                self.cluster.record_event(job, "Warning", final["reason"], final["message"], COMPONENT)
            self.cluster.trace_log.add(COMPONENT, "finished", job, f"{final['type']}: {final['reason']}")

    def _write(self, job: Obj) -> None:
        live = self.store.get(RESOURCE, job["metadata"]["namespace"], job["metadata"]["name"])
        if live is None:
            return
        status = without_empty(thaw(job["status"]), STATUS_OMITEMPTY)
        if status != (live.get("status") or {}):
            job["metadata"] = thaw(self.api.update(dict(thaw(live), status=status), subresource="status")["metadata"])


class _Context:
    """One sync's view of a Job's pods."""

    def __init__(self, pods: list[Obj], active_pods: list[Obj], now: float) -> None:
        self.pods = pods
        self.active_pods = active_pods
        self.now = now
        self.ready = sum(1 for p in active_pods if is_ready(p))
        self.terminating = sum(1 for p in pods if p["metadata"].get("deletionTimestamp")
                               and jp.phase(p) not in ("Succeeded", "Failed"))
        self.succeeded = 0
        self.failed = 0
        self.succeeded_indexes: set[int] = set()


def _condition(kind: str, reason: str, message: str, now: float, *, status: str = "True") -> Obj:
    stamp = rfc3339(now)
    return {"type": kind, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def _past_backoff_on_failure(job: Obj, pods: list[Obj]) -> bool:
    """restartPolicy OnFailure: container restarts of running pods count against backoffLimit."""
    template_spec = ((job["spec"].get("template") or {}).get("spec") or {})
    if template_spec.get("restartPolicy") != "OnFailure":
        return False
    restarts = sum(s.get("restartCount", 0) for p in pods if jp.phase(p) in ("Running", "Pending")
                   for s in [*((p.get("status") or {}).get("initContainerStatuses") or ()),
                             *((p.get("status") or {}).get("containerStatuses") or ())])
    limit = job["spec"].get("backoffLimit", 6)
    return restarts > 0 if limit == 0 else restarts >= limit
