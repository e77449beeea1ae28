"""The kubelet: one per node, running the pods bound to it.

`Kubelet` holds what a node's kubelet has: its pod workers, its image store, its IPAM range (the
node's podCIDR, addresses handed out in turn as host-local does), its back-off tables, its
hostPath storage, and whether it is alive — `NodeAgent.stop()` (a failed node) silences it
(nothing kubelet-driven happens: no sync, no kill, no status, no deletion confirmed) and
`start()` resumes everything it missed. `KubeletRouter` is the watch every kubelet has on "pods
with spec.nodeName = me": one controller for all nodes that hands each pod's key to its node's
kubelet, and wakes pods waiting for a ConfigMap or Secret when it appears.

Read by: cluster.nodes (NodeAgent owns a Kubelet), cluster.components, cluster.podops.
Reads: worker, images, stages, volumes, controllers.base, cluster.runtime (the default network).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.kubelet.images import ImageStore
from kubelab.cluster.kubelet.stages import BACKOFFS, BackoffTable
from kubelab.cluster.kubelet.volumes import Shared
from kubelab.cluster.kubelet.worker import PodWorker
from kubelab.cluster.runtime import NoNetwork
from kubelab.store.watch import Event

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
PODS = ("", "pods")
SOURCES = (("", "configmaps"), ("", "secrets"), ("", "persistentvolumeclaims"))


class Ipam:
    """host-local IPAM over the node's podCIDR: .1 is the gateway, addresses go round the range."""

    def __init__(self, cidr: str) -> None:
        network = ipaddress.ip_network(cidr or "10.244.0.0/24", strict=False)
        # The range's hosts as an arithmetic sequence, formatted one at a time when handed out:
        # every node (and every kubelet restart) used to build ~250 address strings up front.
        first, count = _host_range(network)
        self._first = first + 1  # the first host is the bridge's gateway
        self._count = max(count - 1, 0)
        self._version = network.version
        self.gateway = self._text(first) if count else ""
        self.range_text = f"{self._text(first)}-{self._text(first + count - 1)}" if count else cidr
        self.used: dict[str, str] = {}  # pod uid → address
        self._taken: set[str] = set()
        self._next = 0

    @property
    def addresses(self) -> list[str]:
        """Every address pods can get, in hand-out order."""
        return [self._text(self._first + i) for i in range(self._count)]

    def _text(self, value: int) -> str:
        if self._version == 4:  # str(IPv4Address) goes through several layers; inet_ntoa is one C call
            return socket.inet_ntoa(value.to_bytes(4, "big"))
        return str(ipaddress.IPv6Address(value))

    def allocate(self, uid: str) -> str | None:
        if uid in self.used:
            return self.used[uid]
        for _ in range(self._count):
            address = self._text(self._first + self._next)
            self._next = (self._next + 1) % self._count
            if address not in self._taken:
                self._taken.add(address)
                self.used[uid] = address
                return address
        return None

    def release(self, uid: str) -> None:
        address = self.used.pop(uid, None)
        if address is not None:
            self._taken.discard(address)


class KubeletClock:
    """The cluster clock as the kubelet uses it: while the kubelet is down its timers do nothing,
    and what they would have done runs when it comes back."""

    def __init__(self, kubelet: Kubelet) -> None:
        self._kubelet = kubelet
        self._clock = kubelet.cluster.clock

    def now(self) -> float:
        return self._clock.now()

    def call_at(self, when: float, fn: Callable[[], None], *, background: bool = False) -> Any:
        return self._clock.call_at(when, self._kubelet.guard(fn), background=background)

    def call_later(self, delay: float, fn: Callable[[], None], *, background: bool = False) -> Any:
        return self._clock.call_later(delay, self._kubelet.guard(fn), background=background)


class Kubelet:
    def __init__(self, cluster: Cluster, node: str) -> None:
        self.cluster = cluster
        self.node = node
        self.alive = False
        self.clock = KubeletClock(self)
        self.workers: dict[Key, PodWorker] = {}
        self.images = ImageStore()
        self.backoffs = {name: BackoffTable(curve) for name, curve in BACKOFFS.items()}
        pods_router = router(cluster)
        self.shared = pods_router.shared if pods_router is not None else Shared()
        self._deferred: list[Callable[[], None]] = []
        self.ipam = Ipam("")
        self._node_facts()

    def _node_facts(self) -> None:
        """What the kubelet reads from its Node: podCIDR (for a kubelet with no pods yet), addresses, size."""
        node = self.cluster.store.get(("", "nodes"), "", self.node) or {}
        spec, status = node.get("spec") or {}, node.get("status") or {}
        if not self.workers and not self.ipam.used:
            self.ipam = Ipam(spec.get("podCIDR") or "")
        self.host_ip = next((a["address"] for a in status.get("addresses") or () if a.get("type") == "InternalIP"), "")
        self.allocatable = dict(status.get("allocatable") or {})
        runtime = (status.get("nodeInfo") or {}).get("containerRuntimeVersion") or "containerd://"
        self.runtime = runtime.split("://")[0]

    @property
    def probe_source(self) -> str:
        """Probes reach pods from the node's side of the pod network (the bridge's gateway address)."""
        return self.ipam.gateway or self.host_ip

    def network(self) -> Any:
        return getattr(self.cluster, "pod_network", None) or NoNetwork()

    def services(self, namespace: str) -> list[Obj]:
        store = self.cluster.store
        found, _ = store.list(("", "services"), namespace)
        master = store.get(("", "services"), "default", "kubernetes")
        if master is not None and namespace != "default":
            found = [master, *found]
        return found

    # ----------------------------------------------------------------- life
    def start(self) -> None:
        """The kubelet runs (again): refresh what it knows of its node, carry on with every pod."""
        self.alive = True
        self._node_facts()
        deferred, self._deferred = self._deferred, []
        for fn in deferred:
            fn()
        for worker in list(self.workers.values()):
            worker.resume()
        r = router(self.cluster)
        if r is not None:
            for pod in self.cluster.store.list(PODS)[0]:
                if (pod.get("spec") or {}).get("nodeName") == self.node:
                    r.queue.add((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    def stop(self) -> None:
        self.alive = False

    def guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def guarded() -> None:
            if self.alive:
                fn()
            else:
                self._deferred.append(fn)
        return guarded

    # ----------------------------------------------------------------- pods
    def handle(self, key: Key, pod: Obj | None, *, sources_changed: set[tuple[str, str, str]] | None = None) -> None:
        worker = self.workers.get(key)
        if worker is not None and (pod is None or pod["metadata"].get("uid") != worker.uid):
            self.forget(worker)
            worker = None
        if pod is None or (pod.get("spec") or {}).get("nodeName") != self.node or not self.alive:
            return
        if worker is None:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") \
                    and not pod["metadata"].get("deletionTimestamp"):
                return  # finished before this kubelet (re)started: nothing will run again
            worker = self.workers[key] = PodWorker(self, pod)
            worker.adopt_previous_status()
            self.cluster.trace_log.add("kubelet", "saw", pod, "assigned to this node")
        if sources_changed:
            worker.sources_changed(sources_changed)
        worker.sync()

    def forget(self, worker: PodWorker) -> None:
        if worker.gone:
            return
        worker.gone = True
        worker.stop_everything()
        if not worker.spec.get("hostNetwork"):
            self.ipam.release(worker.uid)
        if self.workers.get(worker.key) is worker:
            del self.workers[worker.key]
        for table in self.backoffs.values():
            table.forget(worker.uid)
        r = router(self.cluster)
        if r is not None:
            r.unwatch(worker.key)

    def post_status(self, pod: Obj) -> Obj:
        return self.cluster.api.update_status(pod)

    def watch_sources(self, worker: PodWorker, sources: Iterable[tuple[str, str, str]]) -> None:
        r = router(self.cluster)
        if r is not None:
            r.watch(worker.key, sources)


def _host_range(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    """(first host as an integer, how many hosts): what `network.hosts()` lists, without listing it."""
    base, size = int(network.network_address), network.num_addresses
    if network.version == 4:
        if network.prefixlen >= 31:  # /31 and /32: every address is a host (RFC 3021)
            return base, size
        return base + 1, size - 2  # neither the network nor the broadcast address
    if network.prefixlen >= 127:
        return base, size
    return base + 1, size - 1  # not the Subnet-Router anycast address


def router(cluster: Any) -> KubeletRouter | None:
    return getattr(cluster, "kubelet_router", None)


class KubeletRouter(Controller):
    """Every kubelet's pod watch, in one place: pod events go to the kubelet of the pod's node."""

    name = "kubelet"
    primary = PODS
    secondary = SOURCES

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.enabled = True
        self.shared = Shared()
        self._where: dict[Key, str] = {}  # pod → node, for pods that have left the store
        self._waiting: dict[tuple[str, str, str], set[Key]] = {}  # ConfigMap/Secret/claim → pods reading it
        self._reading: dict[Key, tuple[tuple[str, str, str], ...]] = {}  # pod → what it reads
        self.changed: dict[Key, set[tuple[str, str, str]]] = {}  # pods whose ConfigMaps/Secrets changed

    def handle(self, event: Event) -> None:
        if not self.enabled:
            return
        if event.resource != PODS:
            meta = event.object["metadata"]
            source = (event.resource[1], meta.get("namespace", ""), meta["name"])
            for key in self._waiting.get(source, ()):
                self.changed.setdefault(key, set()).add(source)
                self.queue.add(key)
            return
        obj, old = event.object, event.old
        node = (obj.get("spec") or {}).get("nodeName") or (old and (old.get("spec") or {}).get("nodeName"))
        if not node:
            return
        meta = obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "MODIFIED" and old is not None and not _matters(old, obj):
            return
        self._where[key] = node
        self.queue.add(key)

    def reconcile(self, key: Key) -> float | None:
        if not self.enabled:
            return None
        pod = self.store.get(PODS, *key)
        node = (pod.get("spec") or {}).get("nodeName") if pod is not None else self._where.pop(key, None)
        agents = getattr(self.cluster, "node_agents", {})
        agent = agents.get(node) if node else None
        kubelet = getattr(agent, "kubelet", None)
        if kubelet is not None:
            kubelet.handle(key, pod, sources_changed=self.changed.get(key))
        self.changed.pop(key, None)
        return None

    def watch(self, key: Key, sources: Iterable[tuple[str, str, str]]) -> None:
        # What a pod reads is a tuple, not a set: nearly every pod reads one source (its namespace's
        # kube-root-ca.crt), and a one-item set is ~4x the size; no set() made per call just to be dropped.
        waiting, reading = self._waiting, self._reading
        for source in sources:
            keys = waiting.get(source)
            if keys is None:
                keys = waiting[source] = set()
            keys.add(key)
            known = reading.get(key, ())
            if source not in known:
                reading[key] = (*known, source)

    def unwatch(self, key: Key) -> None:
        for source in self._reading.pop(key, ()):
            keys = self._waiting.get(source)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._waiting[source]


def _matters(old: Obj, new: Obj) -> bool:
    """Does this pod update concern the kubelet? (Status writes — its own included — do not.)"""
    before, after = old["metadata"], new["metadata"]
    # One expression rather than a loop over the fields: three of every pod's four writes come here.
    return (before.get("generation") != after.get("generation")
            or before.get("deletionTimestamp") != after.get("deletionTimestamp")
            or before.get("deletionGracePeriodSeconds") != after.get("deletionGracePeriodSeconds")
            or before.get("labels") != after.get("labels")
            or before.get("annotations") != after.get("annotations")
            or before.get("uid") != after.get("uid")
            or (old.get("spec") or {}).get("nodeName") != (new.get("spec") or {}).get("nodeName"))
