"""The CronJob controller: Jobs on schedule, history limits, concurrency policies, suspend and deadlines."""

from __future__ import annotations

import podphase

import kubelab
from kubelab import seed
from kubelab.cluster.clock import STEPPED_EPOCH

# The seed notes' CronJob, with the apiVersion Kubernetes serves today (batch/v1beta1 was removed).
SEED_CRONJOB = seed.HELLO_CRONJOB_FIXED


def make() -> kubelab.Cluster:
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    podphase.install(c)
    c.advance(30)  # half a minute past: every minute of advance() then holds one activation
    return c


def cronjob(schedule: str = "*/1 * * * *", *, command: str = 'date; echo "Hello, World!"', image: str = "busybox",
            **spec) -> dict:
    container = {"name": "hello", "image": image}
    if command:
        container["args"] = ["/bin/sh", "-c", command]
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello"},
            "spec": {"schedule": schedule, **spec, "jobTemplate": {"spec": {
                "backoffLimit": 0,
                "template": {"spec": {"containers": [container], "restartPolicy": "Never"}}}}}}


def events(c: kubelab.Cluster, reason: str) -> list[str]:
    return [e["message"] for e in c.events() if e["reason"] == reason and e["involvedObject"]["kind"] == "CronJob"]


def jobs(c: kubelab.Cluster) -> list[str]:
    return sorted(j["metadata"]["name"] for j in c.list("jobs") if not j["metadata"].get("deletionTimestamp"))


def minute(n: int) -> int:
    """The Job name suffix for the activation n minutes after the clock's start."""
    return int(STEPPED_EPOCH // 60) + n


def test_the_seed_cronjob_runs_every_minute_and_keeps_three_successful_jobs():
    c = make()
    c.apply(SEED_CRONJOB)
    c.advance(5 * 60)
    created = events(c, "SuccessfulCreate")
    assert created == [f"Created job hello-{minute(n)}" for n in range(1, 6)]
    assert jobs(c) == [f"hello-{minute(n)}" for n in (3, 4, 5)]
    assert events(c, "SuccessfulDelete") == [f"Deleted job hello-{minute(n)}" for n in (1, 2)]
    assert f"Saw completed job: hello-{minute(1)}, condition: Complete" in events(c, "SawCompletedJob")
    job = c.get("jobs", f"hello-{minute(5)}")
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2026-01-01T00:05:00Z"
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "hello", True)
    status = c.get("cronjobs", "hello")["status"]
    assert status["lastScheduleTime"] == "2026-01-01T00:05:00Z"
    assert status["lastSuccessfulTime"] == job["status"]["completionTime"]
    assert "active" not in status


def test_a_running_job_is_listed_as_active():
    c = make()
    c.apply(cronjob(command="", image="nginx"))
    c.advance(60)
    active = c.get("cronjobs", "hello")["status"]["active"]
    assert [(a["kind"], a["name"], a["apiVersion"]) for a in active] == [("Job", f"hello-{minute(1)}", "batch/v1")]


def test_allow_lets_runs_overlap():
    c = make()
    c.apply(cronjob(command="", image="nginx"))
    c.advance(3 * 60)
    assert len(c.get("cronjobs", "hello")["status"]["active"]) == 3


def test_forbid_skips_an_activation_while_a_job_is_still_running():
    c = make()
    c.apply(cronjob(command="", image="nginx", concurrencyPolicy="Forbid"))
    c.advance(3 * 60)
    assert jobs(c) == [f"hello-{minute(1)}"]
    skipped = [e for e in c.events() if e["reason"] == "JobAlreadyActive"]
    assert [(e["message"], e["count"]) for e in skipped] == [
        ("Not starting job because prior execution is running and concurrency policy is Forbid", 2)]


def test_replace_deletes_the_running_job_for_the_new_one():
    c = make()
    c.apply(cronjob(command="", image="nginx", concurrencyPolicy="Replace"))
    c.advance(2 * 60)
    assert jobs(c) == [f"hello-{minute(2)}"]
    assert events(c, "SuccessfulDelete") == [f"Deleted job hello-{minute(1)}"]
    assert [a["name"] for a in c.get("cronjobs", "hello")["status"]["active"]] == [f"hello-{minute(2)}"]


def test_a_suspended_cronjob_starts_nothing_and_catches_up_once_when_resumed():
    c = make()
    c.apply(cronjob(suspend=True))
    c.advance(3 * 60)
    assert jobs(c) == []
    c.apply(cronjob(suspend=False))
    assert jobs(c) == [f"hello-{minute(3)}"]  # only the most recent missed activation runs


def test_starting_deadline_skips_activations_missed_by_too_much():
    c = make()
    c.apply(cronjob(suspend=True, startingDeadlineSeconds=10))
    c.advance(3 * 60)
    c.apply(cronjob(suspend=False, startingDeadlineSeconds=10))
    assert jobs(c) == []  # 00:03:00 was 30 s ago, beyond the 10 s deadline
    c.advance(60)
    assert jobs(c) == [f"hello-{minute(4)}"]


def test_more_than_a_hundred_missed_activations_are_reported():
    c = make()
    c.apply(cronjob(suspend=True))
    c.advance(102 * 60)
    c.apply(cronjob(suspend=False))
    assert events(c, "TooManyMissedTimes") == [
        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"]
    assert jobs(c) == [f"hello-{minute(102)}"]


def test_failed_jobs_history_keeps_only_the_last_failure():
    c = make()
    c.apply(cronjob(command="exit 1"))
    c.advance(3 * 60)
    failed = [j["metadata"]["name"] for j in c.list("jobs")
              if any(x["type"] == "Failed" for x in j["status"].get("conditions", []))]
    assert failed == [f"hello-{minute(3)}"]
    assert "lastSuccessfulTime" not in c.get("cronjobs", "hello")["status"]


def test_time_zone_moves_the_activations_and_the_scheduled_timestamp():
    c = make()
    c.apply(cronjob("30 * * * *", timeZone="Asia/Kolkata"))  # hh:30 in India is hh:00 in UTC
    c.advance(31 * 60)
    assert jobs(c) == []
    c.advance(30 * 60)
    assert jobs(c) == [f"hello-{minute(60)}"]
    annotations = c.get("jobs", f"hello-{minute(60)}")["metadata"]["annotations"]
    assert annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2026-01-01T06:30:00+05:30"


def test_schedules_do_not_hold_up_settle():
    c = make()
    c.apply(cronjob())
    assert c.settle() == 0
