"""The CronJob controller: a Job at every activation of the schedule, and a short history of them.

At each activation of `spec.schedule` (in `spec.timeZone`) it creates the Job `<cronjob>-<minutes
since the epoch>` from `jobTemplate`, owned by the CronJob and annotated with
`batch.kubernetes.io/cronjob-scheduled-timestamp`; the name keeps an activation from running twice.
Forbid skips an activation while a Job runs (JobAlreadyActive), Replace deletes the running ones;
`suspend` stops new Jobs; activations later than `startingDeadlineSeconds` are skipped, more than 100
missed ones reported (TooManyMissedTimes). Finished Jobs beyond the history limits are deleted,
oldest first. Status keeps `active`, `lastScheduleTime`, `lastSuccessfulTime`. It sleeps until the
next activation on a background timer, so `settle()` never waits for a schedule.

Read by: cluster.components. Reads: controllers.{base,cronjob_schedule,podutil,podcontrol}, recorder.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import Timer, parse_time, rfc3339
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.controllers.cronjob_schedule import Schedule, ScheduleError, most_recent, next_delay, time_zone
from kubelab.cluster.controllers.podcontrol import owner_keys, without_empty
from kubelab.cluster.controllers.podutil import controller_of, controller_ref
from kubelab.cluster.recorder import object_reference
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

COMPONENT = "cronjob-controller"
RESOURCE = ("batch", "cronjobs")
JOBS = ("batch", "jobs")
JOB = kinds.resolve("jobs.batch")
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def finished_type(job: Obj) -> str | None:
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition["type"]
    return None


def _rfc1123z(when: float) -> str:
    return datetime.fromtimestamp(when, tz=timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")


class CronJobController(Controller):
    name = COMPONENT
    primary = RESOURCE
    secondary = (JOBS,)

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._timers: dict[Key, Timer] = {}

    def keys_for(self, event: Event) -> list[Key]:
        return owner_keys(event, "CronJob")

    def requeue_after(self, key: Key, seconds: float) -> None:
        """One pending wake-up per CronJob, on a background timer: schedules never hold up settle()."""
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = self.cluster.clock.call_later(seconds, partial(self.queue.add, key), background=True)

    def _event(self, cj: Obj, kind: str, reason: str, message: str) -> None:
        self.cluster.record_event(cj, kind, reason, message, COMPONENT)

    # ------------------------------------------------------------------ sync
    def reconcile(self, key: Key) -> float | None:
        stored = self.store.get(RESOURCE, *key)
        if stored is None:
            timer = self._timers.pop(key, None)
            if timer is not None:
                timer.cancel()
            return None
        cj = thaw(stored)
        status = cj.setdefault("status", {})
        jobs = [j for j in self.store.list(JOBS, key[0])[0]
                if (controller_of(j) or {}).get("uid") == cj["metadata"]["uid"]]
        self._reconcile_active(cj, jobs)
        wait = None
        if not cj["metadata"].get("deletionTimestamp"):
            wait = self._schedule(cj)
            self._cleanup(cj, [j for j in self.store.list(JOBS, key[0])[0]
                               if (controller_of(j) or {}).get("uid") == cj["metadata"]["uid"]])
        fresh = without_empty(status, ("active", "lastScheduleTime", "lastSuccessfulTime"))
        if fresh != (stored.get("status") or {}):
            self.api.update(dict(thaw(stored), status=fresh), subresource="status")
        return wait

    def _reconcile_active(self, cj: Obj, jobs: list[Obj]) -> None:
        status = cj["status"]
        active = status.setdefault("active", [])
        uids = {ref.get("uid") for ref in active}
        for job in sorted(jobs, key=lambda j: j["metadata"]["name"]):
            uid, name = job["metadata"]["uid"], job["metadata"]["name"]
            done = finished_type(job)
            if uid not in uids and done is None:
                self._event(cj, "Warning", "UnexpectedJob", f"Saw a job that the controller did not create or forgot: "
                                                           f"{name}")
            elif uid in uids and done is not None:
                active[:] = [ref for ref in active if ref.get("uid") != uid]
                self._event(cj, "Normal", "SawCompletedJob", f"Saw completed job: {name}, condition: {done}")
            completed = (job.get("status") or {}).get("completionTime")
            if done == "Complete" and completed:
                last = status.get("lastSuccessfulTime")
                if last is None or parse_time(completed) > parse_time(last):
                    status["lastSuccessfulTime"] = completed
        present = {j["metadata"]["uid"] for j in jobs}
        for ref in list(active):
            if ref.get("uid") not in present and self.store.get(JOBS, cj["metadata"]["namespace"], ref["name"]) is None:
                self._event(cj, "Normal", "MissingJob", f"Active job went missing: {ref['name']}")
                active.remove(ref)

    def _schedule(self, cj: Obj) -> float | None:
        """syncCronJob's scheduling half: maybe start the Job of the latest due activation; when to look again."""
        spec, status = cj["spec"], cj["status"]
        try:
            zone = time_zone(spec.get("timeZone"))
        except ScheduleError as err:
            self._event(cj, "Warning", "UnknownTimeZone", f'invalid timeZone: "{spec.get("timeZone")}": {err}')
            return None
        if spec.get("suspend"):
            return None
        try:
            schedule = Schedule.parse(spec.get("schedule", ""), zone)
        except ScheduleError as err:
            self._event(cj, "Warning", "UnparseableSchedule", f'unparseable schedule: "{spec.get("schedule")}" : {err}')
            return None
        now = self.cluster.clock.now()
        created = parse_time(cj["metadata"]["creationTimestamp"])
        last = parse_time(status["lastScheduleTime"]) if status.get("lastScheduleTime") else None
        deadline = spec.get("startingDeadlineSeconds")

        def again() -> float:
            last_now = parse_time(status["lastScheduleTime"]) if status.get("lastScheduleTime") else None
            return next_delay(schedule, created, last_now, now)

        try:
            missed = most_recent(schedule, created, last, deadline, now)
        except ScheduleError:
            return None
        scheduled = missed.most_recent
        if scheduled is None:
            return again()
        if missed.count > 100:
            self._event(cj, "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease "
                        ".spec.startingDeadlineSeconds or check clock skew")
        if deadline is not None and scheduled + deadline < now:
            self._event(cj, "Warning", "MissSchedule",
                        f"Missed scheduled time to start a job: {_rfc1123z(scheduled)}")
            return again()
        name = f"{cj['metadata']['name']}-{int(scheduled // 60)}"
        if any(ref.get("name") == name for ref in status.get("active") or ()) or status.get("lastScheduleTime") == \
                rfc3339(scheduled):
            return again()
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and status.get("active"):
            self._event(cj, "Normal", "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid")
            return again()
        if policy == "Replace":
            for ref in list(status.get("active") or ()):
                job = self.store.get(JOBS, cj["metadata"]["namespace"], ref["name"])
                if job is not None:
                    self._delete_job(cj, job)
        job = self._create_job(cj, schedule, scheduled, name)
        if job is None:
            return again()
        ref = object_reference(job)
        status.setdefault("active", []).append(
            {"apiVersion": ref["apiVersion"], "kind": ref["kind"], "name": ref["name"],
             "namespace": ref["namespace"], "resourceVersion": ref["resourceVersion"], "uid": ref["uid"]})
        status["lastScheduleTime"] = rfc3339(scheduled)
        return again()

    def _create_job(self, cj: Obj, schedule: Schedule, scheduled: float, name: str) -> Obj | None:
        template = thaw(cj["spec"].get("jobTemplate") or {})
        meta = template.get("metadata") or {}
        annotations = {**(meta.get("annotations") or {}), SCHEDULED_ANNOTATION: schedule.format(scheduled)}
        job_meta: Obj = {"name": name, "namespace": cj["metadata"]["namespace"], "annotations": annotations,
                         "ownerReferences": [controller_ref(cj)]}
        if meta.get("labels"):
            job_meta["labels"] = meta["labels"]
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta, "spec": template.get("spec") or {}}
        try:
            created = self.api.create(job)
        except ApiError as err:
            if err.reason == "AlreadyExists":
                existing = self.store.get(JOBS, cj["metadata"]["namespace"], name)
                if existing is None or (controller_of(existing) or {}).get("uid") != cj["metadata"]["uid"]:
                    return None  # someone else's Job by that name: assume its owner keeps the status
                if any(ref.get("uid") == existing["metadata"]["uid"] for ref in cj["status"].get("active") or ()):
                    return None
                return existing
            if err.reason == "Forbidden" and "is being terminated" in err.message:
                return None
            self._event(cj, "Warning", "FailedCreate", f"Error creating job: {err.message}")
            raise
        self._event(cj, "Normal", "SuccessfulCreate", f"Created job {name}")
        self.cluster.trace_log.add(COMPONENT, "created", created, f"scheduled for {rfc3339(scheduled)}")
        return created

    def _delete_job(self, cj: Obj, job: Obj) -> None:
        name = job["metadata"]["name"]
        try:
            self.api.delete(JOB, job["metadata"]["namespace"], name, propagation="Background")
        except ApiError as err:
            if err.reason != "NotFound":
                self._event(cj, "Warning", "FailedDelete", f"Deleted job: {err.message}")
                raise
        active = cj["status"].get("active") or []
        active[:] = [ref for ref in active if ref.get("uid") != job["metadata"]["uid"]]
        self._event(cj, "Normal", "SuccessfulDelete", f"Deleted job {name}")
        self.cluster.trace_log.add(COMPONENT, "deleted", job)

    def _cleanup(self, cj: Obj, jobs: list[Obj]) -> None:
        """Keep at most successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed Jobs."""
        spec = cj["spec"]
        for kind, limit in (("Complete", spec.get("successfulJobsHistoryLimit")),
                            ("Failed", spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            done = [j for j in jobs if finished_type(j) == kind and not j["metadata"].get("deletionTimestamp")]
            done.sort(key=lambda j: ((j.get("status") or {}).get("startTime") is None,
                                     (j.get("status") or {}).get("startTime") or "", j["metadata"]["name"]))
            for job in done[:max(0, len(done) - limit)]:
                self._delete_job(cj, job)
