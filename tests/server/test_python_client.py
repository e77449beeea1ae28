"""The official `kubernetes` Python client works against the local API server: it reads the
kubeconfig kubelab writes, lists, creates, patches, deletes and watches, and gets ApiExceptions
carrying the apiserver's Status."""

from __future__ import annotations

import json
import threading
import time

import pytest

client = pytest.importorskip("kubernetes.client")
config = pytest.importorskip("kubernetes.config")
watch = pytest.importorskip("kubernetes.watch")


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "py"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


@pytest.fixture(scope="module")
def apis(served):
    api_client = config.new_client_from_config(config_file=served.handle.kubeconfig)
    yield client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    api_client.close()


def test_create_list_and_read(apis):
    core, _ = apis
    created = core.create_namespaced_pod("default", pod("py-1"))
    assert created.metadata.name == "py-1" and created.metadata.uid
    assert created.spec.containers[0].image_pull_policy == "Always"  # defaulted by the server
    assert "py-1" in [p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=py").items]
    assert core.read_namespaced_pod("py-1", "default").metadata.labels == {"app": "py"}


def test_patch_with_a_dict_and_with_a_list(apis):
    core, _ = apis
    core.create_namespaced_config_map("default", {"metadata": {"name": "py-cm"}, "data": {"a": "1"}})
    merged = core.patch_namespaced_config_map("py-cm", "default", {"data": {"b": "2"}})
    assert merged.data == {"a": "1", "b": "2"}
    listed = core.patch_namespaced_config_map("py-cm", "default", [{"op": "remove", "path": "/data/a"}])
    assert listed.data == {"b": "2"}


def test_scale_subresource(apis):
    _, apps = apis
    apps.create_namespaced_deployment("default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py-deploy"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pyd"}},
                 "template": {"metadata": {"labels": {"app": "pyd"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    scale = apps.patch_namespaced_deployment_scale("py-deploy", "default", {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3 and scale.status.selector == "app=pyd"
    assert apps.read_namespaced_deployment("py-deploy", "default").spec.replicas == 3


def test_errors_are_api_exceptions_with_the_status_body(apis):
    core, _ = apis
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_pod("missing", "default")
    assert err.value.status == 404
    assert json.loads(err.value.body)["message"] == 'pods "missing" not found'


def test_delete_returns_the_pod(apis):
    core, _ = apis
    core.create_namespaced_pod("default", pod("py-gone"))
    deleted = core.delete_namespaced_pod("py-gone", "default", grace_period_seconds=0)
    assert deleted.metadata.name == "py-gone"
    with pytest.raises(client.ApiException):
        core.read_namespaced_pod("py-gone", "default")


def test_watch_stream_gets_current_objects_then_changes_then_ends(apis, served):
    core, _ = apis
    core.create_namespaced_config_map("default", {"metadata": {"name": "py-before"}})

    def later():
        time.sleep(0.5)
        served.cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py-after"}})

    threading.Thread(target=later).start()
    started = time.monotonic()
    seen = [(e["type"], e["object"].metadata.name)
            for e in watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=2)]
    assert ("ADDED", "py-before") in seen
    assert seen[-1] == ("ADDED", "py-after")
    assert 1.5 < time.monotonic() - started < 5  # the server ends the stream at timeoutSeconds
