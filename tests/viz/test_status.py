"""status_of: the bucket and reason a learner sees, from readiness, container reasons and deletion, not just phase."""

from __future__ import annotations

import pytest

from kubelab.viz import PALETTE, Snapshot, status_of


def pod(phase: str = "Running", ready: bool = True, waiting: str | None = None, terminated: dict | None = None,
        scheduled: bool = True, **meta) -> dict:
    state = {"waiting": {"reason": waiting}} if waiting else {"terminated": terminated} if terminated else \
        {"running": {}}
    conditions = [{"type": "PodScheduled", "status": "True" if scheduled else "False",
                   **({} if scheduled else {"reason": "Unschedulable"})}]
    if phase == "Running":
        conditions.append({"type": "Ready", "status": "True" if ready else "False"})
    status = {"phase": phase, "conditions": conditions}
    if scheduled:
        status["containerStatuses"] = [{"name": "app", "ready": ready, "state": state}]
    return {"kind": "Pod", "metadata": {"name": "p", "namespace": "default", **meta}, "status": status}


@pytest.mark.parametrize("reason", ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull",
                                    "CreateContainerConfigError"])
def test_waiting_reasons_that_do_not_heal_are_errors_even_while_running(reason):
    status = status_of(pod(ready=False, waiting=reason))
    assert (status.bucket, status.reason, status.color) == ("error", reason, "#ce3933")


def test_oom_killed_container_is_an_error():
    assert str(status_of(pod(ready=False, terminated={"reason": "OOMKilled", "exitCode": 137}))) == "error: OOMKilled"


def test_container_creating_is_pending():
    status = status_of(pod(phase="Pending", ready=False, waiting="ContainerCreating"))
    assert (status.bucket, status.reason, status.color) == ("pending", "ContainerCreating", "#ff9800")


def test_unscheduled_pod_is_pending_with_the_scheduler_reason():
    assert str(status_of(pod(phase="Pending", scheduled=False))) == "pending: Unschedulable"


def test_running_but_not_ready_pod_is_pending_not_ok():
    assert str(status_of(pod(ready=False))) == "pending: Running, 0/1 ready"
    assert str(status_of(pod())) == "ok: Running"


def test_deletion_timestamp_wins_over_a_running_phase_and_is_dashed_grey():
    status = status_of(pod(deletionTimestamp="2026-01-01T00:00:00Z"))
    assert (status.bucket, status.reason, status.color, status.dashed) == ("terminating", "Terminating", "#9dabb5",
                                                                           True)


def test_succeeded_pod_is_grey_completed():
    status = status_of({"kind": "Pod", "status": {"phase": "Succeeded"}})
    assert (str(status), status.color, status.dashed) == ("succeeded: Completed", "#9dabb5", True)


def test_failed_pod_carries_its_reason():
    assert str(status_of({"kind": "Pod", "status": {"phase": "Failed", "reason": "Evicted"}})) == "error: Evicted"


def test_init_container_crash_is_reported_as_init():
    p = pod(phase="Pending", ready=False)
    p["status"]["initContainerStatuses"] = [{"name": "init", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
    assert str(status_of(p)) == "error: Init:CrashLoopBackOff"


def test_replicaset_compares_ready_with_desired():
    rs = {"kind": "ReplicaSet", "spec": {"replicas": 3}, "status": {"replicas": 3, "readyReplicas": 2}}
    assert str(status_of(rs)) == "pending: 2/3 ready"
    rs["status"]["readyReplicas"] = 3
    assert str(status_of(rs)) == "ok: 3/3 ready"
    rs["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate"}]
    assert str(status_of(rs)) == "error: FailedCreate"


def test_deployment_mid_rollout_is_pending_until_every_replica_is_updated():
    d = {"kind": "Deployment", "spec": {"replicas": 3},
         "status": {"replicas": 4, "readyReplicas": 3, "updatedReplicas": 1}}
    assert str(status_of(d)) == "pending: 3/3 ready, 1 updated"
    d["status"].update(replicas=3, updatedReplicas=3)
    assert str(status_of(d)) == "ok: 3/3 ready"


def test_deployment_past_its_progress_deadline_is_an_error():
    d = {"kind": "Deployment", "spec": {"replicas": 1}, "status": {"conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}}
    assert str(status_of(d)) == "error: ProgressDeadlineExceeded"


def test_node_readiness_and_cordon():
    node = {"kind": "Node", "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert str(status_of(node)) == "ok: Ready"
    node["spec"]["unschedulable"] = True
    assert str(status_of(node)) == "pending: Ready,SchedulingDisabled"
    node["status"]["conditions"][0]["status"] = "Unknown"
    assert str(status_of(node)) == "error: Unknown"


def test_jobs_complete_fail_or_run():
    job = {"kind": "Job", "spec": {"completions": 2}, "status": {"active": 1, "succeeded": 1}}
    assert str(status_of(job)) == "ok: Running, 1/2"
    job["status"]["conditions"] = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
    assert str(status_of(job)) == "error: BackoffLimitExceeded"
    job["status"]["conditions"] = [{"type": "Complete", "status": "True"}]
    assert str(status_of(job)) == "succeeded: Complete"


def test_service_status_comes_from_its_endpoints():
    svc = {"kind": "Service", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"selector": {"app": "web"}}}
    eps = {"kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
           "subsets": [{"notReadyAddresses": [{"ip": "10.0.0.1"}]}]}
    assert str(status_of(svc, Snapshot.from_objects([svc, eps]))) == "pending: ClusterIP, 1 not ready"
    eps["subsets"][0]["addresses"] = [{"ip": "10.0.0.2"}]
    assert str(status_of(svc, Snapshot.from_objects([svc, eps]))) == "ok: ClusterIP, 1 endpoint"
    assert str(status_of(svc, Snapshot.from_objects([svc]))) == "pending: ClusterIP, no endpoints"


def test_palette_is_designs():
    assert PALETTE == {"ok": "#4caf50", "pending": "#ff9800", "error": "#ce3933", "terminating": "#9dabb5",
                       "succeeded": "#9dabb5"}


def test_unknown_kinds_are_ok():
    assert str(status_of({"kind": "ConfigMap"})) == "ok"
