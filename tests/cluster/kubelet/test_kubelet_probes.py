"""Probes are evaluated against the container: httpGet, tcpSocket, exec and grpc, with their timings."""

from __future__ import annotations

from kubelet_helpers import conditions, container, event_counts, events, make, phase, pod, sh, state


def go_demo_2(name: str = "go-demo-2", path: str = "/demo/hello") -> dict:
    api = container("api", "vfarcic/go-demo-2", env=[{"name": "DB", "value": "localhost"}],
                    livenessProbe={"httpGet": {"path": path, "port": 8080}})
    return pod(name, container("db", "mongo:3.3"), api)


def test_the_seed_go_demo_2_pod_runs_and_stays_healthy():
    c = make()
    c.apply(go_demo_2())
    c.settle()
    c.advance(300)
    assert phase(c, "go-demo-2") == "Running"
    assert [(s["name"], s["ready"], s["restartCount"]) for s in c.get("pods", "go-demo-2")["status"]
            ["containerStatuses"]] == [("db", True, 0), ("api", True, 0)]
    assert not [e for e in events(c, "go-demo-2") if e[0] == "Warning"]
    assert c.logs("go-demo-2", "api").count("GET request to /demo/hello") >= 30  # the kubelet's probes


def test_a_wrong_liveness_path_restarts_the_container_with_the_real_events():
    c = make()
    c.apply(go_demo_2(path="/demo/wrong"))
    c.settle()
    start = c.get("pods", "go-demo-2")
    assert start["status"]["containerStatuses"][1]["restartCount"] >= 1
    counts = event_counts(c, "go-demo-2")
    assert counts[("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404")] >= 3
    assert counts[("Killing", "Container api failed liveness probe, will be restarted")] >= 1
    c.advance(600)
    api = state(c, "go-demo-2", "api")
    assert api["restartCount"] >= 4 and state(c, "go-demo-2", "db")["restartCount"] == 0
    assert api["lastState"]["terminated"]["finishedAt"]
    kinds = {(t, r) for t, r, _ in events(c, "go-demo-2")}
    assert {("Warning", "Unhealthy"), ("Normal", "Killing"), ("Warning", "BackOff")} <= kinds
    killing = [e for e in c.events() if e["reason"] == "Killing"][0]
    assert killing["involvedObject"]["fieldPath"] == "spec.containers{api}"


def test_liveness_failures_are_counted_before_the_kill():
    c = make()
    c.apply(go_demo_2(path="/demo/wrong"))
    c.advance(6.5)  # mongo pulled by 4.6 s, the api started at 6.1 s; its first probe failed at once
    assert event_counts(c, "go-demo-2").get(("Killing", "Container api failed liveness probe, will be restarted")) \
        is None
    c.advance(20)  # periodSeconds 10, failureThreshold 3: killed at the third failure
    assert event_counts(c, "go-demo-2")[("Killing", "Container api failed liveness probe, will be restarted")] == 1


def test_readiness_probe_gates_ready_and_settle_reaches_the_first_result():
    c = make()
    probe = {"httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 5, "periodSeconds": 5}
    c.apply(pod("web", container("nginx", "nginx:1.25", readinessProbe=probe)))
    c.advance(3)
    assert phase(c, "web") == "Running" and conditions(c, "web")["Ready"][:2] == ("False", "ContainersNotReady")
    c.settle()
    assert conditions(c, "web")["Ready"][0] == "True" and state(c, "web")["ready"] is True


def test_a_failing_readiness_probe_keeps_the_pod_unready_but_running():
    c = make()
    probe = {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 5}
    c.apply(pod("web", container("nginx", "nginx:1.25", readinessProbe=probe)))
    c.settle()
    c.advance(60)
    assert phase(c, "web") == "Running" and state(c, "web")["restartCount"] == 0
    assert conditions(c, "web")["Ready"] == ("False", "ContainersNotReady", "containers with unready status: [nginx]")
    assert event_counts(c, "web")[("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404")] > 5


def test_exec_probe_output_is_the_unhealthy_event_text():
    c = make()
    script = "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5, "periodSeconds": 5}
    c.apply(pod("liveness-exec", sh("liveness", "busybox", script, livenessProbe=probe)))
    c.advance(60)
    assert ("Warning", "Unhealthy", "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or "
                                    "directory") in events(c, "liveness-exec")
    assert ("Normal", "Killing", "Container liveness failed liveness probe, will be restarted") in \
        events(c, "liveness-exec")


def test_tcp_socket_probe_sees_the_listening_port():
    c = make()
    probe = {"tcpSocket": {"port": 6379}, "periodSeconds": 5}
    c.apply(pod("cache", container("redis", "redis:7", readinessProbe=probe)))
    c.settle()
    assert state(c, "cache")["ready"] is True
    c.apply(pod("wrong", container("redis", "redis:7", livenessProbe={"tcpSocket": {"port": 6380}})))
    c.settle()
    ip = c.get("pods", "wrong")["status"]["podIP"]
    assert ("Warning", "Unhealthy", f"Liveness probe failed: dial tcp {ip}:6380: connect: connection refused") in \
        events(c, "wrong")


def test_a_startup_probe_holds_liveness_until_it_succeeds():
    c = make()
    startup = {"httpGet": {"path": "/", "port": 80}, "failureThreshold": 30, "periodSeconds": 10}
    liveness = {"httpGet": {"path": "/nope", "port": 80}, "periodSeconds": 10}
    c.apply(pod("web", container("nginx", "nginx:1.25", startupProbe=startup, livenessProbe=liveness)))
    c.advance(3.5)  # started at 2.9 s (sandbox, pull, create, start), probed at once
    assert state(c, "web")["started"] is True
    c.advance(60)
    assert ("Normal", "Killing", "Container nginx failed liveness probe, will be restarted") in events(c, "web")


def test_a_failing_startup_probe_restarts_the_container():
    c = make()
    startup = {"httpGet": {"path": "/", "port": 8081}, "failureThreshold": 3, "periodSeconds": 5}
    c.apply(pod("web", container("nginx", "nginx:1.25", startupProbe=startup)))
    c.advance(20)
    assert ("Normal", "Killing", "Container nginx failed startup probe, will be restarted") in events(c, "web")
    assert state(c, "web")["started"] is False


def test_grpc_probe_against_a_server_without_the_health_service_fails():
    c = make()
    c.apply(pod("web", container("nginx", "nginx:1.25", readinessProbe={"grpc": {"port": 80}})))
    c.settle()
    assert ("Warning", "Unhealthy", "Readiness probe failed: rpc error: code = Unimplemented desc = unknown service "
                                    "grpc.health.v1.Health") in events(c, "web")


def test_healthy_probes_do_not_keep_settle_busy():
    c = make()
    probe = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1}
    c.apply(pod("web", container("nginx", "nginx:1.25", livenessProbe=probe, readinessProbe=probe)))
    moved = c.settle()
    assert moved < 10
    assert c.settle() == 0.0
