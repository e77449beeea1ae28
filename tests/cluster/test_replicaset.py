"""ReplicaSet and ReplicationController controllers: pods from the template, replacement, scale-down order,
adoption and release by labels, status counters, minReadySeconds, creation failures."""

from __future__ import annotations

import kubelab
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import parse_time


def make() -> kubelab.Cluster:
    return kubelab.Cluster(nodes=3, clock="stepped", seed=1)


def replicaset(name: str = "web", replicas: int = 3, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, **spec,
                     "template": {"metadata": {"labels": {"app": name, "tier": "front"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}}


def pods(c: kubelab.Cluster, *, terminating: bool = False) -> list[dict]:
    return [p for p in c.list("pods") if bool(p["metadata"].get("deletionTimestamp")) == terminating]


def events(c: kubelab.Cluster, kind: str = "ReplicaSet") -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in c.events() if e["involvedObject"]["kind"] == kind]


def test_replicaset_creates_pods_from_template_with_generated_names_and_controller_reference():
    c = make()
    rs = c.create(replicaset())
    live = pods(c)
    assert len(live) == 3
    for pod in live:
        name = pod["metadata"]["name"]
        assert name.startswith("web-") and len(name) == len("web-") + 5
        assert pod["metadata"]["labels"] == {"app": "web", "tier": "front"}
        assert pod["metadata"]["ownerReferences"] == [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": rs["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}]
    assert sorted(events(c)) == [("SuccessfulCreate", f"Created pod: {p['metadata']['name']}") for p in live]
    assert all(e["source"] == {"component": "replicaset-controller"} for e in c.events()
               if e["reason"] == "SuccessfulCreate")
    status = c.get("rs", "web")["status"]
    assert status == {"replicas": 3, "fullyLabeledReplicas": 3, "terminatingReplicas": 0, "observedGeneration": 1}


def test_status_counts_ready_pods_once_started():
    c = make()
    c.create(replicaset())
    c.settle()
    status = c.get("rs", "web")["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (3, 3, 3)


def test_deleted_pod_is_replaced_by_replicaset():
    c = make()
    c.create(replicaset())
    c.settle()
    before = {p["metadata"]["name"] for p in pods(c)}
    victim = sorted(before)[0]
    c.delete("pods", victim)
    after = {p["metadata"]["name"] for p in pods(c)}
    (replacement,) = after - before
    assert after == before - {victim} | {replacement}
    assert events(c)[-1] == ("SuccessfulCreate", f"Created pod: {replacement}")
    c.settle()
    assert c.get("rs", "web")["status"]["readyReplicas"] == 3
    assert {p["metadata"]["name"] for p in c.list("pods")} == after  # the deleted pod left once stopped


def orphan(name: str, image: str = "nginx:1.25", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web", "tier": "front"}},
            "spec": {"containers": [{"name": "nginx", "image": image, **spec.pop("container", {})}], **spec}}


def test_scale_down_deletes_unscheduled_then_pending_then_not_ready_then_most_recently_ready_pods():
    c = make()
    c.create(orphan("ready-early"))
    c.advance(60)
    c.create(orphan("ready-late"))
    # nginx answers /healthz with 404: the pod runs but its readiness probe never passes.
    c.create(orphan("not-ready", container={"readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}}}))
    c.create(orphan("pending", image="nginx:does-not-exist"))  # never pulls: stays Pending
    c.create(orphan("unscheduled", nodeSelector={"disktype": "ssd"}))  # no node has that label
    c.advance(60)
    c.create(replicaset(replicas=5))  # adopts the five instead of creating any
    assert sorted(p["metadata"]["name"] for p in pods(c)) == [
        "not-ready", "pending", "ready-early", "ready-late", "unscheduled"]
    assert [r for r, _ in events(c)] == []
    deleted = []
    for size in (4, 3, 2, 1):
        c.scale("rs", "web", size)
        deleted.append(events(c)[-1])
    assert deleted == [("SuccessfulDelete", f"Deleted pod: {name}")
                       for name in ("unscheduled", "pending", "not-ready", "ready-late")]
    assert [p["metadata"]["name"] for p in pods(c)] == ["ready-early"]


def test_pod_deletion_cost_annotation_decides_between_equal_pods():
    c = make()
    c.create(replicaset(replicas=2))
    a, b = (p["metadata"]["name"] for p in pods(c))
    pod_a = c.get("pods", a)
    pod_a["metadata"].setdefault("annotations", {})["controller.kubernetes.io/pod-deletion-cost"] = "100"
    c.update(pod_a)
    c.scale("rs", "web", 1)
    assert [p["metadata"]["name"] for p in pods(c)] == [a]


def test_orphan_pod_matching_the_selector_is_adopted_instead_of_creating_one():
    c = make()
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray", "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}})
    rs = c.create(replicaset(replicas=2))
    stray = c.get("pods", "stray")
    assert stray["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    assert len(pods(c)) == 2
    status = c.get("rs", "web")["status"]
    assert (status["replicas"], status["fullyLabeledReplicas"]) == (2, 1)  # the stray lacks tier=front


def test_pod_relabelled_out_of_the_selector_is_released_and_replaced():
    c = make()
    c.create(replicaset(replicas=2))
    name = pods(c)[0]["metadata"]["name"]
    pod = c.get("pods", name)
    pod["metadata"]["labels"]["app"] = "debug"
    c.update(pod)
    assert "ownerReferences" not in c.get("pods", name)["metadata"]
    mine = c.list("pods", selector="app=web")
    assert len(mine) == 2 and name not in {p["metadata"]["name"] for p in mine}
    # Putting the label back makes it an orphan that matches again: adopted, and one pod too many goes.
    pod = c.get("pods", name)
    pod["metadata"]["labels"]["app"] = "web"
    c.update(pod)
    assert len(pods(c)) == 2
    assert events(c)[-1][0] == "SuccessfulDelete"


def test_min_ready_seconds_delays_available_replicas_and_the_controller_looks_again():
    c = make()
    c.create(replicaset(replicas=1, minReadySeconds=10))
    while not c.get("rs", "web")["status"].get("readyReplicas"):
        c.advance(0.5)
    assert c.get("rs", "web")["status"].get("availableReplicas", 0) == 0
    ready = next(x for x in pods(c)[0]["status"]["conditions"] if x["type"] == "Ready")
    available_at = parse_time(ready["lastTransitionTime"]) + 10
    c.advance(available_at - c.now - 0.5)
    assert c.get("rs", "web")["status"].get("availableReplicas", 0) == 0
    c.advance(0.5)  # nothing else happens at that instant: the controller's own re-check counts it
    assert c.get("rs", "web")["status"]["availableReplicas"] == 1


def test_failed_pod_creation_sets_replica_failure_and_slow_start_stops_early():
    c = make()
    quota_message = 'pods "web-{}" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2'

    def quota(pod: dict, old: dict | None) -> None:
        if len(c.store.list(("", "pods"), "default")[0]) >= 2:
            raise ApiError("Forbidden", quota_message.format(pod["metadata"]["name"][4:]))

    c.api.on_create.setdefault("Pod", []).append(quota)
    since = c.trace_log.last_seq
    c.create(replicaset(replicas=5))
    first_pass = [str(r) for r in c.trace(since)][1:5]
    # Batches of 1 then 2: the second batch hits the quota; the fifth pod is not even tried.
    assert first_pass[0] == "replicaset-controller: too few replicas ReplicaSet default/web (need 5, creating 5)"
    assert sorted(r.split(" (")[0] for r in first_pass[1:]) == [
        "api-server: stored Pod default/" + p["metadata"]["name"] for p in pods(c)] + [
        "replicaset-controller: reconcile failed default/web"]
    assert [r for r, _ in events(c)][:3] == ["SuccessfulCreate", "SuccessfulCreate", "FailedCreate"]
    assert {r for r, _ in events(c)[3:]} == {"FailedCreate"}  # every pod event brings a new attempt
    reason, message = events(c)[2]
    assert message.startswith('Error creating: pods "web-') and "exceeded quota" in message
    condition = c.get("rs", "web")["status"]["conditions"][0]
    assert (condition["type"], condition["status"], condition["reason"]) == ("ReplicaFailure", "True", "FailedCreate")
    assert condition["message"] == message.removeprefix("Error creating: ")  # the first failure's words
    c.api.on_create["Pod"].remove(quota)
    c.advance(1)  # the back-off retry
    assert len(pods(c)) == 5
    assert "conditions" not in c.get("rs", "web")["status"]


def test_replication_controller_keeps_its_replicas_with_its_own_selector_and_event_source():
    c = make()
    template = {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "redis", "image": "redis"}]}}
    rc = c.create({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "db"},
                   "spec": {"replicas": 2, "template": template}})
    live = pods(c)
    assert len(live) == 2
    assert live[0]["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
    assert live[0]["metadata"]["ownerReferences"][0]["uid"] == rc["metadata"]["uid"]
    assert {e["source"]["component"] for e in c.events() if e["reason"] == "SuccessfulCreate"} == \
        {"replication-controller"}
    c.delete("pods", live[0]["metadata"]["name"])
    c.settle()
    status = c.get("rc", "db")["status"]
    assert status == {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
                      "observedGeneration": 1}
