"""The taint eviction controller: pods on a node with a NoExecute taint they do not tolerate are deleted.

A pod that tolerates none of the node's NoExecute taints is deleted at once; one whose
tolerations all carry `tolerationSeconds` is deleted when the shortest of them has passed since
the controller first saw the taint (admission gives every pod 300 s for `not-ready` and
`unreachable`); a toleration without seconds tolerates forever. Before deleting, it adds the
DisruptionTarget condition and records `TaintManagerEviction` "Marking for deletion Pod ns/name";
when the taint goes away first, the pending eviction is cancelled ("Cancelling deletion of Pod
ns/name"). Deletion is graceful, so a pod on a dead node stays Terminating, as in Kubernetes.

Read by: cluster.components. Reads: controllers.base, scheduling.taints.
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.scheduling import taints as t
from kubelab.store.watch import Event

Obj = dict[str, Any]

COMPONENT = "taint-eviction-controller"
POD = kinds.resolve("pods")
PODS = ("", "pods")


def _no_execute(node: Obj | None) -> list[Obj]:
    return [x for x in ((node or {}).get("spec") or {}).get("taints") or () if x.get("effect") == t.NO_EXECUTE]


def toleration_time(pod: Obj, no_execute: list[Obj]) -> float | None:
    """Seconds the pod may stay on a node with these NoExecute taints: 0 (evict now), a number, or None
    (forever), as the upstream controller's getMinTolerationTime decides."""
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    used: list[Obj] = []
    for taint in no_execute:
        matching = t.matching_tolerations(tolerations, taint)
        if not matching:
            return 0.0
        used.extend(matching)
    seconds = [float(x["tolerationSeconds"]) for x in used if x.get("tolerationSeconds") is not None]
    if not seconds:
        return None
    return max(0.0, min(seconds))


class TaintEvictionController(Controller):
    name = COMPONENT
    primary = ("", "pods")
    secondary = (("", "nodes"),)

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._scheduled: dict[Key, tuple[float, float]] = {}  # pod → (first seen tainted, eviction time)

    def handle(self, event: Event) -> None:
        if event.resource == PODS:
            # The pod key is built only when some eviction is pending or some reconcile failed (rarely).
            if self._scheduled or self.failures:
                meta = event.object["metadata"]
                key = (meta.get("namespace", ""), meta["name"])
                if key in self._scheduled or key in self.failures:
                    super().handle(event)
                    return
            if self._nothing_to_do(event):
                return
        super().handle(event)

    def _nothing_to_do(self, event: Event) -> bool:
        """For a pod with no eviction pending: whether `reconcile` would find nothing to act on. It acts
        only on a live pod bound to a node with NoExecute taints; a pod write that keeps the node, the
        tolerations and the deletion mark was answered when they were set (a taint added later comes
        as a node event). Nearly every pod write takes this way, as upstream's PodUpdated skips them."""
        pod, old = event.object, event.old
        spec = pod.get("spec") or {}
        node = spec.get("nodeName")
        if not node or event.type == "DELETED" or pod["metadata"].get("deletionTimestamp"):
            return True
        if old is not None and not old["metadata"].get("deletionTimestamp"):
            old_spec = old.get("spec") or {}
            # A status write keeps the stored spec itself (`is`): same node, same tolerations.
            if old_spec is spec or (old_spec.get("nodeName") == node
                                    and old_spec.get("tolerations") == spec.get("tolerations")):
                return True
        return not _no_execute(self.store.get(("", "nodes"), "", node))

    def keys_for(self, event: Event) -> list[Key]:
        old, new = _no_execute(event.old), _no_execute(event.object if event.type != "DELETED" else None)
        if old == new:
            return []
        name = event.object["metadata"]["name"]
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in self.store.list(self.primary)[0]
                if (p.get("spec") or {}).get("nodeName") == name]

    def reconcile(self, key: Key) -> float | None:
        pod = self.store.get(self.primary, *key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            self._scheduled.pop(key, None)
            return None
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self.store.get(("", "nodes"), "", node_name) if node_name else None
        taints = _no_execute(node)
        allowed = toleration_time(pod, taints) if taints else None
        now = self.cluster.clock.now()
        if allowed is None:
            if self._scheduled.pop(key, None) is not None:
                self.cluster.record_event(pod, "Normal", "TaintManagerEviction",
                                          f"Cancelling deletion of Pod {key[0]}/{key[1]}", COMPONENT)
            return None
        start, _ = self._scheduled.get(key, (now, now))
        trigger = start + allowed
        self._scheduled[key] = (start, trigger)
        if now < trigger:
            return trigger - now
        self._evict(pod)
        self._scheduled.pop(key, None)
        return None

    def _evict(self, pod: Obj) -> None:
        meta = pod["metadata"]
        status = dict(pod.get("status") or {})
        conditions = [c for c in status.get("conditions") or () if c.get("type") != "DisruptionTarget"]
        conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                           "message": "Taint manager: deleting due to NoExecute taint", "lastProbeTime": None,
                           "lastTransitionTime": rfc3339(self.cluster.clock.now())})
        try:
            self.api.update(dict(pod, status=dict(status, conditions=conditions)), subresource="status")
        except ApiError:
            pass  # the condition is informative; the deletion below is what matters
        self.cluster.record_event(pod, "Normal", "TaintManagerEviction",
                                  f"Marking for deletion Pod {meta['namespace']}/{meta['name']}", COMPONENT)
        self.api.delete(POD, meta["namespace"], meta["name"])
        self.cluster.trace_log.add(COMPONENT, "evicted", pod, "NoExecute taint not tolerated")
