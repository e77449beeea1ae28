"""The ReplicaSet controller: keeps `spec.replicas` pods matching `spec.selector` running.

All of the work is the shared replica manager's (controllers.replicas); this module says what is
particular to apps/v1 ReplicaSets: the kind, a metav1.LabelSelector (matchLabels and
matchExpressions) and the `replicaset-controller` name events carry as their source.

Read by: cluster.components. Reads: controllers.replicas, api.selectors.
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.controllers.replicas import ReplicaManager

REPLICASET = kinds.resolve("replicasets")


class ReplicaSetController(ReplicaManager):
    name = "replicaset-controller"
    primary = ("apps", "replicasets")
    secondary = (("", "pods"),)
    kind = REPLICASET
    reports_terminating = True

    def selector_of(self, owner: dict[str, Any]) -> LabelSelector:
        return LabelSelector.from_spec((owner.get("spec") or {}).get("selector"))
