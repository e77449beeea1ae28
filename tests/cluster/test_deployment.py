"""Deployment controller: ReplicaSet naming and revisions, RollingUpdate bounds at every step, Recreate,
proportional scaling, conditions and the progress deadline."""

from __future__ import annotations

import kubelab
from kubelab.api.names import template_hash
from kubelab.cluster.clock import parse_time

REVISION = "deployment.kubernetes.io/revision"


def make() -> kubelab.Cluster:
    return kubelab.Cluster(nodes=3, clock="stepped", seed=1)


def deployment(replicas: int = 4, image: str = "nginx:1.25", strategy: dict | None = None, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, **spec,
                     **({"strategy": strategy} if strategy else {}),
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "nginx", "image": image}]}}}}


def set_image(c: kubelab.Cluster, image: str) -> None:
    d = c.get("deploy", "web")
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    c.update(d)


def scaling_events(c: kubelab.Cluster) -> list[str]:
    return [e["message"] for e in c.events() if e["reason"] == "ScalingReplicaSet"]


def replica_sets(c: kubelab.Cluster) -> dict[str, dict]:
    return {rs["metadata"]["name"]: rs for rs in c.list("rs")}


def condition(obj: dict, kind: str) -> tuple[str, str, str]:
    found = next(x for x in obj["status"]["conditions"] if x["type"] == kind)
    return found["status"], found["reason"], found["message"]


def test_deployment_creates_replicaset_named_by_pod_template_hash_with_revision_1():
    c = make()
    d = c.create(deployment(replicas=3))
    pod_hash = template_hash(d["spec"]["template"])
    (rs,) = c.list("rs")
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert rs["metadata"]["annotations"] == {REVISION: "1", "deployment.kubernetes.io/desired-replicas": "3",
                                             "deployment.kubernetes.io/max-replicas": "4"}
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert all(p["metadata"]["name"].startswith(f"web-{pod_hash}-") for p in c.list("pods"))
    assert scaling_events(c) == [f"Scaled up replica set web-{pod_hash} from 0 to 3"]
    d = c.get("deploy", "web")
    assert d["metadata"]["annotations"][REVISION] == "1"
    assert condition(d, "Available") == ("False", "MinimumReplicasUnavailable",
                                         "Deployment does not have minimum availability.")
    c.settle()
    d = c.get("deploy", "web")
    assert {k: v for k, v in d["status"].items() if k != "conditions"} == {
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
        "terminatingReplicas": 0}
    assert condition(d, "Available") == ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    assert condition(d, "Progressing") == ("True", "NewReplicaSetAvailable",
                                           f'ReplicaSet "web-{pod_hash}" has successfully progressed.')
    assert [x["type"] for x in d["status"]["conditions"]] == ["Available", "Progressing"]


def test_change_cause_annotation_is_copied_to_the_new_replicaset():
    c = make()
    spec = deployment()
    spec["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first release"}
    c.create(spec)
    (rs,) = c.list("rs")
    assert rs["metadata"]["annotations"]["kubernetes.io/change-cause"] == "first release"


def test_rolling_update_stays_within_max_surge_and_max_unavailable_at_every_step():
    c = make()
    c.create(deployment(replicas=4, strategy={"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}))
    c.settle()
    pod_watch, rs_watch = c.watch("pods", "default"), c.watch("rs", "default")
    set_image(c, "nginx:1.26")
    stepped = []  # (live, ready) pods after each half second, as `kubectl get pods` would show them
    while len(stepped) < 240 and c.get("deploy", "web")["status"].get("updatedReplicas") != 4 \
            or any(p["spec"]["containers"][0]["image"] == "nginx:1.25" for p in c.list("pods")):
        live = [p for p in c.list("pods") if not p["metadata"].get("deletionTimestamp")]
        stepped.append((len(live), sum(1 for p in live if is_ready(p))))
        c.advance(0.5)
    # At most replicas + maxSurge pods, at least replicas - maxUnavailable ready ones — and both bounds used.
    assert max(n for n, _ in stepped) == 4 + 1 and min(r for _, r in stepped) == 4 - 1
    # Every write the controllers made: the ReplicaSets' sizes never allow more than replicas + maxSurge
    # pods, and no pod-level state ever has fewer than replicas - maxUnavailable ready pods.
    sizes = {}
    for event in rs_watch.drain():
        sizes[event["object"]["metadata"]["name"]] = event["object"]["spec"]["replicas"]
        assert sum(sizes.values()) <= 4 + 1
    pods: dict[str, dict] = {}
    for event in pod_watch.drain():
        pod = event["object"]
        if event["type"] == "DELETED":
            pods.pop(pod["metadata"]["name"])
            continue
        pods[pod["metadata"]["name"]] = pod
        if len(pods) >= 4:  # the state before the update is complete
            assert sum(1 for p in pods.values() if is_ready(p) and not p["metadata"].get("deletionTimestamp")) >= 3
    assert max(sizes.values()) == 4 and sum(sizes.values()) == 4
    d = c.get("deploy", "web")
    assert d["metadata"]["annotations"][REVISION] == "2"
    assert d["status"]["updatedReplicas"] == d["status"]["availableReplicas"] == 4
    new, old = sorted(replica_sets(c).values(), key=lambda rs: -rs["spec"]["replicas"])
    assert (new["spec"]["replicas"], old["spec"]["replicas"]) == (4, 0)
    assert new["metadata"]["annotations"][REVISION] == "2"
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.26" for p in c.list("pods"))
    n, o = new["metadata"]["name"], old["metadata"]["name"]
    # At once: surge one new pod, drop one old pod (4 still available), then use the freed room.
    # Later steps depend on when the new pods become ready; the last one empties the old set.
    events = scaling_events(c)
    assert events[1:4] == [f"Scaled up replica set {n} from 0 to 1", f"Scaled down replica set {o} from 4 to 3",
                           f"Scaled up replica set {n} from 1 to 2"]
    assert events[-1].startswith(f"Scaled down replica set {o} from ") and events[-1].endswith(" to 0")
    assert any(e.startswith(f"Scaled up replica set {n} from ") and e.endswith(" to 4") for e in events)


def test_recreate_scales_old_replicaset_to_zero_and_waits_for_its_pods_before_creating_the_new_one():
    c = make()
    c.create(deployment(replicas=3, strategy={"type": "Recreate"}))
    c.settle()
    watch = c.watch("pods", "default")
    set_image(c, "nginx:1.26")
    c.settle()
    old, new = set(), set()
    for event in watch.drain():
        pod = event["object"]
        group = old if pod["spec"]["containers"][0]["image"] == "nginx:1.25" else new
        if event["type"] == "DELETED":
            group.discard(pod["metadata"]["name"])
        else:
            group.add(pod["metadata"]["name"])
        assert not (old and new), "a new pod appeared while an old one (even terminating) was still there"
    assert len(new) == 3
    (o,) = [rs["metadata"]["name"] for rs in c.list("rs") if rs["spec"]["replicas"] == 0]
    (n,) = [rs["metadata"]["name"] for rs in c.list("rs") if rs["spec"]["replicas"] == 3]
    assert scaling_events(c) == [f"Scaled up replica set {o} from 0 to 3", f"Scaled down replica set {o} from 3 to 0",
                                 f"Scaled up replica set {n} from 0 to 3"]
    d = c.get("deploy", "web")
    assert d["metadata"]["annotations"][REVISION] == "2"
    assert condition(d, "Available")[0] == "True"


def test_scaling_during_a_rollout_is_shared_proportionally_between_replicasets():
    c = make()
    c.create(deployment(replicas=10, strategy={"type": "RollingUpdate",
                                               "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}))
    c.settle()
    set_image(c, "nginx:does-not-exist")  # its pods never become ready: the rollout stays half-way
    c.advance(5)
    sizes = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["spec"]["replicas"] for rs in c.list("rs")}
    assert sizes == {"nginx:1.25": 8, "nginx:does-not-exist": 5}
    c.scale("deployment", "web", 20)
    sizes = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs for rs in c.list("rs")}
    old, new = sizes["nginx:1.25"], sizes["nginx:does-not-exist"]
    # 23 pods allowed now (20 + maxSurge 3) where 13 were: each ReplicaSet grows by 23/13 of its size.
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (14, 9)
    assert scaling_events(c)[-2:] == [f"Scaled up replica set {old['metadata']['name']} from 8 to 14",
                                      f"Scaled up replica set {new['metadata']['name']} from 5 to 9"]
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "20"
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "23"


def test_rollout_that_cannot_progress_reports_progress_deadline_exceeded():
    c = make()
    c.create(deployment(replicas=2, progressDeadlineSeconds=30))
    c.settle()
    started = c.now
    set_image(c, "nginx:does-not-exist")
    c.settle(timeout=120)
    d = c.get("deploy", "web")
    new_rs = next(rs["metadata"]["name"] for rs in c.list("rs") if rs["metadata"]["annotations"][REVISION] == "2")
    assert condition(d, "Progressing") == ("False", "ProgressDeadlineExceeded",
                                           f'ReplicaSet "{new_rs}" has timed out progressing.')
    progressing = next(x for x in d["status"]["conditions"] if x["type"] == "Progressing")
    # The deadline runs from the last progress (the new ReplicaSet, at `started`; timestamps keep whole seconds).
    assert parse_time(progressing["lastUpdateTime"]) == parse_time(progressing["lastTransitionTime"]) \
        == int(started) + 30
    assert condition(d, "Available")[0] == "True"  # the old pods still serve: maxUnavailable 25% of 2 is 0
    assert d["status"]["unavailableReplicas"] == 1


def is_ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(x["type"] == "Ready" and x["status"] == "True" for x in conditions)
