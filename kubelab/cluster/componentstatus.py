"""ComponentStatus (`kubectl get cs`): the deprecated view of the control plane's health.

kube-apiserver does not store these objects: it probes the scheduler, the controller manager
and etcd when asked and answers three `v1 ComponentStatus` objects without a resourceVersion.
Here the control plane lives on the control-plane node, so its health is that node's Ready
condition; a failed node gives the connection errors the real probes report.

Read by: server.resources (get and list of componentstatuses). Reads: store (Nodes), scheduling.taints.
"""

from __future__ import annotations

from typing import Any

from kubelab.cluster.scheduling.taints import CONTROL_PLANE

Obj = dict[str, Any]
# What `kubectl get cs` lists (kube-apiserver's order) and where each check looks when it fails.
CHECKS = (("scheduler", "https://127.0.0.1:10259/healthz"),
          ("controller-manager", "https://127.0.0.1:10257/healthz"),
          ("etcd-0", "https://127.0.0.1:2379/readyz"))


def control_plane(nodes: list[Obj]) -> Obj | None:
    """The node the control plane runs on: the one labelled so (kind), else the first (minikube)."""
    labelled = [n for n in nodes if CONTROL_PLANE in (n["metadata"].get("labels") or {})]
    candidates = labelled or nodes
    return candidates[0] if candidates else None


def component_statuses(node: Obj | None) -> list[Obj]:
    """The three ComponentStatus objects kube-apiserver answers, for the control-plane `node`'s health."""
    ready = node is not None and any(c.get("type") == "Ready" and c.get("status") == "True"
                                     for c in (node.get("status") or {}).get("conditions") or ())
    items = []
    for name, url in CHECKS:
        if ready:  # etcd answers its /readyz with a JSON body, which kube-apiserver passes on
            message = '{"health":"true","reason":""}' if name.startswith("etcd") else "ok"
            condition = {"type": "Healthy", "status": "True", "message": message}
        else:
            host = url.split("/")[2]
            condition = {"type": "Healthy", "status": "False",
                         "message": f'Get "{url}": dial tcp {host}: connect: connection refused'}
        items.append({"apiVersion": "v1", "kind": "ComponentStatus",
                      "metadata": {"name": name, "creationTimestamp": None}, "conditions": [condition]})
    return items


def current(store: Any) -> list[Obj]:
    """What a GET of /api/v1/componentstatuses answers now."""
    nodes, _ = store.list(("", "nodes"))
    return component_statuses(control_plane(list(nodes)))
