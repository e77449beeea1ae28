"""Which components a local cluster runs, in the order their work queues are served.

The order matters for determinism only (every queue is drained before time moves), and it
follows the flow of a request: namespace housekeeping first, then workload controllers,
scheduler and kubelets (added by the later cluster modules). Last, kube-system's own pods
(control plane, kube-proxy, CoreDNS) are written and run to Ready, as a fresh kind or minikube
cluster has them.

Read by: cluster.core. Reads: cluster.controllers.*, cluster.systempods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubelab.cluster import network, systempods
from kubelab.cluster.controllers.cronjob import CronJobController
from kubelab.cluster.controllers.daemonset import DaemonSetController
from kubelab.cluster.controllers.deployment import DeploymentController
from kubelab.cluster.controllers.garbagecollector import GarbageCollector
from kubelab.cluster.controllers.job import JobController
from kubelab.cluster.controllers.namespace import NamespaceController
from kubelab.cluster.controllers.nodelifecycle import NodeLifecycleController
from kubelab.cluster.controllers.persistentvolume import PersistentVolumeController
from kubelab.cluster.controllers.podgc import PodGarbageCollector
from kubelab.cluster.controllers.replicaset import ReplicaSetController
from kubelab.cluster.controllers.replicationcontroller import ReplicationManager
from kubelab.cluster.controllers.serviceaccount import RootCACertPublisher, ServiceAccountsController
from kubelab.cluster.controllers.statefulset import StatefulSetController
from kubelab.cluster.controllers.tainteviction import TaintEvictionController
from kubelab.cluster.controllers.ttlafterfinished import TTLAfterFinishedController
from kubelab.cluster.kubelet import install as install_kubelets
from kubelab.cluster.nodes import NodeAgent, plan
from kubelab.cluster.scheduler import Scheduler

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster


def install(cluster: Cluster, nodes: int) -> None:
    cluster.add_controller(NamespaceController(cluster))
    cluster.add_controller(ServiceAccountsController(cluster))
    cluster.add_controller(RootCACertPublisher(cluster))
    cluster.add_controller(ReplicaSetController(cluster))
    cluster.add_controller(ReplicationManager(cluster))
    cluster.add_controller(DeploymentController(cluster))
    cluster.add_controller(DaemonSetController(cluster))
    cluster.add_controller(StatefulSetController(cluster))
    cluster.add_controller(CronJobController(cluster))
    cluster.add_controller(JobController(cluster))
    cluster.add_controller(TTLAfterFinishedController(cluster))
    cluster.add_controller(GarbageCollector(cluster))
    cluster.add_controller(PersistentVolumeController(cluster))
    cluster.scheduler = Scheduler(cluster)
    cluster.add_controller(cluster.scheduler)
    install_kubelets(cluster)
    cluster.add_controller(NodeLifecycleController(cluster))
    cluster.add_controller(TaintEvictionController(cluster))
    cluster.add_controller(PodGarbageCollector(cluster))
    network.install(cluster)
    install_nodes(cluster, nodes)
    network.bootstrap(cluster)
    systempods.install(cluster)  # kube-system's pods, run to Ready before the cluster is handed over


def install_nodes(cluster: Cluster, count: int) -> None:
    """Start a kubelet heartbeat for every stored Node (a cluster reopened from its state file), or
    register the planned nodes of a new cluster."""
    cluster.node_agents = {}
    existing, _ = cluster.store.list(("", "nodes"))
    if existing:
        for node in existing:
            name = node["metadata"]["name"]
            agent = cluster.node_agents[name] = NodeAgent(cluster, name)
            agent.start()
        return
    for config in plan(count, cluster.profile):
        agent = cluster.node_agents[config.name] = NodeAgent(cluster, config.name)
        agent.register(config)
