"""kube-system as on a fresh kind/minikube cluster: static pods, kube-proxy, CoreDNS — without moving user names."""

from __future__ import annotations

import pytest

from kubelab import Cluster
from kubelab.cluster import systempods

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


def with_system_pods(**kwargs) -> Cluster:
    """A cluster with kube-system bootstrapped (not yet installed by components.install: see the module note)."""
    c = Cluster(clock="stepped", **kwargs)
    systempods.install(c)
    c.pump()
    return c


@pytest.fixture(scope="module")
def cluster():
    c = with_system_pods(nodes=3, seed=3)
    c.settle()
    yield c
    c.close()


def _pods(cluster, selector=None):
    return {p["metadata"]["name"]: p for p in cluster.list("pods", "kube-system", selector=selector)}


def test_control_plane_static_pods_are_mirror_pods_on_the_host_network(cluster):
    pods = _pods(cluster, "tier=control-plane")
    assert sorted(pods) == [f"{c}-kubelab-control-plane" for c in
                            ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")]
    etcd = pods["etcd-kubelab-control-plane"]
    annotations = etcd["metadata"]["annotations"]
    assert annotations["kubernetes.io/config.source"] == "file"
    assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
    assert etcd["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert etcd["spec"]["priority"] == 2000001000 and etcd["spec"]["hostNetwork"] is True
    assert etcd["spec"]["containers"][0]["image"].startswith("registry.k8s.io/etcd:3.6.")
    assert etcd["status"]["podIP"] == etcd["status"]["hostIP"] == "172.18.0.2"
    requests = {n: p["spec"]["containers"][0]["resources"]["requests"]["cpu"] for n, p in pods.items()}
    assert requests == {"etcd-kubelab-control-plane": "100m", "kube-apiserver-kubelab-control-plane": "250m",
                        "kube-controller-manager-kubelab-control-plane": "200m",
                        "kube-scheduler-kubelab-control-plane": "100m"}
    assert all(p["status"]["phase"] == "Running" and p["status"]["containerStatuses"][0]["ready"]
               for p in pods.values())  # their probes pass against the catalog's health endpoints


def test_static_pods_log_their_start_up(cluster):
    text = cluster.logs("kube-apiserver-kubelab-control-plane", namespace="kube-system")
    assert "Version: v1.37.1" in text and "Serving securely on [::]:6443" in text


def test_kube_proxy_runs_one_adopted_pod_per_node(cluster):
    pods = _pods(cluster, "k8s-app=kube-proxy")
    assert sorted(p["spec"]["nodeName"] for p in pods.values()) == \
        ["kubelab-control-plane", "kubelab-worker", "kubelab-worker2"]
    ds = cluster.get("daemonsets", "kube-proxy", "kube-system")
    assert ds["status"]["numberReady"] == 3 and ds["status"]["desiredNumberScheduled"] == 3
    assert len(cluster.list("controllerrevisions", "kube-system")) == 1
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == ds["metadata"]["uid"] for p in pods.values())


def test_coredns_gives_kube_dns_its_endpoints(cluster):
    pods = _pods(cluster, "k8s-app=kube-dns")
    assert len(pods) == 2 and len(cluster.list("replicasets", "kube-system")) == 1
    assert sorted(p["status"]["podIP"] for p in pods.values()) == ["10.244.0.2", "10.244.0.3"]
    endpoints = cluster.get("endpoints", "kube-dns", "kube-system")
    assert sorted(a["ip"] for a in endpoints["subsets"][0]["addresses"]) == ["10.244.0.2", "10.244.0.3"]
    assert "kubernetes cluster.local" in cluster.get("configmaps", "coredns", "kube-system")["data"]["Corefile"]
    assert cluster.get("deployments", "coredns", "kube-system")["status"]["readyReplicas"] == 2


def test_minikube_runs_one_coredns_replica():
    with with_system_pods(nodes=1, seed=3, profile="minikube") as c:
        assert sorted(_pods(c))[-1] == "kube-scheduler-minikube"
        assert len(_pods(c, "k8s-app=kube-dns")) == 1


def test_system_objects_do_not_draw_from_the_main_generator():
    def names(system: bool):
        with (with_system_pods(nodes=1, seed=11) if system else Cluster(nodes=1, clock="stepped", seed=11)) as c:
            state = c.rng.getstate()
            c.apply(WEB)
            return state, sorted(p["metadata"]["name"] for p in c.list("pods"))

    assert names(True) == names(False)


def test_a_new_node_gets_its_kube_proxy_from_the_daemonset_controller(cluster):
    cluster.add_node()
    cluster.settle()
    pods = _pods(cluster, "k8s-app=kube-proxy")
    assert len(pods) == 4
    new = next(p for p in pods.values() if p["spec"]["nodeName"] == "kubelab-worker3")
    assert new["status"]["phase"] == "Running"
    pulled = [e for e in cluster.events("kube-system")
              if e["involvedObject"]["name"] == new["metadata"]["name"] and e["reason"] == "Pulled"]
    assert "already present on machine" in pulled[0]["message"]


def test_component_statuses_follow_the_control_plane_node():
    with with_system_pods(nodes=1, seed=3) as c:
        rows = {cs["metadata"]["name"]: cs["conditions"][0] for cs in c.list("componentstatuses", None)}
        assert rows["etcd-0"] == {"type": "Healthy", "status": "True", "message": "ok"}
        c.fail_node("kubelab-control-plane")
        c.advance(60)
        scheduler = c.get("componentstatuses", "scheduler", None)["conditions"][0]
        assert scheduler["status"] == "False"
        assert scheduler["message"] == ('Get "https://127.0.0.1:10259/healthz": dial tcp 127.0.0.1:10259: '
                                        'connect: connection refused')
