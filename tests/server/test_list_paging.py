"""Paged lists and cached Table rows: later pages come from the list as it was at the first page
(etcd's continue semantics), and a pod's Table row follows every change of the pod."""

from __future__ import annotations

from kubelab.api import kinds
from kubelab.server import tables

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
CM = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"


def cm(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"set": "snap"}}}


def names(reply: dict) -> list[str]:
    return [i["metadata"]["name"] for i in reply["items"]]


def test_later_pages_show_the_list_as_it_was_when_paging_began(served):
    for i in range(5):
        served.cluster.create(cm(f"snap-{i}"))
    first = served.api("GET", f"{CM}?labelSelector=set%3Dsnap&limit=2").json()
    assert names(first) == ["snap-0", "snap-1"]
    served.cluster.delete("cm", "snap-3")
    served.cluster.create(cm("snap-25"))  # sorts into the next page
    second = served.api("GET", f"{CM}?labelSelector=set%3Dsnap&limit=2&continue={first['metadata']['continue']}")
    second = second.json()
    assert names(second) == ["snap-2", "snap-3"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    last = served.api("GET", f"{CM}?labelSelector=set%3Dsnap&limit=2&continue={second['metadata']['continue']}")
    assert names(last.json()) == ["snap-4"] and "continue" not in last.json()["metadata"]
    fresh = served.api("GET", f"{CM}?labelSelector=set%3Dsnap").json()
    assert names(fresh) == ["snap-0", "snap-1", "snap-2", "snap-25", "snap-4"]


def test_table_pages_cover_every_pod_once(served):
    for i in range(7):
        served.cluster.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"paged-{i}"},
                               "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    shown = served.ok("get", "pods", "--chunk-size=3", "--no-headers", "-o", "custom-columns=NAME:.metadata.name")
    assert [n for n in shown.split() if n.startswith("paged-")] == [f"paged-{i}" for i in range(7)]


def test_pod_row_follows_a_status_change(served):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "watched-row"},
           "spec": {"nodeName": "no-such-node", "containers": [{"name": "c", "image": "busybox"}]}}
    served.cluster.create(pod)
    row = served.api("GET", f"{PODS}/watched-row", headers={"Accept": TABLE}).json()["rows"][0]
    assert row["cells"][2] == "Pending"
    live = served.api("GET", f"{PODS}/watched-row").json()
    live["status"] = {"phase": "Succeeded"}
    assert served.api("PUT", f"{PODS}/watched-row/status", live).status == 200
    row = served.api("GET", f"{PODS}/watched-row", headers={"Accept": TABLE}).json()["rows"][0]
    assert row["cells"][2] == "Succeeded"


def test_row_cache_answers_only_for_the_same_stored_object():
    kind = kinds.resolve("pods")
    cache = tables.RowCache()
    running = {"metadata": {"name": "p", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z"},
               "spec": {"containers": [{"name": "c"}]},
               "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": True,
                                                                     "state": {"running": {}}}]}}
    failed = {**running, "status": {"phase": "Failed", "reason": "Evicted"}}
    now = 1767225600.0 + 90  # 90 s after creation

    def cells(pod: dict, at: float) -> list:
        return tables.table_for(kind, [pod], at, cache=cache)["rows"][0]["cells"]

    assert cells(running, now)[1:5] == ["1/1", "Running", "0", "90s"]
    assert cells(running, now + 60)[4] == "2m30s"  # the cached facts, read against a later clock
    assert cells(failed, now)[1:3] == ["0/1", "Evicted"]  # a new version of the pod is never answered from cache
