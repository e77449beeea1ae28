"""The EndpointSlice controller: the discovery.k8s.io/v1 view of a Service's backends.

One slice per Service with a selector (a local cluster never reaches the 100-endpoint split),
named `<service>-<5 random chars>`, labelled `kubernetes.io/service-name` and
`endpointslice.kubernetes.io/managed-by`, owned by the Service (the garbage collector removes
it with the Service). Each endpoint carries `conditions.ready/serving/terminating`, its node
and its pod; ports are the Service's resolved on the first pod, as the real controller does.

Read by: cluster.network (install). Reads: controllers.base, controllers.endpointutil, store.
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.endpointutil import (
    CONTROLLER,
    MANAGED_BY,
    SERVICE_NAME,
    ServiceBackendsController,
    members,
    target_ref,
)
from kubelab.store.memory import thaw

Obj = dict[str, Any]


class EndpointSliceController(ServiceBackendsController):
    name = "endpointslice-controller"

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        service = self.store.get(self.primary, namespace, name)
        if service is None or not (service.get("spec") or {}).get("selector"):
            return None  # a deleted Service's slices go with it (ownerReferences)
        mine = self.index.slices_of(namespace, name)
        found = members(self.index, service)
        endpoints = []
        for m in found:
            endpoint: Obj = {"addresses": [m.ip],
                             "conditions": {"ready": m.ready and not m.terminating, "serving": m.ready,
                                            "terminating": m.terminating},
                             "targetRef": target_ref(m.pod)}
            if (m.pod.get("spec") or {}).get("nodeName"):
                endpoint["nodeName"] = m.pod["spec"]["nodeName"]
            endpoints.append(endpoint)
        ports = [{"name": n, "port": p, "protocol": proto} for n, p, proto in (found[0].ports if found else ())]
        labels = {**(service["metadata"].get("labels") or {}), SERVICE_NAME: name, MANAGED_BY: CONTROLLER}
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        body: Obj = {"addressType": "IPv4", "endpoints": endpoints, "ports": ports}
        if not mine:
            meta = service["metadata"]
            created = self.api.create({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{name}-", "namespace": namespace, "labels": labels,
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                                  "uid": meta.get("uid"), "controller": True,
                                                  "blockOwnerDeletion": True}]},
                **body})
            self.cluster.trace_log.add(self.name, "created", created, f"{len(endpoints)} endpoints")
            return None
        live = mine[0]
        for extra in mine[1:]:
            self.api.delete(kinds.resolve("endpointslices"), namespace, extra["metadata"]["name"])
        current = {k: thaw(live.get(k)) for k in body}
        if current == body and thaw(live["metadata"].get("labels") or {}) == labels:
            return None
        updated = {**thaw(live), **body}
        updated["metadata"]["labels"] = labels
        stored = self.api.update(updated)
        self.cluster.trace_log.add(self.name, "updated", stored, f"{len(endpoints)} endpoints")
        return None
