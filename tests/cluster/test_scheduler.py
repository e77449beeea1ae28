"""The scheduler: filters, scores, binding, FailedScheduling messages, retries and the decision record."""

from __future__ import annotations

import kubelab
from kubelab.cluster.scheduling.filters import matches_term

WORKERS = {"kubelab-worker", "kubelab-worker2"}


def make(nodes: int = 3, seed: int = 1) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=nodes, clock="stepped", seed=seed)


def pod(name: str, *, requests: dict | None = None, labels: dict | None = None, ports: list | None = None,
        **spec) -> dict:
    container: dict = {"name": "app", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    if ports:
        container["ports"] = ports
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": [container], **spec}}


def where(c: kubelab.Cluster, name: str) -> str | None:
    return c.get("pods", name)["spec"].get("nodeName")


def scheduled_condition(c: kubelab.Cluster, name: str) -> dict:
    return next(x for x in c.get("pods", name)["status"]["conditions"] if x["type"] == "PodScheduled")


def events_for(c: kubelab.Cluster, name: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in c.events() if e["involvedObject"]["name"] == name]


def test_pod_is_bound_to_a_worker_with_scheduled_condition_and_event():
    c = make()
    c.create(pod("db"))
    node = where(c, "db")
    assert node in WORKERS
    assert scheduled_condition(c, "db")["status"] == "True"
    assert events_for(c, "db") == [("Normal", "Scheduled", f"Successfully assigned default/db to {node}")]
    assert [e["source"] for e in c.events() if e["reason"] == "Scheduled"] == [{"component": "default-scheduler"}]
    assert any(str(r) == f"scheduler: bound Pod default/db (to {node})" for r in c.trace())


def test_pod_asking_for_64_cpus_stays_pending_with_kube_schedulers_message():
    c = make()
    c.create(pod("big", requests={"cpu": "64"}))
    message = ("0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. "
               "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    assert where(c, "big") is None
    condition = scheduled_condition(c, "big")
    assert (condition["status"], condition["reason"], condition["message"]) == ("False", "Unschedulable", message)
    assert events_for(c, "big") == [("Warning", "FailedScheduling", message)]
    assert c.get("pods", "big")["status"]["phase"] == "Pending"


def test_pod_that_fits_an_empty_node_but_not_a_busy_one_finds_no_preemption_victims():
    c = make(2)  # a tainted control plane and one worker with 4 cpus
    c.create(pod("first", requests={"cpu": "3"}))
    c.create(pod("second", requests={"cpu": "2", "memory": "100Gi"}))
    assert scheduled_condition(c, "second")["message"] == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) had untolerated taint(s). "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    c.create(pod("third", requests={"cpu": "2"}))
    assert scheduled_condition(c, "third")["message"] == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s). "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling.")


def test_unschedulable_pod_is_bound_once_room_is_freed():
    c = make(2)
    c.create(pod("first", requests={"cpu": "3"}))
    c.create(pod("second", requests={"cpu": "2"}))
    assert where(c, "second") is None
    c.delete("pods", "first", grace_period=0)
    c.settle()  # the pod's back-off (1 s) passes, then it is tried again
    assert where(c, "second") == "kubelab-worker"


def test_a_cluster_without_nodes_says_so_and_schedules_once_a_node_joins():
    c = make(0)
    c.create(pod("db"))
    assert scheduled_condition(c, "db")["message"] == "no nodes available to schedule pods"
    c.add_node()
    c.settle()
    assert where(c, "db") == "kubelab-control-plane"


def test_cordoned_workers_are_reported_as_unschedulable():
    c = make()
    c.cordon("kubelab-worker")
    c.cordon("kubelab-worker2")
    c.create(pod("web"))
    assert scheduled_condition(c, "web")["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) were unschedulable. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    c.uncordon("kubelab-worker2")
    c.settle()
    assert where(c, "web") == "kubelab-worker2"


def test_node_selector_waits_for_a_matching_node_label():
    c = make()
    c.create(pod("fast", nodeSelector={"disktype": "ssd"}))
    assert scheduled_condition(c, "fast")["message"].startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), "
        "2 node(s) didn't match Pod's node affinity/selector.")
    node = c.get("nodes", "kubelab-worker2", None)
    node["metadata"]["labels"]["disktype"] = "ssd"
    c.update(node)
    c.settle()
    assert where(c, "fast") == "kubelab-worker2"


def test_required_node_affinity_picks_the_node_its_terms_match():
    c = make()
    c.add_node(labels={"zone": "b", "cores": "16"})
    term = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                                 {"key": "cores", "operator": "Gt", "values": ["8"]}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    c.create(pod("picky", affinity=affinity))
    assert where(c, "picky") == "kubelab-worker3"


def test_node_selector_term_operators():
    labels = {"zone": "a", "cores": "16"}
    expr = lambda key, op, *values: {"matchExpressions": [{"key": key, "operator": op, "values": list(values)}]}
    assert matches_term(expr("zone", "In", "a", "b"), "n1", labels)
    assert not matches_term(expr("zone", "NotIn", "a"), "n1", labels)
    assert matches_term(expr("gpu", "NotIn", "yes"), "n1", labels)
    assert matches_term(expr("zone", "Exists"), "n1", labels)
    assert matches_term(expr("gpu", "DoesNotExist"), "n1", labels)
    assert matches_term(expr("cores", "Lt", "32"), "n1", labels)
    assert not matches_term(expr("zone", "Gt", "1"), "n1", labels)  # not a number
    assert not matches_term({}, "n1", labels)  # an empty term selects nothing
    assert matches_term({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}, "n1", {})


def test_toleration_lets_a_pod_onto_the_control_plane():
    c = make()
    toleration = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
    c.create(pod("admin", tolerations=[toleration], nodeSelector={"node-role.kubernetes.io/control-plane": ""}))
    assert where(c, "admin") == "kubelab-control-plane"


def test_prefer_no_schedule_taint_only_steers_pods_away():
    c = make()
    node = c.get("nodes", "kubelab-worker", None)
    node["spec"]["taints"] = [{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}]
    c.update(node)
    for i in range(3):
        c.create(pod(f"web-{i}"))
    assert {where(c, f"web-{i}") for i in range(3)} == {"kubelab-worker2"}
    scores = c.scheduling_decision("web-0").scores
    assert scores["kubelab-worker"]["TaintToleration"] == 0 and scores["kubelab-worker2"]["TaintToleration"] == 100


def test_host_port_taken_on_the_only_worker():
    c = make(2)
    c.create(pod("a", ports=[{"containerPort": 80, "hostPort": 8080}]))
    c.create(pod("b", ports=[{"containerPort": 80, "hostPort": 8080}]))
    assert where(c, "a") == "kubelab-worker" and where(c, "b") is None
    assert scheduled_condition(c, "b")["message"] == (
        "0/2 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, "
        "1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: "
        "1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.")


def replica_set(c: kubelab.Cluster) -> dict:
    return c.create({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-5d4f8"},
                     "spec": {"replicas": 6, "selector": {"matchLabels": {"app": "web"}},
                              "template": {"metadata": {"labels": {"app": "web"}},
                                           "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}})


def test_pods_of_one_replicaset_spread_over_nodes_even_when_one_node_is_bigger():
    c = make(2)
    c.add_node("big", cpu=64, memory="64Gi")
    replica_set(c)  # its controller creates the six pods; the scheduler places them
    placed = sorted(p["spec"]["nodeName"] for p in c.list("pods", selector="app=web"))
    assert placed == ["big"] * 3 + ["kubelab-worker"] * 3
    # Unrelated pods only follow free resources: the big node wins them all.
    for i in range(3):
        c.create(pod(f"solo-{i}"))
    assert {where(c, f"solo-{i}") for i in range(3)} == {"big"}


def test_same_seed_gives_the_same_placements():
    def run(seed: int) -> list[str | None]:
        c = make(4, seed=seed)
        for i in range(8):
            c.create(pod(f"web-{i}"))
        return [where(c, f"web-{i}") for i in range(8)]

    assert run(7) == run(7)


def test_scheduling_decision_explains_filters_scores_and_pick():
    c = make()
    c.create(pod("db"))
    decision = c.scheduling_decision("db")
    assert decision is not None and decision.node == where(c, "db")
    assert decision.rejected["kubelab-control-plane"].plugin == "TaintToleration"
    assert "node-role.kubernetes.io/control-plane" in decision.rejected["kubelab-control-plane"].detail
    assert set(decision.scores) == WORKERS
    assert decision.tied == sorted(WORKERS)  # two identical empty workers: the seeded generator chose
    text = str(decision)
    assert text.startswith(f"Pod default/db → {decision.node} (attempt 1)")
    assert "✗ TaintToleration: node(s) had untolerated taint(s)" in text and "← picked" in text
    assert c.scheduling_decision("nope") is None


def test_pods_for_another_scheduler_or_with_gates_are_left_alone():
    c = make()
    c.create(pod("other", schedulerName="my-scheduler"))
    c.create(pod("gated", schedulingGates=[{"name": "example.com/wait"}]))
    assert where(c, "other") is None and "conditions" not in c.get("pods", "other").get("status", {})
    gated = scheduled_condition(c, "gated")
    assert (gated["reason"], gated["message"]) == ("SchedulingGated",
                                                   "Scheduling is blocked due to non-empty scheduling gates")


def test_higher_priority_pod_preempts_a_lower_priority_one():
    c = make(2)
    c.create(pod("batch", requests={"cpu": "3"}), namespace="kube-system")
    c.create(pod("critical", requests={"cpu": "2"}, priorityClassName="system-cluster-critical"),
             namespace="kube-system")
    victim = c.get("pods", "batch", "kube-system")
    assert victim["metadata"]["deletionTimestamp"]
    assert next(x for x in victim["status"]["conditions"] if x["type"] == "DisruptionTarget")["reason"] == \
        "PreemptionByScheduler"
    critical = c.get("pods", "critical", "kube-system")
    assert critical["status"]["nominatedNodeName"] == "kubelab-worker"
    condition = next(x for x in critical["status"]["conditions"] if x["type"] == "PodScheduled")
    assert condition["message"] == "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s)."
    preempted = [e["message"] for e in c.events("kube-system") if e["reason"] == "Preempted"]
    assert preempted == [f"Preempted by pod {critical['metadata']['uid']} on node kubelab-worker"]
    c.delete("pods", "batch", "kube-system", grace_period=0)  # what its kubelet would do once it stopped
    c.settle()
    assert c.get("pods", "critical", "kube-system")["spec"]["nodeName"] == "kubelab-worker"


def test_pod_created_already_bound_counts_against_its_node():
    # The scheduler skips its cache for pods it has never seen bound: one created with a node must still count.
    c = make()
    c.create(pod("pinned", requests={"cpu": "3"}, nodeName="kubelab-worker"))
    for i in range(3):
        c.create(pod(f"next-{i}", requests={"cpu": "3"}))
    assert [where(c, f"next-{i}") for i in range(3)] == ["kubelab-worker2", None, None]
