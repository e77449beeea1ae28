"""The real kubectl changes the local cluster through the API server: create, apply (client- and
server-side), delete in its forms, label, annotate, the three patch types, scale and cordon —
and the errors a learner meets, in kube-apiserver's words."""

from __future__ import annotations

import json

import pytest
import yaml
from apiserver_client import manifest

from kubelab import seed

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
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

# The course notes' Deployment, indentation mistake included.
SEED_NOTES_DEPLOYMENT = seed.HELLOWORLD_DEPLOYMENT


def configmap(name: str, **labels: str) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})


def stored(served, kind: str, name: str) -> dict:
    return served.cluster.get(kind, name)


def test_create_then_create_again_is_already_exists(served, tmp_path):
    path = manifest(configmap("settings"), tmp_path)
    assert served.ok("create", "-f", path).strip() == "configmap/settings created"
    again = served.kubectl("create", "-f", path)
    assert again.rc == 1
    assert again.err.strip() == (f'Error from server (AlreadyExists): error when creating "{path}": '
                                 'configmaps "settings" already exists')


def test_apply_creates_configures_and_leaves_unchanged(served, tmp_path):
    path = manifest(DEPLOYMENT, tmp_path)
    assert served.ok("apply", "-f", path).strip() == "deployment.apps/web created"
    assert served.ok("apply", "-f", path).strip() == "deployment.apps/web unchanged"
    rv = stored(served, "deploy", "web")["metadata"]["resourceVersion"]
    changed = manifest(DEPLOYMENT.replace("replicas: 2", "replicas: 3").replace("nginx:1.25", "nginx:1.26"),
                       tmp_path, "changed.yaml")
    assert served.ok("apply", "-f", changed).strip() == "deployment.apps/web configured"
    deploy = stored(served, "deploy", "web")
    assert deploy["spec"]["replicas"] == 3
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    # A strategic merge patch: the image changed, the ports entry survived.
    assert container["image"] == "nginx:1.26" and container["ports"][0]["containerPort"] == 80
    assert deploy["metadata"]["resourceVersion"] != rv


def test_seed_notes_broken_deployment_shows_the_strict_decoding_error_and_hint(served, tmp_path):
    path = manifest(SEED_NOTES_DEPLOYMENT, tmp_path)
    result = served.kubectl("apply", "-f", path)
    assert result.rc == 1
    first, hint = result.err.strip().splitlines()
    assert first == (f'Error from server (BadRequest): error when creating "{path}": Deployment in version "v1" '
                     'cannot be handled as a Deployment: strict decoding error: unknown field "spec.matchLabels", '
                     'unknown field "spec.metadata", unknown field "spec.spec"')
    assert hint.startswith("hint: ") and '"matchLabels" belongs under "spec.selector"' in hint


def test_server_side_apply_creates_and_owns_fields(served, tmp_path):
    text = configmap("ssa", tier="db")
    path = manifest(text, tmp_path)
    assert served.ok("apply", "--server-side", "-f", path).strip() == "configmap/ssa serverside-applied"
    assert served.ok("apply", "--server-side", "-f", path).strip() == "configmap/ssa serverside-applied"
    managers = stored(served, "cm", "ssa")["metadata"]["managedFields"]
    assert [(m["manager"], m["operation"]) for m in managers] == [("kubectl", "Apply")]
    assert managers[0]["fieldsV1"] == {"f:data": {".": {}, "f:k": {}},
                                       "f:metadata": {"f:labels": {".": {}, "f:tier": {}}}}


def test_server_side_apply_conflict_names_the_other_manager(served, tmp_path):
    path = manifest(DEPLOYMENT.replace("name: web", "name: shared"), tmp_path)
    served.ok("apply", "-f", path)
    other = manifest(DEPLOYMENT.replace("name: web", "name: shared").replace("replicas: 2", "replicas: 5"),
                     tmp_path, "other.yaml")
    result = served.kubectl("apply", "--server-side", "--field-manager=ci", "-f", other)
    assert result.rc == 1
    assert result.err.startswith('error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
                                 'using apps/v1: .spec.replicas')
    assert stored(served, "deploy", "shared")["spec"]["replicas"] == 2
    forced = served.ok("apply", "--server-side", "--field-manager=ci", "--force-conflicts", "-f", other)
    assert forced.strip() == "deployment.apps/shared serverside-applied"
    assert stored(served, "deploy", "shared")["spec"]["replicas"] == 5


def test_label_add_overwrite_and_remove(served):
    served.cluster.create(yaml.safe_load(configmap("labelled", env="a")))
    assert served.ok("label", "cm", "labelled", "team=blue").strip() == "configmap/labelled labeled"
    refused = served.kubectl("label", "cm", "labelled", "env=b")
    assert refused.rc == 1 and "'env' already has a value (a), and --overwrite is false" in refused.err
    served.ok("label", "cm", "labelled", "env=b", "--overwrite")
    assert served.ok("label", "cm", "labelled", "team-").strip() == "configmap/labelled unlabeled"
    assert stored(served, "cm", "labelled")["metadata"]["labels"] == {"env": "b"}


def test_annotate(served):
    served.cluster.create(yaml.safe_load(configmap("noted")))
    assert served.ok("annotate", "cm", "noted", "owner=ana").strip() == "configmap/noted annotated"
    assert served.ok("get", "cm", "noted", "-o", "jsonpath={.metadata.annotations.owner}") == "ana"


@pytest.mark.parametrize(("kind", "body"), [
    ("strategic", '{"data":{"b":"2"}}'),
    ("merge", '{"data":{"b":"2","k":null}}'),
    ("json", '[{"op":"add","path":"/data/b","value":"2"},{"op":"remove","path":"/data/k"}]'),
])
def test_patch_types(served, kind, body):
    name = f"patched-{kind}"
    served.cluster.create(yaml.safe_load(configmap(name)))
    assert served.ok("patch", "cm", name, "--type", kind, "-p", body).strip() == f"configmap/{name} patched"
    data = stored(served, "cm", name)["data"]
    assert data["b"] == "2"
    assert ("k" in data) == (kind == "strategic")


def test_patch_that_changes_nothing_keeps_the_resource_version(served):
    served.cluster.create(yaml.safe_load(configmap("still")))
    rv = stored(served, "cm", "still")["metadata"]["resourceVersion"]
    out = served.ok("patch", "cm", "still", "-p", '{"data":{"k":"v"}}')
    assert out.strip() == "configmap/still patched (no change)"
    assert stored(served, "cm", "still")["metadata"]["resourceVersion"] == rv


def test_scale_writes_through_the_scale_subresource(served, tmp_path):
    served.ok("apply", "-f", manifest(DEPLOYMENT.replace("name: web", "name: scaled"), tmp_path))
    assert served.ok("scale", "deploy", "scaled", "--replicas=4").strip() == "deployment.apps/scaled scaled"
    assert stored(served, "deploy", "scaled")["spec"]["replicas"] == 4


def test_cordon_marks_the_node_unschedulable(served):
    assert served.ok("cordon", "kubelab-worker").strip() == "node/kubelab-worker cordoned"
    assert "Ready,SchedulingDisabled" in served.ok("get", "node", "kubelab-worker")
    served.ok("uncordon", "kubelab-worker")


def test_delete_by_name_file_label_and_all(served, tmp_path):
    for name, env in (("d1", "x"), ("d2", "x"), ("d3", "y"), ("d4", "y")):
        served.cluster.create(yaml.safe_load(configmap(name, env=env, group="del")))
    assert served.ok("delete", "cm", "d1").strip() == 'configmap "d1" deleted from default namespace'
    path = manifest(configmap("d2", env="x", group="del"), tmp_path)
    assert served.ok("delete", "-f", path).strip() == 'configmap "d2" deleted from default namespace'
    assert served.ok("delete", "cm", "-l", "env=y").splitlines() == [
        'configmap "d3" deleted from default namespace', 'configmap "d4" deleted from default namespace']
    served.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}})
    for name in ("e1", "e2"):
        served.cluster.create({**yaml.safe_load(configmap(name)), "metadata": {"name": name, "namespace": "scratch"}})
    out = served.ok("delete", "cm", "--all", "-n", "scratch")
    assert 'configmap "e1" deleted from scratch namespace' in out and 'configmap "e2" deleted' in out
    missing = served.kubectl("delete", "cm", "d1")
    assert missing.rc == 1 and missing.err.strip() == 'Error from server (NotFound): configmaps "d1" not found'


def test_delete_with_cascade_orphan_keeps_the_replicasets(served, tmp_path):
    served.ok("apply", "-f", manifest(DEPLOYMENT.replace("name: web", "name: orphaner")
                                      .replace("app: web", "app: orphaner"), tmp_path))
    owned = [rs for rs in served.cluster.list("rs") if rs["metadata"]["name"].startswith("orphaner-")]
    assert owned
    out = served.ok("delete", "deploy", "orphaner", "--cascade=orphan")
    assert out.strip() == 'deployment.apps "orphaner" deleted from default namespace'
    left = [rs["metadata"]["name"] for rs in served.cluster.list("rs")]
    assert {rs["metadata"]["name"] for rs in owned} <= set(left)


def test_json_output_of_a_created_object_carries_kind_and_times(served, tmp_path):
    out = served.ok("create", "-f", manifest(configmap("shown"), tmp_path), "-o", "json")
    obj = json.loads(out)
    assert obj["kind"] == "ConfigMap" and obj["apiVersion"] == "v1"
    assert obj["metadata"]["creationTimestamp"].endswith("Z") and obj["metadata"]["uid"]
