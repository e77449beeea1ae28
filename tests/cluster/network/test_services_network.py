"""Networking of the local cluster: Service allocation, Endpoints/EndpointSlices from selectors and readiness,
kube-proxy's rules, DNS from a pod, and requests that travel Service → endpoint → pod."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

import kubelab
from kubelab.api.errors import ApiError
from kubelab.seed import GO_DEMO_2_REPLICASET

SELECTOR = {"type": "backend", "service": "go-demo-2"}


def service(name: str = "go-demo-2", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": SELECTOR, "ports": [{"port": 8080}], **spec}}


@pytest.fixture(scope="module")
def demo() -> kubelab.Cluster:
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=7)
    c.apply(GO_DEMO_2_REPLICASET)
    c.settle()
    c.create(service(type="NodePort", ports=[{"port": 8080, "nodePort": 30080}]))
    return c


def pod_ips(c: kubelab.Cluster) -> list[str]:
    return sorted(p["status"]["podIP"] for p in c.list("pods", selector="service=go-demo-2"))


def test_fresh_cluster_has_kubernetes_and_kube_dns_services():
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=1)
    api = c.get("svc", "kubernetes")
    assert api["spec"]["clusterIP"] == "10.96.0.1" and api["spec"]["clusterIPs"] == ["10.96.0.1"]
    assert c.get("ep", "kubernetes")["subsets"][0]["addresses"] == [{"ip": "172.18.0.2"}]
    assert c.get("ep", "kubernetes")["subsets"][0]["ports"] == [{"name": "https", "port": 6443, "protocol": "TCP"}]
    dns = c.get("svc", "kube-dns", "kube-system")
    assert dns["spec"]["clusterIP"] == "10.96.0.10"
    assert dns["metadata"]["labels"] == {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                         "kubernetes.io/name": "CoreDNS"}


def test_service_gets_cluster_ip_in_service_cidr_and_node_port_in_range():
    c = kubelab.Cluster(clock="stepped", seed=3)
    svc = c.create(service(type="LoadBalancer"))
    ip = svc["spec"]["clusterIP"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12") and svc["spec"]["clusterIPs"] == [ip]
    assert 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    assert svc["status"] == {"loadBalancer": {}}
    headless = c.create(service("db", clusterIP="None"))
    assert headless["spec"]["clusterIP"] == "None"
    external = c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
                         "spec": {"type": "ExternalName", "externalName": "example.com"}})
    assert "clusterIP" not in external["spec"]


def test_taken_node_port_is_rejected_with_apiserver_message():
    c = kubelab.Cluster(clock="stepped", seed=3)
    c.create(service("a", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    with pytest.raises(ApiError) as err:
        c.create(service("b", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert err.value.code == 422
    assert str(err.value) == ('Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
                              "provided port is already allocated")


def test_update_keeps_allocated_cluster_ip_and_node_port():
    c = kubelab.Cluster(clock="stepped", seed=3)
    svc = c.create(service(type="NodePort"))
    svc["metadata"]["labels"] = {"tier": "api"}
    svc["spec"]["ports"][0].pop("nodePort")
    updated = c.update(svc)
    assert updated["spec"]["clusterIP"] == svc["spec"]["clusterIP"]
    assert updated["spec"]["ports"][0]["nodePort"] == c.get("svc", "go-demo-2")["spec"]["ports"][0]["nodePort"]
    assert updated["spec"]["ports"][0]["nodePort"] >= 30000


def test_endpoints_and_endpointslice_list_both_pods(demo):
    ep = demo.get("ep", "go-demo-2")
    (subset,) = ep["subsets"]
    assert sorted(a["ip"] for a in subset["addresses"]) == pod_ips(demo)
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert {a["targetRef"]["name"] for a in subset["addresses"]} == {p["metadata"]["name"] for p in demo.list("pods")}
    (slice_,) = demo.list("endpointslices", selector="kubernetes.io/service-name=go-demo-2")
    assert slice_["metadata"]["name"].startswith("go-demo-2-")
    assert sorted(e["addresses"][0] for e in slice_["endpoints"]) == pod_ips(demo)
    assert all(e["conditions"]["ready"] for e in slice_["endpoints"])


def test_iptables_rules_have_one_sep_per_endpoint_with_random_probabilities(demo):
    text = demo.proxy_rules(mode="iptables")
    svc_ip = demo.get("svc", "go-demo-2")["spec"]["clusterIP"]
    assert f"-A KUBE-SERVICES -d {svc_ip}/32 -p tcp -m comment --comment \"default/go-demo-2 cluster IP\"" in text
    jumps = [line for line in text.splitlines() if "default/go-demo-2 -> " in line]
    first, second = pod_ips(demo)
    assert f"-> {first}:8080\" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-" in jumps[0]
    assert f"-> {second}:8080\" -j KUBE-SEP-" in jumps[1] and "statistic" not in jumps[1]
    assert "--dport 30080 -j KUBE-EXT-" in text
    # kube-proxy's chain name for default/kubernetes:https, the same on every real cluster
    assert "-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment \"default/kubernetes:https -> 172.18.0.2:6443\"" in text
    ipvs = demo.proxy_rules(mode="ipvs")
    assert f"TCP  {svc_ip}:8080 rr" in ipvs and f"  -> {first}:8080" in ipvs


def test_nslookup_and_wget_from_a_pod_reach_the_service(demo):
    pod = demo.list("pods")[0]["metadata"]["name"]
    svc_ip = demo.get("svc", "go-demo-2")["spec"]["clusterIP"]
    out = demo.exec(pod, ["nslookup", "go-demo-2"], container="api")
    assert out.exit_code == 0 and "go-demo-2.default.svc.cluster.local" in out.stdout and svc_ip in out.stdout
    got = demo.exec(pod, ["wget", "-qO-", "http://go-demo-2:8080/demo/hello"], container="api")
    assert (got.exit_code, got.stdout) == (0, "hello, world!\n")


def test_hundred_requests_spread_over_both_pods(demo):
    hits = Counter(demo.request("http://go-demo-2:8080/demo/hello").path[-1].split()[1] for _ in range(100))
    assert len(hits) == 2 and min(hits.values()) > 25
    result = demo.request("http://go-demo-2:8080/demo/hello")
    assert result.status == 200 and result.text == "hello, world!\n"
    assert result.path[0].startswith("DNS go-demo-2.default.svc.cluster.local → ")
    assert result.path[1].startswith("Service default/go-demo-2 ")


def test_session_affinity_client_ip_pins_a_client_to_one_pod():
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=5)
    c.apply(GO_DEMO_2_REPLICASET)
    c.settle()
    c.create(service(sessionAffinity="ClientIP"))
    client = c.list("pods")[0]["metadata"]["name"]
    pods = {c.request("http://go-demo-2:8080/demo/hello", from_pod=client).path[-1] for _ in range(20)}
    assert len(pods) == 1


def test_pod_failing_readiness_leaves_endpoints_and_traffic():
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=2)
    for name in ("one", "two"):
        c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                           "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]},
                                                              "periodSeconds": 5},
                                           "lifecycle": {"postStart": {"exec": {
                                               "command": ["touch", "/tmp/ready"]}}}}]}})
    c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
              "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    c.advance(30)
    assert len(c.get("ep", "web")["subsets"][0]["addresses"]) == 2
    c.exec("two", ["rm", "/tmp/ready"])
    c.advance(30)
    (subset,) = c.get("ep", "web")["subsets"]
    assert [a["targetRef"]["name"] for a in subset["addresses"]] == ["one"]
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["two"]
    assert all(c.request("http://web/").path[-1].startswith("Pod default/one ") for _ in range(10))


def test_no_ready_endpoints_refuses_connection():
    c = kubelab.Cluster(clock="stepped", seed=2)
    c.create(service("empty"))
    with pytest.raises(ConnectionRefusedError):
        c.request("http://empty:8080/")


def test_creating_a_service_traces_the_course_sequence(demo):
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=7)
    c.apply(GO_DEMO_2_REPLICASET)
    c.settle()
    seq = c.trace_log.last_seq
    c.create(service())
    lines = [str(r) for r in c.trace(seq)]
    wanted = ["api-server: stored Service default/go-demo-2",
              "endpoint-controller: created Endpoints default/go-demo-2 (2 addresses)",
              "kube-proxy(kubelab-worker): added rules for Service default/go-demo-2 (2 endpoints)",
              "kube-dns: added record go-demo-2.default.svc.cluster.local"]
    positions = [next(i for i, line in enumerate(lines) if line.startswith(w)) for w in wanted]
    assert positions == sorted(positions)


def test_headless_service_resolves_to_pod_ips_and_deleted_service_leaves_no_trace():
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=7)
    c.apply(GO_DEMO_2_REPLICASET)
    c.settle()
    c.create(service("db", clusterIP="None"))
    assert sorted(c.pod_network.resolve("db.default.svc.cluster.local")) == pod_ips(c)
    first = pod_ips(c)[0]
    assert c.pod_network.resolve(f"{first.replace('.', '-')}.default.pod.cluster.local") == [first]
    c.delete("svc", "db")
    with pytest.raises(LookupError):
        c.pod_network.resolve("db.default.svc.cluster.local")
    assert [e["metadata"]["name"] for e in c.list("ep")] == ["kubernetes"]
    assert "default/db" not in c.proxy_rules()
    assert any(str(r).startswith("kube-dns: removed record db.default.svc.cluster.local") for r in c.trace())


def test_named_target_port_resolves_from_container_ports_and_node_port_reaches_pods():
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=4)
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                       "ports": [{"name": "http", "containerPort": 80}]}]}})
    c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
              "spec": {"type": "NodePort", "selector": {"app": "web"},
                       "ports": [{"name": "front", "port": 8000, "targetPort": "http", "nodePort": 31000}]}})
    c.settle()
    (subset,) = c.get("ep", "web")["subsets"]
    assert subset["ports"] == [{"name": "front", "port": 80, "protocol": "TCP"}]
    (slice_,) = c.list("endpointslices", selector="kubernetes.io/service-name=web")
    assert slice_["ports"] == [{"name": "front", "port": 80, "protocol": "TCP"}]
    result = c.request("http://172.18.0.2:31000/")
    assert result.status == 200 and "nginx" in result.text
    assert result.path == ["Service default/web 172.18.0.2:31000", f"Endpoint {subset['addresses'][0]['ip']}:80",
                           f"Pod default/web {subset['addresses'][0]['ip']}:80"]


def test_session_affinity_pins_each_client_address_while_clients_spread_over_pods():
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=5)
    c.apply(GO_DEMO_2_REPLICASET)
    c.settle()
    c.create(service(sessionAffinity="ClientIP"))
    ip = c.get("svc", "go-demo-2")["spec"]["clusterIP"]
    seen = {}
    for n in range(2, 12):
        view = c.pod_network.for_pod(f"10.244.0.{n}")
        assert view.http("GET", f"http://{ip}:8080/demo/hello", {})[2] == b"hello, world!\n"
        paths: list[list[str]] = [[] for _ in range(5)]
        for path in paths:
            c.pod_network.send("GET", f"http://{ip}:8080/demo/hello", {}, view.pod_ip, path)
        seen[n] = {path[-1] for path in paths}
    assert all(len(pods) == 1 for pods in seen.values())
    assert len(set().union(*seen.values())) == 2


def test_a_put_without_cluster_ip_keeps_the_allocated_one():
    c = kubelab.Cluster(clock="stepped", seed=1)
    [svc] = c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                     "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    replacement = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"selector": {"app": "web", "tier": "front"}, "ports": [{"port": 80}]}}
    updated = c.update(replacement)
    assert updated["spec"]["clusterIP"] == svc["spec"]["clusterIP"]
    assert updated["spec"]["selector"] == {"app": "web", "tier": "front"}
