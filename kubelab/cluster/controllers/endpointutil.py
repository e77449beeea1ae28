"""What the Endpoints and EndpointSlice controllers share (Kubernetes' controller/util/endpoint).

Which pods back a Service (its selector, in its namespace, with an IP, not finished), whether
each is ready, and the port each Service port reaches on it (a named targetPort resolved from
the pod's container ports, as FindPort does). Both controllers map pod events to the Services
whose selector matches the pod's old or new labels.

`SelectorIndex` is the informers' indexer: pods by label pair and Services by a selector pair,
per namespace, kept from watch events, so a pod change costs the Services that may select it and
a Service sync costs its own pods — not a scan of the namespace (1,000 Services stay cheap).

Read by: controllers.endpoints, controllers.endpointslice. Reads: store, controllers.base.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from kubelab.cluster.controllers.base import Controller, Key
from kubelab.store.watch import Event

Obj = dict[str, Any]
SERVICES = ("", "services")
PODS = ("", "pods")
SLICES = ("discovery.k8s.io", "endpointslices")
SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER = "endpointslice-controller.k8s.io"
Pair = tuple[str, str, str]  # (namespace, label key, label value)


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


class SelectorIndex:
    """Pods by (namespace, key, value), selector Services by the first pair of their selector, and
    the EndpointSlice controller's slices by Service — one per store, fed by its watch events."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pods: dict[Pair, set[str]] = {}
        self.services: dict[Pair, set[str]] = {}
        self.slices: dict[tuple[str, str], set[str]] = {}
        # namespace → how many selector Services it has: a pod elsewhere concerns no Service.
        self.selecting: dict[str, int] = {}
        store.subscribe(PODS, self._pod_event)
        for resource, index in ((SERVICES, self._service), (SLICES, self._slice)):
            store.subscribe(resource, lambda event, index=index: index(event.old, event.object, event.type))
        for resource, index in ((PODS, self._pod), (SERVICES, self._service), (SLICES, self._slice)):
            for obj in store.list(resource)[0]:  # what was stored before (a reopened state file)
                index(None, obj, "ADDED")

    # ------------------------------------------------------------------ upkeep
    def _pod_event(self, event: Event) -> None:
        old = event.old
        if old is not None and event.type != "DELETED":
            # A status write keeps the stored label map itself (`is`), or an equal one: the pairs are unchanged.
            labels, old_labels = event.object["metadata"].get("labels"), old["metadata"].get("labels")
            if labels is old_labels or labels == old_labels:
                return
        self._pod(old, event.object, event.type)

    def _pod(self, old: Obj | None, new: Obj, kind: str) -> None:
        for obj, add in ((old, False), (None if kind == "DELETED" else new, True)):
            if obj is not None:
                meta = obj["metadata"]
                ns, name = meta.get("namespace", ""), meta["name"]
                for key, value in (meta.get("labels") or {}).items():
                    _toggle(self.pods, (ns, key, value), name, add)

    def _service(self, old: Obj | None, new: Obj, kind: str) -> None:
        for obj, add in ((old, False), (None if kind == "DELETED" else new, True)):
            pair = _first_pair(obj) if obj is not None else None
            if pair is not None and _toggle(self.services, pair, obj["metadata"]["name"], add):  # type: ignore[index]
                count = self.selecting.get(pair[0], 0) + (1 if add else -1)
                if count:
                    self.selecting[pair[0]] = count
                else:
                    self.selecting.pop(pair[0], None)

    def _slice(self, old: Obj | None, new: Obj, kind: str) -> None:
        for obj, add in ((old, False), (None if kind == "DELETED" else new, True)):
            labels = (obj or {}).get("metadata", {}).get("labels") or {}
            if obj is not None and labels.get(SERVICE_NAME) is not None and labels.get(MANAGED_BY) == CONTROLLER:
                meta = obj["metadata"]
                _toggle(self.slices, (meta.get("namespace", ""), labels[SERVICE_NAME]), meta["name"], add)

    # ----------------------------------------------------------------- queries
    def services_for_pod(self, event: Event) -> list[tuple[str, str]]:
        """Keys of the Services whose selector matches the pod as it was or as it is, by name."""
        pod = event.object
        namespace = pod["metadata"].get("namespace", "")
        if namespace not in self.selecting:
            return []  # the common case of a namespace without Services: nothing to look up
        label_sets = [pod["metadata"].get("labels")] + ([event.old["metadata"].get("labels")] if event.old else [])
        names: set[str] = set()
        for labels in label_sets:
            for key, value in (labels or {}).items():
                names.update(self.services.get((namespace, key, value), ()))
        keys = []
        for name in sorted(names):
            service = self.store.get(SERVICES, namespace, name)
            if service is not None and any(selects(service, labels) for labels in label_sets):
                keys.append((namespace, name))
        return keys

    def pods_for(self, service: Obj) -> list[Obj]:
        """The pods the Service's selector matches, sorted by name (the store's list order)."""
        namespace = service["metadata"]["namespace"]
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector:
            return []
        smallest = min((self.pods.get((namespace, k, v), set()) for k, v in selector.items()), key=len)
        found = (self.store.get(PODS, namespace, name) for name in sorted(smallest))
        return [pod for pod in found if pod is not None and selects(service, pod["metadata"].get("labels"))]

    def slices_of(self, namespace: str, service: str) -> list[Obj]:
        """The slices this controller manages for a Service, sorted by name."""
        found = (self.store.get(SLICES, namespace, n) for n in sorted(self.slices.get((namespace, service), ())))
        return [s for s in found if s is not None]


def index_for(cluster: Any) -> SelectorIndex:
    """The cluster's one index (`cluster.selector_index`), made and subscribed by the first controller that asks."""
    index: SelectorIndex | None = getattr(cluster, "selector_index", None)
    if index is None or index.store is not cluster.store:
        index = cluster.selector_index = SelectorIndex(cluster.store)
    return index


class ServiceBackendsController(Controller):
    """A controller keyed by Service that also wakes for the pods its selector may match (both
    Endpoints controllers): pod events reach it through the shared `SelectorIndex`."""

    primary = SERVICES
    secondary = (PODS,)

    def __init__(self, cluster: Any) -> None:
        self.index = index_for(cluster)  # subscribed before this controller's own handlers
        super().__init__(cluster)

    def handle(self, event: Event) -> None:
        if event.resource == PODS and event.object["metadata"].get("namespace", "") not in self.index.selecting:
            return  # no Service in the pod's namespace selects anything (most pod writes in a busy cluster)
        super().handle(event)

    def keys_for(self, event: Event) -> Iterable[Key]:
        return self.index.services_for_pod(event)


def _first_pair(service: Obj) -> Pair | None:
    selector = (service.get("spec") or {}).get("selector")
    if not selector:
        return None
    key = min(selector)
    return (service["metadata"].get("namespace", ""), key, selector[key])


def _toggle(index: dict[Any, set[str]], key: Any, name: str, add: bool) -> bool:
    """Add or remove `name` under `key`; True when that changed the index."""
    names = index.get(key)
    if add:
        if names is None:
            index[key] = {name}
            return True
        if name in names:
            return False
        names.add(name)
        return True
    if names is None or name not in names:
        return False
    names.discard(name)
    if not names:
        del index[key]
    return True


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


def members(index: SelectorIndex, service: Obj) -> list[Member]:
    """The Service's pods that have an address, sorted by IP (the order the controllers publish)."""
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    found = []
    for pod in index.pods_for(service):
        status = pod.get("status") or {}
        ip = status.get("podIP")
        finished = status.get("phase") in ("Succeeded", "Failed")
        if not ip or finished:
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
