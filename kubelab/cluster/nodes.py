"""Node objects as a kind or minikube cluster has them, and the kubelet's heartbeat that keeps them alive.

`plan(count, profile)` names the nodes: one untainted `kubelab-control-plane` alone; with more,
a tainted control plane plus `kubelab-worker`, `kubelab-worker2`…; the minikube profile gives
`minikube` (then `minikube-m02`…). `node_object(config, …)` builds the Node a kubelet registers
— labels, taints, podCIDR 10.244.<i>.0/24, addresses, capacity written as kubelet writes it
(memory in Ki), conditions with kubelet's reasons, nodeInfo, daemonEndpoints.

`NodeAgent` is the heartbeat half of a kubelet: it registers the Node and its Lease in
`kube-node-lease`, renews the Lease every 10 s and re-posts the status when it changed or every
5 minutes (nodeStatusReportFrequency), on background timers so `settle()` never chases them.
`stop()` is a kubelet gone silent (`Cluster.fail_node`), `start()` its return.

Read by: cluster.components, cluster.nodeops. Reads: cluster.clock, cluster.scheduling.taints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import Timer, rfc3339, rfc3339_micro
from kubelab.cluster.kubelet import Kubelet
from kubelab.cluster.scheduling import resources, taints

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]

KUBELET_VERSION = "v1.37.1"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40  # seconds (kubelet's nodeLeaseDurationSeconds)
RENEW_INTERVAL = 10.0  # a quarter of the lease duration, as kubelet renews
STATUS_REPORT_INTERVAL = 300.0  # nodeStatusReportFrequency: unchanged status is re-posted every 5 minutes
NODE = kinds.resolve("nodes")
LEASE = kinds.resolve("leases.coordination.k8s.io")
CONDITIONS = (  # type, healthy status, kubelet's reason and message when healthy
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
# The event kubelet records when a condition turns healthy (reason == message suffix).
HEALTHY_EVENTS = {"MemoryPressure": "NodeHasSufficientMemory", "DiskPressure": "NodeHasNoDiskPressure",
                  "PIDPressure": "NodeHasSufficientPID", "Ready": "NodeReady"}


@dataclass(frozen=True)
class Profile:
    prefix: str
    os_image: str
    runtime: str
    cri_socket: str
    subnet: str  # the docker network the node containers live on
    first_host: int


PROFILES = {
    "kubelab": Profile("kubelab", "Debian GNU/Linux 12 (bookworm)", "containerd://2.1.4",
                       "unix:///run/containerd/containerd.sock", "172.18.0", 2),
    "kind": Profile("kind", "Debian GNU/Linux 12 (bookworm)", "containerd://2.1.4",
                    "unix:///run/containerd/containerd.sock", "172.18.0", 2),
    "minikube": Profile("minikube", "Ubuntu 22.04.5 LTS", "docker://28.4.0",
                        "unix:///var/run/cri-dockerd.sock", "192.168.49", 2),
}
KERNEL = "6.8.0-85-generic"


@dataclass
class NodeConfig:
    """What one node is: its name, role, place in the network and size."""

    name: str
    index: int  # 0-based: decides the pod CIDR and the IP address
    control_plane: bool
    profile: str = "kubelab"
    cpu: str = "4"
    memory: str = "8Gi"
    pods: int = 110
    ephemeral_storage: str = "100Gi"
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[Obj] = field(default_factory=list)


def profile_of(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f'profile must be one of {", ".join(sorted(PROFILES))}, not {name!r}') from None


def node_name(profile: str, index: int) -> str:
    """The name the index-th node gets: kind's `-control-plane`, `-worker`, `-worker2`; minikube's `-m02`."""
    prefix = profile_of(profile).prefix
    if profile == "minikube":
        return prefix if index == 0 else f"{prefix}-m{index + 1:02d}"
    if index == 0:
        return f"{prefix}-control-plane"
    return f"{prefix}-worker" if index == 1 else f"{prefix}-worker{index}"


def plan(count: int, profile: str = "kubelab") -> list[NodeConfig]:
    """The nodes of a new cluster. A lone kind control plane is untainted so workloads can run on it."""
    if count < 0:
        raise ValueError("nodes must be 0 or more")
    configs = []
    for index in range(count):
        control_plane = index == 0
        node_taints = []
        if control_plane and count > 1 and profile != "minikube":
            node_taints.append({"key": taints.CONTROL_PLANE, "effect": taints.NO_SCHEDULE})
        configs.append(NodeConfig(node_name(profile, index), index, control_plane, profile, taints=node_taints))
    return configs


# A machine's RAM is not all MemTotal (the kernel keeps some), nor is a disk all filesystem: kubelet
# reports what the OS reports, in Ki, which is why real capacities are never round numbers.
MEMTOTAL_SHARE = 0.97
FILESYSTEM_SHARE = 0.9787


def _ki(value: str, resource: str, share: float) -> str:
    """Memory and storage as kubelet reports them: what the OS sees of the hardware, in Ki."""
    return f"{int(resources.amount(resource, value) // 1024 * share)}Ki"


def _hex(rng: Any, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid(rng: Any) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def node_object(config: NodeConfig, now: float, rng: Any) -> Obj:
    """The Node object a kubelet registers, status included."""
    profile = profile_of(config.profile)
    name = config.name
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if config.control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    if config.profile == "minikube":
        stamp = rfc3339(now).replace("-", "_").replace(":", "_").rstrip("Z") + "_0700"
        labels.update({"minikube.k8s.io/commit": "65318f4cfff9c12cc87ec9eb8f4cdd57b25047f3",
                       "minikube.k8s.io/name": "minikube",
                       "minikube.k8s.io/primary": "true" if config.control_plane else "false",
                       "minikube.k8s.io/updated_at": stamp,
                       "minikube.k8s.io/version": "v1.37.0"})
    labels.update(config.labels)
    cidr = f"10.244.{config.index}.0/24"
    spec: Obj = {"podCIDR": cidr, "podCIDRs": [cidr]}
    if config.profile != "minikube":
        spec["providerID"] = f"kind://docker/{profile.prefix}/{name}"
    if config.taints:
        spec["taints"] = [dict(t) for t in config.taints]
    capacity = {
        "cpu": str(config.cpu),
        "ephemeral-storage": _ki(config.ephemeral_storage, "ephemeral-storage", FILESYSTEM_SHARE),
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": _ki(config.memory, "memory", MEMTOTAL_SHARE),
        "pods": str(config.pods),
    }
    features = {"recursiveReadOnlyMounts": True, "userNamespaces": True}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": profile.cri_socket,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": {
            "addresses": [{"address": f"{profile.subnet}.{profile.first_host + config.index}", "type": "InternalIP"},
                          {"address": name, "type": "Hostname"}],
            "allocatable": dict(capacity),
            "capacity": capacity,
            "conditions": healthy_conditions(now, None),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "features": {"supplementalGroupsPolicy": True},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _uuid(rng),
                "containerRuntimeVersion": profile.runtime,
                "kernelVersion": KERNEL,
                "kubeProxyVersion": "",
                "kubeletVersion": KUBELET_VERSION,
                "machineID": _hex(rng, 32),
                "operatingSystem": "linux",
                "osImage": profile.os_image,
                "systemUUID": _uuid(rng),
            },
            "runtimeHandlers": [{"features": dict(features), "name": "runc"},
                                {"features": dict(features), "name": ""}],
        },
    }


def healthy_conditions(now: float, previous: list[Obj] | None) -> list[Obj]:
    """Kubelet's four conditions, healthy, heartbeat now; transition times kept when the status stays."""
    old = {c.get("type"): c for c in previous or ()}
    stamp = rfc3339(now)
    conditions = []
    for kind, status, reason, message in CONDITIONS:
        before = old.get(kind) or {}
        since = before.get("lastTransitionTime", stamp) if before.get("status") == status else stamp
        conditions.append({
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": since,
            "message": message,
            "reason": reason,
            "status": status,
            "type": kind,
        })
    return conditions


def lease_object(node: Obj, now: float) -> Obj:
    meta = node["metadata"]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": meta["name"],
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": meta["name"], "uid": meta["uid"]}],
        },
        "spec": {"holderIdentity": meta["name"], "leaseDurationSeconds": LEASE_DURATION,
                 "renewTime": rfc3339_micro(now)},
    }


def node_ref(name: str) -> Obj:
    """What kubelet and node-controller put in a Node event's involvedObject (the name stands in for the
    uid, which is how `kubectl describe node` finds them)."""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": name}}


class NodeAgent:
    """A node's kubelet, as far as the control plane can see it: registration, Lease, status heartbeats."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.alive = False
        self._timer: Timer | None = None
        self._last_post = 0.0
        self._last_unschedulable: bool | None = None
        self.kubelet = Kubelet(cluster, name)  # the pod-running half of this node's kubelet

    # ---------------------------------------------------------------- life
    def register(self, config: NodeConfig) -> Obj:
        """Create the Node (and its Lease) the way kubelet's first sync does, and start heartbeats."""
        now = self.cluster.clock.now()
        wanted = node_object(config, now, self.cluster.rng)
        created = self.cluster.api.create({k: v for k, v in wanted.items() if k != "status"})
        posted = dict(created, status=wanted["status"])
        node = self.cluster.api.update(posted, subresource="status")
        self._last_post = now
        self._startup_events()
        self.start()
        return node

    def start(self) -> None:
        """The kubelet runs (again): renew the Lease and report status right away, then every 10 s."""
        self.alive = True
        self._cancel()
        self.kubelet.start()
        self.tick()

    def stop(self) -> None:
        """The kubelet goes silent: no more Lease renewals or status reports, and its pods are left as they are."""
        self.alive = False
        self._cancel()
        self.kubelet.stop()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ----------------------------------------------------------- heartbeat
    def tick(self) -> None:
        if not self.alive:
            return
        api = self.cluster.api
        node = self.cluster.store.get(("", "nodes"), "", self.name)
        if node is None:  # removed from the cluster: this kubelet has nothing to report to
            self.stop()
            return
        now = self.cluster.clock.now()
        self._renew_lease(node, now)
        status = node.get("status") or {}
        previous = status.get("conditions") or []
        unhealthy = any(c.get("status") != healthy for c in previous
                        for kind, healthy, _, _ in CONDITIONS if c.get("type") == kind)
        if unhealthy or now - self._last_post >= STATUS_REPORT_INTERVAL:
            fresh = dict(node, status=dict(status, conditions=healthy_conditions(now, previous)))
            api.update(fresh, subresource="status")
            self._last_post = now
            for condition in previous:
                kind = condition.get("type")
                healthy = next((h for k, h, _, _ in CONDITIONS if k == kind), None)
                if healthy is not None and condition.get("status") != healthy:
                    self._node_event(HEALTHY_EVENTS[kind])
        self._schedulable_events(node)
        self._timer = self.cluster.clock.call_later(RENEW_INTERVAL, self.tick, background=True)

    def _renew_lease(self, node: Obj, now: float) -> None:
        api = self.cluster.api
        lease = self.cluster.store.get(("coordination.k8s.io", "leases"), LEASE_NAMESPACE, self.name)
        try:
            if lease is None:
                api.create(lease_object(node, now))
            else:
                spec = dict(lease.get("spec") or {}, renewTime=rfc3339_micro(now), holderIdentity=self.name)
                api.update(dict(lease, spec=spec))
        except ApiError as err:  # like a kubelet, try again at the next renewal
            self.cluster.trace_log.add("kubelet", "lease renewal failed", f"Lease {LEASE_NAMESPACE}/{self.name}",
                                       str(err))

    # -------------------------------------------------------------- events
    def _node_event(self, reason: str, message: str | None = None) -> None:
        text = message if message is not None else f"Node {self.name} status is now: {reason}"
        self.cluster.record_event(node_ref(self.name), "Normal", reason, text, "kubelet", host=self.name)

    def _startup_events(self) -> None:
        self._node_event("Starting", "Starting kubelet.")
        for reason in ("NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"):
            self._node_event(reason)
        self._node_event("NodeAllocatableEnforced", "Updated Node Allocatable limit across pods")
        self._node_event("NodeReady")

    def _schedulable_events(self, node: Obj) -> None:
        unschedulable = bool((node.get("spec") or {}).get("unschedulable"))
        if self._last_unschedulable is not None and unschedulable != self._last_unschedulable:
            self._node_event("NodeNotSchedulable" if unschedulable else "NodeSchedulable")
        self._last_unschedulable = unschedulable
