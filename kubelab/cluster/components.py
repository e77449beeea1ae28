"""Which components a local cluster runs, in the order their work queues are served.

The order matters for determinism only (every queue is drained before time moves), and it
follows the flow of a request: namespace housekeeping first, then workload controllers,
scheduler and kubelets (added by the later cluster modules).

Read by: cluster.core. Reads: cluster.controllers.*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubelab.cluster.controllers.namespace import NamespaceController

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster


def install(cluster: Cluster, nodes: int) -> None:
    cluster.add_controller(NamespaceController(cluster))
