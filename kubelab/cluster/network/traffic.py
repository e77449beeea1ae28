"""Traffic on the pod network: requests travel Service → endpoint → pod and get the pod's answer.

`PodNetwork` is `cluster.pod_network`, the runtime's `Network` for every container: names go to
`ClusterDns`; a request to a ClusterIP:port (or a node's IP:nodePort) is DNATed to one ready
endpoint chosen at random with the cluster's seeded generator, as kube-proxy's iptables rules
do (sessionAffinity ClientIP pins a client to its first choice for the timeout); a request to a
pod IP:port reaches the handler listening there. `request(cluster, url, from_pod)` is the same
trip from Python, returning the status, body and the path taken.

Read by: network (install), cluster.runtime through the Network protocol. Reads: network.dns, store, kubelets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubelab.cluster.network.dns import ClusterDns, service_fqdn

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]


@dataclass
class RequestResult:
    status: int
    headers: dict[str, str]
    body: bytes
    path: list[str] = field(default_factory=list)  # "DNS go-demo-2 → 10.96.x.x", "Service …", "Pod …"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class PodNetwork:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.dns = ClusterDns(cluster)
        self._affinity: dict[tuple[str, str, str], tuple[str, float]] = {}  # (svc key, port, client) → (ip, until)

    # ------------------------------------------------------------ Network protocol
    def resolve(self, name: str) -> list[str]:
        return self.dns.resolve(name)

    def reverse(self, ip: str) -> str | None:
        return self.dns.reverse(ip)

    def http(self, method: str, url: str, headers: dict[str, str], client_ip: str = "") -> tuple[int, dict[str, str],
                                                                                                  bytes]:
        return self.send(method, url, headers, client_ip, [])

    def for_pod(self, pod_ip: str) -> PodView:
        """This network as one pod sees it: its requests carry its IP (sessionAffinity ClientIP needs it)."""
        return PodView(self, pod_ip)

    # -------------------------------------------------------------------- routing
    def send(self, method: str, url: str, headers: dict[str, str], client_ip: str,
             path: list[str]) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        ip, port = parts.hostname or "", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        found = self._service_at(ip, port)
        if found is not None:
            service, service_port = found
            meta = service["metadata"]
            path.append(f"Service {meta['namespace']}/{meta['name']} {ip}:{port}")
            ip, port = self._pick(service, service_port, client_ip)
            path.append(f"Endpoint {ip}:{port}")
        pod, handler = self._listener(ip, port)
        path.append(f"Pod {pod['metadata']['namespace']}/{pod['metadata']['name']} {ip}:{port}")
        return handler(method, target, headers, client_ip or "10.244.0.1")

    def _service_at(self, ip: str, port: int) -> tuple[Obj, Obj] | None:
        nodes, _ = self.cluster.store.list(("", "nodes"))
        node_ips = {a["address"] for n in nodes for a in (n.get("status") or {}).get("addresses") or ()
                    if a.get("type") == "InternalIP"}
        services, _ = self.cluster.store.list(("", "services"))
        for service in services:
            spec = service.get("spec") or {}
            for p in spec.get("ports") or ():
                if p.get("protocol", "TCP") != "TCP":
                    continue
                if (ip in (spec.get("clusterIPs") or ()) and p.get("port") == port) or (
                        ip in node_ips and p.get("nodePort") == port):
                    return service, p
        return None

    def _pick(self, service: Obj, service_port: Obj, client_ip: str) -> tuple[str, int]:
        meta, spec = service["metadata"], service.get("spec") or {}
        endpoints = self.cluster.store.get(("", "endpoints"), meta["namespace"], meta["name"]) or {}
        name = service_port.get("name", "")
        choices = [(a["ip"], p["port"]) for s in endpoints.get("subsets") or ()
                   for p in s.get("ports") or () if p.get("name", "") == name and p.get("protocol", "TCP") == "TCP"
                   for a in s.get("addresses") or ()]
        if not choices:
            raise ConnectionRefusedError("Connection refused")  # kube-proxy REJECTs: "has no endpoints"
        key = (f"{meta['namespace']}/{meta['name']}", name, client_ip)
        now = self.cluster.clock.now()
        if spec.get("sessionAffinity") == "ClientIP" and client_ip:
            pinned = self._affinity.get(key)
            if pinned is not None and pinned[1] > now:
                for ip, port in choices:
                    if ip == pinned[0]:
                        self._affinity[key] = (ip, now + _affinity_timeout(spec))
                        return ip, port
        ip, port = choices[self.cluster.rng.randrange(len(choices))]
        if spec.get("sessionAffinity") == "ClientIP" and client_ip:
            self._affinity[key] = (ip, now + _affinity_timeout(spec))
        return ip, port

    def _listener(self, ip: str, port: int) -> tuple[Obj, Any]:
        pods, _ = self.cluster.store.list(("", "pods"))
        for pod in pods:
            if (pod.get("status") or {}).get("podIP") != ip or (pod.get("spec") or {}).get("hostNetwork"):
                continue
            agent = getattr(self.cluster, "node_agents", {}).get((pod.get("spec") or {}).get("nodeName"))
            kubelet = getattr(agent, "kubelet", None)
            worker = kubelet.workers.get((pod["metadata"]["namespace"], pod["metadata"]["name"])) if kubelet else None
            handler = None
            if worker is not None and kubelet is not None and kubelet.alive:
                handler = worker.listening.get(port)
            if handler is None:
                raise ConnectionRefusedError("Connection refused")
            return pod, handler
        raise TimeoutError("Connection timed out")  # nobody has that address: packets go nowhere


class PodView:
    """The Network protocol bound to one client address."""

    def __init__(self, network: PodNetwork, pod_ip: str) -> None:
        self.network = network
        self.pod_ip = pod_ip

    def resolve(self, name: str) -> list[str]:
        return self.network.resolve(name)

    def reverse(self, ip: str) -> str | None:
        return self.network.reverse(ip)

    def http(self, method: str, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        return self.network.send(method, url, headers, self.pod_ip, [])


def _affinity_timeout(spec: Obj) -> float:
    return float(((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds", 10800))


def request(cluster: Cluster, url: str, from_pod: str | None = None, namespace: str = "default",
            method: str = "GET", headers: dict[str, str] | None = None) -> RequestResult:
    """One HTTP request as a pod (or, without `from_pod`, a client on the node) would send it."""
    network: PodNetwork = cluster.pod_network
    with cluster.lock:
        cluster.pump()
        client_ip = ""
        if from_pod is not None:
            pod = cluster.store.get(("", "pods"), namespace, from_pod)
            if pod is None:
                raise LookupError(f'pods "{from_pod}" not found')
            client_ip = (pod.get("status") or {}).get("podIP") or ""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = parts.hostname or ""
        path: list[str] = []
        ip = host
        if not _is_ip(host):
            ip = ""
            for candidate in (host, service_fqdn(namespace, host), f"{host}.svc.cluster.local",
                              f"{host}.cluster.local"):
                try:
                    ips = network.resolve(candidate)
                except LookupError:
                    continue
                if ips:
                    ip = ips[0]
                    path.append(f"DNS {candidate} → {ip}")
                    break
            if not ip:
                raise LookupError(f"{host}: NXDOMAIN")
        netloc = f"{ip}:{parts.port or 80}"
        target = parts._replace(scheme="http", netloc=netloc).geturl()
        status, rh, body = network.send(method, target, dict(headers or {}), client_ip, path)
        return RequestResult(status, rh, body, path)


def _is_ip(host: str) -> bool:
    pieces = host.split(".")
    return len(pieces) == 4 and all(p.isdigit() for p in pieces)
