"""The patch engines: merge patch, JSON patch, strategic merge patch and kubectl's three-way patch."""

from __future__ import annotations

import copy
import json

import pytest

from kubelab.api.errors import ApiError
from kubelab.api.kinds import resolve
from kubelab.api.patch import create_three_way_patch, json_patch, merge_patch, strategic_merge_patch

DEPLOY = resolve("deployment")
SVC = resolve("service")
POD = resolve("pod")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
REJECTED = "the server rejected our request due to an error in our request"


def manifest(image: str = "nginx:1.25", labels: dict | None = None) -> dict:
    """A Deployment as a learner writes it."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels if labels is not None else {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]},
            },
        },
    }


def applied(obj: dict) -> dict:
    """The manifest with its last-applied annotation, as kubectl sends it."""
    out = copy.deepcopy(obj)
    out["metadata"].setdefault("annotations", {})[LAST_APPLIED] = json.dumps(obj, sort_keys=True) + "\n"
    return out


def live(obj: dict) -> dict:
    """What the apiserver stores for it: defaults, a generation, status."""
    out = applied(obj)
    out["metadata"].update({"uid": "6f1c", "resourceVersion": "412", "generation": 1})
    out["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
    spec = out["spec"]
    spec.update({"revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}})
    for c in spec["template"]["spec"]["containers"]:
        c.update({"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                  "resources": {}})
        for p in c.get("ports", []):
            p.setdefault("protocol", "TCP")
    spec["template"]["spec"].update({"restartPolicy": "Always", "dnsPolicy": "ClusterFirst"})
    out["status"] = {"replicas": 2, "readyReplicas": 2, "observedGeneration": 1}
    return out


def containers(obj: dict) -> list:
    return obj["spec"]["template"]["spec"]["containers"]


def raised(call, *args) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value


# --- merge patch (application/merge-patch+json) ------------------------------------------


def test_merge_patch_sets_replicas_and_keeps_everything_else():
    current = live(manifest())
    result = merge_patch(current, {"spec": {"replicas": 3}})
    assert result["spec"]["replicas"] == 3
    assert result["spec"]["template"] == current["spec"]["template"]
    assert result["status"] == current["status"]


def test_merge_patch_null_deletes_and_nulls_inside_new_objects_are_dropped():
    result = merge_patch({"metadata": {"labels": {"app": "web", "tier": "fe"}}},
                         {"metadata": {"labels": {"tier": None}, "annotations": {"a": "1", "b": None}}})
    assert result == {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "1"}}}


def test_merge_patch_replaces_a_list_whole():
    result = merge_patch({"spec": {"finalizers": ["a", "b"]}}, {"spec": {"finalizers": ["c"]}})
    assert result == {"spec": {"finalizers": ["c"]}}


def test_merge_patch_leaves_its_inputs_untouched():
    target, patch = {"a": {"b": 1}}, {"a": {"b": None, "c": {"d": None}}}
    before = copy.deepcopy((target, patch))
    assert merge_patch(target, patch) == {"a": {"c": {}}}
    assert (target, patch) == before


def test_merge_patch_that_is_not_an_object_is_a_bad_request():
    error = raised(merge_patch, {"a": 1}, None)
    assert (error.code, error.reason, error.message) == (400, "BadRequest", "Invalid JSON Patch")


# --- JSON patch (application/json-patch+json) --------------------------------------------


def test_rollout_undo_body_replaces_template_and_annotations():
    current = live(manifest("nginx:1.26"))
    old_template = copy.deepcopy(current["spec"]["template"])
    containers({"spec": {"template": old_template}})[0]["image"] = "nginx:1.25"
    annotations = {"deployment.kubernetes.io/revision": "3"}
    result = json_patch(current, [
        {"op": "replace", "path": "/spec/template", "value": old_template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])
    assert containers(result)[0]["image"] == "nginx:1.25"
    assert result["metadata"]["annotations"] == annotations
    assert result["spec"]["replicas"] == 2
    assert containers(current)[0]["image"] == "nginx:1.26"


def test_json_patch_add_remove_move_copy_with_escaped_pointers():
    doc = {"metadata": {"annotations": {"a~b": "x"}}, "spec": {"args": ["-v"]}}
    result = json_patch(doc, [
        {"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause", "value": "undo"},
        {"op": "add", "path": "/spec/args/-", "value": "--port=80"},
        {"op": "add", "path": "/spec/args/0", "value": "serve"},
        {"op": "move", "from": "/metadata/annotations/a~0b", "path": "/metadata/annotations/moved"},
        {"op": "copy", "from": "/spec/args/0", "path": "/spec/command"},
        {"op": "remove", "path": "/spec/args/1"},
        {"op": "test", "path": "/spec/args", "value": ["serve", "--port=80"]},
    ])
    assert result == {
        "metadata": {"annotations": {"kubernetes.io/change-cause": "undo", "moved": "x"}},
        "spec": {"args": ["serve", "--port=80"], "command": "serve"},
    }


def test_json_patch_replace_of_a_missing_key_adds_it_like_apiserver():
    assert json_patch({"metadata": {}}, [{"op": "replace", "path": "/metadata/labels", "value": {"a": "b"}}]) \
        == {"metadata": {"labels": {"a": "b"}}}


def test_failing_test_op_is_rejected_with_apiserver_message_and_leaves_object_untouched():
    current = live(manifest())
    error = raised(json_patch, current, [
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "test", "path": "/spec/replicas", "value": 4},
    ])
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message.splitlines()[0] == REJECTED
    assert error.hint == "testing value /spec/replicas failed: test failed"
    assert current["spec"]["replicas"] == 2


@pytest.mark.parametrize("op, hint", [
    ({"op": "add", "path": "/spec/nothere/x", "value": 1},
     'add operation does not apply: doc is missing path: "/spec/nothere/x": missing value'),
    ({"op": "remove", "path": "/spec/paused"},
     "error in remove for path: '/spec/paused': Unable to remove nonexistent key: paused: missing value"),
    ({"op": "replace", "path": "/spec/template/spec/containers/3", "value": {}},
     "replace operation does not apply: doc is missing key: /spec/template/spec/containers/3: missing value"),
    ({"op": "frobnicate", "path": "/spec"}, "Unexpected kind: frobnicate"),
])
def test_json_patch_that_does_not_apply_is_422(op, hint):
    error = raised(json_patch, live(manifest()), [op])
    assert (error.code, error.message.splitlines()[0], error.hint) == (422, REJECTED, hint)


def test_json_patch_body_that_is_not_a_list_is_a_bad_request():
    error = raised(json_patch, {}, {"op": "add"})
    assert (error.code, error.message) == (400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")


# --- strategic merge patch ---------------------------------------------------------------


KUBECTL_APPLY_126 = {"spec": {"template": {"spec": {
    "$setElementOrder/containers": [{"name": "nginx"}],
    "containers": [{"image": "nginx:1.26", "name": "nginx"}],
}}}}


def test_kubectl_apply_body_changes_the_image_and_keeps_the_containers_other_fields():
    current = live(manifest())
    result = strategic_merge_patch(current, KUBECTL_APPLY_126, DEPLOY)
    assert containers(result) == [{
        "name": "nginx", "image": "nginx:1.26", "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log", "resources": {},
    }]
    assert "$setElementOrder/containers" not in result["spec"]["template"]["spec"]
    assert result["status"] == current["status"]


def test_the_same_body_as_a_plain_merge_patch_drops_the_containers_other_fields():
    result = merge_patch(live(manifest()), KUBECTL_APPLY_126)
    assert containers(result) == [{"image": "nginx:1.26", "name": "nginx"}]
    assert result["spec"]["template"]["spec"]["$setElementOrder/containers"] == [{"name": "nginx"}]


def with_sidecar(obj: dict) -> dict:
    containers(obj).append({"name": "log", "image": "busybox", "args": ["tail"]})
    return obj


def test_patch_delete_directive_removes_a_container_by_name():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "log", "$patch": "delete"}]}}}}
    result = strategic_merge_patch(with_sidecar(live(manifest())), patch, DEPLOY)
    assert [c["name"] for c in containers(result)] == ["nginx"]


def test_a_new_container_goes_first_unless_set_element_order_says_otherwise():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "log", "image": "busybox"}]}}}}
    assert [c["name"] for c in containers(strategic_merge_patch(live(manifest()), patch, DEPLOY))] == ["log", "nginx"]
    patch["spec"]["template"]["spec"]["$setElementOrder/containers"] = [{"name": "nginx"}, {"name": "log"}]
    assert [c["name"] for c in containers(strategic_merge_patch(live(manifest()), patch, DEPLOY))] == ["nginx", "log"]


def test_replacing_a_container_keeps_a_server_injected_one_where_apiserver_puts_it():
    # apimachinery's slices share memory: the deleted item's slot is reused by the added one,
    # which then sorts after the injected proxy. (Without that quirk: nginx, metrics, proxy.)
    current = with_sidecar(live(manifest()))
    containers(current).append({"name": "proxy", "image": "envoy"})
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "nginx"}, {"name": "metrics"}],
        "containers": [{"name": "metrics", "image": "prom"}, {"name": "log", "$patch": "delete"}]}}}}
    result = strategic_merge_patch(current, patch, DEPLOY)
    assert [c["name"] for c in containers(result)] == ["nginx", "proxy", "metrics"]


def test_patch_replace_directive_in_a_list_replaces_the_list():
    patch = {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "app", "image": "httpd"}]}}}}
    result = strategic_merge_patch(with_sidecar(live(manifest())), patch, DEPLOY)
    assert containers(result) == [{"name": "app", "image": "httpd"}]


def test_patch_replace_directive_in_a_map_replaces_the_map():
    patch = {"metadata": {"labels": {"$patch": "replace", "tier": "fe"}}}
    result = strategic_merge_patch(live(manifest()), patch, DEPLOY)
    assert result["metadata"]["labels"] == {"tier": "fe"}


def test_retain_keys_on_strategy_drops_rolling_update_when_switching_to_recreate():
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert strategic_merge_patch(live(manifest()), patch, DEPLOY)["spec"]["strategy"] == {"type": "Recreate"}
    # Without the directive the old rollingUpdate stays, and validation would refuse the result.
    del patch["spec"]["strategy"]["$retainKeys"]
    assert "rollingUpdate" in strategic_merge_patch(live(manifest()), patch, DEPLOY)["spec"]["strategy"]


def test_env_merges_by_name():
    current = live(manifest())
    containers(current)[0]["env"] = [{"name": "MODE", "value": "dev"}, {"name": "PORT", "value": "80"}]
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "nginx", "env": [{"name": "MODE", "value": "prod"}, {"name": "DEBUG", "value": "0"}]}]}}}}
    env = containers(strategic_merge_patch(current, patch, DEPLOY))[0]["env"]
    assert sorted((e["name"], e["value"]) for e in env) == [("DEBUG", "0"), ("MODE", "prod"), ("PORT", "80")]


def test_container_ports_merge_by_container_port():
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "nginx", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]}]}}}}
    ports = containers(strategic_merge_patch(live(manifest()), patch, DEPLOY))[0]["ports"]
    assert {p["containerPort"]: p for p in ports} == {
        80: {"containerPort": 80, "protocol": "TCP", "name": "http"}, 443: {"containerPort": 443}}


def service() -> dict:
    return {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "clusterIP": "10.96.14.7",
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080},
                           {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP", "nodePort": 31443}]},
        "status": {"loadBalancer": {}},
    }


def test_service_ports_patch_keeps_the_allocated_node_port_of_untouched_ports():
    patch = {"spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 443}],
                      "ports": [{"port": 80, "targetPort": 9090}]}}
    result = strategic_merge_patch(service(), patch, SVC)
    assert result["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 9090, "protocol": "TCP", "nodePort": 30080},
        {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP", "nodePort": 31443}]
    assert result["spec"]["clusterIP"] == "10.96.14.7"


def test_finalizers_merge_as_a_set_and_delete_from_primitive_list_removes_one():
    pod = {"metadata": {"name": "p", "finalizers": ["a.io/x", "b.io/y"]}}
    added = strategic_merge_patch(pod, {"metadata": {"finalizers": ["b.io/y", "c.io/z"]}}, POD)
    assert sorted(added["metadata"]["finalizers"]) == ["a.io/x", "b.io/y", "c.io/z"]
    removed = strategic_merge_patch(pod, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}}, POD)
    assert removed["metadata"]["finalizers"] == ["b.io/y"]


def test_null_deletes_a_key_and_non_merging_lists_are_replaced():
    current = live(manifest())
    containers(current)[0]["args"] = ["-g", "daemon off;"]
    patch = {"metadata": {"labels": {"app": None}}, "spec": {"template": {"spec": {"containers": [
        {"name": "nginx", "args": ["-v"]}]}}}}
    result = strategic_merge_patch(current, patch, DEPLOY)
    assert result["metadata"]["labels"] == {}
    assert containers(result)[0]["args"] == ["-v"]


def test_strategic_merge_patch_leaves_its_inputs_untouched():
    current, patch = with_sidecar(live(manifest())), copy.deepcopy(KUBECTL_APPLY_126)
    before = copy.deepcopy((current, patch))
    strategic_merge_patch(current, patch, DEPLOY)
    assert (current, patch) == before


def test_list_item_without_its_merge_key_is_refused_like_apiserver():
    patch = {"spec": {"template": {"spec": {"containers": [{"image": "nginx:1.26"}]}}}}
    error = raised(strategic_merge_patch, live(manifest()), patch, DEPLOY)
    assert (error.code, error.reason) == (500, "")
    assert error.message.splitlines()[0] == "map: map[image:nginx:1.26] does not contain declared merge key: name"
    assert "name" in error.hint


@pytest.mark.parametrize("patch, code, first_line", [
    ({"spec": {"strategy": {"$patch": "frobnicate", "type": "Recreate"}}}, 500,
     "unknown patch type: frobnicate in map: map[$patch:frobnicate type:Recreate]"),
    ({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "$patch": "merge"}]}}}}, 500,
     "merging lists cannot yet be specified in the patch"),
    ({"spec": {"strategy": {"$retainKeys": "type", "type": "Recreate"}}}, 400, "invalid patch format of retainKeys"),
    ({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}, 400,
     "invalid patch format of retainKeys"),
    ({"metadata": {"$deleteFromPrimitiveListfinalizers": ["x"]}}, 400, "invalid patch format of primitive list"),
])
def test_bad_directives_are_refused_with_apimachinery_messages(patch, code, first_line):
    error = raised(strategic_merge_patch, with_sidecar(live(manifest())), patch, DEPLOY)
    assert (error.code, error.message.splitlines()[0]) == (code, first_line)


def test_set_element_order_that_contradicts_the_patch_list_is_refused():
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "nginx"}, {"name": "log"}],
        "containers": [{"name": "log", "image": "busybox:1"}, {"name": "nginx", "image": "nginx:1"}]}}}}
    error = raised(strategic_merge_patch, with_sidecar(live(manifest())), patch, DEPLOY)
    assert error.code == 500
    assert error.message.startswith("The order in patch list:\n")
    assert "doesn't match $setElementOrder list" in error.message


# --- three-way patch (kubectl apply) -----------------------------------------------------


def apply_again(old: dict, new: dict, current: dict, kind=DEPLOY) -> dict:
    """What `kubectl apply` sends when `new` replaces the previously applied `old`."""
    return create_three_way_patch(old, applied(new), current, kind)


def test_three_way_patch_of_an_image_change_is_kubectls_body():
    patch = apply_again(manifest(), manifest("nginx:1.26"), live(manifest()))
    assert patch == {
        "metadata": {"annotations": {LAST_APPLIED: applied(manifest("nginx:1.26"))["metadata"]["annotations"][
            LAST_APPLIED]}},
        **KUBECTL_APPLY_126,
    }


def test_applying_the_same_manifest_twice_gives_an_empty_patch():
    current = live(manifest())
    current["spec"]["replicas"] = 2
    assert apply_again(manifest(), manifest(), current) == {}


def test_removing_a_label_from_the_manifest_deletes_it_and_keeps_one_added_by_kubectl_label():
    current = live(manifest(labels={"app": "web", "tier": "fe"}))
    current["metadata"]["labels"]["owner"] = "ops"  # kubectl label deploy web owner=ops
    patch = apply_again(manifest(labels={"app": "web", "tier": "fe"}), manifest(labels={"app": "web"}), current)
    assert patch["metadata"]["labels"] == {"tier": None}
    assert "status" not in patch and "spec" not in patch
    result = strategic_merge_patch(current, patch, DEPLOY)
    assert result["metadata"]["labels"] == {"app": "web", "owner": "ops"}
    assert result["status"] == current["status"]


def test_fields_the_manifest_does_not_manage_are_left_alone():
    svc = service()
    manifest_svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"type": "NodePort", "selector": {"app": "web"},
                             "ports": [{"name": "http", "port": 80, "targetPort": 8080},
                                       {"name": "https", "port": 443, "targetPort": 8443}]}}
    current = applied(manifest_svc)
    current["metadata"]["labels"] = {"app": "web"}
    current["spec"], current["status"] = svc["spec"], svc["status"]
    assert apply_again(manifest_svc, manifest_svc, current, SVC) == {}
    changed = copy.deepcopy(manifest_svc)
    changed["spec"]["ports"][0]["targetPort"] = 9090
    result = strategic_merge_patch(current, apply_again(manifest_svc, changed, current, SVC), SVC)
    assert [(p["port"], p["targetPort"], p["nodePort"]) for p in result["spec"]["ports"]] == [
        (80, 9090, 30080), (443, 8443, 31443)]
    assert result["spec"]["clusterIP"] == "10.96.14.7" and result["status"] == svc["status"]


def test_container_removed_from_the_manifest_is_deleted_by_name():
    old = with_sidecar(manifest())
    patch = apply_again(old, manifest(), with_sidecar(live(manifest())))
    spec = patch["spec"]["template"]["spec"]
    assert spec["containers"] == [{"name": "log", "$patch": "delete"}]
    assert spec["$setElementOrder/containers"] == [{"name": "nginx"}]
    result = strategic_merge_patch(with_sidecar(live(manifest())), patch, DEPLOY)
    assert [c["name"] for c in containers(result)] == ["nginx"]


def test_switching_strategy_to_recreate_sends_retain_keys_and_drops_rolling_update():
    new = manifest()
    new["spec"]["strategy"] = {"type": "Recreate"}
    patch = apply_again(manifest(), new, live(manifest()))
    assert patch["spec"]["strategy"] == {"$retainKeys": ["type"], "type": "Recreate"}
    assert strategic_merge_patch(live(manifest()), patch, DEPLOY)["spec"]["strategy"] == {"type": "Recreate"}


def test_first_apply_over_an_object_created_otherwise_deletes_nothing():
    current = live(manifest())
    del current["metadata"]["annotations"][LAST_APPLIED]
    new = manifest(labels={"app": "web", "tier": "fe"})
    patch = create_three_way_patch(None, applied(new), current, DEPLOY)
    assert patch["metadata"]["labels"] == {"tier": "fe"}
    assert None not in _leaves(patch)


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
