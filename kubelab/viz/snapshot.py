"""A cluster snapshot: the objects a picture is drawn from, grouped by kind, read once.

`Snapshot.from_objects(dicts)` wraps plain manifests; `Snapshot.from_cluster(cluster)` reads a
local `kubelab.Cluster` through its public `list()`; `Snapshot.from_api(api_client)` reads a
real cluster through the official `kubernetes` client. All three give the same plain dicts
(a real cluster's JSON and the local cluster's objects have one shape), so status, relations
and DOT work the same on both. Objects are shared, not copied: treat them as read-only.

Read by: viz.status, viz.relations, viz.dot, widgets. Reads: nothing of kubelab (duck-typed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

Obj = dict[str, Any]

# kind → (plural, namespaced, client API class). The plural is what
# `cluster.list()` and the REST paths take; the API class is the official client's.
KINDS: dict[str, tuple[str, bool, str]] = {
    "Namespace": ("namespaces", False, "CoreV1Api"),
    "Node": ("nodes", False, "CoreV1Api"),
    "Pod": ("pods", True, "CoreV1Api"),
    "Service": ("services", True, "CoreV1Api"),
    "Endpoints": ("endpoints", True, "CoreV1Api"),
    "ReplicaSet": ("replicasets", True, "AppsV1Api"),
    "Deployment": ("deployments", True, "AppsV1Api"),
    "DaemonSet": ("daemonsets", True, "AppsV1Api"),
    "StatefulSet": ("statefulsets", True, "AppsV1Api"),
    "Job": ("jobs", True, "BatchV1Api"),
    "CronJob": ("cronjobs", True, "BatchV1Api"),
    "Ingress": ("ingresses", True, "NetworkingV1Api"),
}
# Events are many and drawn by the timeline, not the graph: read only when asked for.
EVENT_KIND = ("Event", ("events", True, "CoreV1Api"))

# The client's list methods are named after the kind in snake case.
_SNAKE = {"Namespace": "namespace", "Node": "node", "Pod": "pod", "Service": "service",
          "Endpoints": "endpoints", "ReplicaSet": "replica_set", "Deployment": "deployment",
          "DaemonSet": "daemon_set", "StatefulSet": "stateful_set", "Job": "job", "CronJob": "cron_job",
          "Ingress": "ingress", "Event": "event"}


def ref(obj: Mapping[str, Any]) -> str:
    """The object's stable identity in a picture: `Kind/namespace/name` (`Node//n1` when cluster-scoped)."""
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', '')}/{meta.get('namespace') or ''}/{meta.get('name', '')}"


def _sort_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


@dataclass(frozen=True, eq=False)  # identity, hashable: widgets compare DOT text, not snapshots
class Snapshot:
    """Objects by kind, each tuple sorted by (namespace, name); plus the kinds that could not be read."""

    by_kind: Mapping[str, tuple[Obj, ...]] = field(default_factory=dict)
    unreadable: tuple[str, ...] = ()  # "Ingress: 403 Forbidden" — shown by widgets, never raised

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_kind", MappingProxyType(dict(self.by_kind)))
        uids: dict[str, Obj] = {}
        refs: dict[str, Obj] = {}
        for items in self.by_kind.values():
            for obj in items:
                uid = (obj.get("metadata") or {}).get("uid")
                if uid:
                    uids[uid] = obj
                refs[ref(obj)] = obj
        object.__setattr__(self, "_uids", uids)
        object.__setattr__(self, "_refs", refs)

    # ------------------------------------------------------------ building
    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]], unreadable: Iterable[str] = ()) -> Snapshot:
        """Group plain manifests by their `kind` (a `List`'s items are taken one by one)."""
        grouped: dict[str, list[Obj]] = {}
        for obj in objects:
            if obj is None:
                continue
            if str(obj.get("kind", "")).endswith("List") and "items" in obj:
                inner = str(obj["kind"])[: -len("List")]
                for item in obj.get("items") or ():
                    grouped.setdefault(item.get("kind") or inner, []).append(_with_kind(item, inner))
                continue
            grouped.setdefault(str(obj.get("kind", "")), []).append(dict(obj) if not isinstance(obj, dict) else obj)
        return cls({kind: tuple(sorted(items, key=_sort_key)) for kind, items in grouped.items()},
                   tuple(unreadable))

    @classmethod
    def from_cluster(cls, cluster: Any, namespace: str | None = None, events: bool = False) -> Snapshot:
        """Read a local `kubelab.Cluster` (anything with `list(kind, namespace)`) for every drawn kind."""
        objects: list[Obj] = []
        unreadable: list[str] = []
        for kind, (plural, namespaced, _) in _kinds(events):
            try:
                items = cluster.list(plural, namespace if namespaced else None)
            except Exception as e:  # noqa: BLE001 — a kind this cluster lacks must not break the picture
                unreadable.append(f"{kind}: {e}")
                continue
            objects.extend(_with_kind(o, kind) for o in items)
        return cls.from_objects(objects, unreadable)

    @classmethod
    def from_api(cls, api_client: Any, namespace: str | None = None, events: bool = False) -> Snapshot:
        """Read a real cluster with the official client (`kubernetes.client.ApiClient`), as raw JSON.

        `_preload_content=False` skips the client's model classes: the JSON is the same shape
        the local cluster stores, and reading it is several times faster.
        """
        from kubernetes import client as k8s  # the official client is a dependency, loaded on use

        objects: list[Obj] = []
        unreadable: list[str] = []
        for kind, (_, namespaced, api_class) in _kinds(events):
            api = getattr(k8s, api_class)(api_client)
            snake = _SNAKE[kind]
            try:
                if not namespaced:
                    response = getattr(api, f"list_{snake}")(_preload_content=False)
                elif namespace:
                    response = getattr(api, f"list_namespaced_{snake}")(namespace, _preload_content=False)
                else:
                    response = getattr(api, f"list_{snake}_for_all_namespaces")(_preload_content=False)
                body = json.loads(response.data)
            except Exception as e:  # noqa: BLE001 — RBAC or a missing API group: draw the rest
                unreadable.append(f"{kind}: {_short_error(e)}")
                continue
            # A list's items carry no kind or apiVersion on the wire (kubectl fills them in too).
            objects.extend(_with_kind(o, kind) for o in body.get("items") or ())
        return cls.from_objects(objects, unreadable)

    # ------------------------------------------------------------ reading
    def of(self, kind: str) -> tuple[Obj, ...]:
        """All objects of one kind (`"Pod"`), sorted by namespace and name."""
        return self.by_kind.get(kind, ())

    def by_uid(self, uid: str) -> Obj | None:
        return self._uids.get(uid)  # type: ignore[attr-defined]

    def by_ref(self, key: str) -> Obj | None:
        return self._refs.get(key)  # type: ignore[attr-defined]

    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        return self.by_ref(f"{kind}/{namespace or ''}/{name}")

    def __len__(self) -> int:
        return sum(len(items) for items in self.by_kind.values())

    def namespaces(self) -> list[str]:
        """Every namespace an object lives in or a Namespace object names, sorted."""
        names = {(o.get("metadata") or {}).get("namespace") for items in self.by_kind.values() for o in items}
        names |= {(o.get("metadata") or {}).get("name") for o in self.of("Namespace")}
        return sorted(n for n in names if n)

    def restricted(self, namespace: str | None) -> Snapshot:
        """Namespaced objects of one namespace only; cluster-scoped ones (Nodes) stay."""
        if namespace is None:
            return self
        kept = {kind: tuple(o for o in items if (o.get("metadata") or {}).get("namespace") in (None, "", namespace)
                            and (kind != "Namespace" or (o.get("metadata") or {}).get("name") == namespace))
                for kind, items in self.by_kind.items()}
        return Snapshot(kept, self.unreadable)

    # Convenience views, named like the REST plurals.
    pods = property(lambda self: self.of("Pod"))
    nodes = property(lambda self: self.of("Node"))
    services = property(lambda self: self.of("Service"))
    endpoints = property(lambda self: self.of("Endpoints"))
    replicasets = property(lambda self: self.of("ReplicaSet"))
    deployments = property(lambda self: self.of("Deployment"))
    daemonsets = property(lambda self: self.of("DaemonSet"))
    statefulsets = property(lambda self: self.of("StatefulSet"))
    jobs = property(lambda self: self.of("Job"))
    cronjobs = property(lambda self: self.of("CronJob"))
    ingresses = property(lambda self: self.of("Ingress"))
    events = property(lambda self: self.of("Event"))


def _kinds(events: bool) -> list[tuple[str, tuple[str, bool, str]]]:
    return list(KINDS.items()) + ([EVENT_KIND] if events else [])


def _with_kind(obj: Mapping[str, Any], kind: str) -> Obj:
    if obj.get("kind"):
        return obj if isinstance(obj, dict) else dict(obj)
    return {"kind": kind, **obj}


def _short_error(e: Exception) -> str:
    status, reason = getattr(e, "status", None), getattr(e, "reason", None)
    if status:
        return f"{status} {reason or ''}".strip()
    return str(e).splitlines()[0] if str(e) else type(e).__name__
