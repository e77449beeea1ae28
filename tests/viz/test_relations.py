"""Relations: owner edges, Service ⇢ Pod selector edges, Service → Endpoints → Pod edges with readiness."""

from __future__ import annotations

from kubelab.viz import Edge, Snapshot, endpoint_edges, owner_edges, selector_edges


def obj(kind: str, name: str, labels: dict | None = None, owner: tuple[str, str] | None = None, **rest) -> dict:
    meta = {"name": name, "namespace": "default", "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return {"kind": kind, "metadata": meta, **rest}


def ready_pod(name: str, ready: bool, **kw) -> dict:
    return obj("Pod", name, status={"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}, **kw)


def snapshot() -> Snapshot:
    return Snapshot.from_objects([
        obj("Deployment", "web"),
        obj("ReplicaSet", "web-1", owner=("Deployment", "web")),
        ready_pod("web-1-a", True, labels={"app": "web"}, owner=("ReplicaSet", "web-1")),
        ready_pod("web-1-b", False, labels={"app": "web"}, owner=("ReplicaSet", "web-1")),
        ready_pod("db", True, labels={"app": "db"}),
        obj("Service", "web", spec={"selector": {"app": "web"}}),
        obj("Service", "manual", spec={}),
        obj("Endpoints", "web", subsets=[{
            "addresses": [{"ip": "10.0.0.1", "targetRef": {"kind": "Pod", "name": "web-1-a"}}],
            "notReadyAddresses": [{"ip": "10.0.0.2", "targetRef": {"kind": "Pod", "name": "web-1-b"}}]}]),
    ])


def test_owner_edges_follow_owner_references_by_name_when_uids_are_missing():
    assert owner_edges(snapshot()) == [
        Edge("owner", "Deployment/default/web", "ReplicaSet/default/web-1"),
        Edge("owner", "ReplicaSet/default/web-1", "Pod/default/web-1-a"),
        Edge("owner", "ReplicaSet/default/web-1", "Pod/default/web-1-b"),
    ]


def test_owner_edges_prefer_uids_across_same_named_owners():
    old = obj("ReplicaSet", "web-1")
    old["metadata"]["uid"] = "u-old"
    new = obj("ReplicaSet", "web-1")
    new["metadata"].update(uid="u-new", namespace="other")
    pod = obj("Pod", "p")
    pod["metadata"].update(namespace="other", ownerReferences=[{"kind": "ReplicaSet", "name": "web-1",
                                                               "uid": "u-new", "controller": True}])
    assert owner_edges(Snapshot.from_objects([old, new, pod])) == [
        Edge("owner", "ReplicaSet/other/web-1", "Pod/other/p")]


def test_selector_edges_select_by_labels_and_carry_pod_readiness():
    assert selector_edges(snapshot()) == [
        Edge("selector", "Service/default/web", "Pod/default/web-1-a", True),
        Edge("selector", "Service/default/web", "Pod/default/web-1-b", False),
    ]


def test_service_without_selector_selects_nothing():
    assert not [e for e in selector_edges(snapshot()) if e.source == "Service/default/manual"]


def test_endpoint_edges_mark_not_ready_addresses():
    assert endpoint_edges(snapshot()) == [
        Edge("address", "Endpoints/default/web", "Pod/default/web-1-a", True),
        Edge("address", "Endpoints/default/web", "Pod/default/web-1-b", False),
        Edge("endpoints", "Service/default/web", "Endpoints/default/web"),
    ]


def test_selector_edges_stay_within_the_services_namespace():
    other = ready_pod("web-x", True, labels={"app": "web"})
    other["metadata"]["namespace"] = "other"
    snap = Snapshot.from_objects([*snapshot().pods, other, *snapshot().services])
    assert "Pod/other/web-x" not in {e.target for e in selector_edges(snap)}
