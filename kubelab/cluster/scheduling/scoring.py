"""The default profile's Score plugins: raw scores, upstream's normalisation, and the weights.

For every feasible node each plugin gives a score in 0..100 (after its NormalizeScore); the
node's total is the weighted sum with kube-scheduler's default weights — TaintToleration 3,
NodeAffinity 2, PodTopologySpread 2, NodeResourcesFit 1 (LeastAllocated on cpu and memory),
NodeResourcesBalancedAllocation 1, ImageLocality 1. PodTopologySpread uses the system default
constraints (spread by hostname with maxSkew 3, and by zone), counting pods that match the
selectors of the Services and controllers that select the pod, so replicas of one ReplicaSet
spread over the nodes. Integer arithmetic follows Go's (truncating division).

Read by: cluster.scheduler, scheduling.memo. Reads: scheduling.cache, scheduling.filters, scheduling.taints,
scheduling.podfacts, api.selectors.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, NamedTuple

from kubelab.api.selectors import LabelSelector
from kubelab.cluster.scheduling import resources, taints
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.cluster.scheduling.filters import matches_term
from kubelab.cluster.scheduling.podfacts import PodFacts, pod_facts

Obj = dict[str, Any]
MAX_SCORE = 100
WEIGHTS = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "NodeResourcesFit": 1,
    "PodTopologySpread": 2,
    "NodeResourcesBalancedAllocation": 1,
    "ImageLocality": 1,
}
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
# PodTopologySpread's system default constraints: (topologyKey, maxSkew).
DEFAULT_SPREAD = ((HOSTNAME, 3), (ZONE, 5))
MIN_IMAGE = 23 * 1024 * 1024
MAX_IMAGE_PER_CONTAINER = 1000 * 1024 * 1024


Raw = tuple[int, int, int, int, int]  # TaintToleration, NodeAffinity (before normalising), Fit, Balanced, Image


def score_nodes(pod: Obj, feasible: list[NodeInfo], all_nodes: list[NodeInfo],
                spread_selector: LabelSelector | None, facts: PodFacts | None = None) -> dict[str, dict[str, int]]:
    """{node: {plugin: normalised score, …, "total": weighted sum}} for every feasible node
    (`facts`: the pod's PodFacts when the caller already has them for this cycle)."""
    facts = pod_facts(pod) if facts is None else facts
    images = image_state(facts, all_nodes)
    return combine(pod, feasible, {info.name: raw_scores(facts, info, images) for info in feasible},
                   spread_selector)


def raw_scores(facts: PodFacts, info: NodeInfo, images: Images | None) -> Raw:
    """The per-node part of every plugin but PodTopologySpread (which compares nodes), with each
    plugin's common case inline (no taints, no preferred affinity, no image of the pod on the node)."""
    _, allocatable, _, node_taints, _ = info._derived()
    cpu_capacity, memory_capacity = allocatable.get(resources.CPU, 0), allocatable.get(resources.MEMORY, 0)
    cpu, memory = facts.non_zero
    requests, requested = facts.requests, info.requested
    return (
        _prefer_no_schedule(facts, info) if node_taints else 0,
        _preferred_affinity(facts, info) if facts.preferred_terms else 0,
        (_least_score(info.non_zero_cpu + cpu, cpu_capacity)
         + _least_score(info.non_zero_memory + memory, memory_capacity)) // 2,
        _balanced_score(requested.get(resources.CPU, 0) + requests.get(resources.CPU, 0), cpu_capacity,
                        requested.get(resources.MEMORY, 0) + requests.get(resources.MEMORY, 0), memory_capacity),
        _image_locality(info, images) if images is not None else 0,
    )


def combine(pod: Obj, feasible: list[NodeInfo], raw: dict[str, Raw],
            spread_selector: LabelSelector | None) -> dict[str, dict[str, int]]:
    """NormalizeScore, PodTopologySpread and the weighted totals, from each feasible node's raw scores."""
    # TaintToleration and NodeAffinity go through helper.DefaultNormalizeScore: scaled to 0..100 by the
    # maximum (TaintToleration reversed: fewer intolerable PreferNoSchedule taints is better).
    taint_top = max((r[0] for r in raw.values()), default=0)
    affinity_top = max((r[1] for r in raw.values()), default=0)
    spread = _topology_spread(pod, feasible, spread_selector)
    w_taint, w_affinity, w_fit = WEIGHTS["TaintToleration"], WEIGHTS["NodeAffinity"], WEIGHTS["NodeResourcesFit"]
    w_spread, w_balanced = WEIGHTS["PodTopologySpread"], WEIGHTS["NodeResourcesBalancedAllocation"]
    w_image = WEIGHTS["ImageLocality"]
    result: dict[str, dict[str, int]] = {}
    for name, (taint_raw, affinity_raw, fit, balanced, locality) in raw.items():  # per node, per cycle
        taint = MAX_SCORE if taint_top == 0 else MAX_SCORE - MAX_SCORE * taint_raw // taint_top
        affinity = 0 if affinity_top == 0 else MAX_SCORE * affinity_raw // affinity_top
        spreading = spread[name]
        result[name] = {"TaintToleration": taint, "NodeAffinity": affinity, "NodeResourcesFit": fit,
                        "PodTopologySpread": spreading, "NodeResourcesBalancedAllocation": balanced,
                        "ImageLocality": locality,
                        "total": (w_taint * taint + w_affinity * affinity + w_fit * fit + w_spread * spreading
                                  + w_balanced * balanced + w_image * locality)}
    return result


# ------------------------------------------------------------------------------ plugins
def _prefer_no_schedule(facts: PodFacts, info: NodeInfo) -> int:
    node_taints = info.taints
    if not node_taints:
        return 0
    tolerations = facts.prefer_tolerations
    return sum(1 for taint in node_taints
               if taint.get("effect") == taints.PREFER_NO_SCHEDULE and not taints.tolerated(tolerations, taint))


def _preferred_affinity(facts: PodFacts, info: NodeInfo) -> int:
    preferred = facts.preferred_terms
    if not preferred:
        return 0
    return sum(int(term.get("weight") or 0) for term in preferred
               if matches_term(term.get("preference") or {}, info.name, info.labels))


def _least_score(requested: int, capacity: int) -> int:
    if capacity <= 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_SCORE // capacity


def _balanced_score(cpu_used: int, cpu_capacity: int, memory_used: int, memory_capacity: int) -> int:
    """NodeResourcesBalancedAllocation on cpu and memory: 100 × (1 − |cpu fraction − memory fraction| / 2)."""
    if cpu_capacity <= 0 or memory_capacity <= 0:
        return MAX_SCORE  # fewer than two resources to balance
    deviation = abs(min(cpu_used / cpu_capacity, 1.0) - min(memory_used / memory_capacity, 1.0)) / 2
    return int((1 - deviation) * MAX_SCORE)


def _topology_spread(pod: Obj, feasible: list[NodeInfo], selector: LabelSelector | None) -> dict[str, int]:
    """PodTopologySpread's Score and NormalizeScore for the system default constraints."""
    if selector is None or not feasible:
        return {info.name: 0 for info in feasible}
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    labels_of = {info.name: info.labels for info in feasible}
    zones = {labels[ZONE] for labels in labels_of.values() if ZONE in labels}
    matching = {info.name: _matching(info, namespace, selector) for info in feasible}  # once per node
    zone_counts: dict[str, int] = {}
    for name, labels in labels_of.items():
        if ZONE in labels:
            zone_counts[labels[ZONE]] = zone_counts.get(labels[ZONE], 0) + matching[name]
    weights = {HOSTNAME: math.log(len(feasible) + 2), ZONE: math.log(len(zones) + 2)}
    raw: dict[str, int] = {}
    for name, labels in labels_of.items():
        score = 0.0
        for key, max_skew in DEFAULT_SPREAD:
            if key not in labels:
                continue
            count = matching[name] if key == HOSTNAME else zone_counts.get(labels[key], 0)
            score += count * weights[key] + (max_skew - 1)
        raw[name] = int(round(score))
    low, high = min(raw.values()), max(raw.values())
    if high == 0:
        return {name: MAX_SCORE for name in raw}
    return {name: MAX_SCORE * (high + low - value) // high for name, value in raw.items()}


def _matching(info: NodeInfo, namespace: str, selector: LabelSelector) -> int:
    return info.matching(namespace, selector)


@lru_cache(maxsize=1024)
def normalized_image(name: str) -> str:
    """`nginx` and `docker.io/library/nginx:latest` name the same image."""
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    if "/" not in name.split(":", 1)[0]:
        name = "docker.io/library/" + name
    elif name.count("/") == 1 and "." not in name.split("/", 1)[0] and ":" not in name.split("/", 1)[0]:
        name = "docker.io/" + name
    return name


def _images_on(info: NodeInfo) -> dict[str, int]:
    """{normalised image: size} from the Node's status.images, read once per Node object."""
    node = info.node
    cached = info.__dict__.get("_images")
    if cached is not None and cached[0] is node:
        return cached[1]
    images: dict[str, int] = {}
    for image in ((node or {}).get("status") or {}).get("images") or ():
        for name in image.get("names") or ():
            images[normalized_image(name)] = int(image.get("sizeBytes") or 0)
    info.__dict__["_images"] = (node, images)
    return images


class Images(NamedTuple):
    """ImageLocality's PreScore state: the pod's images, how many nodes hold each, of how many."""

    wanted: list[str]
    holders: dict[str, int]
    nodes: int


def image_state(facts: PodFacts, all_nodes: list[NodeInfo]) -> Images | None:
    if not facts.images:
        return None
    wanted = [normalized_image(image) for image in facts.images]
    holders = dict.fromkeys(wanted, 0)
    for other in all_nodes:
        here = _images_on(other)
        for image in holders:
            if image in here:
                holders[image] += 1
    return Images(wanted, holders, len(all_nodes))


def _image_locality(info: NodeInfo, images: Images | None) -> int:
    here = _images_on(info)
    if not here or images is None:
        return 0
    total = 0.0
    for image in images.wanted:
        if image in here:
            total += here[image] * images.holders[image] / max(images.nodes, 1)
    ceiling = MAX_IMAGE_PER_CONTAINER * len(images.wanted)
    total = min(max(total, MIN_IMAGE), ceiling)
    return int(MAX_SCORE * (total - MIN_IMAGE) // (ceiling - MIN_IMAGE))
