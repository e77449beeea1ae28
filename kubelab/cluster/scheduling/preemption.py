"""DefaultPreemption as a pure function: can evicting lower-priority pods make room, and where?

Run when no node passed the filters. Nodes whose rejection is unresolvable are not tried
("Preemption is not helpful for scheduling"); on the others, every lower-priority pod is taken
away in a dry run: no such pod gives "No preemption victims found for incoming pod"; still no
fit gives the filters' reasons again; a fit makes the node a candidate, and victims are then
reprieved, highest priority first, as long as the pod still fits. The candidate whose victims
have the lowest top priority (then lowest sum, then fewest) wins. Pods without a PriorityClass
all have priority 0, so in most lessons preemption only explains why it did not help.

Read by: cluster.scheduler. Reads: scheduling.cache, scheduling.filters, scheduling.messages, scheduling.podfacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubelab.cluster.scheduling import messages
from kubelab.cluster.scheduling.cache import BoundPod, NodeInfo
from kubelab.cluster.scheduling.filters import Rejection, run_filters
from kubelab.cluster.scheduling.podfacts import pod_facts

Obj = dict[str, Any]

NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."


@dataclass
class Preemption:
    message: str  # PostFilter's message; "" when a node was nominated
    node: str | None = None
    victims: list[BoundPod] = field(default_factory=list)


def preempt(pod: Obj, infos: dict[str, NodeInfo], rejections: dict[str, Rejection]) -> Preemption:
    spec = pod.get("spec") or {}
    priority = int(spec.get("priority") or 0)
    if spec.get("preemptionPolicy") == "Never":
        return Preemption(NOT_ELIGIBLE_NEVER)
    nominated = (pod.get("status") or {}).get("nominatedNodeName")
    if nominated in infos and nominated in rejections and rejections[nominated].resolvable:
        if any(p.terminating and p.priority < priority for p in infos[nominated].pods.values()):
            return Preemption(NOT_ELIGIBLE_TERMINATING)
    verdicts: dict[str, tuple[str, ...]] = {}
    facts = pod_facts(pod)
    candidates: dict[str, list[BoundPod]] = {}
    for name, rejection in rejections.items():
        if not rejection.resolvable or name not in infos:
            verdicts[name] = (messages.NOT_HELPFUL,)
            continue
        trial = infos[name].clone()
        lower = sorted((p for p in trial.pods.values() if p.priority < priority),
                       key=lambda p: (-p.priority, p.namespace, p.name))
        if not lower:
            verdicts[name] = (messages.NO_VICTIMS,)
            continue
        for victim in lower:
            trial.remove((victim.namespace, victim.name))
        still = run_filters(pod, trial, facts)
        if still is not None:
            verdicts[name] = still.reasons
            continue
        victims = []
        for victim in lower:  # reprieve as many as possible, the most important first
            trial.add(victim)
            if run_filters(pod, trial, facts) is not None:
                trial.remove((victim.namespace, victim.name))
                victims.append(victim)
        candidates[name] = victims
    if not candidates:
        return Preemption(messages.no_candidates(len(rejections), verdicts))
    best = min(candidates, key=lambda n: (max((v.priority for v in candidates[n]), default=0),
                                          sum(v.priority for v in candidates[n]), len(candidates[n]), n))
    return Preemption("", best, candidates[best])
