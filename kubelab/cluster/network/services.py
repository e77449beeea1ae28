"""Service allocation: the part of kube-apiserver's Service REST storage that hands out addresses.

On create, a ClusterIP comes from the service CIDR 10.96.0.0/12 (drawn with the cluster's seeded
generator from the upper band, as the real allocator prefers, so the low band stays for static
addresses like 10.96.0.1 and 10.96.0.10), and NodePort/LoadBalancer ports get nodePorts from
30000-32767; a requested one already in use is the apiserver's 422. Updates keep what was
allocated. `bootstrap` writes what a fresh cluster has: the `kubernetes` Service with its
Endpoints/EndpointSlice at the control plane, and `kube-dns` at 10.96.0.10.

Read by: cluster.network (install). Reads: api (errors), store (what is in use), cluster.apiserver hooks.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import FieldError, invalid
from kubelab.api.rules_service import NODE_PORT_RANGE

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
KUBERNETES_IP = "10.96.0.1"
DNS_IP = "10.96.0.10"
# The allocator keeps min(max(16, size/16), 256) low addresses for static assignment.
STATIC_BAND = 256
SERVICES = ("", "services")


class ServiceAllocator:
    """ClusterIPs and nodePorts, read from the stored Services each time, so nothing can leak."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def install(self) -> None:
        self.cluster.api.on_create.setdefault("Service", []).append(self.on_create)
        self.cluster.api.on_update.setdefault("Service", []).append(self.on_update)

    # ------------------------------------------------------------------ hooks
    def on_create(self, obj: Obj, old: Obj | None) -> None:
        spec = obj.setdefault("spec", {})
        if spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
            ip = self._allocate_ip(obj)
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        elif spec.get("clusterIP") not in (None, "", "None"):
            self._check_ip_free(obj, spec["clusterIP"])
        self._node_ports(obj, None)
        obj["status"] = {"loadBalancer": {}}  # no cloud controller here: a LoadBalancer stays <pending>

    def on_update(self, obj: Obj, old: Obj | None) -> None:
        if old is None or "spec" not in obj:
            return
        spec, old_spec = obj["spec"], old.get("spec") or {}
        if spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
            if old_spec.get("clusterIP"):
                spec["clusterIP"], spec["clusterIPs"] = old_spec["clusterIP"], list(old_spec.get("clusterIPs") or ())
            else:  # ExternalName → ClusterIP: a new address
                ip = self._allocate_ip(obj)
                spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        self._node_ports(obj, old)

    # ------------------------------------------------------------- allocators
    def _services(self, obj: Obj) -> list[Obj]:
        """Every other stored Service (an update must not collide with its own old values)."""
        meta = obj["metadata"]
        items, _ = self.cluster.store.list(SERVICES)
        return [s for s in items
                if (s["metadata"].get("namespace"), s["metadata"]["name"]) != (meta.get("namespace"), meta["name"])]

    def _allocate_ip(self, obj: Obj) -> str:
        used = {ip for s in self._services(obj) for ip in (s.get("spec") or {}).get("clusterIPs") or ()}
        size = SERVICE_CIDR.num_addresses
        base = int(SERVICE_CIDR.network_address)
        for _ in range(64):
            candidate = str(ipaddress.ip_address(base + self.cluster.rng.randrange(STATIC_BAND, size - 1)))
            if candidate not in used:
                return candidate
        for offset in range(1, size - 1):  # a nearly full range: take the first free one
            candidate = str(ipaddress.ip_address(base + offset))
            if candidate not in used:
                return candidate
        raise invalid("Service", "", obj["metadata"]["name"], [FieldError(
            "Invalid", "spec.clusterIPs", obj["spec"].get("clusterIPs"),
            "failed to allocate IP: range is full")])

    def _check_ip_free(self, obj: Obj, ip: str) -> None:
        used = {i for s in self._services(obj) for i in (s.get("spec") or {}).get("clusterIPs") or ()}
        if ip in used:
            raise invalid("Service", "", obj["metadata"]["name"], [FieldError(
                "Invalid", "spec.clusterIPs", [ip],
                f"failed to allocate IP {ip}: provided IP is already allocated")])

    def _node_ports(self, obj: Obj, old: Obj | None) -> None:
        spec = obj["spec"]
        if spec.get("type") not in ("NodePort", "LoadBalancer") or (
                spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is False):
            return
        old_ports = {(p.get("protocol"), p.get("port")): p.get("nodePort")
                     for p in ((old or {}).get("spec") or {}).get("ports") or () if p.get("nodePort")}
        mine = set(old_ports.values())
        used = {p["nodePort"] for s in self._services(obj) for p in (s.get("spec") or {}).get("ports") or ()
                if p.get("nodePort")}
        errors = []
        for i, port in enumerate(spec.get("ports") or ()):
            wanted = port.get("nodePort")
            if wanted:
                if wanted in used and wanted not in mine:
                    errors.append(FieldError("Invalid", f"spec.ports[{i}].nodePort", wanted,
                                             "provided port is already allocated"))
                used.add(wanted)
                continue
            kept = old_ports.get((port.get("protocol"), port.get("port")))
            port["nodePort"] = kept if kept and kept not in used else self._free_port(used)
            used.add(port["nodePort"])
        if errors:
            raise invalid("Service", "", obj["metadata"]["name"], errors)

    def _free_port(self, used: set[int]) -> int:
        low, high = NODE_PORT_RANGE
        for _ in range(64):
            candidate = self.cluster.rng.randint(low, high)
            if candidate not in used:
                return candidate
        return next(p for p in range(low, high + 1) if p not in used)


def control_plane_address(cluster: Cluster) -> str:
    """The InternalIP of the first control-plane node (where kube-apiserver listens on 6443)."""
    nodes, _ = cluster.store.list(("", "nodes"))
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        labels = node["metadata"].get("labels") or {}
        if "node-role.kubernetes.io/control-plane" in labels or node["metadata"]["name"].endswith("control-plane"):
            for address in (node.get("status") or {}).get("addresses") or ():
                if address.get("type") == "InternalIP":
                    return address["address"]
    return "172.18.0.2"


def bootstrap(cluster: Cluster) -> None:
    """The `kubernetes` and `kube-dns` Services (and the former's endpoints), if not stored yet."""
    store, api = cluster.store, cluster.api
    if store.get(SERVICES, "default", "kubernetes") is None:
        api.create({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "kubernetes", "namespace": "default",
                                 "labels": {"component": "apiserver", "provider": "kubernetes"}},
                    "spec": {"clusterIP": KUBERNETES_IP, "ports": [
                        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
    host = control_plane_address(cluster)
    if store.get(("", "endpoints"), "default", "kubernetes") is None:
        api.create({"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": "kubernetes", "namespace": "default",
                                 "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                    "subsets": [{"addresses": [{"ip": host}],
                                 "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]})
    if store.get(("discovery.k8s.io", "endpointslices"), "default", "kubernetes") is None:
        api.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": "kubernetes", "namespace": "default",
                                 "labels": {"kubernetes.io/service-name": "kubernetes"}},
                    "addressType": "IPv4",
                    "endpoints": [{"addresses": [host], "conditions": {"ready": True}}],
                    "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]})
    if store.get(SERVICES, "kube-system", "kube-dns") is None:
        labels = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}
        api.create({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels,
                                 "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
                    "spec": {"clusterIP": DNS_IP, "selector": {"k8s-app": "kube-dns"}, "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                        {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}})
