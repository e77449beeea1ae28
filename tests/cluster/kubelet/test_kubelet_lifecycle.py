"""A pod's way up on its node: sandbox, images, init containers, containers, status, events and trace."""

from __future__ import annotations

from kubelet_helpers import WORKERS, conditions, container, events, make, phase, pod, sh, state, status

from kubelab.cluster.kubelet import STAGES


def test_kubectl_run_db_with_mongo_reaches_running_with_the_kubelets_events():
    c = make()
    c.apply(pod("db", container("db", "mongo"), restartPolicy="Always"))
    c.settle()
    assert phase(c, "db") == "Running"
    assert events(c, "db") == [
        ("Normal", "Pulling", 'Pulling image "mongo"'),
        ("Normal", "Pulled", 'Successfully pulled image "mongo" in 7.8s (7.8s including waiting). '
                             "Image size: 290400000 bytes."),
        ("Normal", "Created", "Container created"),
        ("Normal", "Started", "Container started"),
    ]
    kubelet_events = [e for e in c.events("default") if e["source"]["component"] == "kubelet"
                      and e["involvedObject"]["kind"] == "Pod"]
    assert {e["involvedObject"].get("fieldPath") for e in kubelet_events} == {"spec.containers{db}"}
    assert {e["source"].get("host") for e in kubelet_events} == {c.get("pods", "db")["spec"]["nodeName"]}


def test_running_pod_status_is_the_kubelets_with_ip_from_the_node_pod_cidr():
    c = make()
    c.apply(pod("db", container("db", "mongo")))
    c.settle()
    p = c.get("pods", "db")
    node = c.get("nodes", p["spec"]["nodeName"], None)
    s = p["status"]
    cidr_prefix = node["spec"]["podCIDR"].rsplit(".", 1)[0]
    assert s["podIP"] == f"{cidr_prefix}.2" and s["podIPs"] == [{"ip": s["podIP"]}]
    assert s["hostIP"] == node["status"]["addresses"][0]["address"] and s["hostIPs"] == [{"ip": s["hostIP"]}]
    assert s["startTime"] == "2026-01-01T00:00:00Z" and s["qosClass"] == "BestEffort"
    assert [x["type"] for x in s["conditions"]] == ["PodReadyToStartContainers", "Initialized", "Ready",
                                                    "ContainersReady", "PodScheduled"]
    assert all(x["status"] == "True" and x["lastProbeTime"] is None for x in s["conditions"])
    db = s["containerStatuses"][0]
    assert db["state"] == {"running": {"startedAt": "2026-01-01T00:00:08Z"}}
    assert (db["ready"], db["started"], db["restartCount"], db["lastState"]) == (True, True, 0, {})
    assert db["image"] == "docker.io/library/mongo:latest"
    prefix = "docker.io/library/mongo@sha256:"
    assert db["imageID"].startswith(prefix) and len(db["imageID"]) == len(prefix) + 64
    assert db["containerID"].startswith("containerd://") and len(db["containerID"]) == len("containerd://") + 64
    assert db["volumeMounts"][0]["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"


def test_while_the_image_is_pulled_the_pod_shows_container_creating():
    c = make()
    c.apply(pod("db", container("db", "mongo")))
    c.advance(3)
    assert phase(c, "db") == "Pending"
    assert state(c, "db")["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert state(c, "db")["image"] == "mongo" and state(c, "db")["imageID"] == ""
    assert conditions(c, "db")["ContainersReady"] == ("False", "ContainersNotReady",
                                                      "containers with unready status: [db]")


def test_trace_records_the_seed_notes_pod_sequence():
    c = make()
    mark = c.trace_log.last_seq
    c.apply(pod("db", container("db", "mongo")))
    c.settle()
    steps = [str(r) for r in c.trace(mark) if r.component in ("scheduler", "kubelet")]
    node = c.get("pods", "db")["spec"]["nodeName"]
    assert steps == [
        f"scheduler: bound Pod default/db (to {node})",
        "kubelet: saw Pod default/db (assigned to this node)",
        "kubelet: asked the container runtime to create containers for Pod default/db (db: mongo)",
        "kubelet: reported Pod default/db (running, to the API server)",
    ]


def test_same_seed_gives_the_same_pods_ips_nodes_timings_and_events():
    def run() -> tuple:
        c = make(seed=7)
        for i in range(4):
            c.apply(pod(f"web-{i}", container("nginx", "nginx:1.25")))
        c.apply(pod("crash", container("db", "postgres")))
        c.advance(120)
        pods = [(p["metadata"]["uid"], p["spec"]["nodeName"], p["status"]) for p in c.list("pods")]
        return pods, [(e["metadata"]["name"], e["message"], e["count"]) for e in c.events()], c.now

    assert run() == run()


def test_a_second_pod_on_the_node_finds_the_image_already_present():
    c = make(nodes=2)  # one schedulable worker
    c.apply(pod("a", container("web", "nginx:1.25")))
    c.settle()
    c.apply(pod("b", container("web", "nginx:1.25")))
    c.settle()
    assert events(c, "b")[0] == ("Normal", "Pulled", 'Container image "nginx:1.25" already present on machine and '
                                                     "can be accessed by the pod")
    assert phase(c, "b") == "Running"


def test_pulls_on_one_node_wait_for_each_other():
    c = make(nodes=2)
    c.apply(pod("a", container("db", "mongo:3.3")))
    c.apply(pod("b", container("web", "nginx:1.25")))
    c.settle()
    pulled = dict((name, next(m for _, r, m in events(c, name) if r == "Pulled")) for name in ("a", "b"))
    assert pulled["a"] == 'Successfully pulled image "mongo:3.3" in 4.1s (4.1s including waiting). ' \
                          "Image size: 131800000 bytes."
    assert pulled["b"] == 'Successfully pulled image "nginx:1.25" in 2.1s (6.2s including waiting). ' \
                          "Image size: 72941245 bytes."


def test_always_policy_pulls_again_even_when_the_node_has_the_image():
    c = make(nodes=2)
    c.apply(pod("a", container("web", "nginx")))
    c.settle()
    c.apply(pod("b", container("web", "nginx")))
    c.settle()
    assert events(c, "b")[:2] == [("Normal", "Pulling", 'Pulling image "nginx"'),
                                  ("Normal", "Pulled", 'Successfully pulled image "nginx" in 500ms (500ms including '
                                                       "waiting). Image size: 72941245 bytes.")]


def test_never_policy_without_the_image_is_err_image_never_pull():
    c = make()
    c.apply(pod("n", container("web", "nginx:1.25", imagePullPolicy="Never")))
    c.settle()
    message = 'Container image "nginx:1.25" is not present with pull policy of Never'
    assert state(c, "n")["state"] == {"waiting": {"reason": "ErrImageNeverPull", "message": message}}
    assert events(c, "n") == [("Warning", "ErrImageNeverPull", message),
                              ("Warning", "Failed", "Error: ErrImageNeverPull")]


def test_init_containers_run_one_after_the_other_before_the_app():
    c = make()
    c.apply(pod("app", container("web", "nginx:1.25"),
                initContainers=[sh("first", "busybox", "sleep 5; echo one"), sh("second", "busybox", "echo two")]))
    c.advance(2)
    inits = status(c, "app")["initContainerStatuses"]
    assert [(i["name"], list(i["state"])) for i in inits] == [("first", ["running"]), ("second", ["waiting"])]
    assert inits[1]["state"]["waiting"] == {"reason": "PodInitializing"}
    assert state(c, "app")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert conditions(c, "app")["Initialized"] == ("False", "ContainersNotInitialized",
                                                   "containers with incomplete status: [first second]")
    c.settle()
    assert phase(c, "app") == "Running"
    inits = status(c, "app")["initContainerStatuses"]
    assert [(i["state"]["terminated"]["reason"], i["state"]["terminated"]["exitCode"]) for i in inits] == \
        [("Completed", 0), ("Completed", 0)]
    assert conditions(c, "app")["Initialized"] == ("True", "", "")
    created = [e["involvedObject"]["fieldPath"] for e in c.events("default") if e["reason"] == "Created"]
    assert created == ["spec.initContainers{first}", "spec.initContainers{second}", "spec.containers{web}"]


def test_a_sidecar_starts_before_the_app_and_keeps_running():
    c = make()
    side = sh("log-shipper", "busybox", "while true; do sleep 5; done", restartPolicy="Always")
    c.apply(pod("app", container("web", "nginx:1.25"), initContainers=[side]))
    c.settle()
    assert phase(c, "app") == "Running"
    sidecar = state(c, "app", "log-shipper", init=True)
    assert list(sidecar["state"]) == ["running"] and sidecar["started"] is True and sidecar["ready"] is True
    assert conditions(c, "app")["Ready"][0] == "True"


def test_a_failed_init_container_fails_a_pod_that_never_restarts():
    c = make()
    c.apply(pod("app", container("web", "nginx:1.25"), initContainers=[sh("check", "busybox", "exit 3")],
                restartPolicy="Never"))
    c.settle()
    assert phase(c, "app") == "Failed"
    assert state(c, "app", init=True)["state"]["terminated"]["exitCode"] == 3
    assert state(c, "app")["state"] == {"waiting": {"reason": "PodInitializing"}}


def test_a_simple_pod_costs_two_status_writes():
    c = make()
    watch = c.watch("pods", "default")
    c.apply(pod("db", container("db", "registry.k8s.io/pause:3.10")))
    c.settle()
    kinds = [e["type"] for e in watch.drain()]
    # ADDED, bound by the scheduler, ContainerCreating, Running: the kubelet posts twice.
    assert kinds == ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED"]


def test_the_stage_table_names_what_each_step_shows():
    assert STAGES["sandbox"].shows == "ContainerCreating"
    assert STAGES["pull"].does.startswith("PullImage")
    assert {s.name for s in STAGES.values()} >= {"sandbox", "pull", "create", "start", "kill", "teardown"}


def test_pods_spread_over_both_workers():
    c = make()
    for i in range(4):
        c.apply(pod(f"p{i}", container("app", "registry.k8s.io/pause:3.10")))
    c.settle()
    assert {p["spec"]["nodeName"] for p in c.list("pods")} == set(WORKERS)
    ips = [p["status"]["podIP"] for p in c.list("pods")]
    assert len(set(ips)) == 4


def test_a_crashing_sidecar_restarts_beside_the_running_app():
    c = make()
    side = sh("helper", "busybox:1.36", "sleep 20; exit 1", restartPolicy="Always")
    c.apply(pod("app", container("web", "nginx:1.25"), initContainers=[side]))
    c.advance(120)
    assert state(c, "app", "helper", init=True)["restartCount"] >= 2
    assert state(c, "app")["restartCount"] == 0 and phase(c, "app") == "Running"


def test_pod_addresses_are_the_range_hosts_after_the_gateway_handed_out_in_turn():
    import ipaddress

    from kubelab.cluster.kubelet.agent import Ipam

    for cidr in ("10.244.3.0/24", "10.0.0.0/30", "10.0.0.0/31", "fd00::/120"):
        hosts = [str(ip) for ip in ipaddress.ip_network(cidr).hosts()]
        ipam = Ipam(cidr)
        assert ipam.gateway == hosts[0] and ipam.range_text == f"{hosts[0]}-{hosts[-1]}"
        given = [ipam.allocate(f"pod-{i}") for i in range(len(hosts) - 1)]
        assert given == hosts[1:] and ipam.allocate("one-too-many") is None
        ipam.release("pod-0")
        assert ipam.allocate("again") == hosts[1]
