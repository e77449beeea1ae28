"""kube-system as on a fresh kind/minikube cluster: static pods, kube-proxy, CoreDNS — without moving user names."""

from __future__ import annotations

import pytest

from kubelab import Cluster
from kubelab.cluster import systempods
from kubelab.cluster.clock import STEPPED_EPOCH, rfc3339

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(nodes=3, clock="stepped", seed=3)
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


def test_a_new_cluster_is_handed_over_with_kube_system_ready_and_settle_has_nothing_to_wait_for():
    with Cluster(nodes=1, clock="stepped", seed=5) as c:
        pods = c.list("pods", "kube-system")
        assert len(pods) == 7 and all(p["status"]["containerStatuses"][0]["ready"] for p in pods)
        assert c.settle() == 0.0  # the system pods' probe timers are background
        assert c.now == STEPPED_EPOCH  # the user's time begins where it always did: kube-system booted before
        assert {p["metadata"]["creationTimestamp"] for p in pods} == {rfc3339(STEPPED_EPOCH - 60)}
        etcd = c.get("pods", "etcd-kubelab-control-plane", "kube-system")
        ready = next(x for x in etcd["status"]["conditions"] if x["type"] == "Ready")
        assert ready["lastTransitionTime"] == rfc3339(STEPPED_EPOCH - 50)  # its startup probe waits 10 s
        c.apply(WEB)
        assert 0 < c.settle() < 10  # a user's pods are waited for as before


def test_a_realtime_cluster_starts_with_kube_system_ready():
    with Cluster(nodes=1, clock="realtime", seed=5) as c:
        pods = c.list("pods", "kube-system", selector="tier=control-plane")
        assert len(pods) == 4 and all(p["status"]["containerStatuses"][0]["ready"] for p in pods)


def test_minikube_runs_one_coredns_replica_and_its_storage_provisioner():
    with Cluster(nodes=1, clock="stepped", seed=3, profile="minikube") as c:
        pods = _pods(c)
        assert sorted(pods) == ["coredns-944884566-l96kn", "etcd-minikube", "kube-apiserver-minikube",
                                "kube-controller-manager-minikube", "kube-proxy-ctjsp", "kube-scheduler-minikube",
                                "storage-provisioner"]
        provisioner = pods["storage-provisioner"]
        assert provisioner["status"]["phase"] == "Running" and not provisioner["metadata"].get("ownerReferences")
        assert provisioner["status"]["podIP"] == "192.168.49.2"  # host network, on minikube's node address
        assert "Storage provisioner initialized" in c.logs("storage-provisioner", namespace="kube-system")


def test_system_objects_do_not_draw_from_the_main_generator(monkeypatch):
    def after_start():
        with Cluster(nodes=1, clock="stepped", seed=11) as c:
            state = c.rng.getstate()
            c.apply(WEB)
            return state, sorted(p["metadata"]["name"] for p in c.list("pods"))

    with_system_pods = after_start()
    monkeypatch.setattr(systempods, "install", lambda cluster: None)
    assert after_start() == with_system_pods


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


def test_a_cluster_reopened_from_its_state_file_has_its_control_plane_ready_again(tmp_path):
    state = tmp_path / "cluster.db"
    with Cluster(nodes=1, clock="stepped", seed=4, state=state) as c:
        c.advance(30)
    with Cluster(nodes=1, clock="stepped", seed=4, state=state) as c:
        pods = c.list("pods", "kube-system")
        assert len(pods) == 7 and all(p["status"]["containerStatuses"][0]["ready"] for p in pods)
        assert c.now == STEPPED_EPOCH + 41  # the kubelet started them again: the startup probes waited 10 s
        assert len(c.list("daemonsets", "kube-system")) == 1  # nothing written twice
