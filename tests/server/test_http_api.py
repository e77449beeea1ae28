"""The API server's HTTP behaviour that kubectl relies on without showing it: Tables and
includeObject, paging, watch semantics (resourceVersion, 410, WatchList, bookmarks), dry runs,
field validation warnings, DeleteOptions, subresources, OpenAPI and discovery documents."""

from __future__ import annotations

import time

import pytest

from kubelab.server import watching

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
CM = "/api/v1/namespaces/default/configmaps"


def cm(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


@pytest.fixture(scope="module", autouse=True)
def objects(served):
    for i in range(5):
        served.cluster.create(cm(f"page-{i}", paged="yes"))


# ------------------------------------------------------------------ reads
def test_table_rows_carry_partial_metadata_by_default(served):
    table = served.api("GET", f"{CM}?labelSelector=paged%3Dyes", headers={"Accept": TABLE}).json()
    assert table["kind"] == "Table" and table["metadata"]["resourceVersion"]
    assert [c["name"] for c in table["columnDefinitions"]][:2] == ["Name", "Data"]
    row = table["rows"][0]
    assert row["cells"][0] == "page-0"
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["labels"] == {"paged": "yes"}


@pytest.mark.parametrize(("include", "kind"), [("Object", "ConfigMap"), ("None", None)])
def test_include_object(served, include, kind):
    table = served.api("GET", f"{CM}/page-0?includeObject={include}", headers={"Accept": TABLE}).json()
    assert (table["rows"][0].get("object") or {}).get("kind") == kind


def test_bad_include_object_is_a_400(served):
    reply = served.api("GET", f"{CM}?includeObject=All", headers={"Accept": TABLE})
    assert reply.status == 400 and "includeObject: Unsupported value" in reply.json()["message"]


def test_limit_and_continue_page_through_one_resource_version(served):
    first = served.api("GET", f"{CM}?labelSelector=paged%3Dyes&limit=2").json()
    assert [i["metadata"]["name"] for i in first["items"]] == ["page-0", "page-1"]
    token = first["metadata"]["continue"]
    second = served.api("GET", f"{CM}?labelSelector=paged%3Dyes&limit=2&continue={token}").json()
    assert [i["metadata"]["name"] for i in second["items"]] == ["page-2", "page-3"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    total = len(served.api("GET", CM).json()["items"])
    unfiltered = served.api("GET", f"{CM}?limit=2").json()["metadata"]
    assert unfiltered["remainingItemCount"] == total - 2  # counted only when no selector filters


def test_objects_and_lists_carry_kind_and_resource_version(served):
    listed = served.api("GET", CM).json()
    assert listed["kind"] == "ConfigMapList" and listed["apiVersion"] == "v1"
    assert int(listed["metadata"]["resourceVersion"]) >= int(listed["items"][0]["metadata"]["resourceVersion"])


def test_times_are_shifted_to_the_wall_clock_and_back(served):
    obj = served.api("GET", f"{CM}/page-0").json()
    shown = obj["metadata"]["creationTimestamp"]
    assert abs(time.mktime(time.strptime(shown, "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())) < 120
    obj["data"] = {"k": "changed"}
    assert served.api("PUT", f"{CM}/page-0", obj).status == 200
    stored = served.cluster.get("cm", "page-0")
    assert stored["metadata"]["creationTimestamp"].startswith("2026-01-01")  # simulated time inside


# ------------------------------------------------------------------ watches
def test_watch_from_a_resource_version_sends_only_later_changes(served):
    rv = served.api("GET", CM).json()["metadata"]["resourceVersion"]
    served.cluster.create(cm("after-rv"))
    events = list(served.watch_lines(f"{CM}?watch=true&resourceVersion={rv}&timeoutSeconds=1"))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "after-rv")]


def test_watch_without_resource_version_starts_with_current_objects(served):
    events = list(served.watch_lines(f"{CM}?watch=1&labelSelector=paged%3Dyes&timeoutSeconds=1"))
    assert [e["object"]["metadata"]["name"] for e in events] == [f"page-{i}" for i in range(5)]
    assert {e["type"] for e in events} == {"ADDED"}


def test_watch_list_ends_initial_events_with_an_annotated_bookmark(served):
    path = (f"{CM}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
            "&fieldSelector=metadata.name%3Dpage-1&timeoutSeconds=1")
    events = list(served.watch_lines(path))
    assert [e["type"] for e in events[:2]] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_quiet_watch_gets_bookmarks_when_allowed(served, monkeypatch):
    monkeypatch.setattr(watching, "BOOKMARK_INTERVAL", 0.2)
    rv = served.api("GET", CM).json()["metadata"]["resourceVersion"]
    events = list(served.watch_lines(f"{CM}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true"
                                     "&timeoutSeconds=1"))
    assert events and all(e["type"] == "BOOKMARK" for e in events)
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_expired_resource_version_is_an_error_event_with_410(served):
    served.cluster.store.compact(served.cluster.store.revision - 1)
    events = list(served.watch_lines(f"{CM}?watch=true&resourceVersion=2&timeoutSeconds=1"))
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith("too old resource version: 2")


def test_table_watch_wraps_each_event_in_a_one_row_table(served):
    rv = served.api("GET", CM).json()["metadata"]["resourceVersion"]
    served.cluster.create(cm("in-table"))
    [event] = served.watch_lines(f"{CM}?watch=true&resourceVersion={rv}&timeoutSeconds=1", headers={"Accept": TABLE})
    assert event["object"]["kind"] == "Table" and event["object"]["rows"][0]["cells"][0] == "in-table"


def test_waiting_watch_fast_forwards_a_stepped_clock(served):
    cluster = served.cluster
    rv = served.api("GET", CM).json()["metadata"]["resourceVersion"]
    before = cluster.now
    with cluster.lock:
        cluster.clock.call_later(600, lambda: cluster.api.create(cm("ten-minutes-later")))
    started = time.monotonic()
    events = served.watch_lines(f"{CM}?watch=true&resourceVersion={rv}&timeoutSeconds=5")
    first = next(events)
    events.close()
    assert first["object"]["metadata"]["name"] == "ten-minutes-later"
    assert time.monotonic() - started < 2 and cluster.now - before >= 600


# ------------------------------------------------------------------- writes
def test_dry_run_validates_without_storing(served):
    reply = served.api("POST", f"{CM}?dryRun=All", cm("dry"))
    assert reply.status == 201 and reply.json()["metadata"]["name"] == "dry"
    assert served.api("GET", f"{CM}/dry").status == 404


@pytest.mark.parametrize(("mode", "status", "warned"), [("Warn", 201, True), ("Ignore", 201, False),
                                                         ("Strict", 400, False)])
def test_field_validation_modes(served, mode, status, warned):
    body = {**cm(f"fv-{mode.lower()}"), "spec": {"foo": 1}}
    reply = served.api("POST", f"{CM}?fieldValidation={mode}", body)
    assert reply.status == status
    assert (reply.headers.get_all("Warning") == ['299 - "unknown field \\"spec\\""']) == warned
    if status == 400:
        assert 'strict decoding error: unknown field "spec"' in reply.json()["message"]


def test_delete_options_body_and_uid_precondition(served):
    served.cluster.create(cm("guarded"))
    reply = served.api("DELETE", f"{CM}/guarded", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                   "preconditions": {"uid": "not-the-uid"}})
    assert reply.status == 409 and "Precondition failed: UID in precondition: not-the-uid" in reply.json()["message"]
    done = served.api("DELETE", f"{CM}/guarded", {"propagationPolicy": "Background"}).json()
    assert done["kind"] == "Status" and done["status"] == "Success" and done["details"]["name"] == "guarded"


def test_delete_collection_with_a_selector(served):
    for name in ("sweep-1", "sweep-2"):
        served.cluster.create(cm(name, sweep="yes"))
    deleted = served.api("DELETE", f"{CM}?labelSelector=sweep%3Dyes").json()
    assert [i["metadata"]["name"] for i in deleted["items"]] == ["sweep-1", "sweep-2"]
    assert served.api("GET", f"{CM}?labelSelector=sweep%3Dyes").json()["items"] == []


def test_unsupported_patch_type_is_415(served):
    reply = served.api("PATCH", f"{CM}/page-0", {"data": {}}, headers={"Content-Type": "text/plain"})
    assert reply.status == 415 and reply.json()["reason"] == "UnsupportedMediaType"


# ------------------------------------------------------------- subresources
def test_status_subresource_changes_only_status(served):
    served.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "statused"}})
    ns = served.api("GET", "/api/v1/namespaces/statused/status").json()
    ns["status"] = {"phase": "Active", "conditions": [{"type": "Custom", "status": "True"}]}
    ns["metadata"]["labels"] = {"ignored": "yes"}
    reply = served.api("PUT", "/api/v1/namespaces/statused/status", ns)
    assert reply.status == 200
    stored = served.cluster.get("ns", "statused", None)
    assert stored["status"]["conditions"][0]["type"] == "Custom"
    assert "ignored" not in (stored["metadata"].get("labels") or {})


def test_scale_subresource_of_a_replicaset(served):
    served.cluster.create({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "scaled-rs"},
                           "spec": {"replicas": 1, "selector": {"matchLabels": {"rs": "x"}},
                                    "template": {"metadata": {"labels": {"rs": "x"}},
                                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    path = "/apis/apps/v1/namespaces/default/replicasets/scaled-rs/scale"
    scale = served.api("GET", path).json()
    assert (scale["kind"], scale["apiVersion"], scale["spec"]) == ("Scale", "autoscaling/v1", {"replicas": 1})
    assert scale["status"]["selector"] == "rs=x"
    scale["spec"]["replicas"] = 2
    assert served.api("PUT", path, scale).json()["spec"]["replicas"] == 2
    assert served.cluster.get("rs", "scaled-rs")["spec"]["replicas"] == 2


def test_binding_and_eviction(served):
    unscheduled = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bind-me"},
                   "spec": {"schedulerName": "nobody", "containers": [{"name": "c", "image": "nginx"}]}}
    served.cluster.create(unscheduled)
    reply = served.api("POST", "/api/v1/namespaces/default/pods/bind-me/binding",
                       {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bind-me"},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": "kubelab-worker"}})
    assert reply.status == 201 and reply.json()["status"] == "Success"
    assert served.cluster.get("pod", "bind-me")["spec"]["nodeName"] == "kubelab-worker"
    evicted = served.api("POST", "/api/v1/namespaces/default/pods/bind-me/eviction",
                         {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "bind-me"},
                          "deleteOptions": {"gracePeriodSeconds": 0}})
    assert evicted.status == 201
    assert served.api("GET", "/api/v1/namespaces/default/pods/bind-me").status == 404


def test_logs_without_a_kubelet_say_so(served):
    served.cluster.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "quiet"},
                           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    if hasattr(served.cluster, "logs"):
        pytest.skip("this cluster has a kubelet that serves logs")
    reply = served.api("GET", "/api/v1/namespaces/default/pods/quiet/log")
    assert reply.status == 400 and reply.json()["message"].startswith('container "c" in pod "quiet" is waiting')


# ------------------------------------------------------- documents, errors
def test_discovery_has_scale_subresource_as_autoscaling_scale(served):
    resources = {r["name"]: r for r in served.api("GET", "/apis/apps/v1").json()["resources"]}
    assert resources["deployments/scale"]["group"] == "autoscaling"
    assert resources["deployments/scale"]["kind"] == "Scale"
    assert resources["deployments"]["shortNames"] == ["deploy"] and resources["deployments"]["categories"] == ["all"]


def test_aggregated_discovery_has_the_exact_content_type(served):
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    reply = served.api("GET", "/apis", headers={"Accept": accept})
    assert reply.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert "apps" in [g["metadata"]["name"] for g in reply.json()["items"]]


def test_openapi_documents_describe_patch_with_field_validation(served):
    root = served.api("GET", "/openapi/v3").json()["paths"]
    url = root["apis/apps/v1"]["serverRelativeURL"]
    doc = served.api("GET", url).json()
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    spec = doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]
    template = spec["properties"]["template"]
    assert template["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec"}]
    assert spec["type"] == "object"
    # OpenAPI v2 is an empty protobuf document: kubectl's fallback validation finds no schema for a removed
    # apiVersion and reports the mapping error a real cluster gives (test_kubectl_course_mistakes.py).
    v2 = served.api("GET", "/openapi/v2")
    assert (v2.status, v2.body) == (200, b"")


def test_health_version_and_unknown_paths(served):
    assert served.api("GET", "/readyz").body == b"ok"
    assert served.api("GET", "/version").json()["gitVersion"] == "v1.37.1"
    missing = served.api("GET", "/apis/apps/v1/nothings")
    assert missing.status == 404 and missing.json()["reason"] == "NotFound"
    assert served.api("POST", "/api/v1/namespaces/default/configmaps/page-0", cm("x")).status == 405


def test_a_handler_bug_is_a_500_and_the_server_keeps_serving(served, monkeypatch):
    from kubelab.server import resources

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(resources, "list_", broken)
    reply = served.api("GET", CM)
    assert reply.status == 500 and reply.json()["reason"] == "InternalError" and "boom" in reply.json()["message"]
    monkeypatch.undo()
    assert served.api("GET", CM).status == 200
