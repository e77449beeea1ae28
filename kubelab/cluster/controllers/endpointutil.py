"""What the Endpoints and EndpointSlice controllers share (Kubernetes' controller/util/endpoint).

Which pods back a Service (its selector, in its namespace, with an IP, not finished), whether
each is ready, and the port each Service port reaches on it (a named targetPort resolved from
the pod's container ports, as FindPort does). Both controllers map pod events to the Services
whose selector matches the pod's old or new labels.

Read by: controllers.endpoints, controllers.endpointslice. Reads: store.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from kubelab.store.watch import Event

Obj = dict[str, Any]
SERVICES = ("", "services")
PODS = ("", "pods")


class Member(NamedTuple):
    pod: Obj
    ip: str
    ready: bool
    terminating: bool
    ports: tuple[tuple[str, int, str], ...]  # (service port name, target port, protocol) resolvable on this pod


def selects(service: Obj, labels: dict[str, str] | None) -> bool:
    selector = (service.get("spec") or {}).get("selector")
    # A Service selector is a plain map (SelectorFromValidatedSet): every pair must be present.
    labels = labels or {}
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


def services_for_pod(store: Any, event: Event) -> Iterable[tuple[str, str]]:
    """Keys of the Services whose selector matches the pod as it was or as it is."""
    pod = event.object
    namespace = pod["metadata"].get("namespace", "")
    services, _ = store.list(SERVICES, namespace)
    label_sets = [pod["metadata"].get("labels")] + ([event.old["metadata"].get("labels")] if event.old else [])
    for service in services:
        if any(selects(service, labels) for labels in label_sets):
            yield (namespace, service["metadata"]["name"])


def find_port(pod: Obj, target: int | str, protocol: str) -> int | None:
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def pod_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def members(store: Any, service: Obj) -> list[Member]:
    """The Service's pods that have an address, sorted by IP (the order the controllers publish)."""
    spec = service.get("spec") or {}
    namespace = service["metadata"]["namespace"]
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    pods, _ = store.list(PODS, namespace)
    found = []
    for pod in pods:
        status = pod.get("status") or {}
        ip = status.get("podIP")
        finished = status.get("phase") in ("Succeeded", "Failed")
        if not ip or finished or not selects(service, pod["metadata"].get("labels")):
            continue
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        if terminating and not publish_not_ready:
            continue
        ports = []
        for port in spec.get("ports") or ():
            protocol = port.get("protocol", "TCP")
            number = find_port(pod, port.get("targetPort", port.get("port")), protocol)
            if number is not None:
                ports.append((port.get("name", ""), number, protocol))
        ready = publish_not_ready or pod_ready(pod)
        found.append(Member(pod, ip, ready, terminating, tuple(ports)))
    return sorted(found, key=lambda m: tuple(int(x) for x in m.ip.split(".")) if "." in m.ip else (m.ip,))


def target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta.get("uid")}
