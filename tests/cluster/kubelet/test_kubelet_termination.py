"""Pods coming down: graceful deletion, grace periods, preStop hooks, completion, restart policies, dead nodes."""

from __future__ import annotations

import pytest
from kubelet_helpers import container, elapsed, event_counts, events, make, phase, pod, sh, state, status

from kubelab.api.errors import ApiError


def gone(c, name: str) -> bool:
    try:
        c.get("pods", name)
    except ApiError as err:
        return err.reason == "NotFound"
    return False


def test_a_deleted_nginx_stops_gracefully_and_the_kubelet_confirms_the_deletion():
    c = make()
    c.apply(pod("web", container("nginx", "nginx:1.25")))
    c.settle()
    start = c.now
    c.delete("pods", "web")
    live = c.get("pods", "web")
    assert live["metadata"]["deletionGracePeriodSeconds"] == 30
    c.settle()
    assert gone(c, "web")
    assert elapsed(c, start) < 1  # nginx quits at once on its stop signal (SIGQUIT)
    assert events(c, "web")[-1] == ("Normal", "Killing", "Stopping container nginx")
    assert [str(r) for r in c.trace() if r.component == "kubelet"][-1] == \
        "kubelet: confirmed the deletion of Pod default/web"


def test_a_shell_that_ignores_sigterm_is_killed_when_the_grace_period_ends():
    c = make()
    c.apply(pod("sleeper", sh("app", "busybox", "sleep 3600")))
    c.settle()
    start = c.now
    watch = c.watch("pods", "default", resource_version=c.get("pods", "sleeper")["metadata"]["resourceVersion"])
    c.delete("pods", "sleeper")
    c.advance(29)
    assert not gone(c, "sleeper")
    c.settle()
    assert gone(c, "sleeper") and 30 <= elapsed(c, start) < 31
    last = [e["object"] for e in watch.drain() if e["type"] == "MODIFIED"][-1]
    assert last["status"]["phase"] == "Failed"
    assert last["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137


def test_a_shorter_grace_period_is_honoured():
    c = make()
    c.apply(pod("sleeper", sh("app", "busybox", "sleep 3600"), terminationGracePeriodSeconds=5))
    c.settle()
    start = c.now
    c.delete("pods", "sleeper")
    c.settle()
    assert gone(c, "sleeper") and 5 <= elapsed(c, start) < 6


def test_a_pre_stop_hook_runs_before_the_stop_signal():
    c = make()
    hook = {"preStop": {"exec": {"command": ["sh", "-c", "sleep 10"]}}}
    c.apply(pod("web", container("nginx", "nginx:1.25", lifecycle=hook)))
    c.settle()
    start = c.now
    c.delete("pods", "web")
    c.advance(9)
    assert not gone(c, "web")
    c.settle()
    assert gone(c, "web") and 10 <= elapsed(c, start) < 11


def test_a_pod_on_a_dead_node_stays_terminating_until_its_kubelet_returns():
    c = make()
    c.apply(pod("web", container("nginx", "nginx:1.25")))
    c.settle()
    node = c.get("pods", "web")["spec"]["nodeName"]
    c.fail_node(node)
    c.delete("pods", "web")
    c.advance(600)
    live = c.get("pods", "web")
    assert live["metadata"]["deletionTimestamp"] and live["status"]["phase"] == "Running"
    c.recover_node(node)
    c.settle()
    assert gone(c, "web")


def test_pods_of_a_failed_node_are_evicted_after_300_seconds():
    c = make()
    c.apply(pod("web", container("nginx", "nginx:1.25")))
    c.settle()
    node = c.get("pods", "web")["spec"]["nodeName"]
    c.fail_node(node)
    c.advance(340)
    assert not c.get("pods", "web")["metadata"].get("deletionTimestamp")
    c.advance(30)
    assert c.get("pods", "web")["metadata"].get("deletionTimestamp")


def test_a_pod_asking_for_64_cpus_stays_pending_with_failed_scheduling():
    c = make()
    c.apply(pod("big", container("app", "nginx:1.25", resources={"requests": {"cpu": "64"}})))
    c.settle()
    assert phase(c, "big") == "Pending" and "containerStatuses" not in status(c, "big")
    assert events(c, "big", source="default-scheduler")[0][1] == "FailedScheduling"


@pytest.mark.parametrize("policy, script, expected_phase, restarts", [
    ("Never", "exit 0", "Succeeded", 0),
    ("Never", "exit 1", "Failed", 0),
    ("OnFailure", "exit 0", "Succeeded", 0),
    ("OnFailure", "exit 1", "Running", 1),
    ("Always", "exit 0", "Running", 1),
])
def test_restart_policies(policy, script, expected_phase, restarts):
    c = make()
    c.apply(pod("job", sh("main", "busybox:1.36", script), restartPolicy=policy))
    c.settle()
    assert phase(c, "job") == expected_phase
    assert state(c, "job")["restartCount"] == restarts


def test_a_completed_pod_gives_back_its_sandbox_but_keeps_its_ip_in_status():
    c = make(nodes=2)
    c.apply(pod("once", sh("main", "busybox:1.36", "echo done"), restartPolicy="Never"))
    c.settle()
    s = status(c, "once")
    ready_to_start = next(x for x in s["conditions"] if x["type"] == "PodReadyToStartContainers")
    assert s["phase"] == "Succeeded" and ready_to_start["status"] == "False" and s["podIP"] == "10.244.1.2"
    c.apply(pod("next", container("app", "registry.k8s.io/pause:3.10")))
    c.settle()
    assert status(c, "next")["podIP"] == "10.244.1.3"  # host-local hands addresses out in turn


def test_active_deadline_seconds_fails_the_pod():
    c = make()
    c.apply(pod("slow", sh("main", "busybox:1.36", "sleep 600"), activeDeadlineSeconds=20,
                terminationGracePeriodSeconds=3))
    c.advance(60)
    s = status(c, "slow")
    message = "Pod was active on the node longer than the specified deadline"
    assert (s["phase"], s["reason"], s["message"]) == ("Failed", "DeadlineExceeded", message)
    assert ("Warning", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline") in \
        events(c, "slow")


def test_changing_the_image_of_a_bare_pod_restarts_its_container():
    c = make()
    c.apply(pod("web", container("nginx", "nginx:1.25")))
    c.settle()
    c.apply(pod("web", container("nginx", "nginx:1.26")))
    c.settle()
    entry = state(c, "web")
    assert entry["restartCount"] == 1 and entry["image"] == "docker.io/library/nginx:1.26"
    assert event_counts(c, "web")[("Killing", "Container nginx definition changed, will be restarted")] == 1


def test_a_termination_message_is_read_from_the_containers_file():
    c = make()
    c.apply(pod("bye", sh("main", "busybox:1.36", "echo 'disk full' > /dev/termination-log; exit 3"),
                restartPolicy="Never"))
    c.settle()
    terminated = state(c, "bye")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"], terminated["message"]) == (3, "Error", "disk full\n")


def test_a_second_delete_with_a_shorter_grace_period_kills_sooner():
    c = make()
    c.apply(pod("sleeper", sh("app", "busybox", "sleep 3600")))
    c.settle()
    start = c.now
    c.delete("pods", "sleeper")
    c.advance(5)
    c.delete("pods", "sleeper", grace_period=3)
    c.settle()
    assert gone(c, "sleeper") and 8 <= elapsed(c, start) < 9
