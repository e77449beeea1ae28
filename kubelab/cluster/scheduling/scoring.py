"""The default profile's Score plugins: raw scores, upstream's normalisation, and the weights.

For every feasible node each plugin gives a score in 0..100 (after its NormalizeScore); the
node's total is the weighted sum with kube-scheduler's default weights — TaintToleration 3,
NodeAffinity 2, PodTopologySpread 2, NodeResourcesFit 1 (LeastAllocated on cpu and memory),
NodeResourcesBalancedAllocation 1, ImageLocality 1. PodTopologySpread uses the system default
constraints (spread by hostname with maxSkew 3, and by zone), counting pods that match the
selectors of the Services and controllers that select the pod, so replicas of one ReplicaSet
spread over the nodes. Integer arithmetic follows Go's (truncating division).

Read by: cluster.scheduler. Reads: scheduling.cache, scheduling.filters, scheduling.taints, api.selectors.
"""

from __future__ import annotations

import math
from typing import Any

from kubelab.api.selectors import LabelSelector
from kubelab.cluster.scheduling import resources, taints
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.cluster.scheduling.filters import matches_term

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


def score_nodes(pod: Obj, feasible: list[NodeInfo], all_nodes: list[NodeInfo],
                spread_selector: LabelSelector | None) -> dict[str, dict[str, int]]:
    """{node: {plugin: normalised score, …, "total": weighted sum}} for every feasible node."""
    per_plugin = {
        "TaintToleration": _normalize({i.name: _prefer_no_schedule(pod, i) for i in feasible}, reverse=True),
        "NodeAffinity": _normalize({i.name: _preferred_affinity(pod, i) for i in feasible}, reverse=False),
        "NodeResourcesFit": {i.name: _least_allocated(pod, i) for i in feasible},
        "PodTopologySpread": _topology_spread(pod, feasible, spread_selector),
        "NodeResourcesBalancedAllocation": {i.name: _balanced(pod, i) for i in feasible},
        "ImageLocality": {i.name: _image_locality(pod, i, all_nodes) for i in feasible},
    }
    result: dict[str, dict[str, int]] = {}
    for name in (info.name for info in feasible):
        scores = {plugin: per_plugin[plugin].get(name, 0) for plugin in WEIGHTS}
        scores["total"] = sum(WEIGHTS[plugin] * value for plugin, value in scores.items())
        result[name] = scores
    return result


def _normalize(raw: dict[str, int], *, reverse: bool) -> dict[str, int]:
    """helper.DefaultNormalizeScore: scale to 0..100 by the maximum, optionally reversed."""
    top = max(raw.values(), default=0)
    if top == 0:
        return {name: MAX_SCORE if reverse else 0 for name in raw}
    scaled = {name: MAX_SCORE * value // top for name, value in raw.items()}
    return {name: (MAX_SCORE - value if reverse else value) for name, value in scaled.items()}


# ------------------------------------------------------------------------------ plugins
def _prefer_no_schedule(pod: Obj, info: NodeInfo) -> int:
    tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or ()
                   if not t.get("effect") or t.get("effect") == taints.PREFER_NO_SCHEDULE]
    return sum(1 for taint in info.taints
               if taint.get("effect") == taints.PREFER_NO_SCHEDULE and not taints.tolerated(tolerations, taint))


def _preferred_affinity(pod: Obj, info: NodeInfo) -> int:
    preferred = ((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
                 .get("preferredDuringSchedulingIgnoredDuringExecution") or [])
    return sum(int(term.get("weight") or 0) for term in preferred
               if matches_term(term.get("preference") or {}, info.name, info.labels))


def _least_score(requested: int, capacity: int) -> int:
    if capacity <= 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_SCORE // capacity


def _least_allocated(pod: Obj, info: NodeInfo) -> int:
    cpu, memory = resources.non_zero_requests(pod)
    allocatable = info.allocatable
    cpu_score = _least_score(info.non_zero_cpu + cpu, allocatable.get(resources.CPU, 0))
    memory_score = _least_score(info.non_zero_memory + memory, allocatable.get(resources.MEMORY, 0))
    return (cpu_score + memory_score) // 2


def _balanced(pod: Obj, info: NodeInfo) -> int:
    requests = resources.pod_requests(pod)
    allocatable = info.allocatable
    fractions = []
    for name in (resources.CPU, resources.MEMORY):
        capacity = allocatable.get(name, 0)
        if capacity <= 0:
            continue
        used = info.requested.get(name, 0) + requests.get(name, 0)
        fractions.append(min(used / capacity, 1.0))
    if len(fractions) < 2:
        return MAX_SCORE
    deviation = abs(fractions[0] - fractions[1]) / 2
    return int((1 - deviation) * MAX_SCORE)


def _topology_spread(pod: Obj, feasible: list[NodeInfo], selector: LabelSelector | None) -> dict[str, int]:
    """PodTopologySpread's Score and NormalizeScore for the system default constraints."""
    if selector is None or not feasible:
        return {info.name: 0 for info in feasible}
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    zones = {info.labels[ZONE] for info in feasible if ZONE in info.labels}
    zone_counts: dict[str, int] = {}
    for info in feasible:
        if ZONE in info.labels:
            zone_counts[info.labels[ZONE]] = zone_counts.get(info.labels[ZONE], 0) + _matching(info, namespace,
                                                                                              selector)
    raw: dict[str, int] = {}
    for info in feasible:
        score = 0.0
        for key, max_skew in DEFAULT_SPREAD:
            if key not in info.labels:
                continue
            if key == HOSTNAME:
                count, size = _matching(info, namespace, selector), len(feasible)
            else:
                count, size = zone_counts.get(info.labels[key], 0), len(zones)
            score += count * math.log(size + 2) + (max_skew - 1)
        raw[info.name] = int(round(score))
    low, high = min(raw.values()), max(raw.values())
    if high == 0:
        return {name: MAX_SCORE for name in raw}
    return {name: MAX_SCORE * (high + low - value) // high for name, value in raw.items()}


def _matching(info: NodeInfo, namespace: str, selector: LabelSelector) -> int:
    return info.matching(namespace, selector)


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
    images: dict[str, int] = {}
    for image in ((info.node or {}).get("status") or {}).get("images") or ():
        for name in image.get("names") or ():
            images[normalized_image(name)] = int(image.get("sizeBytes") or 0)
    return images


def _image_locality(pod: Obj, info: NodeInfo, all_nodes: list[NodeInfo]) -> int:
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]
    here = _images_on(info)
    if not here or not containers:
        return 0
    total = 0.0
    for container in containers:
        image = normalized_image(container.get("image") or "")
        if image in here:
            holders = sum(1 for other in all_nodes if image in _images_on(other))
            total += here[image] * holders / max(len(all_nodes), 1)
    ceiling = MAX_IMAGE_PER_CONTAINER * len(containers)
    total = min(max(total, MIN_IMAGE), ceiling)
    return int(MAX_SCORE * (total - MIN_IMAGE) // (ceiling - MIN_IMAGE))
