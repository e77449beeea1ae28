"""kube-system as a fresh kind or minikube cluster has it: the control plane's static pods, kube-proxy, CoreDNS.

`install(cluster)` (after the nodes and the `kube-dns` Service exist) writes, once per new cluster:
the mirror pods kubeadm's manifests give the control-plane node (`etcd-<node>`, `kube-apiserver-<node>`,
`kube-controller-manager-<node>`, `kube-scheduler-<node>`), the `kube-proxy` DaemonSet with its
ControllerRevision and one pod per node, the `coredns` Deployment with its ReplicaSet and pods (their
readiness gives `kube-dns` its endpoints), their ConfigMaps and ServiceAccounts. These are written as
the controllers would have written them, so the controllers adopt them and create nothing; their
uids and name suffixes come from a generator of their own (seeded from the cluster's seed), so the
cluster's main generator — every name a lesson or test shows — draws exactly what it drew before.
The images are marked preloaded on every node (kind's and minikube's node images carry them).

`ComponentStatuses` keeps the deprecated `v1 ComponentStatus` objects (`kubectl get cs`) in step with
the control-plane node: Healthy `ok` while it is Ready, the probes' connection errors when it is not.

Not yet called by cluster.components: the system pods' probes (coredns liveness after 60 s, the static
pods' startup probes after 10 s) are ordinary timers until their first verdict, so `settle()` after start
would run ~61 s instead of ~3 s and every settled output would change — the kubelet must first treat those
timers as background. Until then, call `install(cluster)` right after `Cluster(...)` (the tests do).

Read by: tests (later cluster.components). Reads: api, store, controllers (podcontrol, daemonset, history), systemspecs,
runtime.images_catalog_system.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from kubelab.api.names import template_hash
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.controllers.daemonset import daemon_tolerations, pin_to_node
from kubelab.cluster.controllers.history import template_patch
from kubelab.cluster.controllers.podcontrol import pod_from_template
from kubelab.cluster.controllers.podutil import controller_ref
from kubelab.cluster.runtime.images_catalog_system import IMAGES
from kubelab.cluster.systemspecs import (
    CONTROL_PLANE_LABEL,
    config_maps,
    coredns_deployment,
    kube_proxy_daemonset,
    service_accounts,
    static_pod,
)
from kubelab.store.memory import thaw

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
NAMESPACE = "kube-system"
NODES = ("", "nodes")
COMPONENT_STATUSES = ("", "componentstatuses")
STATIC_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
# What `kubectl get cs` lists (kube-apiserver's order) and where each check looks when it fails.
CHECKS = (("scheduler", "https://127.0.0.1:10259/healthz"),
          ("controller-manager", "https://127.0.0.1:10257/healthz"),
          ("etcd-0", "https://127.0.0.1:2379/readyz"))


def install(cluster: Cluster) -> None:
    """Bootstrap kube-system (a new cluster only) and keep ComponentStatus and preloaded images current."""
    if cluster.store.get(("apps", "daemonsets"), NAMESPACE, "kube-proxy") is None:
        bootstrap(cluster)
    cluster.add_controller(ComponentStatuses(cluster))


def system_rng(cluster: Cluster) -> random.Random:
    """The generator kube-system's objects draw from: seeded from the cluster's seed, apart from `cluster.rng`."""
    seed = cluster.seed if cluster.seed is not None else cluster.rng.getstate()[1][0]
    return random.Random(f"{seed}/system")


def bootstrap(cluster: Cluster) -> None:
    nodes = cluster.store.list(NODES)[0]
    if not nodes:
        return
    api = cluster.api
    main_rng, api.rng = api.rng, system_rng(cluster)  # uids, name suffixes, token volume names
    try:
        _create_all(cluster, nodes)
    finally:
        api.rng = main_rng


def _create_all(cluster: Cluster, nodes: list[Obj]) -> None:
    api = cluster.api
    for obj in (*service_accounts(), *config_maps()):
        api.create(obj)
    control_planes = [n for n in nodes if CONTROL_PLANE_LABEL in (n["metadata"].get("labels") or {})] or nodes[:1]
    for node in control_planes:
        for component in STATIC_COMPONENTS:
            api.create(static_pod(component, node, cluster.clock.now()))
    _kube_proxy(cluster, nodes)
    replicas = 1 if cluster.profile == "minikube" else 2
    _coredns(cluster, control_planes[0]["metadata"]["name"], replicas)
    for node in nodes:
        preload(cluster, node["metadata"]["name"], node in control_planes)


def _kube_proxy(cluster: Cluster, nodes: list[Obj]) -> None:
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
    for node in nodes:
        pod = pod_from_template(template, ds)
        pin_to_node(pod["spec"], node["metadata"]["name"])
        _bind(cluster, pod, node["metadata"]["name"])


def _coredns(cluster: Cluster, node: str, replicas: int) -> None:
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
    for _ in range(replicas):
        _bind(cluster, pod_from_template(rs["spec"]["template"], rs), node)


def _bind(cluster: Cluster, pod: Obj, node: str) -> Obj:
    """Create a pod already on `node` (the scheduler would have put it there: it is the only choice)."""
    pod["spec"]["nodeName"] = node
    return cluster.api.create(pod)


def preload(cluster: Cluster, node: str, control_plane: bool = False) -> None:
    """kind and minikube node images carry kube-system's images: no pull, and no queue before users' pulls.
    (A worker is only given kube-proxy's: a catalog look-up per image and node adds up in 100-node clusters.)"""
    agent = (getattr(cluster, "node_agents", None) or {}).get(node)
    kubelet = getattr(agent, "kubelet", None)
    if kubelet is not None:
        for ref in IMAGES.values() if control_plane else (IMAGES["kube-proxy"],):
            kubelet.images.remember(ref)


def component_statuses(node: Obj | None) -> list[Obj]:
    """The three ComponentStatus objects kube-apiserver answers, for the control-plane `node`'s health."""
    ready = node is not None and any(c.get("type") == "Ready" and c.get("status") == "True"
                                     for c in (node.get("status") or {}).get("conditions") or ())
    items = []
    for name, url in CHECKS:
        if ready:
            condition = {"type": "Healthy", "status": "True", "message": "ok"}
        else:
            host = url.split("/")[2]
            condition = {"type": "Healthy", "status": "False",
                         "message": f'Get "{url}": dial tcp {host}: connect: connection refused'}
        items.append({"apiVersion": "v1", "kind": "ComponentStatus", "metadata": {"name": name},
                      "conditions": [condition]})
    return items


class ComponentStatuses(Controller):
    """Keeps `kubectl get cs` in step with the control-plane node, and preloads system images on new nodes."""

    name = "componentstatus"
    primary = NODES

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self._seen: set[str] = set()

    def reconcile(self, key: Key) -> float | None:
        name = key[1]
        node = self.store.get(NODES, "", name)
        if node is not None and name not in self._seen:
            self._seen.add(name)
            preload(self.cluster, name, CONTROL_PLANE_LABEL in (node["metadata"].get("labels") or {}))
        if node is None or CONTROL_PLANE_LABEL not in (node["metadata"].get("labels") or {}):
            return None
        for wanted in component_statuses(node):
            live = self.store.get(COMPONENT_STATUSES, "", wanted["metadata"]["name"])
            if live is None:
                self.store.create(COMPONENT_STATUSES, wanted)
            elif live.get("conditions") != wanted["conditions"]:
                self.store.update(COMPONENT_STATUSES, dict(thaw(live), conditions=wanted["conditions"]))
        return None
