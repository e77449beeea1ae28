"""Local access to the cluster from the notebook's machine: `service_url` (minikube service --url)
and `port_forward` (kubectl port-forward) listen on 127.0.0.1 and answer with the simulated pods."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

import kubelab
from kubelab.api.errors import ApiError

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                                      "ports": [{"name": "http", "containerPort": 80}]}]}}}}


def web_service(name: str = "web", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080, "targetPort": "http"}], **spec}}


@pytest.fixture
def cluster():
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=5)
    c.apply(WEB)
    c.create(web_service(type="NodePort"))
    c.settle()
    yield c
    c.close()


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_service_url_serves_nginx_welcome_page_on_loopback(cluster):
    url = cluster.service_url("web")
    assert url.startswith("http://127.0.0.1:")
    status, body = fetch(url)
    assert status == 200 and "<title>Welcome to nginx!</title>" in body
    assert cluster.service_url("web") == url  # started once
    (listener,) = cluster.local_listeners.open
    assert listener.address[0] == "127.0.0.1"


def test_service_url_of_cluster_ip_service_says_it_has_no_node_port(cluster):
    cluster.create(web_service("internal"))
    with pytest.raises(ApiError) as err:
        cluster.service_url("internal")
    assert str(err.value).splitlines()[0] == "service default/internal has no node port"
    with pytest.raises(ApiError, match='services "nope" not found'):
        cluster.service_url("nope")


def test_service_url_without_ready_endpoints_answers_bad_gateway(cluster):
    cluster.create(web_service("lonely", type="NodePort", selector={"app": "none"}))
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(cluster.service_url("lonely"))
    assert err.value.code == 502 and "connection refused" in err.value.read().decode()


def test_port_forward_to_a_pod_reaches_its_port_and_stop_closes_the_socket(cluster):
    pod = sorted(p["metadata"]["name"] for p in cluster.list("pods"))[0]
    forward = cluster.port_forward(f"pod/{pod}", 0, 80)
    assert forward.url == f"http://127.0.0.1:{forward.port}" and forward.address[0] == "127.0.0.1"
    assert fetch(forward.url + "/")[0] == 200
    forward.stop()
    assert refused(forward.port)


def test_port_forward_to_a_service_uses_its_target_port_on_a_pod(cluster):
    forward = cluster.port_forward("svc/web", 0, 8080)
    status, body = fetch(forward.url)
    assert status == 200 and "Welcome to nginx!" in body
    with pytest.raises(ApiError, match="error: Service web does not have a service port 9999"):
        cluster.port_forward("svc/web", 0, 9999)


def test_port_forward_errors_for_missing_pod_and_closed_port(cluster):
    with pytest.raises(ApiError, match='pods "x" not found'):
        cluster.port_forward("pod/x", 0, 80)
    pod = cluster.list("pods")[0]["metadata"]["name"]
    with pytest.raises(ApiError, match="Connection refused"):
        cluster.port_forward(f"pod/{pod}", 0, 5432)


def test_close_stops_every_listener():
    c = kubelab.Cluster(clock="stepped", seed=5)
    c.apply(WEB)
    c.create(web_service(type="LoadBalancer"))
    c.settle()
    url = c.service_url("web")
    forward = c.port_forward("svc/web", 0, 8080)
    assert fetch(url)[0] == 200
    c.close()
    assert refused(int(url.rsplit(":", 1)[1])) and refused(forward.port)
