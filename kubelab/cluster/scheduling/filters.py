"""The default profile's Filter plugins, in kube-scheduler's order, with its reason strings.

Each filter looks at one pod and one node (with the pods already bound there) and returns None
(the node passes) or a `Rejection`: the plugin, the reasons that go into the FitError histogram,
whether preemption could ever help (`resolvable`; False is upstream's
UnschedulableAndUnresolvable), and a `detail` for people (which taint, how much cpu). As
upstream, the first plugin that rejects a node decides its reasons; later ones do not run.

Read by: cluster.scheduler, scheduling.memo, scheduling.preemption, controllers.daemonset.
Reads: scheduling.resources, scheduling.taints, scheduling.cache, scheduling.podfacts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubelab.cluster.scheduling import resources, taints
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.cluster.scheduling.podfacts import PodFacts, pod_facts

Obj = dict[str, Any]

ERR_UNSCHEDULABLE = "node(s) were unschedulable"
# Since 1.35 kube-scheduler no longer prints the taint itself (taints may be confidential).
ERR_TAINT = "node(s) had untolerated taint(s)"
ERR_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_PORTS = "node(s) didn't have free ports for the requested pod ports"
ERR_TOO_MANY_PODS = "Too many pods"


@dataclass(frozen=True)
class Rejection:
    plugin: str
    reasons: tuple[str, ...]
    resolvable: bool
    detail: str = ""


# ----------------------------------------------------------------------------- plugins
# Each plugin reads the pod through its PodFacts, computed once per scheduling cycle.
def node_unschedulable(facts: PodFacts, info: NodeInfo) -> Rejection | None:
    if not info.unschedulable:
        return None
    cordon = {"key": taints.UNSCHEDULABLE, "effect": taints.NO_SCHEDULE}
    if taints.tolerated(facts.tolerations, cordon):
        return None
    return Rejection("NodeUnschedulable", (ERR_UNSCHEDULABLE,), False, "spec.unschedulable is true (cordoned)")


def taint_toleration(facts: PodFacts, info: NodeInfo) -> Rejection | None:
    node_taints = info.taints
    if not node_taints:
        return None
    taint = taints.first_untolerated(node_taints, facts.tolerations)
    if taint is None:
        return None
    return Rejection("TaintToleration", (ERR_TAINT,), False,
                     f"untolerated taint {taints.describe(taint)} ({taints.text(taint)})")


def node_affinity(pod: Obj | PodFacts, info: NodeInfo) -> Rejection | None:
    facts = pod if isinstance(pod, PodFacts) else pod_facts(pod)
    labels = info.labels
    for key, value in facts.node_selector:
        if labels.get(key) != value:
            return Rejection("NodeAffinity", (ERR_AFFINITY,), False, f"nodeSelector {key}={value} does not match")
    required = facts.required_terms
    if required is not None and not matches_terms(required, info.name, labels):
        return Rejection("NodeAffinity", (ERR_AFFINITY,), False,
                         "no term of requiredDuringSchedulingIgnoredDuringExecution matches")
    return None


def node_ports(facts: PodFacts, info: NodeInfo) -> Rejection | None:
    wanted = facts.host_ports
    if not wanted:
        return None
    used = info.used_ports()
    for port in wanted:
        if any(resources.ports_conflict(port, other) for other in used):
            return Rejection("NodePorts", (ERR_PORTS,), True, f"hostPort {port[2]}/{port[0]} is taken")
    return None


def node_resources_fit(facts: PodFacts, info: NodeInfo) -> Rejection | None:
    requests = facts.requests
    allocatable = info.allocatable
    requested = info.requested
    allowed = allocatable.get(resources.PODS, 0)
    too_many = len(info.pods) + 1 > allowed
    if not too_many and all(wanted <= 0 or wanted <= allocatable.get(name, 0) - requested.get(name, 0)
                            for name, wanted in requests.items()):
        return None  # the common case: it fits; the messages below are only built for a rejection
    reasons: list[str] = []
    details: list[str] = []
    unresolvable = False
    if too_many:
        reasons.append(ERR_TOO_MANY_PODS)
        details.append(f"pods: {len(info.pods)} of {allowed} already")
        unresolvable = unresolvable or allowed == 0
    ordered = [resources.CPU, resources.MEMORY, resources.EPHEMERAL_STORAGE]
    ordered += sorted(name for name in requests if name not in ordered and name != resources.PODS)
    for name in ordered:
        wanted = requests.get(name, 0)
        if wanted <= 0:
            continue
        free = allocatable.get(name, 0) - requested.get(name, 0)
        if wanted > free:
            reasons.append(f"Insufficient {name}")
            details.append(f"{name}: requested {resources.show(name, wanted)}, "
                           f"in use {resources.show(name, requested.get(name, 0))}, "
                           f"allocatable {resources.show(name, allocatable.get(name, 0))}")
            # Since 1.34: a node too small even when empty is beyond what preemption can fix.
            unresolvable = unresolvable or wanted > allocatable.get(name, 0)
    if not reasons:
        return None
    return Rejection("NodeResourcesFit", tuple(reasons), not unresolvable, "; ".join(details))


FILTERS: tuple[tuple[str, Callable[[PodFacts, NodeInfo], Rejection | None]], ...] = (
    ("NodeUnschedulable", node_unschedulable),
    ("TaintToleration", taint_toleration),
    ("NodeAffinity", node_affinity),
    ("NodePorts", node_ports),
    ("NodeResourcesFit", node_resources_fit),
)


def run_filters(pod: Obj, info: NodeInfo, facts: PodFacts | None = None) -> Rejection | None:
    """The first rejection of `pod` on `info`'s node, or None when the node is feasible
    (`facts`: the pod's PodFacts when the caller already has them for this cycle)."""
    facts = pod_facts(pod) if facts is None else facts
    _, allocatable, _, node_taints, unschedulable = info._derived()
    if not (unschedulable or node_taints or facts.node_selector or facts.host_ports
            or facts.required_terms is not None):
        # Only NodeResourcesFit can reject: check that it fits inline (one call per node, not five).
        requested = info.requested
        if len(info.pods) < allocatable.get(resources.PODS, 0) and all(
                wanted <= allocatable.get(name, 0) - requested.get(name, 0)
                for name, wanted in facts.requests.items() if wanted > 0):
            return None
        return node_resources_fit(facts, info)
    for _, check in FILTERS:
        rejection = check(facts, info)
        if rejection is not None:
            return rejection
    return None


# ----------------------------------------------------------------------- node selectors
def matches_terms(terms: list[Obj], node_name: str, labels: dict[str, str]) -> bool:
    """nodeSelectorTerms are ORed; an empty term matches nothing (core/v1 NodeSelector semantics)."""
    return any(matches_term(term, node_name, labels) for term in terms)


def matches_term(term: Obj, node_name: str, labels: dict[str, str]) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    if not all(_matches(req, labels) for req in expressions):
        return False
    return all(_matches(req, {"metadata.name": node_name}) for req in fields)


def _matches(requirement: Obj, labels: dict[str, str]) -> bool:
    key = requirement.get("key", "")
    operator = requirement.get("operator", "")
    values = requirement.get("values") or []
    present = key in labels
    value = labels.get(key)
    if operator == "In":
        return present and value in values
    if operator == "NotIn":
        return not present or value not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(values) == 1:
        try:
            mine, theirs = int(value or ""), int(values[0])
        except ValueError:
            return False
        return mine > theirs if operator == "Gt" else mine < theirs
    return False
