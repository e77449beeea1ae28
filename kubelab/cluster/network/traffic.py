"""Traffic on the pod network: requests travel Service → endpoint → pod and get the pod's answer.

`PodNetwork` is `cluster.pod_network`, the runtime's `Network` for every container: names go to
`ClusterDns`; a request to a ClusterIP:port (or a node's IP:nodePort) is DNATed to one ready
endpoint chosen at random with the cluster's seeded generator, as kube-proxy's iptables rules
do (sessionAffinity ClientIP pins a client to its first choice for the timeout); a request to a
pod IP:port reaches the handler listening there; a node's IP:port with a pod's `hostPort` reaches
that pod (the CNI portmap rule), and any other node port refuses. `request(cluster, url, from_pod)`
is the same trip from Python, returning the status, body and the path taken; from the notebook's
machine a name is looked up in `cluster.hosts` (its /etc/hosts) and then in the Ingress hosts.
`ingress(...)` is how the ingress controller's pod hands a request to the cluster's router.

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
        self.hops: list[str] = []  # the path of the request being answered (the ingress router adds to it)
        self.router: Any = None  # the ingress router (network.ingress_routing), set by network.install

    # ------------------------------------------------------------ Network protocol
    def resolve(self, name: str) -> list[str]:
        return self.dns.resolve(name)

    def reverse(self, ip: str) -> str | None:
        return self.dns.reverse(ip)

    def http(self, method: str, url: str, headers: dict[str, str], client_ip: str = "") -> tuple[int, dict[str, str],
                                                                                                  bytes]:
        return self.send(method, url, headers, client_ip, [])

    def ingress(self, method: str, target: str, headers: dict[str, str], client_ip: str) -> tuple[int, dict[str, str],
                                                                                                    bytes]:
        """A request the ingress controller received, routed by the Ingress rules to a backend."""
        if self.router is None:
            raise ConnectionRefusedError("Connection refused")
        return self.router.route(method, target, headers, client_ip, self.hops)  # type: ignore[no-any-return]

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
            return self.to_service(found[0], found[1], method, target, headers, client_ip, path, f"{ip}:{port}")
        if ip in self._node_ips():
            ip, port = self._host_port(ip, port, path)
        return self._deliver(ip, port, method, target, headers, client_ip, path)

    def to_service(self, service: Obj, service_port: Obj, method: str, target: str, headers: dict[str, str],
                   client_ip: str, path: list[str], via: str = "") -> tuple[int, dict[str, str], bytes]:
        """Service → kube-proxy's choice of a ready endpoint → that pod's answer."""
        meta = service["metadata"]
        via = via or f"{(service.get('spec') or {}).get('clusterIP')}:{service_port.get('port')}"
        path.append(f"Service {meta['namespace']}/{meta['name']} {via}")
        ip, port = self._pick(service, service_port, client_ip)
        path.append(f"Endpoint {ip}:{port}")
        return self._deliver(ip, port, method, target, headers, client_ip, path)

    def _deliver(self, ip: str, port: int, method: str, target: str, headers: dict[str, str], client_ip: str,
                 path: list[str]) -> tuple[int, dict[str, str], bytes]:
        pod, handler = self.listener(ip, port)
        path.append(f"Pod {pod['metadata']['namespace']}/{pod['metadata']['name']} {ip}:{port}")
        outer, self.hops = self.hops, path
        try:
            return handler(method, target, headers, client_ip or "10.244.0.1")  # type: ignore[no-any-return]
        finally:
            self.hops = outer

    def _node_ips(self) -> set[str]:
        nodes, _ = self.cluster.store.list(("", "nodes"))
        return {a["address"] for n in nodes for a in (n.get("status") or {}).get("addresses") or ()
                if a.get("type") == "InternalIP"}

    def _host_port(self, node_ip: str, port: int, path: list[str]) -> tuple[str, int]:
        """A pod on that node publishing `port` as a TCP hostPort gets the connection; else it is refused."""
        nodes, _ = self.cluster.store.list(("", "nodes"))
        names = {n["metadata"]["name"] for n in nodes for a in (n.get("status") or {}).get("addresses") or ()
                 if a.get("type") == "InternalIP" and a.get("address") == node_ip}
        pods, _ = self.cluster.store.list(("", "pods"))
        for pod in pods:
            spec, status = pod.get("spec") or {}, pod.get("status") or {}
            if spec.get("nodeName") not in names or not status.get("podIP") or status.get("phase") != "Running":
                continue
            for container in spec.get("containers") or ():
                for p in container.get("ports") or ():
                    if p.get("hostPort") == port and p.get("protocol", "TCP") == "TCP":
                        path.append(f"HostPort {node_ip}:{port} → {status['podIP']}:{p['containerPort']}")
                        return status["podIP"], int(p["containerPort"])
        raise ConnectionRefusedError("Connection refused")  # nothing listens on that node port

    def _service_at(self, ip: str, port: int) -> tuple[Obj, Obj] | None:
        node_ips = self._node_ips()
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

    def listener(self, ip: str, port: int) -> tuple[Obj, Any]:
        """The pod at `ip` and its program listening on `port`; ConnectionRefused/TimeoutError as a socket would."""
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

    def ingress(self, method: str, target: str, headers: dict[str, str], client_ip: str) -> tuple[int, dict[str, str],
                                                                                                    bytes]:
        return self.network.ingress(method, target, headers, client_ip)


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
        known = _from_hosts(cluster, host) if from_pod is None and not _is_ip(host) else None
        if known is not None:
            ip = known[0]
            path.append(known[1])
        elif not _is_ip(host):
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
        sent = dict(headers or {})
        if host and not any(k.lower() == "host" for k in sent):
            sent["Host"] = parts.netloc.rpartition("@")[2]  # as curl sends it: the name asked for
        status, rh, body = network.send(method, target, sent, client_ip, path)
        return RequestResult(status, rh, body, path)


def _from_hosts(cluster: Cluster, host: str) -> tuple[str, str] | None:
    """The notebook machine's own lookup: `cluster.hosts` (its /etc/hosts), then an Ingress host —
    what the minikube docs have a learner add to /etc/hosts — at that Ingress's address."""
    hosts: dict[str, str] = getattr(cluster, "hosts", None) or {}
    if host in hosts:
        return hosts[host], f"hosts {host} → {hosts[host]}"
    ingresses, _ = cluster.store.list(("networking.k8s.io", "ingresses"))
    for ingress in ingresses:
        address = next((i.get("ip") for i in ((ingress.get("status") or {}).get("loadBalancer") or {})
                        .get("ingress") or () if i.get("ip")), None)
        if address and any(r.get("host") == host for r in (ingress.get("spec") or {}).get("rules") or ()):
            meta = ingress["metadata"]
            return address, f"hosts {host} → {address} (address of Ingress {meta['namespace']}/{meta['name']})"
    return None


def _is_ip(host: str) -> bool:
    pieces = host.split(".")
    return len(pieces) == 4 and all(p.isdigit() for p in pieces)
