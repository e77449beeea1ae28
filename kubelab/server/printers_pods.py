"""The Pod row of `kubectl get pods`, computed as kube-apiserver's printPod does.

STATUS is the pod's phase overridden, in kube-apiserver's order, by the pod's reason, a SchedulingGated
condition, the first unfinished init container (`Init:0/1`, `Init:CrashLoopBackOff`, `Init:ExitCode:1`), each
container's waiting or terminated reason (`ContainerCreating`, `CrashLoopBackOff`, `ImagePullBackOff`,
`OOMKilled`, `Completed`, `Error`), and finally `Terminating` / `Unknown` for pods being deleted.
RESTARTS counts container restarts and says when the last one ended: `3 (42s ago)`.

Read by: server.tables. Reads: server.printers_common.
"""

from __future__ import annotations

from typing import Any

from kubelab.server.printers_common import (
    CORE,
    age_column,
    column,
    condition_true,
    doc,
    human_age,
    name_column,
    parse_time,
)

Obj = dict[str, Any]

NODE_LOST = "NodeLost"  # node.NodeUnreachablePodReason
_TERMINAL = ("Succeeded", "Failed")


def pod_columns() -> list[Obj]:
    return [
        name_column(),
        column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
        column("Status", description="The aggregate status of the containers in this pod."),
        column("Restarts", description="The number of times the containers in this pod have been restarted "
                                       "and when the last container in this pod has restarted."),
        age_column(),
        column("IP", priority=1, description=doc(CORE + "PodStatus", "podIP")),
        column("Node", priority=1, description=doc(CORE + "PodSpec", "nodeName")),
        column("Nominated Node", priority=1, description=doc(CORE + "PodStatus", "nominatedNodeName")),
        column("Readiness Gates", priority=1, description=doc(CORE + "PodSpec", "readinessGates")),
    ]


def pod_conditions(pod: Obj) -> list[Obj]:
    """The row conditions apiserver marks finished pods with (kubectl uses them to spot completed rows)."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


def _restartable(container: Obj | None) -> bool:
    """A sidecar: an init container with restartPolicy Always."""
    return bool(container) and container.get("restartPolicy") == "Always"  # type: ignore[union-attr]


def _finished_at(status: Obj) -> float | None:
    terminated = ((status.get("lastState") or {}).get("terminated")) or None
    return parse_time(terminated.get("finishedAt")) if terminated else None


def _later(current: float | None, candidate: float | None) -> float | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _terminated_reason(terminated: Obj, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def pod_status_cells(pod: Obj) -> tuple[str, str, int, float | None]:
    """(READY, STATUS, restart count, when the last restart ended) for one pod."""
    spec, status, metadata = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _restartable(c))
    ready = restarts = sidecar_restarts = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        count = int(cs.get("restartCount") or 0)
        restarts += count
        last_restart = _later(last_restart, _finished_at(cs))
        sidecar = _restartable(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, _finished_at(cs))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or condition_true(status.get("conditions"), "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, _finished_at(cs))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A container that completed while another still runs does not make the pod "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if condition_true(status.get("conditions"), "Ready") else "NotReady"

    if metadata.get("deletionTimestamp") and status.get("reason") == NODE_LOST:
        reason = "Unknown"
    elif metadata.get("deletionTimestamp") and phase not in _TERMINAL:
        reason = "Terminating"
    return f"{ready}/{total}", reason, restarts, last_restart


def restarts_text(restarts: int, last_restart: float | None, now: float) -> str:
    """`0`, or `3 (42s ago)` when the last restart's end time is known."""
    if restarts and last_restart is not None:
        return f"{restarts} ({human_age(now - last_restart)} ago)"
    return str(restarts)


# What a pod's row depends on besides the clock: (name, READY, STATUS, restarts, last restart end, IP, NODE,
# NOMINATED NODE, READINESS GATES, creation time). Only RESTARTS' `(42s ago)` and AGE move with `now`.
PodFacts = tuple[str, str, str, int, float | None, str, str, str, str, float | None]


def pod_facts(pod: Obj) -> PodFacts:
    """Everything in a pod's row that depends on the object alone (cacheable while the object is unchanged)."""
    spec, status, metadata = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    ready, reason, restarts, last_restart = pod_status_cells(pod)
    ips = status.get("podIPs") or []
    # The v1 → internal conversion fills podIPs from podIP, so either one names the pod's address.
    pod_ip = (ips[0].get("ip") if ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        conditions = status.get("conditions") or []
        true = 0
        for gate in gates:
            for cond in conditions:
                if cond.get("type") == gate.get("conditionType"):
                    true += cond.get("status") == "True"
                    break
        gates_text = f"{true}/{len(gates)}"
    return (metadata.get("name") or "", ready, reason, restarts, last_restart, pod_ip,
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_text,
            parse_time(metadata.get("creationTimestamp")))


def pod_cells(facts: PodFacts, now: float) -> list[Any]:
    """A pod's row from its facts, with RESTARTS and AGE read against `now`."""
    name, ready, reason, restarts, last_restart, pod_ip, node, nominated, gates, created = facts
    return [name, ready, reason, restarts_text(restarts, last_restart, now),
            "<unknown>" if created is None else human_age(now - created), pod_ip, node, nominated, gates]


def pod_row(pod: Obj, now: float) -> list[Any]:
    return pod_cells(pod_facts(pod), now)
