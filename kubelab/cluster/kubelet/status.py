"""Pod status from container statuses: phase, conditions and QoS class, as the kubelet computes them.

Pure functions over API dicts, so they are tested as golden pairs (spec + container statuses in,
status out). `phase` follows the kubelet's getPhase (init containers first, sidecars apart, then
the regular containers and the restart policy); `_verdicts` decides PodReadyToStartContainers,
Initialized, Ready, ContainersReady and PodScheduled with the kubelet's reasons and messages
(`containers with unready status: [nginx]`; `conditions` shows them as dicts, for the golden
tests); `pod_status` assembles the whole status in the
field order of the Go struct, keeps conditions owned by others (DisruptionTarget) and keeps each
condition's lastTransitionTime while its status does not change, as the status manager does.

Read by: kubelet.worker (every sync), tests (golden pairs).
Reads: cluster.clock (timestamps), scheduling.resources (amounts).
"""

from __future__ import annotations

from typing import Any

from kubelab.cluster.clock import rfc3339
from kubelab.cluster.scheduling.resources import amount

Obj = dict[str, Any]

KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
TERMINAL = ("Succeeded", "Failed")


def is_sidecar(container: Obj) -> bool:
    """A restartable init container (restartPolicy Always): it keeps running beside the app."""
    return container.get("restartPolicy") == "Always"


def by_name(statuses: list[Obj]) -> dict[str, Obj]:
    return {s["name"]: s for s in statuses}


# ------------------------------------------------------------------------------------- QoS
def qos_class(spec: Obj) -> str:
    """Guaranteed when every container limits cpu and memory with requests equal to the limits,
    BestEffort when no container asks for anything, Burstable otherwise."""
    requests: dict[str, int] = {}
    limits: dict[str, int] = {}
    guaranteed = True
    for container in (*(spec.get("initContainers") or ()), *(spec.get("containers") or ())):
        resources = container.get("resources")
        if not resources:  # asks for nothing, limits nothing: not Guaranteed (most pods, so no dicts)
            guaranteed = False
            continue
        own_requests = {k: amount(k, v) for k, v in (resources.get("requests") or {}).items() if k in ("cpu", "memory")}
        own_limits = {k: amount(k, v) for k, v in (resources.get("limits") or {}).items() if k in ("cpu", "memory")}
        for name, value in own_requests.items():
            if value:
                requests[name] = requests.get(name, 0) + value
        for name, value in own_limits.items():
            if value:
                limits[name] = limits.get(name, 0) + value
        if set(own_limits) != {"cpu", "memory"}:
            guaranteed = False
        for name, value in own_requests.items():
            if own_limits.get(name) != value:
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed and limits else "Burstable"


# ------------------------------------------------------------------------------------ phase
def any_regular_started(spec: Obj, statuses: list[Obj]) -> bool:
    """Has any app container ever run? (Then the pod was initialized, even if a sidecar restarts.)"""
    names = {c["name"] for c in spec.get("containers") or ()}
    for status in statuses:
        if status["name"] in names and ("running" in status["state"] or "terminated" in status["state"]
                                        or (status.get("lastState") or {}).get("terminated")):
            return True
    return False


def phase(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], terminal: bool = False) -> str:
    """The pod phase from its container statuses (`terminal`: no container will run again)."""
    inits = by_name(init_statuses) if init_statuses else {}
    regular = by_name(statuses)
    pending_init = pending_sidecars = failed_init = 0
    unknown = running = waiting = stopped = succeeded = 0
    for container in spec.get("initContainers") or ():
        status = inits.get(container["name"])
        if is_sidecar(container):
            if status is None:
                unknown += 1
                continue
            state = status["state"]
            if "running" in state:
                running += 1
                if not status.get("started"):
                    pending_sidecars += 1
            elif "waiting" in state and not (status.get("lastState") or {}).get("terminated"):
                pending_sidecars += 1
            continue
        if status is None or "running" in status["state"]:
            pending_init += 1
            continue
        state = status["state"]
        if "terminated" in state:
            failed_init += state["terminated"]["exitCode"] != 0
        elif (status.get("lastState") or {}).get("terminated"):
            failed_init += status["lastState"]["terminated"]["exitCode"] != 0
        else:
            pending_init += 1
    for container in spec.get("containers") or ():
        status = regular.get(container["name"])
        if status is None:
            unknown += 1
            continue
        state = status["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif (status.get("lastState") or {}).get("terminated"):
            stopped += 1
        else:
            waiting += 1
    policy = spec.get("restartPolicy") or "Always"
    if failed_init and policy == "Never":
        return "Failed"
    if pending_init or (pending_sidecars and not any_regular_started(spec, statuses)) or waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


# ------------------------------------------------------------------------------- conditions
def _names(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"  # Go's %s of a []string


# A condition's verdict as (status, reason, message), "" for an absent reason or message: pod_status
# turns five per write into the API's dicts, without a dict per verdict on the way.
Verdict = tuple[str, str, str]
TRUE: Verdict = ("True", "", "")


def _readiness(spec: Obj, inits: dict[str, Obj], regular: dict[str, Obj], pod_phase: str) -> Verdict:
    """ContainersReady (the Ready condition is the same, plus readiness gates); `inits` and
    `regular` are the container statuses by name."""
    if pod_phase in TERMINAL:
        return ("False", "PodCompleted" if pod_phase == "Succeeded" else "PodFailed", "")
    unknown: list[str] = []
    unready: list[str] = []
    for container in spec.get("initContainers") or ():  # sidecars count, run-to-completion ones do not
        if is_sidecar(container):
            _check_ready(container["name"], inits, unknown, unready)
    for container in spec.get("containers") or ():
        name = container["name"]
        status = regular.get(name)
        if status is None:
            unknown.append(name)
        elif not status.get("ready"):
            unready.append(name)
    if not unknown and not unready:
        return TRUE
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {_names(unready)}")
    return ("False", "ContainersNotReady", ", ".join(messages))


def _check_ready(name: str, known: dict[str, Obj], unknown: list[str], unready: list[str]) -> None:
    status = known.get(name)
    if status is None:
        unknown.append(name)
    elif not status.get("ready"):
        unready.append(name)


def _initialized(spec: Obj, inits: dict[str, Obj], statuses: list[Obj], pod_phase: str) -> Verdict:
    if not spec.get("initContainers"):  # nothing to wait for (most pods): what the walk below concludes
        return ("True", "PodCompleted", "") if pod_phase == "Succeeded" else TRUE
    unknown: list[str] = []
    incomplete: list[str] = []
    for container in spec.get("initContainers") or ():
        status = inits.get(container["name"])
        if status is None:
            unknown.append(container["name"])
        elif is_sidecar(container):
            if not status.get("started"):
                incomplete.append(container["name"])
        elif (status["state"].get("terminated") or {}).get("exitCode", -1) != 0:
            incomplete.append(container["name"])
    if pod_phase == "Succeeded" and not unknown:
        return ("True", "PodCompleted", "")
    if any_regular_started(spec, statuses):
        return TRUE
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if incomplete:
        messages.append(f"containers with incomplete status: {_names(incomplete)}")
    if messages:
        return ("False", "ContainersNotInitialized", ", ".join(messages))
    return TRUE


def _gates(spec: Obj, live_conditions: list[Obj]) -> Verdict | None:
    """The Ready condition's verdict on readiness gates (None when all are met)."""
    if not spec.get("readinessGates"):
        return None
    present = {c.get("type"): c for c in live_conditions}
    missing = []
    false = []
    for gate in spec.get("readinessGates") or ():
        kind = gate.get("conditionType")
        if kind not in present:
            missing.append(kind)
        elif present[kind].get("status") != "True":
            false.append(kind)
    if not missing and not false:
        return None
    messages = [f'corresponding condition of pod readiness gate "{k}" does not exist.' for k in missing]
    if false:
        messages.append(f"the status of pod readiness gate {_quoted(false)} is not \"True\", but False.")
    return ("False", "ReadinessGatesNotReady", ", ".join(messages))


def _quoted(names: list[str]) -> str:
    return '"' + '", "'.join(names) + '"'


NOT_READY: Verdict = ("False", "", "")


def _verdicts(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], pod_phase: str, sandbox_ready: bool,
              live_conditions: list[Obj]) -> tuple[Verdict, Verdict, Verdict, Verdict, Verdict]:
    """The verdicts on KUBELET_CONDITIONS, in that order."""
    inits = by_name(init_statuses) if init_statuses else {}
    containers_ready = _readiness(spec, inits, by_name(statuses), pod_phase)
    ready = containers_ready
    if containers_ready[0] == "True" and spec.get("readinessGates"):
        ready = _gates(spec, live_conditions) or containers_ready
    return (TRUE if sandbox_ready else NOT_READY, _initialized(spec, inits, statuses, pod_phase), ready,
            containers_ready, TRUE)


def conditions(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], pod_phase: str, sandbox_ready: bool,
               live_conditions: list[Obj]) -> list[tuple[str, Obj]]:
    """The kubelet's conditions as (type, {status, reason?, message?}), in the kubelet's order."""
    found = []
    for kind, (status, reason, message) in zip(
            KUBELET_CONDITIONS, _verdicts(spec, init_statuses, statuses, pod_phase, sandbox_ready, live_conditions),
            strict=True):
        verdict: Obj = {"status": status}
        if reason:
            verdict["reason"] = reason
        if message:
            verdict["message"] = message
        found.append((kind, verdict))
    return found


# ------------------------------------------------------------------------------- the status
# The kubelet's condition dicts and lists are shared: between the versions of one pod (Initialized
# and PodScheduled do not change between its ContainerCreating and Running writes) and between
# pods (every pod that became Ready in the same second carries the same five conditions). The
# store keeps posted statuses immutable and copies at the public boundary, so a shared dict is safe,
# and it saves ~10 dicts and lists per pod (kept alive by the store's event history too). Keyed
# by everything a condition holds; cleared when big, so a long run's distinct times stay bounded.
_CONDITIONS: dict[tuple[Any, ...], Obj] = {}
_CONDITION_LISTS: dict[tuple[Any, ...], list[Obj]] = {}
_ADDRESSES: dict[str, list[Obj]] = {}  # hostIPs, one list per node's address
_SHARED_MAX = 4096
_POSITION = {kind: at for at, kind in enumerate(KUBELET_CONDITIONS)}


def _condition(kind: str, generation: Any, since: str, verdict: Verdict) -> Obj:
    key = (kind, generation, since, verdict)
    found = _CONDITIONS.get(key)
    if found is None:
        status, why, text = verdict
        # One literal per shape: the key order is the Go struct's either way.
        found = ({"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": since}
                 if generation is None else
                 {"type": kind, "observedGeneration": generation, "status": status,
                  "lastProbeTime": None, "lastTransitionTime": since})
        if why:
            found["reason"] = why
        if text:
            found["message"] = text
        if len(_CONDITIONS) >= _SHARED_MAX:
            _CONDITIONS.clear()
        _CONDITIONS[key] = found
    return found


def _kubelet_conditions(generation: Any, found: tuple[Verdict, ...], live_conditions: list[Obj],
                        stamp: str) -> tuple[list[Obj], bool]:
    """The five kubelet conditions (each keeps its lastTransitionTime while its status holds), and
    whether the live pod has conditions of others too."""
    sinces = [stamp] * 5
    others = False
    for before in live_conditions:
        at = _POSITION.get(before.get("type"))  # type: ignore[arg-type]
        if at is None:
            others = True
        else:  # (the last of a type counts, should a type appear twice)
            sinces[at] = (before.get("lastTransitionTime") or stamp) if before.get("status") == found[at][0] \
                else stamp
    key = (generation, *sinces, *found)
    built = _CONDITION_LISTS.get(key)
    if built is None:
        built = [_condition(kind, generation, since, verdict)
                 for kind, since, verdict in zip(KUBELET_CONDITIONS, sinces, found, strict=True)]
        if len(_CONDITION_LISTS) >= _SHARED_MAX:
            _CONDITION_LISTS.clear()
        _CONDITION_LISTS[key] = built
    return built, others


def _host_ips(host_ip: str) -> list[Obj]:
    found = _ADDRESSES.get(host_ip)
    if found is None:
        if len(_ADDRESSES) >= _SHARED_MAX:
            _ADDRESSES.clear()
        found = _ADDRESSES[host_ip] = [{"ip": host_ip}]
    return found


def pod_status(
    pod: Obj,
    *,
    init_statuses: list[Obj],
    statuses: list[Obj],
    pod_phase: str,
    sandbox_ready: bool,
    host_ip: str,
    pod_ip: str,
    start_time: float | None,
    now: float,
    reason: str = "",
    message: str = "",
) -> Obj:
    """The status the kubelet posts: kubelet-owned conditions rebuilt, others kept from the live pod.
    Parts of it (conditions, address lists) are shared with other statuses: treat it as immutable."""
    spec = pod.get("spec") or {}
    live = pod.get("status") or {}
    live_conditions = live.get("conditions") or []
    generation = (pod.get("metadata") or {}).get("generation")
    kubelet_conditions, others = _kubelet_conditions(
        generation, _verdicts(spec, init_statuses, statuses, pod_phase, sandbox_ready, live_conditions),
        live_conditions, rfc3339(now))
    status: Obj = {}
    if generation is not None:
        status["observedGeneration"] = generation
    status["phase"] = pod_phase
    status["conditions"] = ([*(dict(c) for c in live_conditions if c.get("type") not in _POSITION),
                             *kubelet_conditions] if others else kubelet_conditions)
    if message:
        status["message"] = message
    if reason:
        status["reason"] = reason
    if live.get("nominatedNodeName"):
        status["nominatedNodeName"] = live["nominatedNodeName"]
    if host_ip:
        status["hostIP"] = host_ip
        status["hostIPs"] = _host_ips(host_ip)
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if start_time is not None:
        status["startTime"] = rfc3339(start_time)
    if spec.get("initContainers"):
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = statuses
    status["qosClass"] = live.get("qosClass") or qos_class(spec)
    return status
