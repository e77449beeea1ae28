"""Pod status from container statuses, as golden pairs: phase, conditions and QoS class."""

from __future__ import annotations

import pytest

from kubelab.cluster.kubelet import status as pod_status

RUNNING = {"running": {"startedAt": "2026-01-01T00:00:01Z"}}
CREATING = {"waiting": {"reason": "ContainerCreating"}}


def done(code: int) -> dict:
    return {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}


def entry(name: str, state: dict, *, last: dict | None = None, ready: bool = False, started: bool = False) -> dict:
    return {"name": name, "state": state, "lastState": last or {}, "ready": ready, "started": started}


def spec(*names: str, policy: str = "Always", inits: tuple = (), sidecars: tuple = ()) -> dict:
    init = [{"name": n} for n in inits] + [{"name": n, "restartPolicy": "Always"} for n in sidecars]
    return {"containers": [{"name": n} for n in names], "initContainers": init, "restartPolicy": policy}


@pytest.mark.parametrize("case, pod_spec, inits, apps, terminal, expected", [
    ("creating", spec("a"), [], [entry("a", CREATING)], False, "Pending"),
    ("running", spec("a"), [], [entry("a", RUNNING)], False, "Running"),
    ("crash loop counts as running", spec("a"), [],
     [entry("a", {"waiting": {"reason": "CrashLoopBackOff"}}, last=done(1))], False, "Running"),
    ("always restarts a finished container", spec("a"), [], [entry("a", done(0))], False, "Running"),
    ("never: all succeeded", spec("a", "b", policy="Never"), [], [entry("a", done(0)), entry("b", done(0))],
     False, "Succeeded"),
    ("never: one failed", spec("a", "b", policy="Never"), [], [entry("a", done(0)), entry("b", done(2))],
     False, "Failed"),
    ("on failure: a failure restarts", spec("a", policy="OnFailure"), [], [entry("a", done(1))], False, "Running"),
    ("one running, one done", spec("a", "b", policy="Never"), [], [entry("a", RUNNING), entry("b", done(0))],
     False, "Running"),
    ("init pending", spec("a", inits=("i",)), [entry("i", RUNNING)], [entry("a", CREATING)], False, "Pending"),
    ("init failed, never", spec("a", policy="Never", inits=("i",)), [entry("i", done(1))],
     [entry("a", {"waiting": {"reason": "PodInitializing"}})], False, "Failed"),
    ("sidecar not started yet", spec("a", sidecars=("s",)), [entry("s", RUNNING)], [entry("a", CREATING)], False,
     "Pending"),
    ("deleted, stopped cleanly", spec("a"), [], [entry("a", done(0))], True, "Succeeded"),
    ("deleted, killed", spec("a"), [], [entry("a", done(137))], True, "Failed"),
    ("unknown container", spec("a", "b"), [], [entry("a", RUNNING)], False, "Pending"),
])
def test_phase_follows_the_kubelets_get_phase(case, pod_spec, inits, apps, terminal, expected):
    assert pod_status.phase(pod_spec, inits, apps, terminal=terminal) == expected, case


def test_unready_containers_are_listed_like_go_prints_a_slice():
    conditions = dict(pod_status.conditions(spec("db", "api"), [], [entry("db", RUNNING, ready=True),
                                                                    entry("api", RUNNING)], "Running", True, []))
    message = "containers with unready status: [api]"
    assert conditions["ContainersReady"] == {"status": "False", "reason": "ContainersNotReady", "message": message}
    assert conditions["Ready"] == conditions["ContainersReady"]
    assert conditions["PodReadyToStartContainers"] == {"status": "True"}


def test_completed_pods_are_not_ready_with_reason_pod_completed():
    conditions = dict(pod_status.conditions(spec("a", policy="Never"), [], [entry("a", done(0))], "Succeeded",
                                            False, []))
    assert conditions["Ready"] == {"status": "False", "reason": "PodCompleted"}
    assert conditions["Initialized"] == {"status": "True", "reason": "PodCompleted"}


def test_a_missing_readiness_gate_keeps_the_pod_unready():
    pod_spec = {**spec("a"), "readinessGates": [{"conditionType": "www.example.com/feature-1"}]}
    conditions = dict(pod_status.conditions(pod_spec, [], [entry("a", RUNNING, ready=True)], "Running", True, []))
    assert conditions["ContainersReady"] == {"status": "True"}
    assert conditions["Ready"] == {"status": "False", "reason": "ReadinessGatesNotReady", "message":
                                   'corresponding condition of pod readiness gate "www.example.com/feature-1" '
                                   "does not exist."}


@pytest.mark.parametrize("resources, expected", [
    ([{}], "BestEffort"),
    ([{"requests": {"cpu": "100m"}}], "Burstable"),
    ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed"),
    ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}], "Burstable"),
    ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable"),
])
def test_qos_class(resources, expected):
    containers = [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]
    assert pod_status.qos_class({"containers": containers}) == expected


def test_conditions_keep_their_transition_time_and_others_conditions_stay_first():
    pod = {"metadata": {"generation": 1}, "spec": spec("a"), "status": {"conditions": [
        {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"}]}}
    status = pod_status.pod_status(pod, init_statuses=[], statuses=[entry("a", RUNNING, ready=True)],
                                   pod_phase="Running", sandbox_ready=True, host_ip="172.18.0.3",
                                   pod_ip="10.244.1.2", start_time=1_767_225_600.0, now=1_767_225_660.0)
    assert [c["type"] for c in status["conditions"]][:2] == ["DisruptionTarget", "PodReadyToStartContainers"]
    times = {c["type"]: c["lastTransitionTime"] for c in status["conditions"] if "lastTransitionTime" in c}
    assert times["Ready"] == "2026-01-01T00:00:05Z" and times["PodScheduled"] == "2026-01-01T00:00:00Z"
    assert times["ContainersReady"] == "2026-01-01T00:01:00Z"
    assert list(status) == ["observedGeneration", "phase", "conditions", "hostIP", "hostIPs", "podIP", "podIPs",
                            "startTime", "containerStatuses", "qosClass"]
