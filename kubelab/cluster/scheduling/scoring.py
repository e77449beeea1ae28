"""The default profile's Score plugins: raw scores, upstream's normalisation, and the weights.

For every feasible node each plugin gives a score in 0..100 (after its NormalizeScore); the
node's total is the weighted sum with kube-scheduler's default weights — TaintToleration 3,
NodeAffinity 2, PodTopologySpread 2, NodeResourcesFit 1 (LeastAllocated on cpu and memory),
NodeResourcesBalancedAllocation 1, ImageLocality 1. PodTopologySpread uses the system default
constraints (spread by hostname with maxSkew 3, and by zone), counting pods that match the
selectors of the Services and controllers that select the pod, so replicas of one ReplicaSet
spread over the nodes. Integer arithmetic follows Go's (truncating division).

Read by: cluster.scheduler, scheduling.memo, scheduling.board.
Reads: scheduling.cache, scheduling.filters, scheduling.taints, scheduling.podfacts, api.selectors.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, NamedTuple

from kubelab.api.selectors import LabelSelector
from kubelab.cluster.scheduling import resources, taints
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.cluster.scheduling.filters import matches_term
from kubelab.cluster.scheduling.podfacts import PodFacts

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


def totals(raw: dict[str, Raw], spread: dict[str, int]) -> dict[str, int]:
    """Each feasible node's weighted total, from its raw scores and its PodTopologySpread score (the
    plugins' normalised scores, which a decision shows if read, are `plugin_scores`)."""
    # TaintToleration and NodeAffinity go through helper.DefaultNormalizeScore: scaled to 0..100 by the
    # maximum (TaintToleration reversed: fewer intolerable PreferNoSchedule taints is better).
    taint_top, affinity_top = tops(raw)
    w_taint, w_affinity, w_fit = WEIGHTS["TaintToleration"], WEIGHTS["NodeAffinity"], WEIGHTS["NodeResourcesFit"]
    w_spread, w_balanced = WEIGHTS["PodTopologySpread"], WEIGHTS["NodeResourcesBalancedAllocation"]
    w_image = WEIGHTS["ImageLocality"]

    by_node: dict[str, int] = {}
    if taint_top == 0 and affinity_top == 0:  # the common case: no PreferNoSchedule taint, no preferred affinity
        base = w_taint * MAX_SCORE
        for name, (_, _, fit, balanced, locality) in raw.items():
            by_node[name] = base + w_fit * fit + w_spread * spread[name] + w_balanced * balanced + w_image * locality
    else:
        for name, (taint_raw, affinity_raw, fit, balanced, locality) in raw.items():
            taint, affinity = _normalised(taint_raw, affinity_raw, taint_top, affinity_top)
            by_node[name] = (w_taint * taint + w_affinity * affinity + w_fit * fit + w_spread * spread[name]
                             + w_balanced * balanced + w_image * locality)

    return by_node


def _normalised(taint_raw: int, affinity_raw: int, taint_top: int, affinity_top: int) -> tuple[int, int]:
    """TaintToleration and NodeAffinity after helper.DefaultNormalizeScore, given their highest raw scores."""
    taint = MAX_SCORE if taint_top == 0 else MAX_SCORE - MAX_SCORE * taint_raw // taint_top
    return taint, 0 if affinity_top == 0 else MAX_SCORE * affinity_raw // affinity_top


def tops(raw: dict[str, Raw]) -> tuple[int, int]:
    """The highest raw TaintToleration and NodeAffinity scores, which their normalisation divides by."""
    return max((r[0] for r in raw.values()), default=0), max((r[1] for r in raw.values()), default=0)


def node_total(raw: Raw, spread: int, taint_top: int, affinity_top: int) -> int:
    """One node's weighted total, as `totals` computes it (given the highest raw scores, from `tops`)."""
    taint_raw, affinity_raw, fit, balanced, locality = raw
    taint, affinity = _normalised(taint_raw, affinity_raw, taint_top, affinity_top)
    return (WEIGHTS["TaintToleration"] * taint + WEIGHTS["NodeAffinity"] * affinity + WEIGHTS["NodeResourcesFit"] * fit
            + WEIGHTS["PodTopologySpread"] * spread + WEIGHTS["NodeResourcesBalancedAllocation"] * balanced
            + WEIGHTS["ImageLocality"] * locality)


def plugin_scores(raw: dict[str, Raw], spread: dict[str, int] | None,
                  by_node: dict[str, int]) -> dict[str, dict[str, int]]:
    """{node: {plugin: normalised score, …, "total": weighted sum}} in `raw`'s order (`spread` None: 0 each)."""
    taint_top, affinity_top = tops(raw)
    result: dict[str, dict[str, int]] = {}
    for name, (taint_raw, affinity_raw, fit, balanced, locality) in raw.items():
        taint, affinity = _normalised(taint_raw, affinity_raw, taint_top, affinity_top)
        result[name] = {"TaintToleration": taint, "NodeAffinity": affinity, "NodeResourcesFit": fit,
                        "PodTopologySpread": 0 if spread is None else spread[name],
                        "NodeResourcesBalancedAllocation": balanced, "ImageLocality": locality,
                        "total": by_node[name]}
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
    """PodTopologySpread's Score and NormalizeScore for the system default constraints, computed afresh
    (scheduling.board keeps and patches these; its tests compare with this)."""
    if selector is None or not feasible:
        return {info.name: 0 for info in feasible}
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    memo_key = spread_key(namespace, selector)
    raw, _ = spread_raw(spread_counts(namespace, selector, memo_key, feasible), len(feasible))
    return spread_normalised(raw)


def spread_key(namespace: str, selector: LabelSelector) -> str:
    """What NodeInfo.matching remembers a (namespace, selector) count under: a string, whose hash is
    computed once, not once per node."""
    return f"{namespace}\0{selector!r}"


def spread_counts(namespace: str, selector: LabelSelector, memo_key: str,
                   feasible: list[NodeInfo]) -> list[tuple[str, dict[str, str], int]]:
    """(node, its labels, how many of its pods the selector matches) per feasible node."""
    nodes = []
    for info in feasible:  # NodeInfo's memos read inline: this runs for every node in every cycle
        memo = info.__dict__.get("_matching")
        count = memo[1].get(memo_key) if memo is not None and memo[0] == info.version else None
        view = info.__dict__.get("_view")
        nodes.append((info.name, view[2] if view is not None and view[0] is info.node else info.labels,
                      count if count is not None else info.matching(namespace, selector, memo_key)))
    return nodes


def spread_raw(nodes: list[tuple[str, dict[str, str], int]], feasible: int) -> tuple[dict[str, int], bool]:
    """Each node's raw spreading score, and whether any node has a zone (then a node's score also
    depends on the other nodes of its zone)."""
    zones = {labels[ZONE] for _, labels, _ in nodes if ZONE in labels}
    zone_counts: dict[str, int] = {}
    for _, labels, count in nodes:
        if ZONE in labels:
            zone_counts[labels[ZONE]] = zone_counts.get(labels[ZONE], 0) + count
    # DEFAULT_SPREAD unrolled (hostname, then zone: the same float sums in the same order).
    (host_key, host_skew), (zone_key, zone_skew) = DEFAULT_SPREAD
    w_host, w_zone = math.log(feasible + 2), math.log(len(zones) + 2)
    raw: dict[str, int] = {}
    for name, labels, count in nodes:
        score = 0.0
        if host_key in labels:
            score += count * w_host + (host_skew - 1)
        if zone_key in labels:
            score += zone_counts.get(labels[zone_key], 0) * w_zone + (zone_skew - 1)
        raw[name] = int(round(score))
    return raw, bool(zones)


def spread_normalised(raw: dict[str, int]) -> dict[str, int]:
    low, high = min(raw.values()), max(raw.values())
    if high == 0:
        return {name: MAX_SCORE for name in raw}
    return {name: MAX_SCORE * (high + low - value) // high for name, value in raw.items()}


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
