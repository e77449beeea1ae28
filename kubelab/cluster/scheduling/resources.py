"""Resource arithmetic as kube-scheduler does it: integer millicores and bytes, pod requests, host ports.

`pod_requests(pod)` follows upstream's PodRequests: the containers' requests summed, sidecars
(restartable init containers) added, each ordinary init container compared as a peak, the pod
overhead on top. `non_zero_requests` is the scoring variant that counts an unset CPU request as
100m and an unset memory request as 200Mi, so best-effort pods still spread. `allocatable(node)`
reads a Node's `status.allocatable` the same way.

Read by: scheduling.cache, scheduling.filters, scheduling.scoring. Reads: api._quantity.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

from kubelab.api._quantity import QuantityError, parse_json

Obj = dict[str, Any]

CPU, MEMORY, EPHEMERAL_STORAGE, PODS = "cpu", "memory", "ephemeral-storage", "pods"
# Upstream's DefaultMilliCPURequest and DefaultMemoryRequest (used for scoring only).
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024


def amount(resource: str, value: Any) -> int:
    """A quantity as the scheduler's integer: millicores for cpu, whole units (bytes…) otherwise.
    Like Quantity.MilliValue()/Value(), fractions round up; an unreadable value counts as 0."""
    try:
        return _amount_cached(resource, value)
    except TypeError:  # an unhashable value (a malformed manifest): parse it every time
        return _amount(resource, value)


@lru_cache(maxsize=4096)
def _amount_cached(resource: str, value: Any) -> int:
    # Parsing a quantity is the scheduler's hottest path (every node, every pod); values repeat.
    return _amount(resource, value)


def _amount(resource: str, value: Any) -> int:
    try:
        exact: Fraction = parse_json(value).value
    except (QuantityError, IndexError):
        return 0
    if resource == CPU:
        exact *= 1000
    return -(-exact.numerator // exact.denominator)


def _container_requests(container: Obj) -> dict[str, int]:
    resources = container.get("resources") or {}
    requests = dict(resources.get("requests") or {})
    # The apiserver defaults a request to its limit when only the limit is given.
    for name, value in (resources.get("limits") or {}).items():
        requests.setdefault(name, value)
    return {name: amount(name, value) for name, value in requests.items()}


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value


def _peak(total: dict[str, int], candidate: dict[str, int]) -> None:
    for name, value in candidate.items():
        if value > total.get(name, 0):
            total[name] = value


class Usage(NamedTuple):
    """What a pod uses on a node, as `pod_requests`, `non_zero_requests` and `host_ports` give it."""

    requests: dict[str, int]  # shared: callers must not change it
    non_zero: tuple[int, int]
    ports: tuple[tuple[str, str, int], ...]


# The latest pod's spec parts usage() read (containers, initContainers, overhead), what it read of them
# (`spec_reads`) and its Usage. A pod's stored versions share those parts (the binding and status writes copy
# only the spec's top level): the scheduling cycle (PodFacts) and then the cache's entry for the pod it just
# bound compute them once. Pods of one workload (or a density test's bare pods) differ in their containers only
# where usage() does not look (the service-account volume's name): equal reads give the same Usage.
_last_usage: list[Any] = [None, None, None, None, None]


def _container_reads(container: Obj) -> tuple:
    return (container.get("image"), container.get("resources"), container.get("ports"),
            container.get("restartPolicy"))


def spec_reads(spec: Obj) -> tuple:
    """Everything usage() (and an image list) reads of a pod spec, comparable with ==: two specs with equal
    reads have equal requests, non-zero requests, host ports and images. (Equal under == but not alike, as
    1 and 1.0, only where the validated manifest has numbers, which the quantity parser reads alike.)"""
    return (tuple(map(_container_reads, spec.get("initContainers") or ())),
            tuple(map(_container_reads, spec.get("containers") or ())), spec.get("overhead"))


def usage(pod: Obj) -> Usage:
    """The pod's requests, non-zero requests and host ports, read once for consecutive versions of one pod,
    and once for consecutive pods alike in what it reads."""
    spec = pod.get("spec") or {}
    last = _last_usage
    if last[0] is spec.get("containers") and last[1] is spec.get("initContainers") \
            and last[2] is spec.get("overhead") and last[4] is not None:
        return last[4]
    spec_reads_once(spec)  # keeps the Usage remembered only if it is for these reads
    found = last[4]
    if found is None:
        found = last[4] = Usage(pod_requests(pod), non_zero_requests(pod), tuple(host_ports(pod)))
    return found


def spec_reads_once(spec: Obj) -> tuple:
    """`spec_reads(spec)`, remembered (with the Usage of those reads) for the latest spec parts seen: the
    scheduling cycle's PodFacts reads them, then the cache's entry for the pod it bound (a version sharing
    those parts) asks usage() — once, not twice."""
    containers, init, overhead = spec.get("containers"), spec.get("initContainers"), spec.get("overhead")
    last = _last_usage
    if last[0] is containers and last[1] is init and last[2] is overhead:
        return last[3]
    reads = spec_reads(spec)
    if last[3] != reads:
        last[4] = None  # the Usage remembered was for other reads
    last[0], last[1], last[2], last[3] = containers, init, overhead, reads
    return reads


def pod_requests(pod: Obj) -> dict[str, int]:
    """What the pod asks of a node: {"cpu": millicores, "memory": bytes, …} (absent = 0), computed afresh
    (callers go through usage(), which remembers it)."""
    spec = pod.get("spec") or {}
    total: dict[str, int] = {}
    for container in spec.get("containers") or ():
        _add(total, _container_requests(container))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        requests = _container_requests(container)
        if container.get("restartPolicy") == "Always":
            # A sidecar keeps running beside everything that starts after it.
            _add(sidecars, requests)
            _add(total, requests)
            _peak(init_peak, sidecars)
        else:
            running = dict(sidecars)
            _add(running, requests)
            _peak(init_peak, running)
    _peak(total, init_peak)
    _add(total, {name: amount(name, value) for name, value in (spec.get("overhead") or {}).items()})
    return total


def non_zero_requests(pod: Obj) -> tuple[int, int]:
    """(millicores, bytes) for scoring, with upstream's defaults for containers that set none."""
    spec = pod.get("spec") or {}
    cpu = memory = 0
    for container in spec.get("containers") or ():
        requests = _container_requests(container)
        cpu += requests.get(CPU, DEFAULT_MILLI_CPU)
        memory += requests.get(MEMORY, DEFAULT_MEMORY)
    overhead = spec.get("overhead") or {}
    cpu += amount(CPU, overhead[CPU]) if CPU in overhead else 0
    memory += amount(MEMORY, overhead[MEMORY]) if MEMORY in overhead else 0
    # Init containers count as a peak, like for the plain requests.
    for container in spec.get("initContainers") or ():
        requests = _container_requests(container)
        cpu = max(cpu, requests.get(CPU, DEFAULT_MILLI_CPU))
        memory = max(memory, requests.get(MEMORY, DEFAULT_MEMORY))
    return cpu, memory


def allocatable(node: Obj) -> dict[str, int]:
    """A Node's status.allocatable as integers (capacity when allocatable is missing)."""
    status = node.get("status") or {}
    values = status.get("allocatable") or status.get("capacity") or {}
    return {name: amount(name, value) for name, value in values.items()}


def host_ports(pod: Obj) -> list[tuple[str, str, int]]:
    """(protocol, hostIP, hostPort) for every container port that claims a port on the node."""
    ports = []
    spec = pod.get("spec") or {}
    for container in (*(spec.get("initContainers") or ()), *(spec.get("containers") or ())):
        for port in container.get("ports") or ():
            host_port = port.get("hostPort") or 0
            if host_port > 0:
                ports.append((port.get("protocol") or "TCP", port.get("hostIP") or "0.0.0.0", int(host_port)))
    return ports


def ports_conflict(wanted: tuple[str, str, int], used: tuple[str, str, int]) -> bool:
    """Two host ports clash on the same protocol and port when either binds every address."""
    if wanted[0] != used[0] or wanted[2] != used[2]:
        return False
    return wanted[1] == used[1] or "0.0.0.0" in (wanted[1], used[1])


TERMINAL_PHASES = ("Succeeded", "Failed")


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def show(resource: str, value: int) -> str:
    """An integer amount written back as a person reads it (`250m`, `2`, `128Mi`)."""
    if resource == CPU:
        return f"{value // 1000}" if value % 1000 == 0 else f"{value}m"
    for suffix, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if value and value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)
