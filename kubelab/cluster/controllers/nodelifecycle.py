"""The node lifecycle controller: notices silent kubelets and taints nodes by their conditions.

Every 5 s (node-monitor-period, a background timer) each Node is checked: when neither its
Lease in `kube-node-lease` nor its Ready heartbeat moved for the node-monitor grace period
(50 s since Kubernetes 1.32), all its conditions become Unknown (`NodeStatusUnknown`,
"Kubelet stopped posting node status."), a `NodeNotReady` event is recorded and its pods'
Ready conditions turn False. Taints follow the conditions, as kube-controller-manager keeps
them: Ready Unknown → `node.kubernetes.io/unreachable` NoSchedule and NoExecute (the latter
with timeAdded, for taint-based eviction), Ready False → `not-ready`, pressure conditions →
their NoSchedule taints, `spec.unschedulable` → `node.kubernetes.io/unschedulable`. NoExecute
taints are held back, as upstream, when every node is down (the control plane assumes it is
the one cut off) or, in a small cluster, when more than two and at least 55% of them are.

Read by: cluster.components, cluster.nodeops (timings). Reads: controllers.base, cluster.nodes, scheduling.taints.
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import parse_time, rfc3339
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.nodes import node_ref
from kubelab.cluster.scheduling import taints as t
from kubelab.store.watch import Event

Obj = dict[str, Any]

NODE_MONITOR_PERIOD = 5.0
NODE_MONITOR_GRACE_PERIOD = 50.0
NODE_STARTUP_GRACE_PERIOD = 60.0
UNHEALTHY_ZONE_THRESHOLD = 0.55
COMPONENT = "node-controller"
CONDITION_TYPES = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
ZONE_LABEL = "topology.kubernetes.io/zone"
LEASES = ("coordination.k8s.io", "leases")
POD = kinds.resolve("pods")
# taint-nodes-by-condition: (condition type, status) → NoSchedule taint key.
CONDITION_TAINTS = {
    ("Ready", "False"): t.NOT_READY,
    ("Ready", "Unknown"): t.UNREACHABLE,
    ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
}
MANAGED_NO_SCHEDULE = {*CONDITION_TAINTS.values(), t.UNSCHEDULABLE}


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"
    primary = ("", "nodes")
    secondary = (LEASES,)

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._registered: dict[str, str] = {}  # node name → uid seen
        # The zone state from the last `_disruption`, dropped on every Node write (`handle` sees them
        # all, synchronously): every node's reconcile asks it, and a sweep of N nodes would otherwise
        # walk all N nodes N times — the O(N²) that showed in profiles of a 100-node cluster.
        self._zone_state: str | None = None
        self._tick()

    def _tick(self) -> None:
        """The monitor loop: look at every node now and again, as kube-controller-manager does."""
        for node in self.store.list(self.primary)[0]:
            self.queue.add(("", node["metadata"]["name"]))
        self.cluster.clock.call_later(NODE_MONITOR_PERIOD, self._tick, background=True)

    def handle(self, event: Event) -> None:
        if event.resource == self.primary:
            self._zone_state = None  # a node's labels or Ready condition may have changed
        super().handle(event)

    def keys_for(self, event: Event) -> list[Key]:
        meta = event.object["metadata"]
        return [("", meta["name"])] if meta.get("namespace") == "kube-node-lease" else []

    # ---------------------------------------------------------------- reconcile
    def reconcile(self, key: Key) -> float | None:
        name = key[1]
        node = self.store.get(self.primary, "", name)
        if node is None:
            if self._registered.pop(name, None) is not None:
                self._event(name, "RemovingNode", f"Node {name} event: Removing Node {name} from Controller")
            return None
        uid = node["metadata"].get("uid", "")
        if self._registered.get(name) != uid:
            self._registered[name] = uid
            self._event(name, "RegisteredNode", f"Node {name} event: Registered Node {name} in Controller")
        node = self._check_health(node)
        self._sync_taints(node)
        return None

    def _check_health(self, node: Obj) -> Obj:
        now = self.cluster.clock.now()
        status = node.get("status") or {}
        conditions = status.get("conditions") or []
        ready = _condition(conditions, "Ready")
        probe = parse_time(node["metadata"]["creationTimestamp"])
        if ready is not None and ready.get("lastHeartbeatTime"):
            probe = max(probe, parse_time(ready["lastHeartbeatTime"]))
        lease = self.store.get(LEASES, "kube-node-lease", node["metadata"]["name"])
        renew = ((lease or {}).get("spec") or {}).get("renewTime")
        if renew:
            probe = max(probe, parse_time(renew))
        grace = NODE_MONITOR_GRACE_PERIOD if ready is not None else NODE_STARTUP_GRACE_PERIOD
        if now <= probe + grace:
            return node
        if ready is not None and all((_condition(conditions, c) or {}).get("status") == "Unknown"
                                     for c in CONDITION_TYPES):
            return node
        stamp = rfc3339(now)
        fresh = []
        seen = set()
        for condition in conditions:
            condition = dict(condition)
            if condition.get("type") in CONDITION_TYPES and condition.get("status") != "Unknown":
                condition.update(status="Unknown", reason="NodeStatusUnknown",
                                 message="Kubelet stopped posting node status.", lastTransitionTime=stamp)
            seen.add(condition.get("type"))
            fresh.append(condition)
        for kind in CONDITION_TYPES:
            if kind not in seen:
                fresh.append({"type": kind, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                              "message": "Kubelet never posted node status.",
                              "lastHeartbeatTime": node["metadata"]["creationTimestamp"], "lastTransitionTime": stamp})
        updated = self.api.update(dict(node, status=dict(status, conditions=fresh)), subresource="status")
        name = node["metadata"]["name"]
        self.cluster.trace_log.add(COMPONENT, "marked node NotReady", updated, "Kubelet stopped posting node status.")
        if ready is not None and ready.get("status") == "True":
            self._event(name, "NodeNotReady", f"Node {name} status is now: NodeNotReady")
            self._mark_pods_not_ready(name)
        return updated

    def _mark_pods_not_ready(self, node_name: str) -> None:
        stamp = rfc3339(self.cluster.clock.now())
        for pod in self.store.list(("", "pods"))[0]:
            if (pod.get("spec") or {}).get("nodeName") != node_name:
                continue
            conditions = list((pod.get("status") or {}).get("conditions") or ())
            index = next((i for i, c in enumerate(conditions) if c.get("type") == "Ready"), None)
            if index is None or conditions[index].get("status") == "False":
                continue
            conditions[index] = dict(conditions[index], status="False", lastTransitionTime=stamp)
            try:
                updated = self.api.update(dict(pod, status=dict(pod["status"], conditions=conditions)),
                                          subresource="status")
            except ApiError:
                continue
            self.cluster.record_event(updated, "Warning", "NodeNotReady", "Node is not ready", COMPONENT)

    # -------------------------------------------------------------------- taints
    def _sync_taints(self, node: Obj) -> None:
        spec = node.get("spec") or {}
        current = list(spec.get("taints") or [])
        conditions = (node.get("status") or {}).get("conditions") or []
        wanted_no_schedule = {key for (kind, status), key in CONDITION_TAINTS.items()
                              if (_condition(conditions, kind) or {}).get("status") == status}
        if spec.get("unschedulable"):
            wanted_no_schedule.add(t.UNSCHEDULABLE)
        ready = (_condition(conditions, "Ready") or {}).get("status")
        wanted_no_execute = {"False": {t.NOT_READY}, "Unknown": {t.UNREACHABLE}}.get(ready or "", set())
        have_no_execute = {x["key"] for x in current if x.get("effect") == t.NO_EXECUTE
                           and x.get("key") in (t.NOT_READY, t.UNREACHABLE)}
        mode = self._disruption()
        if mode == "full":
            wanted_no_execute = set()  # every node down: the control plane is the one cut off; evict nothing
        elif mode == "partial":
            wanted_no_execute &= have_no_execute  # eviction rate 0 in small clusters: add no new NoExecute taints
        stamp = rfc3339(self.cluster.clock.now())
        kept = []
        for taint in current:
            key, effect = taint.get("key"), taint.get("effect")
            if effect == t.NO_SCHEDULE and key in MANAGED_NO_SCHEDULE and key not in wanted_no_schedule:
                continue
            if effect == t.NO_EXECUTE and key in (t.NOT_READY, t.UNREACHABLE) and key not in wanted_no_execute:
                continue
            kept.append(taint)
        present = {(x.get("key"), x.get("effect")) for x in kept}
        for key in sorted(wanted_no_schedule):
            if (key, t.NO_SCHEDULE) not in present:
                kept.append({"key": key, "effect": t.NO_SCHEDULE})
        for key in sorted(wanted_no_execute):
            if (key, t.NO_EXECUTE) not in present:
                kept.append({"key": key, "effect": t.NO_EXECUTE, "timeAdded": stamp})
        if kept == current:
            return
        new_spec = dict(spec, taints=kept)
        if not kept:
            new_spec.pop("taints")
        updated = self.api.update(dict(node, spec=new_spec))
        added = [t.text(x) for x in kept if x not in current]
        removed = [t.text(x) for x in current if x not in kept]
        detail = "; ".join(filter(None, [f"added {', '.join(added)}" if added else "",
                                         f"removed {', '.join(removed)}" if removed else ""]))
        self.cluster.trace_log.add(COMPONENT, "tainted node" if added else "untainted node", updated, detail)

    def _disruption(self) -> str:
        """Zone state as ComputeZoneState sees it, for the one zone kind/minikube nodes are in ("" if unlabelled);
        "full" only when every zone is fully disrupted."""
        if self._zone_state is None:
            self._zone_state = self._compute_disruption()
        return self._zone_state

    def _compute_disruption(self) -> str:
        zones: dict[str, list[int]] = {}
        for node in self.store.list(self.primary)[0]:
            zone = ((node["metadata"].get("labels") or {}).get(ZONE_LABEL)) or ""
            ready = (_condition((node.get("status") or {}).get("conditions") or [], "Ready") or {}).get("status")
            counts = zones.setdefault(zone, [0, 0])
            counts[0 if ready == "True" else 1] += 1
        states = []
        for ready_count, not_ready in zones.values():
            if ready_count == 0 and not_ready > 0:
                states.append("full")
            elif not_ready > 2 and not_ready / (ready_count + not_ready) >= UNHEALTHY_ZONE_THRESHOLD:
                states.append("partial")
            else:
                states.append("normal")
        if states and all(s == "full" for s in states):
            return "full"
        return "partial" if "partial" in states else "normal"

    def _event(self, node_name: str, reason: str, message: str) -> None:
        self.cluster.record_event(node_ref(node_name), "Normal", reason, message, COMPONENT)


def _condition(conditions: list[Obj], kind: str) -> Obj | None:
    return next((c for c in conditions if c.get("type") == kind), None)
