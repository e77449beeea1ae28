"""Cluster DNS (what CoreDNS's kubernetes plugin answers) and the kube-dns watcher's trace.

`ClusterDns.resolve(fqdn)` answers A records from the stored objects at the moment of asking:
`<svc>.<ns>.svc.cluster.local` → the ClusterIP (a headless Service → its ready pods' IPs),
`<hostname>.<subdomain>.<ns>.svc.cluster.local` → that pod, `<a-b-c-d>.<ns>.pod.cluster.local`
→ the dashed IP. `KubeDns` watches Services like the add-on does and records in the trace the
names it starts (or stops) serving, step 7 of the "Service created" sequence.

Read by: network.traffic, network (install). Reads: store, controllers.base.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from kubelab.cluster.controllers.base import Controller, Key

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
DOMAIN = "cluster.local"
SERVICES = ("", "services")


def service_fqdn(namespace: str, name: str) -> str:
    return f"{name}.{namespace}.svc.{DOMAIN}"


class ClusterDns:
    def __init__(self, cluster: Cluster) -> None:
        self.store = cluster.store

    def resolve(self, name: str) -> list[str]:
        labels = name.lower().rstrip(".").split(".")
        suffix = DOMAIN.split(".")
        if labels[-len(suffix):] != suffix:
            raise LookupError(f"{name}: NXDOMAIN")
        labels = labels[:-len(suffix)]
        if len(labels) == 3 and labels[2] == "svc":
            return self._service(labels[1], labels[0], name)
        if len(labels) == 4 and labels[3] == "svc":
            return self._pod_by_hostname(labels[2], labels[1], labels[0], name)
        if len(labels) == 3 and labels[2] == "pod":
            try:
                return [str(ipaddress.IPv4Address(labels[0].replace("-", ".")))]
            except ValueError:
                pass
        raise LookupError(f"{name}: NXDOMAIN")

    def _service(self, namespace: str, name: str, asked: str) -> list[str]:
        service = self.store.get(SERVICES, namespace, name)
        if service is None:
            raise LookupError(f"{asked}: NXDOMAIN")
        spec = service.get("spec") or {}
        if spec.get("clusterIP") == "None":
            return ready_addresses(self.store, namespace, name)
        if spec.get("type") == "ExternalName":
            raise LookupError(f"{asked}: CNAME {spec.get('externalName')} is outside the cluster")
        return [spec["clusterIP"]] if spec.get("clusterIP") else []

    def _pod_by_hostname(self, namespace: str, subdomain: str, hostname: str, asked: str) -> list[str]:
        pods, _ = self.store.list(("", "pods"), namespace)
        for pod in pods:
            spec = pod.get("spec") or {}
            if spec.get("subdomain") == subdomain and spec.get("hostname", pod["metadata"]["name"]) == hostname \
                    and (pod.get("status") or {}).get("podIP"):
                return [pod["status"]["podIP"]]
        raise LookupError(f"{asked}: NXDOMAIN")

    def reverse(self, ip: str) -> str | None:
        """The PTR name of a Service's ClusterIP (busybox nslookup prints the server's name)."""
        services, _ = self.store.list(SERVICES)
        for service in services:
            if ip in ((service.get("spec") or {}).get("clusterIPs") or ()):
                meta = service["metadata"]
                return service_fqdn(meta["namespace"], meta["name"])
        return None


def ready_addresses(store: Any, namespace: str, name: str) -> list[str]:
    endpoints = store.get(("", "endpoints"), namespace, name) or {}
    return [a["ip"] for s in endpoints.get("subsets") or () for a in s.get("addresses") or ()]


class KubeDns(Controller):
    """Watches Services as the DNS add-on does; its records are read live by `ClusterDns`."""

    name = "kube-dns"
    primary = SERVICES

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.served: set[Key] = set()

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        service = self.store.get(SERVICES, namespace, name)
        fqdn = service_fqdn(namespace, name)
        if service is None and key in self.served:
            self.served.discard(key)
            self.cluster.trace_log.add(self.name, "removed record", fqdn)
        elif service is not None and key not in self.served:
            self.served.add(key)
            spec = service.get("spec") or {}
            kind = "CNAME" if spec.get("type") == "ExternalName" else "A"
            target = spec.get("externalName") if kind == "CNAME" else spec.get("clusterIP")
            self.cluster.trace_log.add(self.name, "added record", fqdn, f"{kind} {target}")
        return None
