"""The Cluster's node methods: add, remove, cordon, uncordon, drain, fail and recover nodes.

`NodeOperations` is mixed into `kubelab.Cluster`. Every change goes through the API server, as
kubectl's would: `cordon` sets `spec.unschedulable` (node-lifecycle then adds the
`node.kubernetes.io/unschedulable` taint), `drain` cordons and evicts each pod through the
eviction semantics (DisruptionTarget condition, graceful delete), skipping DaemonSet pods as
`kubectl drain --ignore-daemonsets` does and refusing, with kubectl's words, what kubectl would
refuse. `fail_node` silences the node's kubelet (no Lease renewals, no status), `recover_node`
brings it back; node-lifecycle and taint-eviction do the rest in simulated time. After a restore,
`_reconcile_agents` makes the kubelets match the restored Node objects again.

Read by: cluster.core (mixin). Reads: cluster.nodes, cluster.scheduling, cluster.controllers.nodelifecycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers.nodelifecycle import NODE_MONITOR_GRACE_PERIOD, NODE_MONITOR_PERIOD
from kubelab.cluster.nodes import LEASE, LEASE_NAMESPACE, NODE, NodeAgent, NodeConfig, node_name
from kubelab.cluster.scheduling import taints as taint_rules
from kubelab.cluster.scheduling.decision import SchedulingDecision
from kubelab.store.memory import thaw

if TYPE_CHECKING:
    import random

    from kubelab.cluster.apiserver import ApiServer
    from kubelab.cluster.clock import SimClock
    from kubelab.cluster.gcpause import PausingLock
    from kubelab.cluster.recorder import Trace
    from kubelab.cluster.scheduler import Scheduler
    from kubelab.store.memory import MemoryStore

Obj = dict[str, Any]
POD = kinds.resolve("pods")
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
# kubectl drain's refusals (the doubled "cannot delete" is kubectl's own wording since 1.3x).
DAEMONSET_FATAL = "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
LOCAL_STORAGE_FATAL = "cannot delete Pods with local storage (use --delete-emptydir-data to override)"
UNMANAGED_FATAL = "cannot delete cannot delete Pods that declare no controller (use --force to override)"


class DrainError(RuntimeError):
    """kubectl drain refused: some pods need a flag (force, delete_emptydir_data, ignore_daemonsets)."""


def parse_taint(taint: str | Obj) -> Obj:
    """`key=value:Effect`, `key:Effect` or a taint dict → a taint dict."""
    if isinstance(taint, dict):
        return dict(taint)
    head, _, effect = taint.rpartition(":")
    if not head or effect not in (taint_rules.NO_SCHEDULE, taint_rules.PREFER_NO_SCHEDULE, taint_rules.NO_EXECUTE):
        raise ValueError(f'invalid taint spec: {taint}: want "key=value:Effect" with Effect one of NoSchedule, '
                         "PreferNoSchedule, NoExecute")
    key, _, value = head.partition("=")
    return {"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect}


class NodeOperations:
    if TYPE_CHECKING:
        lock: PausingLock
        api: ApiServer
        store: MemoryStore
        clock: SimClock
        rng: random.Random
        profile: str
        trace_log: Trace
        node_agents: dict[str, NodeAgent]
        scheduler: Scheduler

        def pump(self) -> None: ...

    # ------------------------------------------------------------ nodes
    def add_node(
        self,
        name: str | None = None,
        cpu: str | int = "4",
        memory: str = "8Gi",
        labels: dict[str, str] | None = None,
        taints: list[str | Obj] | None = None,
        *,
        pods: int = 110,
        control_plane: bool = False,
    ) -> Obj:
        """Join a new node (its kubelet registers it and starts heartbeats). Returns the Node."""
        with self.lock:
            self.pump()
            existing, _ = self.store.list(("", "nodes"))
            names = {n["metadata"]["name"] for n in existing}
            used = {_cidr_index(n) for n in existing}
            index = next(i for i in range(len(used) + 1) if i not in used)
            control_plane = control_plane or not names  # the first node of an empty cluster runs the control plane
            if name is None:
                name = next(node_name(self.profile, i) for i in range(0 if not names else 1, len(names) + 2)
                            if node_name(self.profile, i) not in names)
            config = NodeConfig(name, index, control_plane, self.profile, str(cpu), memory, pods,
                                labels=dict(labels or {}), taints=[parse_taint(t) for t in taints or ()])
            agent = NodeAgent(self, name)  # type: ignore[arg-type]
            agent.register(config)
            self.node_agents[name] = agent
            self.pump()
            return thaw(self.api.get(NODE, "", name))

    def remove_node(self, name: str) -> Obj:
        """Delete the Node (like `kubectl delete node`) after stopping its kubelet. Pods bound to it are left
        for the pod garbage collector, as in Kubernetes."""
        with self.lock:
            self.pump()
            agent = self.node_agents.pop(name, None)
            if agent is not None:
                agent.stop()
            gone = self.api.delete(NODE, "", name)
            if self.store.get(("coordination.k8s.io", "leases"), LEASE_NAMESPACE, name) is not None:
                self.api.delete(LEASE, LEASE_NAMESPACE, name)
            self.pump()
            return thaw(gone)

    def cordon(self, name: str) -> Obj:
        """Mark the node unschedulable (`kubectl cordon`)."""
        return self._set_unschedulable(name, True)

    def uncordon(self, name: str) -> Obj:
        """Make the node schedulable again (`kubectl uncordon`)."""
        return self._set_unschedulable(name, False)

    def _set_unschedulable(self, name: str, value: bool) -> Obj:
        with self.lock:
            self.pump()
            node = thaw(self.api.get(NODE, "", name))
            spec = node.setdefault("spec", {})
            if bool(spec.get("unschedulable")) != value:
                if value:
                    spec["unschedulable"] = True
                else:
                    spec.pop("unschedulable", None)
                self.api.update(node)
                self.trace_log.add("kubectl", "cordoned" if value else "uncordoned", node)
            self.pump()
            return thaw(self.api.get(NODE, "", name))

    def drain(
        self,
        name: str,
        *,
        ignore_daemonsets: bool = True,
        force: bool = False,
        delete_emptydir_data: bool = False,
        grace_period: int | None = None,
    ) -> list[str]:
        """Cordon the node and evict its pods, like `kubectl drain --ignore-daemonsets`. DaemonSet pods and
        mirror pods stay; pods without a controller need `force=True`, pods with emptyDir volumes
        `delete_emptydir_data=True` (else `DrainError` with kubectl's message, after cordoning).
        Returns the evicted pods as `namespace/name`; they terminate as their kubelet stops them."""
        self.cordon(name)
        with self.lock:
            pods = [p for p in self.store.list(("", "pods"))[0] if (p.get("spec") or {}).get("nodeName") == name]
            evict, errors = _drain_plan(pods, ignore_daemonsets, force, delete_emptydir_data)
            if errors:
                text = ", ".join(errors) if len(errors) == 1 else "[" + ", ".join(errors) + "]"
                raise DrainError(f'unable to drain node "{name}" due to error: {text}, continuing command...')
            evicted = []
            for pod in evict:
                self._evict(pod, grace_period)
                evicted.append(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
            self.pump()
            return evicted

    def _evict(self, pod: Obj, grace_period: int | None) -> None:
        """The pods/eviction subresource without PodDisruptionBudgets: mark the disruption, delete gracefully."""
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            return
        live = thaw(pod)
        conditions = [c for c in (live.get("status") or {}).get("conditions") or ()
                      if c.get("type") != "DisruptionTarget"]
        conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                           "message": "Eviction API: evicting", "lastProbeTime": None,
                           "lastTransitionTime": rfc3339(self.clock.now())})
        live.setdefault("status", {})["conditions"] = conditions
        try:
            self.api.update(live, subresource="status")
            self.api.delete(POD, meta["namespace"], meta["name"], grace_period=grace_period)
        except ApiError as err:
            if err.reason != "NotFound":
                raise
        self.trace_log.add("kubectl", "evicted", pod)

    # ---------------------------------------------------------- failures
    def fail_node(self, name: str) -> None:
        """The node's kubelet goes silent: its Lease is no longer renewed nor its status posted. After the
        node-monitor grace period (50 s) node-lifecycle marks it Unknown and taints it; pods are evicted
        after their tolerationSeconds (300 s by default)."""
        with self.lock:
            self.pump()
            agent = self._agent(name)
            agent.stop()
            self.trace_log.add("kubelab", "kubelet stopped", f"Node {name}")
            # Nothing a client can watch changes until the grace period ends; this (non-background) mark
            # lets settle() and stepped watches move time there instead of stopping short.
            self.clock.call_later(NODE_MONITOR_GRACE_PERIOD + NODE_MONITOR_PERIOD, lambda: None)

    def recover_node(self, name: str) -> None:
        """The kubelet is back: Lease renewed and status posted at once; taints and pending evictions go."""
        with self.lock:
            self.pump()
            self._agent(name).start()
            self.trace_log.add("kubelab", "kubelet started", f"Node {name}")
            self.pump()

    def _agent(self, name: str) -> NodeAgent:
        self.api.get(NODE, "", name)  # NotFound with the apiserver's message if there is no such node
        agent = self.node_agents.get(name)
        if agent is None:
            agent = self.node_agents[name] = NodeAgent(self, name)  # type: ignore[arg-type]
        return agent

    # ------------------------------------------------------ after restore
    def _reconcile_agents(self) -> None:
        """Make the node agents (kubelets) match the stored Nodes, as after `Cluster.restore`: a kubelet whose
        Node is gone stops and is forgotten; a Node without one gets a running one. A snapshot holds objects,
        not processes, so whether a kubelet runs is read from its Node: node-lifecycle sets Ready to Unknown
        only for a kubelet that went silent, so such a Node keeps (or gets) a stopped kubelet and every other
        Node a running one — `%kube reset` after `%kube nodes fail` gives the healthy starting nodes back."""
        nodes = {n["metadata"]["name"]: n for n in self.store.list(("", "nodes"))[0]}
        for name in [n for n in self.node_agents if n not in nodes]:
            self.node_agents.pop(name).stop()
            self.trace_log.add("kubelab", "kubelet stopped", f"Node {name}", "its Node is not in the snapshot")
        for name in sorted(nodes):
            running = _ready_status(nodes[name]) != "Unknown"
            agent = self.node_agents.get(name)
            if agent is None:
                agent = self.node_agents[name] = NodeAgent(self, name)  # type: ignore[arg-type]
            elif agent.alive == running:
                continue  # already as the restored Node says
            if running:
                agent.start()
                self.trace_log.add("kubelab", "kubelet started", f"Node {name}")
            else:
                agent.stop()

    # -------------------------------------------------------- scheduling
    def scheduling_decision(self, pod_name: str, namespace: str = "default") -> SchedulingDecision | None:
        """Why the scheduler put the pod where it is (or left it Pending): the latest attempt, or None."""
        with self.lock:
            self.pump()
            return self.scheduler.decisions.latest((namespace, pod_name))


def _ready_status(node: Obj) -> str:
    return next((str(c.get("status")) for c in (node.get("status") or {}).get("conditions") or ()
                 if c.get("type") == "Ready"), "")


def _cidr_index(node: Obj) -> int:
    cidr = (node.get("spec") or {}).get("podCIDR") or ""
    parts = cidr.split(".")
    return int(parts[2]) if len(parts) == 4 and parts[2].isdigit() else -1


def _drain_plan(pods: list[Obj], ignore_daemonsets: bool, force: bool,
                delete_emptydir_data: bool) -> tuple[list[Obj], list[str]]:
    """kubectl drain's pod filters: which pods to evict, and the errors that stop the drain."""
    evict: list[Obj] = []
    blocked: dict[str, list[str]] = {DAEMONSET_FATAL: [], LOCAL_STORAGE_FATAL: [], UNMANAGED_FATAL: []}
    for pod in pods:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        ref = f"{meta.get('namespace')}/{meta['name']}"
        finished = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        controller = next((r for r in meta.get("ownerReferences") or () if r.get("controller")), None)
        if controller is not None and controller.get("kind") == "DaemonSet":
            if not ignore_daemonsets:
                blocked[DAEMONSET_FATAL].append(ref)
            continue
        if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
            continue
        if not finished and any("emptyDir" in v for v in spec.get("volumes") or ()) and not delete_emptydir_data:
            blocked[LOCAL_STORAGE_FATAL].append(ref)
            continue
        if controller is None and not finished and not force:
            blocked[UNMANAGED_FATAL].append(ref)
            continue
        evict.append(pod)
    errors = [f"{message}: {', '.join(refs)}" for message, refs in blocked.items() if refs]
    return evict, errors
