"""Rollout verbs on the Cluster (history, undo, restart, pause/resume, scale), revisionHistoryLimit, and
deterministic names and events for a seed."""

from __future__ import annotations

import pytest

import kubelab
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.rolloutops import RolloutError

REVISION = "deployment.kubernetes.io/revision"


def make(seed: int = 1) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=3, clock="stepped", seed=seed)


def deploy(c: kubelab.Cluster, image: str = "nginx:1.25", **spec) -> None:
    c.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, **spec,
                      "template": {"metadata": {"labels": {"app": "web"}},
                                   "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
    c.settle()


def image_of(obj: dict) -> str:
    spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
    return spec["containers"][0]["image"]


def by_revision(c: kubelab.Cluster) -> dict[int, dict]:
    return {int(rs["metadata"]["annotations"][REVISION]): rs for rs in c.list("rs")}


def test_undo_restores_the_previous_template_as_a_new_revision_of_the_same_replicaset():
    c = make()
    deploy(c, "nginx:1.25")
    deploy(c, "nginx:1.26")
    first = by_revision(c)[1]["metadata"]["name"]
    assert [(h["revision"], h["replicaset"], image_of({"spec": h})) for h in c.rollout_history("web")] == [
        (1, first, "nginx:1.25"), (2, by_revision(c)[2]["metadata"]["name"], "nginx:1.26")]
    assert c.rollout_undo("web") == "deployment.apps/web rolled back"
    c.settle()
    d = c.get("deploy", "web")
    assert image_of(d) == "nginx:1.25"
    assert d["metadata"]["annotations"][REVISION] == "3"
    assert d["spec"]["template"]["metadata"]["labels"] == {"app": "web"}  # no pod-template-hash copied back
    revisions = by_revision(c)
    assert sorted(revisions) == [2, 3]  # revision 1 became revision 3: the same ReplicaSet, no new one
    assert revisions[3]["metadata"]["name"] == first
    assert revisions[3]["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert (revisions[3]["spec"]["replicas"], revisions[2]["spec"]["replicas"]) == (2, 0)
    assert [h["revision"] for h in c.rollout_history("web")] == [2, 3]
    assert all(image_of(p) == "nginx:1.25" for p in c.list("pods"))


def test_undo_to_a_revision_and_kubectls_refusals():
    c = make()
    deploy(c, "nginx:1.25")
    with pytest.raises(RolloutError, match='^no rollout history found for deployment "web"$'):
        c.rollout_undo("web")
    deploy(c, "nginx:1.26")
    deploy(c, "nginx:1.27")
    with pytest.raises(RolloutError, match="^unable to find specified revision 7 in history$"):
        c.rollout_undo("web", to_revision=7)
    assert c.rollout_undo("web", to_revision=3) == \
        "deployment.apps/web skipped rollback (current template already matches revision 3)"
    c.rollout_undo("web", to_revision=1)
    c.settle()
    assert image_of(c.get("deploy", "web")) == "nginx:1.25"
    assert sorted(by_revision(c)) == [2, 3, 4]
    c.rollout_pause("web")
    with pytest.raises(RolloutError, match="^you cannot rollback a paused deployment; resume it first"):
        c.rollout_undo("web")


def test_undo_brings_back_the_change_cause_of_the_restored_revision():
    c = make()
    deploy(c, "nginx:1.25")
    d = c.get("deploy", "web")
    d["metadata"]["annotations"]["kubernetes.io/change-cause"] = "upgrade to 1.26"
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    c.update(d)
    c.settle()
    assert [h["change_cause"] for h in c.rollout_history("web")] == [None, "upgrade to 1.26"]
    c.rollout_undo("web")
    c.settle()
    assert "kubernetes.io/change-cause" not in c.get("deploy", "web")["metadata"]["annotations"]


def test_revision_history_limit_deletes_the_oldest_replicasets_scaled_to_zero():
    c = make()
    for minor in (21, 22, 23, 24):
        deploy(c, f"nginx:1.{minor}", revisionHistoryLimit=2)
    revisions = by_revision(c)
    assert sorted(revisions) == [2, 3, 4]  # the current one and two old ones
    assert [image_of(revisions[n]) for n in (2, 3, 4)] == ["nginx:1.22", "nginx:1.23", "nginx:1.24"]
    assert [r.detail for r in c.trace() if r.action == "deleted old replica set"] == [
        "revision 1, beyond revisionHistoryLimit"]


def test_paused_deployment_scales_but_does_not_roll_out_until_resumed():
    c = make()
    deploy(c, "nginx:1.25")
    c.rollout_pause("web")
    d = c.get("deploy", "web")
    progressing = next(x for x in d["status"]["conditions"] if x["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == \
        ("Unknown", "DeploymentPaused", "Deployment is paused")
    deploy(c, "nginx:1.26")
    assert len(c.list("rs")) == 1 and all(image_of(p) == "nginx:1.25" for p in c.list("pods"))
    c.scale("deployment", "web", 3)
    c.settle()
    assert len(c.list("pods")) == 3  # scaling still works while paused
    with pytest.raises(RolloutError, match="^can't restart paused deployment"):
        c.rollout_restart("web")
    with pytest.raises(RolloutError, match='^deployments.apps "web" is already paused$'):
        c.rollout_pause("web")
    c.rollout_resume("web")
    c.settle()
    d = c.get("deploy", "web")
    assert d["metadata"]["annotations"][REVISION] == "2"
    assert all(image_of(p) == "nginx:1.26" for p in c.list("pods")) and len(c.list("pods")) == 3
    assert next(x for x in d["status"]["conditions"] if x["type"] == "Progressing")["reason"] == \
        "NewReplicaSetAvailable"


def test_restart_creates_a_new_replicaset_with_the_restarted_at_annotation():
    c = make()
    deploy(c)
    old_pods = {p["metadata"]["name"] for p in c.list("pods")}
    d = c.rollout_restart("web")
    stamp = d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert stamp == rfc3339(c.now)
    with pytest.raises(RolloutError, match="if restart has already been triggered within the past second"):
        c.rollout_restart("web")
    c.settle()
    assert by_revision(c)[2]["spec"]["template"]["metadata"]["annotations"] == \
        {"kubectl.kubernetes.io/restartedAt": stamp}
    pods = c.list("pods")
    assert len(pods) == 2 and not old_pods & {p["metadata"]["name"] for p in pods}
    assert all(p["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == stamp for p in pods)


def test_scale_sets_replicas_and_refuses_kinds_without_a_scale_subresource():
    c = make()
    deploy(c)
    assert c.scale("deploy", "web", 5)["spec"]["replicas"] == 5
    assert len(c.list("pods")) == 5
    with pytest.raises(kubelab.ApiError, match="^the server could not find the requested resource$"):
        c.scale("configmap", "web", 1)


def scenario(seed: int) -> tuple[list, list]:
    c = make(seed)
    deploy(c, "nginx:1.25")
    deploy(c, "nginx:1.26")
    c.scale("deploy", "web", 3)
    c.rollout_undo("web")
    c.settle()
    names = sorted(o["metadata"]["name"] for kind in ("rs", "pods") for o in c.list(kind))
    events = [(e["lastTimestamp"], e["involvedObject"]["name"], e["reason"], e["message"]) for e in c.events()]
    return names, events


def test_same_seed_gives_the_same_names_and_event_sequence():
    first, again, other = scenario(7), scenario(7), scenario(8)
    assert first == again
    assert first[0] != other[0]  # pod names come from the seeded generator
    assert any(reason == "ScalingReplicaSet" for _, _, reason, _ in first[1])
