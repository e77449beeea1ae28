"""The real kubectl reads the local cluster through the API server: version, discovery, get in all
its output forms, selectors evaluated on the server, watches, explain and the kubeconfig."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import yaml


def pod(name: str, namespace: str = "default", **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


@pytest.fixture(scope="module", autouse=True)
def pods(served):
    c = served.cluster
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    c.create(pod("web-a", app="web", env="a"))
    c.create(pod("web-b", app="web", env="b"))
    c.create(pod("tool", env="c"))
    c.create(pod("cart", "shop", app="cart"))


def names(output: str) -> list[str]:
    """The first column of kubectl's table, without the header."""
    return [line.split()[0] for line in output.strip().splitlines()[1:]]


def test_version_prints_the_server_version(served):
    out = served.ok("version")
    assert "Client Version: v1.37.1" in out
    assert "Server Version: v1.37.1" in out


def test_cluster_info_names_the_https_endpoint(served):
    out = served.ok("cluster-info")
    assert f"Kubernetes control plane is running at {served.handle.url}" in out


def test_api_resources_lists_kinds_with_short_names(served):
    rows = {line.split()[0]: line.split() for line in served.ok("api-resources").splitlines()[1:]}
    assert rows["pods"][1:] == ["po", "v1", "true", "Pod"]
    assert rows["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"][1:] == ["no", "v1", "false", "Node"]


def test_get_pods_prints_the_server_side_table(served):
    out = served.ok("get", "pods")
    assert out.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert names(out) == ["tool", "web-a", "web-b"]


def test_ages_are_simulated_ages_not_the_distance_to_2026(served):
    served.cluster.advance(125)
    ages = {line.split()[0]: line.split()[-1] for line in served.ok("get", "ns").splitlines()[1:]}
    assert ages["shop"] in ("2m5s", "2m6s"), ages


def test_get_pods_wide_adds_node_and_ip_columns(served):
    header = served.ok("get", "pods", "-o", "wide").splitlines()[0].split()
    assert header[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "NODE" in header and "IP" in header and "NOMINATED" in header


def test_get_nodes_and_namespaces(served):
    assert names(served.ok("get", "nodes")) == ["kubelab-control-plane", "kubelab-worker"]
    assert {"default", "kube-system", "shop"} <= set(names(served.ok("get", "ns")))


def test_output_yaml_json_name_and_jsonpath(served):
    doc = yaml.safe_load(served.ok("get", "pod", "web-a", "-o", "yaml"))
    assert doc["kind"] == "Pod" and doc["metadata"]["labels"] == {"app": "web", "env": "a"}
    items = json.loads(served.ok("get", "pods", "-o", "json"))["items"]
    assert [i["metadata"]["name"] for i in items] == ["tool", "web-a", "web-b"]
    assert served.ok("get", "pods", "-o", "name").split() == ["pod/tool", "pod/web-a", "pod/web-b"]
    assert served.ok("get", "pods", "-o", "jsonpath={.items[*].metadata.name}") == "tool web-a web-b"


def test_show_labels_comes_from_the_row_objects(served):
    rows = {line.split()[0]: line.split()[-1] for line in served.ok("get", "pods", "--show-labels").splitlines()[1:]}
    assert rows["web-a"] == "app=web,env=a"


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=web", ["web-a", "web-b"]),
    ("env!=a", ["tool", "web-b"]),
    ("env in (a,c)", ["tool", "web-a"]),
    ("env notin (a,c)", ["web-b"]),
    ("app", ["web-a", "web-b"]),
    ("!app", ["tool"]),
])
def test_label_selectors_are_evaluated_by_the_server(served, selector, expected):
    assert names(served.ok("get", "pods", "-l", selector)) == expected


def test_no_match_says_no_resources_found(served):
    result = served.kubectl("get", "pods", "-l", "app=nothing")
    assert result.rc == 0 and result.out == ""
    assert "No resources found in default namespace." in result.err


def test_all_namespaces_adds_the_namespace_column(served):
    lines = served.ok("get", "pods", "-A").splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert ["shop", "cart"] in [line.split()[:2] for line in lines[1:]]


def test_not_found_is_the_apiserver_message(served):
    result = served.kubectl("get", "pod", "nope")
    assert result.rc == 1
    assert result.err.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_watch_prints_rows_as_changes_arrive(served):
    def later():
        time.sleep(0.8)
        served.cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"}})

    threading.Thread(target=later).start()
    started = time.monotonic()
    out = served.ok("get", "configmaps", "-w", "--request-timeout=2s")
    assert time.monotonic() - started < 6
    assert names(out).count("watched") == 1  # listed once: the watch resumes from the list's resourceVersion


def test_explain_prints_the_real_field_documentation(served):
    out = served.ok("explain", "pod.spec.containers")
    assert "FIELD: containers <[]Container>" in out
    assert re.search(r"name\s+<string> -required-", out)
    assert "Container image name." in out


def test_config_commands_see_the_kubelab_context(served):
    assert served.ok("config", "current-context").strip() == "kubelab"
    contexts = served.ok("config", "get-contexts").splitlines()
    assert contexts[1].split() == ["*", "kubelab", "kubelab", "kubelab", "default"]
    view = yaml.safe_load(served.ok("config", "view"))
    assert view["clusters"][0]["cluster"]["server"] == served.handle.url
    assert view["users"][0]["user"]["token"] == "REDACTED"
