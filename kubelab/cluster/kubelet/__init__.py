"""The kubelet: one per node, running the pods the scheduler bound to it on the simulated runtime.

A pod's life is a table of stages with delays (`stages.STAGES`, DESIGN decision 5) walked by a
pod worker per pod (`worker`): volumes and sandbox, image pulls through the node's store, init
containers in order, app containers, probes actually evaluated, restarts with back-off, graceful
termination, logs. `install(cluster)` registers the pod router (one watch for all kubelets); each
`NodeAgent` owns its node's `Kubelet`, so a failed node's kubelet goes silent with its heartbeat.

Read by: cluster.components, cluster.nodes, cluster.podops, server. Reads: its modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubelab.cluster.kubelet.agent import Kubelet, KubeletRouter, router
from kubelab.cluster.kubelet.logs import LogLine, LogStream, rfc3339_nano
from kubelab.cluster.kubelet.stages import BACKOFFS, STAGES, Stage

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster


def install(cluster: Cluster) -> KubeletRouter:
    """Register the kubelets' pod watch (before the nodes, whose agents create the kubelets)."""
    pods_router = KubeletRouter(cluster)
    cluster.kubelet_router = pods_router  # type: ignore[attr-defined]
    cluster.add_controller(pods_router)
    return pods_router


def disable(cluster: Cluster) -> None:
    """Stop the kubelets from running pods (for a test that drives pod status itself); heartbeats go on."""
    r = router(cluster)
    if r is not None:
        r.enabled = False
        r.queue = type(r.queue)()
    for agent in getattr(cluster, "node_agents", {}).values():
        kubelet = getattr(agent, "kubelet", None)
        if kubelet is not None:
            for worker in list(kubelet.workers.values()):
                kubelet.forget(worker)


__all__ = ["BACKOFFS", "Kubelet", "KubeletRouter", "LogLine", "LogStream", "STAGES", "Stage", "disable", "install",
           "rfc3339_nano", "router"]
