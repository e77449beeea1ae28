"""The ReplicationController controller: the ReplicaSet logic for core/v1 ReplicationControllers.

Upstream runs ReplicationControllers through the ReplicaSet controller with conversions; here
they share controllers.replicas. What differs: the selector is a plain label map (an equality
selector, defaulted from the template's labels), the status has no terminatingReplicas, and
events come from `replication-controller`.

Read by: cluster.components. Reads: controllers.replicas, api.selectors.
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.controllers.replicas import ReplicaManager

REPLICATIONCONTROLLER = kinds.resolve("replicationcontrollers")


class ReplicationManager(ReplicaManager):
    name = "replication-controller"
    primary = ("", "replicationcontrollers")
    secondary = (("", "pods"),)
    kind = REPLICATIONCONTROLLER
    reports_terminating = False

    def selector_of(self, owner: dict[str, Any]) -> LabelSelector:
        return LabelSelector.from_set((owner.get("spec") or {}).get("selector"))
