"""The local cluster's Python API behaves like a Kubernetes API server (core issue)."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

import pytest

import kubelab
from kubelab import ApiError, seed

SEED_NOTES_DEPLOYMENT = seed.HELLOWORLD_DEPLOYMENT

SEED_NOTES_CRONJOB = seed.HELLO_CRONJOB_FIXED.replace("batch/v1", "batch/v1beta1")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
"""


ROOT_CA = "kube-root-ca.crt"  # the root CA publisher puts it in every namespace, as in real clusters


def configmap(name: str, ns: str | None = None, **data: str) -> dict:
    meta: dict = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


@pytest.fixture
def cluster():
    c = kubelab.Cluster(clock="stepped", seed=7)
    yield c
    c.close()


@contextmanager
def unchanged(cluster):
    """The block must leave every object, and the revision, exactly as they were."""
    before_rev = cluster.store.revision
    before = dump(cluster)
    yield
    assert cluster.store.revision == before_rev
    assert dump(cluster) == before


def dump(cluster) -> str:
    """Every stored object, as canonical JSON text."""
    return json.dumps({"/".join(r): spaces for r, spaces in cluster.store.snapshot().items()}, sort_keys=True)


# ---------------------------------------------------------------- apply / CRUD
def test_new_cluster_has_the_four_system_namespaces(cluster):
    names = [ns["metadata"]["name"] for ns in cluster.list("namespaces", None)]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert cluster.get("ns", "default", None)["status"]["phase"] == "Active"


def test_apply_yaml_creates_objects_with_kubernetes_metadata(cluster):
    [deploy] = cluster.apply(DEPLOYMENT)
    meta = deploy["metadata"]
    assert meta["namespace"] == "default"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", meta["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["creationTimestamp"])
    assert meta["generation"] == 1
    assert int(meta["resourceVersion"]) == cluster.store.revision or int(meta["resourceVersion"]) > 0


def test_apply_fills_kubernetes_defaults(cluster):
    [deploy] = cluster.apply(DEPLOYMENT)
    spec = deploy["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    pod_spec = spec["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Always"
    assert pod_spec["dnsPolicy"] == "ClusterFirst"
    assert pod_spec["terminationGracePeriodSeconds"] == 30
    assert pod_spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert pod_spec["containers"][0]["ports"][0]["protocol"] == "TCP"


def test_reapplying_the_same_manifest_changes_nothing(cluster):
    cluster.apply(DEPLOYMENT)
    rev = cluster.store.revision
    [again] = cluster.apply(DEPLOYMENT)
    assert cluster.store.revision == rev
    assert again["metadata"]["generation"] == 1


def test_changing_the_spec_bumps_generation_but_changing_labels_does_not(cluster):
    cluster.apply(DEPLOYMENT)
    [scaled] = cluster.apply(DEPLOYMENT.replace("replicas: 2", "replicas: 3"))
    assert scaled["spec"]["replicas"] == 3
    assert scaled["metadata"]["generation"] == 2
    [labelled] = cluster.apply(DEPLOYMENT.replace("replicas: 2", "replicas: 3").replace(
        "labels: {app: web}\nspec", "labels: {app: web, tier: front}\nspec"))
    assert labelled["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert labelled["metadata"]["generation"] == 2


def test_apply_removes_fields_dropped_from_the_manifest_but_keeps_others(cluster):
    cluster.apply(configmap("cfg", a="1", b="2"))
    live = cluster.get("cm", "cfg")
    live["metadata"].setdefault("labels", {})["added-by"] = "kubectl-label"
    cluster.update(live)
    [after] = cluster.apply(configmap("cfg", a="1"))
    assert after["data"] == {"a": "1"}
    assert after["metadata"]["labels"] == {"added-by": "kubectl-label"}


def test_apply_accepts_dicts_lists_multi_document_text_and_paths(cluster, tmp_path):
    path = tmp_path / "objs.yaml"
    path.write_text("---\n" + json.dumps(configmap("from-file")) + "\n---\n")
    cluster.apply(path)
    cluster.apply([configmap("one"), configmap("two")])
    cluster.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: three}\n---\n"
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: four}\n")
    names = {c["metadata"]["name"] for c in cluster.list("configmaps")}
    assert {"from-file", "one", "two", "three", "four"} <= names


def test_kind_names_resolve_like_kubectl(cluster):
    cluster.apply(DEPLOYMENT)
    for name in ("deploy", "deployment", "deployments", "Deployment", "deployment.apps", "deployments.v1.apps"):
        assert cluster.get(name, "web")["kind"] == "Deployment"
    with pytest.raises(ApiError) as err:
        cluster.list("foos")
    assert str(err.value) == 'the server doesn\'t have a resource type "foos"'


def test_get_missing_object_is_not_found(cluster):
    with pytest.raises(ApiError) as err:
        cluster.get("po", "nope")
    assert err.value.code == 404
    assert str(err.value) == 'pods "nope" not found'
    with pytest.raises(ApiError) as err:
        cluster.get("deploy", "nope")
    assert str(err.value) == 'deployments.apps "nope" not found'


def test_list_all_namespaces_and_by_label_and_field_selector(cluster):
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    cluster.apply([
        {**configmap("a"), "metadata": {"name": "a", "labels": {"env": "prod"}}},
        {**configmap("b", "dev"), "metadata": {"name": "b", "namespace": "dev", "labels": {"env": "dev"}}},
        {**configmap("c"), "metadata": {"name": "c"}},
    ])
    names = lambda objs: sorted(o["metadata"]["name"] for o in objs  # noqa: E731 - what the test made
                                if o["metadata"]["name"] != ROOT_CA and o["metadata"]["namespace"] != "kube-system")
    assert names(cluster.list("cm", None)) == ["a", "b", "c"]
    assert names(cluster.list("cm", None, selector="env in (prod, dev)")) == ["a", "b"]
    assert names(cluster.list("cm", None, selector="env!=prod")) == ["b", "c"]
    assert names(cluster.list("cm", None, selector="!env")) == ["c"]
    assert names(cluster.list("cm", None, field_selector="metadata.namespace=dev")) == ["b"]


def test_generate_name_appends_five_safe_characters(cluster):
    [cm] = cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}})
    assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}", cm["metadata"]["name"])


def test_same_seed_and_operations_give_byte_identical_objects():
    def run():
        with kubelab.Cluster(clock="stepped", seed=42) as c:
            c.apply(DEPLOYMENT)
            c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cfg-"}})
            c.advance(30)
            c.apply(DEPLOYMENT.replace("replicas: 2", "replicas: 5"))
            return dump(c)

    assert run() == run()


def test_environment_sets_clock_and_seed(monkeypatch):
    monkeypatch.setenv("KUBELAB_CLOCK", "stepped")
    monkeypatch.setenv("KUBELAB_SEED", "5")
    with kubelab.Cluster() as a, kubelab.Cluster(clock="stepped", seed=5) as b:
        assert a.clock.mode == "stepped" and a.seed == 5
        assert a.get("ns", "default")["metadata"]["uid"] == b.get("ns", "default")["metadata"]["uid"]


# ----------------------------------------------------------------- bad input
def test_seed_notes_broken_deployment_is_a_strict_decoding_error_with_a_hint(cluster):
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(SEED_NOTES_DEPLOYMENT)
    assert err.value.code == 400 and err.value.reason == "BadRequest"
    first, _, hint = str(err.value).partition("\n")
    assert first == ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
                     'unknown field "spec.matchLabels", unknown field "spec.metadata", unknown field "spec.spec"')
    assert hint.startswith("hint: ") and "matchLabels" in hint and "spec.selector" in hint


def test_removed_api_version_names_the_version_to_use(cluster):
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(SEED_NOTES_CRONJOB)
    message = str(err.value)
    assert message.startswith('no matches for kind "CronJob" in version "batch/v1beta1"')
    assert "hint: use apiVersion batch/v1" in message


def test_fixed_cronjob_is_accepted(cluster):
    [cj] = cluster.apply(SEED_NOTES_CRONJOB.replace("batch/v1beta1", "batch/v1"))
    assert cj["spec"]["concurrencyPolicy"] == "Allow"
    assert cj["spec"]["successfulJobsHistoryLimit"] == 3


def test_malformed_yaml_names_document_line_and_column(cluster):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ConfigMap\n" \
           "metadata:\n  name: bad\n   data: x\n"
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(text)
    message = str(err.value)
    assert "document 2" in message
    assert re.search(r"line 9\b", message), message


def test_one_invalid_document_leaves_the_whole_apply_unwritten(cluster):
    text = DEPLOYMENT + "---\n" + json.dumps(configmap("Bad_Name"))
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(text)
    assert err.value.code == 422
    assert str(err.value).startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                                     "a lowercase RFC 1123 subdomain must consist of")


def test_wrong_type_is_the_apiserver_unmarshal_error(cluster):
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(DEPLOYMENT.replace("replicas: 2", "replicas: two"))
    assert str(err.value).startswith('Deployment in version "v1" cannot be handled as a Deployment: json: cannot '
                                     'unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32')


def test_selector_not_matching_template_is_invalid(cluster):
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(DEPLOYMENT.replace("      labels: {app: web}\n    spec:",
                                         "      labels: {app: other}\n    spec:"))
    assert err.value.code == 422
    assert "`selector` does not match template `labels`" in str(err.value)


def test_invalid_label_value_is_invalid(cluster):
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "x", "labels": {"app": "not valid!"}}})
    assert 'metadata.labels: Invalid value: "not valid!"' in str(err.value)


def test_object_in_missing_namespace_is_refused(cluster):
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(configmap("x", "nowhere"))
    assert err.value.code == 404
    assert str(err.value) == 'namespaces "nowhere" not found'


def test_invalid_selector_string_is_a_bad_request(cluster):
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.list("pods", selector="app in (a")
    assert err.value.code == 400


def test_changing_a_deployment_selector_is_refused_as_immutable(cluster):
    cluster.apply(DEPLOYMENT)
    changed = DEPLOYMENT.replace("{app: web}", "{app: api}")
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(changed)
    assert "field is immutable" in str(err.value)


def test_stale_resource_version_is_a_conflict_and_changes_nothing(cluster):
    cluster.apply(configmap("cfg", a="1"))
    old = cluster.get("cm", "cfg")
    fresh = cluster.get("cm", "cfg")
    fresh["data"]["a"] = "2"
    cluster.update(fresh)
    old["data"]["a"] = "3"
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.update(old)
    assert err.value.code == 409
    assert str(err.value) == ('Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
                              "please apply your changes to the latest version and try again")
    assert err.value.status["reason"] == "Conflict"


def test_errors_carry_a_kubernetes_status(cluster):
    with pytest.raises(ApiError) as err:
        cluster.get("svc", "nope")
    assert err.value.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'services "nope" not found', "reason": "NotFound", "code": 404,
        "details": {"name": "nope", "kind": "services"},
    }


# ------------------------------------------------------------- deletion
def test_finalizers_keep_a_deleted_object_until_they_are_removed(cluster):
    cluster.apply({**configmap("held"), "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    cluster.delete("cm", "held")
    held = cluster.get("cm", "held")
    assert held["metadata"]["deletionTimestamp"]
    held["metadata"]["finalizers"] = []
    cluster.update(held)
    with pytest.raises(ApiError):
        cluster.get("cm", "held")


def test_deleting_a_namespace_deletes_its_contents(cluster):
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lesson"}})
    cluster.apply([configmap("a", "lesson"), configmap("b", "lesson")])
    cluster.delete("ns", "lesson", None)
    cluster.settle()
    assert cluster.list("cm", "lesson") == []
    with pytest.raises(ApiError):
        cluster.get("ns", "lesson", None)


def test_creating_in_a_terminating_namespace_is_forbidden(cluster):
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lesson"}})
    cluster.apply({**configmap("held", "lesson"),
                   "metadata": {"name": "held", "namespace": "lesson", "finalizers": ["example.com/hold"]}})
    cluster.delete("ns", "lesson", None)
    assert cluster.get("ns", "lesson", None)["status"]["phase"] == "Terminating"
    with unchanged(cluster), pytest.raises(ApiError) as err:
        cluster.apply(configmap("late", "lesson"))
    assert err.value.code == 403
    assert "unable to create new content in namespace lesson because it is being terminated" in str(err.value)


def test_system_namespaces_cannot_be_deleted(cluster):
    with pytest.raises(ApiError) as err:
        cluster.delete("ns", "kube-system", None)
    assert err.value.code == 403


# -------------------------------------------------------------- watch
def test_watch_sees_added_modified_and_deleted(cluster):
    w = cluster.watch("configmaps", "default")
    assert [e["object"]["metadata"]["name"] for e in w.drain()] == [ROOT_CA]  # what every namespace has
    cluster.apply(configmap("cfg", a="1"))
    cluster.apply(configmap("cfg", a="2"))
    cluster.delete("cm", "cfg")
    assert [e["type"] for e in w.drain()] == ["ADDED", "MODIFIED", "DELETED"]


def test_watch_resumes_from_a_resource_version(cluster):
    [first] = cluster.apply(configmap("one"))
    cluster.apply(configmap("two"))
    w = cluster.watch("cm", "default", resource_version=first["metadata"]["resourceVersion"])
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in w.drain()] == [("ADDED", "two")]


def test_watch_with_bookmarks_marks_the_end_of_initial_events_and_idle_time(cluster):
    cluster.apply(configmap("one"))
    w = cluster.watch("cm", "default", bookmarks=True)
    events = w.drain()
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    idle = w.next(timeout=0.01)
    assert idle["type"] == "BOOKMARK"
    assert idle["object"]["metadata"]["resourceVersion"] == str(cluster.store.revision)


def test_watch_from_a_compacted_revision_is_gone(cluster):
    cluster.apply(configmap("one"))
    cluster.store.compact(cluster.store.revision)
    with pytest.raises(ApiError) as err:
        cluster.watch("cm", "default", resource_version=2)
    assert err.value.code == 410


def test_state_file_keeps_the_cluster_across_restarts(tmp_path):
    state = tmp_path / "lab.db"
    with kubelab.Cluster(clock="stepped", seed=3, state=state) as first:
        first.apply(configmap("kept", a="1"))
        first.advance(120)
        rv = first.get("cm", "kept")["metadata"]["resourceVersion"]
        later = first.now
    with kubelab.Cluster(clock="stepped", seed=3, state=state) as again:
        kept = again.get("cm", "kept")
        assert kept["data"] == {"a": "1"} and kept["metadata"]["resourceVersion"] == rv
        assert again.now >= later  # simulated time went on from where it stopped
        [new] = again.apply(configmap("new"))
        assert int(new["metadata"]["resourceVersion"]) > int(rv)


def test_state_file_in_use_by_another_cluster_is_refused(tmp_path):
    state = tmp_path / "lab.db"
    with kubelab.Cluster(clock="stepped", seed=3, state=state):
        with pytest.raises(ApiError) as err:
            kubelab.Cluster(clock="stepped", seed=3, state=state)
    assert "in use by another kubelab cluster" in str(err.value)


# ------------------------------------------------------- events, trace, time
def test_repeated_events_aggregate_into_one_with_a_count(cluster):
    [cm] = cluster.apply(configmap("cfg"))
    for _ in range(3):
        cluster.record_event(cm, "Warning", "Lesson", "something happened", "kubelab")
        cluster.advance(5)
    events = [e for e in cluster.events("default") if e["reason"] == "Lesson"]
    assert len(events) == 1
    assert events[0]["count"] == 3
    assert events[0]["involvedObject"]["name"] == "cfg"
    assert events[0]["source"] == {"component": "kubelab"}
    assert events[0]["lastTimestamp"] > events[0]["firstTimestamp"]


def test_trace_records_what_the_api_server_did(cluster):
    mark = cluster.trace()[-1].seq
    cluster.apply(configmap("cfg"))
    records = cluster.trace(since=mark)
    assert [(r.component, r.action, r.object) for r in records] == [("api-server", "stored", "ConfigMap default/cfg")]


def test_stepped_time_moves_only_when_asked(cluster):
    start = cluster.now
    cluster.apply(configmap("cfg"))
    assert cluster.now == start
    cluster.advance(90)
    assert cluster.now == start + 90
    [late] = cluster.apply(configmap("later"))
    assert late["metadata"]["creationTimestamp"] > cluster.get("cm", "cfg")["metadata"]["creationTimestamp"]


def test_timers_fire_in_order_when_time_advances(cluster):
    fired = []
    cluster.clock.call_later(20, lambda: fired.append(("b", cluster.now)))
    cluster.clock.call_later(10, lambda: fired.append(("a", cluster.now)))
    cluster.advance(15)
    assert [f[0] for f in fired] == ["a"]
    cluster.advance(15)
    assert [f[0] for f in fired] == ["a", "b"]
    assert fired[1][1] - fired[0][1] == 10


def test_realtime_clock_runs_timers_on_its_own():
    import threading

    done = threading.Event()
    with kubelab.Cluster(clock="realtime", speed=100.0) as c:
        c.clock.call_later(5, done.set)  # 5 simulated seconds = 50 ms of wall time
        assert done.wait(timeout=5)


# --------------------------------------------------------- snapshot/restore
def test_restore_resets_the_lesson(cluster):
    cluster.apply(configmap("base"))
    snap = cluster.snapshot()
    cluster.apply(DEPLOYMENT)
    cluster.delete("cm", "base")
    cluster.restore(snap)
    assert [c["metadata"]["name"] for c in cluster.list("cm")] == ["base", ROOT_CA]
    assert cluster.list("deploy") == []


def test_returned_objects_are_copies(cluster):
    [cm] = cluster.apply(configmap("cfg", a="1"))
    cm["data"]["a"] = "changed"
    cluster.get("cm", "cfg")["data"]["a"] = "changed too"
    assert cluster.get("cm", "cfg")["data"] == {"a": "1"}
