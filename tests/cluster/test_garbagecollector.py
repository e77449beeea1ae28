"""The garbage collector: Background, Foreground and Orphan propagation through ownerReferences."""

from __future__ import annotations

import podphase
import pytest

import kubelab
from kubelab.api.errors import ApiError


def make() -> kubelab.Cluster:
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    podphase.install(c)
    return c


def config_map(name: str, owner: dict | None = None, *, block: bool = True, finalizers: list | None = None) -> dict:
    meta: dict = {"name": name}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"], "blockOwnerDeletion": block}]
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}


def names(c: kubelab.Cluster, kind: str = "cm") -> list[str]:
    return sorted(o["metadata"]["name"] for o in c.list(kind) if o["metadata"]["name"] != "kube-root-ca.crt")


def daemonset() -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "agent", "image": "nginx"}]}}}}


def test_background_deletion_removes_dependents_after_their_owner():
    c = make()
    parent = c.create(config_map("parent"))
    c.create(config_map("child", parent))
    c.create(config_map("grandchild", c.get("cm", "child")))
    c.delete("cm", "parent")
    assert names(c) == []


def test_a_dependent_with_another_live_owner_only_loses_the_dead_reference():
    c = make()
    first, second = c.create(config_map("first")), c.create(config_map("second"))
    shared = config_map("shared", first)
    shared["metadata"]["ownerReferences"] += config_map("x", second)["metadata"]["ownerReferences"]
    c.create(shared)
    c.delete("cm", "first")
    assert [r["name"] for r in c.get("cm", "shared")["metadata"]["ownerReferences"]] == ["second"]


def test_foreground_deletion_keeps_the_owner_until_blocking_dependents_are_gone():
    c = make()
    parent = c.create(config_map("parent"))
    c.create(config_map("child", parent, finalizers=["example.com/hold"]))
    c.delete("cm", "parent", propagation="Foreground")
    owner = c.get("cm", "parent")
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"] and owner["metadata"]["deletionTimestamp"]
    assert c.get("cm", "child")["metadata"]["deletionTimestamp"]  # deleted, held by its own finalizer
    child = c.get("cm", "child")
    del child["metadata"]["finalizers"]
    c.update(child)
    assert names(c) == []


def test_foreground_does_not_wait_for_dependents_that_do_not_block():
    c = make()
    parent = c.create(config_map("parent"))
    c.create(config_map("child", parent, block=False, finalizers=["example.com/hold"]))
    c.delete("cm", "parent", propagation="Foreground")
    assert names(c) == ["child"]


def test_orphan_deletion_leaves_dependents_without_the_owner_reference():
    c = make()
    parent = c.create(config_map("parent"))
    c.create(config_map("child", parent))
    c.delete("cm", "parent", propagation="Orphan")
    assert names(c) == ["child"]
    assert "ownerReferences" not in c.get("cm", "child")["metadata"]


def test_deleting_a_daemonset_in_background_removes_its_pods_and_revisions():
    c = make()
    c.apply(daemonset())
    c.settle()
    assert len(c.list("pods")) == 2
    c.delete("ds", "agent")
    assert all(p["metadata"].get("deletionTimestamp") for p in c.list("pods"))
    c.settle()
    assert c.list("pods") == [] and c.list("controllerrevisions") == []


def test_cascade_orphan_keeps_the_pods_of_a_deleted_daemonset():
    c = make()
    c.apply(daemonset())
    c.settle()
    c.delete("ds", "agent", propagation="Orphan")
    c.settle()
    pods = c.list("pods")
    assert len(pods) == 2 and all("ownerReferences" not in p["metadata"] for p in pods)
    assert c.list("ds") == []


def replica_set(replicas: int = 2) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


def test_foreground_deletion_of_a_replicaset_waits_for_its_pods_to_terminate():
    c = make()
    c.apply(replica_set())
    c.settle()
    c.delete("rs", "web", propagation="Foreground")
    rs = c.get("rs", "web")
    assert rs["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert all(p["metadata"].get("deletionTimestamp") for p in c.list("pods"))
    c.settle()
    assert c.list("rs") == [] and c.list("pods") == []


def test_orphaned_pods_of_a_deleted_replicaset_are_adopted_by_a_new_one():
    c = make()
    c.apply(replica_set())
    c.settle()
    before = sorted(p["metadata"]["name"] for p in c.list("pods"))
    c.delete("rs", "web", propagation="Orphan")
    assert all("ownerReferences" not in p["metadata"] for p in c.list("pods"))
    c.apply(replica_set())
    c.settle()
    pods = c.list("pods")
    assert sorted(p["metadata"]["name"] for p in pods) == before
    assert {p["metadata"]["ownerReferences"][0]["uid"] for p in pods} == {c.get("rs", "web")["metadata"]["uid"]}


def event(name: str, owner: dict | None = None, namespace: str = "default") -> dict:
    meta: dict = {"name": name, "namespace": namespace}
    if owner is not None:
        meta["ownerReferences"] = config_map("x", owner)["metadata"]["ownerReferences"]
    return {"apiVersion": "v1", "kind": "Event", "metadata": meta, "reason": "Noted", "message": "hello",
            "type": "Normal", "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": namespace}}


def owned_by_event(name: str, note: dict, *, finalizers: list | None = None) -> dict:
    cm = config_map(name, finalizers=finalizers)
    cm["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Event", "name": note["metadata"]["name"],
                                          "uid": note["metadata"]["uid"], "blockOwnerDeletion": True}]
    return cm


def event_names(c: kubelab.Cluster) -> list[str]:
    return sorted(o["metadata"]["name"] for o in c.list("events") if o["metadata"]["name"].startswith("note"))


def test_an_event_owned_by_a_config_map_goes_with_it():
    c = make()
    parent = c.create(config_map("parent"))
    c.create(event("note-owned", parent))
    c.create(event("note-free"))
    c.delete("cm", "parent")
    assert event_names(c) == ["note-free"]


def test_an_event_cannot_be_made_an_owner_so_the_collector_need_not_track_events():
    c = make()
    note = c.create(event("note"))
    with pytest.raises(ApiError) as err:
        c.create(owned_by_event("child", note))
    assert "/v1, Kind=Event is disallowed from being an owner" in str(err.value)
    child = c.create(config_map("child"))
    child["metadata"]["ownerReferences"] = owned_by_event("child", note)["metadata"]["ownerReferences"]
    with pytest.raises(ApiError) as err:
        c.update(child)  # nor later
    assert "/v1, Kind=Event is disallowed from being an owner" in str(err.value)


def test_deleting_a_dependent_whose_owner_reference_carries_an_event_uid_leaves_the_event_alone():
    c = make()
    note = c.create(event("note"))
    stray = config_map("stray")
    stray["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "note",
                                             "uid": note["metadata"]["uid"]}]
    c.create(stray)  # no ConfigMap "note" with that uid: the reference dangles and the stray goes
    assert names(c) == []
    assert c.get("events", "note")["metadata"] == note["metadata"]


def test_an_event_in_a_terminating_namespace_is_refused_like_any_object():
    c = make()
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lesson"}})
    c.create({**config_map("held"), "metadata": {"name": "held", "namespace": "lesson",
                                                 "finalizers": ["example.com/hold"]}})
    c.delete("ns", "lesson")
    with pytest.raises(ApiError) as err:
        c.create(event("note-late", namespace="lesson"))
    assert err.value.code == 403
    assert "unable to create new content in namespace lesson because it is being terminated" in str(err.value)
    with pytest.raises(ApiError) as err:
        c.create(event("note-lost", namespace="nowhere"))
    assert err.value.code == 404 and 'namespaces "nowhere" not found' in str(err.value)
