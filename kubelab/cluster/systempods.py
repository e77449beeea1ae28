"""kube-system as a fresh kind or minikube cluster has it: the control plane's static pods, kube-proxy, CoreDNS.

`install(cluster)` writes, once per new cluster, kubeadm's mirror pods on the control-plane node, the
`kube-proxy` DaemonSet and its pod per node, the `coredns` Deployment (2 replicas, 1 on minikube: they
give `kube-dns` its endpoints), minikube's `storage-provisioner`, as their controllers would have (so
they adopt them). The clock starts BOOT_SECONDS before its origin and the bootstrap runs it there: the
pods are Ready by then (the static pods' startup probes wait 10 s), the user's time begins where it
always did, and the heartbeats keep their instants. Everything the bootstrap causes draws from a
generator of its own, so the main one (every name a lesson shows) draws what it drew before. The
kubelet keeps these pods' probe timers background (kubelet.probes): `settle()` never waits on them.
Images are preloaded on every node, also on nodes added later. A reopened cluster's pods restart.

Read by: cluster.components, cluster.core (BOOT_SECONDS). Reads: api, store, controllers (podcontrol,
daemonset, history), kubelet.probes, systemspecs, runtime.images_catalog_system.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kubelab.api.names import template_hash
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.controllers.daemonset import daemon_tolerations, pin_to_node
from kubelab.cluster.controllers.history import template_patch
from kubelab.cluster.controllers.podcontrol import pod_from_template
from kubelab.cluster.controllers.podutil import controller_ref
from kubelab.cluster.kubelet.probes import is_system_pod
from kubelab.cluster.runtime.images_catalog_system import IMAGES
from kubelab.cluster.systemspecs import (
    CONTROL_PLANE_LABEL,
    config_maps,
    coredns_deployment,
    kube_proxy_daemonset,
    service_accounts,
    static_pod,
    storage_provisioner,
)
from kubelab.store.memory import thaw

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
NAMESPACE = "kube-system"
NODES = ("", "nodes")
PODS = ("", "pods")
STATIC_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
BOOT_SECONDS = 60.0  # how long before the clock's origin a new cluster starts: kube-system boots in them
BOOT_LIMIT = 60  # seconds past the origin the bootstrap may wait for a late pod, before handing over all the same


def install(cluster: Cluster) -> None:
    """Bootstrap kube-system (a new cluster only) and run it to Ready; preload system images on later nodes.
    Either way the clock ends at its origin (or later), where the user's time begins."""
    images = SystemImages(cluster)
    cluster.add_controller(images)
    if cluster.store.get(("apps", "daemonsets"), NAMESPACE, "kube-proxy") is not None:
        # A cluster reopened from its state file: its kubelets start the system pods again.
        cluster.pump()
        with system_generator(cluster):
            run_to_ready(cluster, [p["metadata"]["name"] for p in cluster.store.list(PODS, NAMESPACE)[0]
                                   if is_system_pod(p)])
        return
    cluster.pump()  # the start of a cluster without kube-system, drawn from the main generator as it always was
    with system_generator(cluster):  # all the bootstrap causes (uids, events, EndpointSlice names)
        images.seen.update(node["metadata"]["name"] for node in cluster.store.list(NODES)[0])
        run_to_ready(cluster, bootstrap(cluster))


def hand_over(cluster: Cluster) -> None:
    """Move the clock to its origin, running everything due on the way (heartbeats, probes)."""
    remaining = cluster.clock.origin - cluster.clock.now()
    if remaining > 0:
        cluster.advance(remaining)


@contextmanager
def system_generator(cluster: Cluster) -> Iterator[None]:
    """Route every draw to a generator seeded from the cluster's seed, apart from `cluster.rng`, so
    the main generator — every name a lesson or test shows — draws exactly what it drew before."""
    seed = cluster.seed if cluster.seed is not None else cluster.rng.getstate()[1][0]
    main = cluster.rng
    cluster.rng = cluster.api.rng = random.Random(f"{seed}/system")
    try:
        yield
    finally:
        cluster.rng = cluster.api.rng = main


def bootstrap(cluster: Cluster) -> list[str]:
    """Write kube-system's workloads (preloading their images); the names of the pods written."""
    nodes = cluster.store.list(NODES)[0]
    return [pod["metadata"]["name"] for pod in _create_all(cluster, nodes)] if nodes else []


def _create_all(cluster: Cluster, nodes: list[Obj]) -> list[Obj]:
    api = cluster.api
    minikube = cluster.profile == "minikube"
    control_planes = [n for n in nodes if CONTROL_PLANE_LABEL in (n["metadata"].get("labels") or {})] or nodes[:1]
    for node in nodes:
        preload(cluster, node["metadata"]["name"], node in control_planes)
    for obj in (*service_accounts(minikube), *config_maps()):
        api.create(obj)
    pods = [api.create(static_pod(component, node, cluster.clock.now()))
            for node in control_planes for component in STATIC_COMPONENTS]
    pods += _kube_proxy(cluster, nodes)
    first = control_planes[0]["metadata"]["name"]
    pods += _coredns(cluster, first, 1 if minikube else 2)
    if minikube:
        pods.append(_bind(cluster, storage_provisioner(), first))
    return pods


def run_to_ready(cluster: Cluster, names: list[str]) -> float:
    """Run to the clock's origin, then on by whole seconds while one of the pods `names` (in kube-system)
    is not Ready, at most BOOT_LIMIT seconds more; the simulated seconds it took."""
    start = cluster.clock.now()
    hand_over(cluster)
    waiting = set(names)
    for _ in range(BOOT_LIMIT):
        waiting = {name for name in waiting if not _ready(cluster.store.get(PODS, NAMESPACE, name))}
        if not waiting:
            break
        cluster.advance(1)
    return cluster.clock.now() - start


def _ready(pod: Obj | None) -> bool:
    conditions = ((pod or {}).get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _kube_proxy(cluster: Cluster, nodes: list[Obj]) -> list[Obj]:
    """The DaemonSet, the revision and the pods its controller would make: one per node, all tolerated."""
    api = cluster.api
    ds = api.create(kube_proxy_daemonset())
    hash_ = template_hash(ds["spec"]["template"], None)
    labels = dict(ds["spec"]["template"]["metadata"]["labels"], **{"controller-revision-hash": hash_})
    api.create({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": f"kube-proxy-{hash_}", "namespace": NAMESPACE, "labels": labels,
                             "annotations": dict(ds["metadata"].get("annotations") or {}),
                             "ownerReferences": [controller_ref(ds)]},
                "data": template_patch(ds), "revision": 1})
    template = thaw(ds["spec"]["template"])
    template["spec"]["tolerations"] = daemon_tolerations(template["spec"])
    template["metadata"]["labels"] = dict(labels, **{"pod-template-generation": "1"})
    pods = []
    for node in nodes:
        pod = pod_from_template(template, ds)
        pin_to_node(pod["spec"], node["metadata"]["name"])
        pods.append(_bind(cluster, pod, node["metadata"]["name"]))
    return pods


def _coredns(cluster: Cluster, node: str, replicas: int) -> list[Obj]:
    """The Deployment, its first ReplicaSet (revision 1) and the ReplicaSet's pods on the control plane."""
    api = cluster.api
    deployment = api.create(coredns_deployment(replicas))
    template = thaw(deployment["spec"]["template"])
    pod_hash = template_hash(template, None)
    template["metadata"]["labels"] = dict(template["metadata"]["labels"], **{"pod-template-hash": pod_hash})
    selector = thaw(deployment["spec"]["selector"])
    selector["matchLabels"] = dict(selector["matchLabels"], **{"pod-template-hash": pod_hash})
    max_surge = 1  # 25% of 1 or 2 replicas, rounded up
    rs = api.create({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"coredns-{pod_hash}", "namespace": NAMESPACE,
                     "labels": dict(template["metadata"]["labels"]),
                     "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                     "deployment.kubernetes.io/max-replicas": str(replicas + max_surge),
                                     "deployment.kubernetes.io/revision": "1"},
                     "ownerReferences": [controller_ref(deployment)]},
        "spec": {"replicas": replicas, "selector": selector, "template": template}})
    return [_bind(cluster, pod_from_template(rs["spec"]["template"], rs), node) for _ in range(replicas)]


def _bind(cluster: Cluster, pod: Obj, node: str) -> Obj:
    """Create a pod already on `node` (the scheduler would have put it there: it is the only choice)."""
    pod["spec"]["nodeName"] = node
    return cluster.api.create(pod)


def preload(cluster: Cluster, node: str, control_plane: bool = False) -> None:
    """kind and minikube node images carry kube-system's images: no pull, and no queue before users' pulls.
    (A worker is only given kube-proxy's: a catalog look-up per image and node adds up in 100-node clusters.)"""
    agent = (getattr(cluster, "node_agents", None) or {}).get(node)
    kubelet = getattr(agent, "kubelet", None)
    if kubelet is None:
        return
    refs = [IMAGES["kube-proxy"]]
    if control_plane:
        refs = [ref for name, ref in IMAGES.items() if name != "storage-provisioner" or cluster.profile == "minikube"]
    for ref in refs:
        kubelet.images.remember(ref)


class SystemImages(Controller):
    """Preloads kube-system's images on a node the first time it is seen (a node added later gets its
    kube-proxy pod from the DaemonSet controller, and finds the image already present, as on kind)."""

    name = "systemimages"
    primary = NODES

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.seen: set[str] = set()

    def reconcile(self, key: Key) -> float | None:
        name = key[1]
        if name in self.seen:
            return None
        node = self.store.get(NODES, "", name)
        if node is not None:
            self.seen.add(name)
            preload(self.cluster, name, CONTROL_PLANE_LABEL in (node["metadata"].get("labels") or {}))
        return None


