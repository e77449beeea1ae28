"""The pod garbage collector: pods bound to a node that no longer exists are removed.

A node deleted from the cluster cannot confirm its pods' deletion, so they would stay forever
(Terminating, or Running as far as the API knows). As kube-controller-manager's PodGC does, once
a pod's node has been gone for the quarantine (40 s — a node that is only re-registering comes
back in time), the pod gets `DisruptionTarget=True` (reason DeletionByPodGC, "PodGC: node no
longer exists"), phase Failed if it had not finished, and is force-deleted. Its controller then
sees it go (a DaemonSet no longer counts it; a ReplicaSet replaces it).

Read by: cluster.components. Reads: controllers.base, cluster.clock.
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.rechecks import RecheckTimers
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

COMPONENT = "pod-garbage-collector"
POD = kinds.resolve("pods")
QUARANTINE = 40.0  # seconds a node must stay gone before its pods are collected


class PodGarbageCollector(RecheckTimers):
    name = COMPONENT
    primary = ("", "pods")
    secondary = (("", "nodes"),)

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._gone_since: dict[str, float] = {}  # node name → when it was first seen missing

    def handle(self, event: Event) -> None:
        if event.resource == ("", "nodes"):
            name = event.object["metadata"]["name"]
            if event.type == "DELETED":
                self._gone_since.setdefault(name, self.cluster.clock.now())
                for key in self.keys_for(event):
                    self.queue.add(key)
            else:
                self._gone_since.pop(name, None)
            return
        pod = event.object
        node = (pod.get("spec") or {}).get("nodeName")
        # A point lookup, not a list of every node: this runs on every pod write.
        if event.type != "DELETED" and node and self.store.get(("", "nodes"), "", node) is None:
            self.queue.add((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    def keys_for(self, event: Event) -> list[Key]:
        name = event.object["metadata"]["name"]
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in self.store.list(self.primary)[0]
                if (p.get("spec") or {}).get("nodeName") == name]

    def reconcile(self, key: Key) -> float | None:
        self.forget_recheck(key)
        pod = self.store.get(self.primary, *key)
        node = ((pod or {}).get("spec") or {}).get("nodeName")
        if pod is None or not node or self.store.get(("", "nodes"), "", node) is not None:
            return None
        now = self.cluster.clock.now()
        since = self._gone_since.setdefault(node, now)
        if now - since < QUARANTINE:
            return since + QUARANTINE - now
        self._collect(pod)
        return None

    def _collect(self, pod: Obj) -> None:
        fresh = thaw(pod)
        status = fresh.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or () if c.get("type") != "DisruptionTarget"]
        conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                           "message": "PodGC: node no longer exists", "lastProbeTime": None,
                           "lastTransitionTime": rfc3339(self.cluster.clock.now())})
        status["conditions"] = conditions
        if status.get("phase") not in ("Succeeded", "Failed"):
            status["phase"] = "Failed"
        meta = pod["metadata"]
        try:
            self.api.update(fresh, subresource="status")
            self.api.delete(POD, meta["namespace"], meta["name"], grace_period=0)
        except ApiError as err:
            if err.reason != "NotFound":
                raise
            return
        self.cluster.trace_log.add(COMPONENT, "force-deleted", pod, f"node {pod['spec']['nodeName']} no longer exists")
