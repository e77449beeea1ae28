"""The StatefulSet controller: ordinal names, ordered creation and scale-down, claims per replica."""

from __future__ import annotations

import podphase

import kubelab
from kubelab.cluster.clock import parse_time


def make(kubelet: bool = True) -> kubelab.Cluster:
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    if kubelet:
        podphase.install(c)
    return c


def web(replicas: int = 3, *, image: str = "nginx", claims: bool = False, **spec) -> dict:
    body: dict = {
        "serviceName": "nginx",
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {"metadata": {"labels": {"app": "nginx"}},
                     "spec": {"containers": [{"name": "nginx", "image": image,
                                              "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]
                                              if claims else []}]}},
        **spec,
    }
    if claims:
        body["volumeClaimTemplates"] = [{"metadata": {"name": "www"},
                                         "spec": {"accessModes": ["ReadWriteOnce"],
                                                  "resources": {"requests": {"storage": "1Gi"}}}}]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"}, "spec": body}


def names(c: kubelab.Cluster) -> list[str]:
    return sorted(p["metadata"]["name"] for p in c.list("pods") if not p["metadata"].get("deletionTimestamp"))


def sts_events(c: kubelab.Cluster, reason: str) -> list[str]:
    return [e["message"] for e in c.events() if e["reason"] == reason and e["involvedObject"]["kind"] == "StatefulSet"]


def ready_at(pod: dict) -> float:
    return next(parse_time(x["lastTransitionTime"]) for x in pod["status"]["conditions"] if x["type"] == "Ready")


def test_pods_are_created_one_at_a_time_in_ordinal_order():
    c = make()
    c.apply(web())
    assert names(c) == ["web-0"]  # web-1 waits until web-0 is Running and Ready
    c.settle()
    pods = [c.get("pods", f"web-{i}") for i in range(3)]
    for earlier, later in zip(pods, pods[1:], strict=False):
        assert parse_time(later["metadata"]["creationTimestamp"]) >= ready_at(earlier) > \
            parse_time(earlier["metadata"]["creationTimestamp"])
    assert sts_events(c, "SuccessfulCreate") == [f"create Pod web-{i} in StatefulSet web successful" for i in range(3)]
    pod = c.get("pods", "web-1")
    assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert pod["metadata"]["labels"]["controller-revision-hash"].startswith("web-")
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-1", "nginx")
    assert pod["metadata"]["generateName"] == "web-"


def test_status_reports_replicas_and_revisions():
    c = make()
    c.apply(web())
    c.settle()
    status = c.get("sts", "web")["status"]
    revision = c.list("controllerrevisions")[0]["metadata"]["name"]
    assert status == {"availableReplicas": 3, "collisionCount": 0, "currentReplicas": 3, "currentRevision": revision,
                      "observedGeneration": 1, "readyReplicas": 3, "replicas": 3, "updateRevision": revision,
                      "updatedReplicas": 3}


def test_ordered_ready_stops_at_a_first_pod_that_never_gets_ready():
    c = make(kubelet=False)
    c.apply(web(image="nginx:does-not-exist"))
    c.advance(60)
    assert names(c) == ["web-0"]


def test_parallel_policy_creates_all_pods_at_once():
    c = make(kubelet=False)
    c.apply(web(podManagementPolicy="Parallel"))
    assert names(c) == ["web-0", "web-1", "web-2"]


def test_scale_down_removes_the_highest_ordinal_first_one_at_a_time():
    c = make()
    c.apply(web(replicas=4))
    c.settle()
    c.apply(web(replicas=2))
    assert names(c) == ["web-0", "web-1", "web-2"]  # web-3 is going first
    c.settle()
    assert names(c) == ["web-0", "web-1"]
    assert sts_events(c, "SuccessfulDelete") == ["delete Pod web-3 in StatefulSet web successful",
                                                 "delete Pod web-2 in StatefulSet web successful"]


def test_volume_claim_templates_give_each_replica_its_own_bound_claim():
    c = make()
    c.apply(web(replicas=2, claims=True))
    c.settle()
    claims = {p["metadata"]["name"]: p for p in c.list("pvc")}
    assert sorted(claims) == ["www-web-0", "www-web-1"]
    assert claims["www-web-0"]["metadata"]["labels"] == {"app": "nginx"}
    assert claims["www-web-0"]["status"]["phase"] == "Bound"
    volume = c.get("pv", claims["www-web-0"]["spec"]["volumeName"], None)
    assert volume["spec"]["claimRef"]["name"] == "www-web-0" and volume["status"]["phase"] == "Bound"
    pod_volumes = c.get("pods", "web-1")["spec"]["volumes"]
    assert {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-1"}} in pod_volumes
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in sts_events(c, "SuccessfulCreate")


def test_claims_outlive_a_scale_down():
    c = make()
    c.apply(web(replicas=2, claims=True))
    c.settle()
    c.apply(web(replicas=1, claims=True))
    c.settle()
    assert names(c) == ["web-0"]
    assert sorted(p["metadata"]["name"] for p in c.list("pvc")) == ["www-web-0", "www-web-1"]


def test_a_failed_pod_is_recreated_under_the_same_name():
    c = make()
    c.apply(web(replicas=1))
    c.settle()
    first = c.get("pods", "web-0")["metadata"]["uid"]
    podphase.failed(c, c.get("pods", "web-0"))
    c.settle()
    assert c.get("pods", "web-0")["metadata"]["uid"] != first
    assert sts_events(c, "RecreatingFailedPod") == ["StatefulSet default/web is recreating failed Pod web-0"]


def test_rolling_update_replaces_pods_from_the_highest_ordinal():
    c = make()
    c.apply(web())
    c.settle()
    c.apply(web(image="nginx:1.27"))
    c.settle()
    deleted = sts_events(c, "SuccessfulDelete")
    assert deleted == [f"delete Pod web-{i} in StatefulSet web successful" for i in (2, 1, 0)]
    assert {p["spec"]["containers"][0]["image"] for p in c.list("pods")} == {"nginx:1.27"}
    status = c.get("sts", "web")["status"]
    assert status["currentRevision"] == status["updateRevision"] and status["updatedReplicas"] == 3


def test_retention_policy_delete_removes_claims_and_volumes_with_the_set():
    c = make()
    c.apply(web(replicas=2, claims=True, persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete"}))
    c.settle()
    assert len(c.list("pv", None)) == 2
    c.delete("sts", "web")
    c.settle()
    assert c.list("pods") == [] and c.list("pvc") == [] and c.list("pv", None) == []


def test_claims_are_kept_when_the_set_is_deleted_by_default():
    c = make()
    c.apply(web(replicas=1, claims=True))
    c.settle()
    c.delete("sts", "web")
    c.settle()
    assert [p["metadata"]["name"] for p in c.list("pvc")] == ["www-web-0"]
    assert c.list("pv", None)[0]["status"]["phase"] == "Bound"


def test_a_pod_name_taken_by_another_owner_is_reported_and_retried_with_back_off_not_forever():
    c = make()
    c.create(web(2))
    c.settle()
    taker = c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taker"}})
    pod = c.get("pods", "web-1")
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "taker",
                                           "uid": taker["metadata"]["uid"], "controller": True}]
    c.api.update(pod)  # web-1 now belongs to someone else: the StatefulSet cannot adopt or recreate it
    start = c.now
    c.settle()  # returns: the clash is retried with a growing back-off, not in a tight loop
    failed = [e for e in c.list("events") if e["reason"] == "FailedCreate"]
    assert [e["message"] for e in failed] == [
        'create Pod web-1 in StatefulSet web failed error: pods "web-1" already exists']
    assert 50 < failed[0]["count"] < 100  # each attempt counted once, then the back-off spaces them out
    assert c.now - start <= 600
    c.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "other"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "other"}},
                       "template": {"metadata": {"labels": {"app": "other"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    c.settle()  # the other controllers go on working
    assert any(p["metadata"]["name"].startswith("other-") and p["status"].get("phase") == "Running"
               for p in c.list("pods"))
