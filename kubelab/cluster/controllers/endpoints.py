"""The Endpoints controller: one Endpoints object per Service with a selector, named like it.

Like kube-controller-manager's endpoint controller, it lists the pods the selector matches,
puts ready ones in `addresses` and the others in `notReadyAddresses`, resolves each Service
port's targetPort on every pod (a named port comes from the pod's container ports), groups pods
by the ports they offer into subsets, and writes only when something changed. It reacts to
Service and pod events, so a pod failing its readiness probe leaves the Endpoints at once.

Read by: cluster.network (install). Reads: controllers.base, controllers.endpointutil, store.
"""

from __future__ import annotations

from typing import Any

from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.endpointutil import Member, ServiceBackendsController, members, target_ref
from kubelab.store.memory import thaw

Obj = dict[str, Any]
ENDPOINTS = ("", "endpoints")


class EndpointsController(ServiceBackendsController):
    name = "endpoint-controller"

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        service = self.store.get(self.primary, namespace, name)
        live = self.store.get(ENDPOINTS, namespace, name)
        if service is None or service["metadata"].get("deletionTimestamp"):
            if live is not None and not _foreign(live):
                self.api.delete(self.api_kind(), namespace, name)
                self.cluster.trace_log.add(self.name, "deleted", f"Endpoints {namespace}/{name}")
            return None
        if not (service.get("spec") or {}).get("selector"):
            return None  # selectorless Services keep the Endpoints their user writes
        subsets = build_subsets(members(self.index, service))
        labels = dict(service["metadata"].get("labels") or {})
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        count = sum(len(s.get("addresses") or ()) for s in subsets)
        detail = f"{count} address{'es' if count != 1 else ''}"
        if live is None:
            meta = {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})}
            created = self.api.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta, "subsets": subsets})
            self.cluster.trace_log.add(self.name, "created", created, detail)
            return None
        if thaw(live.get("subsets") or []) == subsets and thaw(live["metadata"].get("labels") or {}) == labels:
            return None
        updated = thaw(live)
        updated["subsets"] = subsets
        updated["metadata"]["labels"] = labels
        if not labels:
            updated["metadata"].pop("labels")
        if not subsets:
            updated.pop("subsets")
        stored = self.api.update(updated)
        self.cluster.trace_log.add(self.name, "updated", stored, detail)
        return None

    def api_kind(self) -> Any:
        from kubelab.api import kinds

        return kinds.resolve("endpoints")


def _foreign(endpoints: Obj) -> bool:
    """Endpoints for the `kubernetes` Service belong to the apiserver, not to this controller."""
    return endpoints["metadata"]["name"] == "kubernetes" and endpoints["metadata"].get("namespace") == "default"


def build_subsets(found: list[Member]) -> list[Obj]:
    """Pods grouped by the exact ports they offer (RepackSubsets), addresses sorted by IP."""
    groups: dict[tuple, dict[str, list[Obj]]] = {}
    for m in found:
        if not m.ports:
            continue
        group = groups.setdefault(m.ports, {"addresses": [], "notReadyAddresses": []})
        address = {"ip": m.ip, "targetRef": target_ref(m.pod)}
        node = (m.pod.get("spec") or {}).get("nodeName")
        if node:
            address["nodeName"] = node
        group["addresses" if m.ready else "notReadyAddresses"].append(address)
    subsets = []
    for ports, group in groups.items():
        subset: Obj = {key: value for key, value in group.items() if value}
        subset["ports"] = [{**({"name": n} if n else {}), "port": p, "protocol": proto}
                           for n, p, proto in sorted(ports)]
        subsets.append(subset)
    return subsets
