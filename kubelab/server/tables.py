"""Server-side Tables: what kube-apiserver answers when kubectl asks for `as=Table;g=meta.k8s.io`.

`table(kind, objs, now)` builds the whole metav1.Table: the kind's column definitions (all of them, wide
ones with priority 1, as apiserver sends them), one row of cells per object computed like
pkg/printers/internalversion, and each row's object as PartialObjectMetadata (default), the full object
(`includeObject=Object`, for `--sort-by`) or null (`None`). Kinds without a printer get apiserver's default
Name / Created At table. `now` is the epoch-seconds clock the objects' timestamps are read against.
A `RowCache` keeps what a stored object's row depends on besides the clock (pods: their status cells), so
the pages of `kubectl get pods` and repeated gets do not recompute 10,000 unchanged pods.

Read by: server.present. Reads: api.kinds, api.errors, server.printers_*.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.server import printers_core as core
from kubelab.server import printers_pods as pods
from kubelab.server import printers_workloads as workloads
from kubelab.server.printers_common import META, column, doc, human_age, name, name_column, rfc3339

Obj = dict[str, Any]
Printer = tuple[Callable[[], list[Obj]], Callable[[Obj, float], list[Any]]]

TABLE_API_VERSION = "meta.k8s.io/v1"
INCLUDE_OBJECT = ("None", "Metadata", "Object")

# (group, kind) → (columns, row). Every served version of a kind prints alike (apiserver prints the internal type).
PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): (pods.pod_columns, pods.pod_row),
    ("apps", "Deployment"): (workloads.deployment_columns, workloads.deployment_row),
    ("apps", "ReplicaSet"): (workloads.replica_set_columns, workloads.replica_set_row),
    ("", "ReplicationController"): (workloads.replication_controller_columns, workloads.replication_controller_row),
    ("apps", "DaemonSet"): (workloads.daemon_set_columns, workloads.daemon_set_row),
    ("apps", "StatefulSet"): (workloads.stateful_set_columns, workloads.stateful_set_row),
    ("apps", "ControllerRevision"): (workloads.controller_revision_columns, workloads.controller_revision_row),
    ("batch", "Job"): (workloads.job_columns, workloads.job_row),
    ("batch", "CronJob"): (workloads.cron_job_columns, workloads.cron_job_row),
    ("autoscaling", "HorizontalPodAutoscaler"): (workloads.hpa_columns, workloads.hpa_row),
    ("", "Service"): (core.service_columns, core.service_row),
    ("", "Endpoints"): (core.endpoints_columns, core.endpoints_row),
    ("discovery.k8s.io", "EndpointSlice"): (core.endpoint_slice_columns, core.endpoint_slice_row),
    ("networking.k8s.io", "Ingress"): (core.ingress_columns, core.ingress_row),
    ("networking.k8s.io", "IngressClass"): (core.ingress_class_columns, core.ingress_class_row),
    ("", "Node"): (core.node_columns, core.node_row),
    ("", "Namespace"): (core.namespace_columns, core.namespace_row),
    ("", "Event"): (core.event_columns, core.event_row),
    ("", "ConfigMap"): (core.config_map_columns, core.config_map_row),
    ("", "Secret"): (core.secret_columns, core.secret_row),
    ("", "ServiceAccount"): (core.service_account_columns, core.service_account_row),
    ("", "PersistentVolume"): (core.persistent_volume_columns, core.persistent_volume_row),
    ("", "PersistentVolumeClaim"): (core.persistent_volume_claim_columns, core.persistent_volume_claim_row),
    ("coordination.k8s.io", "Lease"): (core.lease_columns, core.lease_row),
    ("", "ComponentStatus"): (core.component_status_columns, core.component_status_row),
}


# (group, kind) → (facts, cells): a row split into its clock-free part (cacheable) and its time-relative cells.
SPLIT_PRINTERS: dict[tuple[str, str], tuple[Callable[[Obj], Any], Callable[[Any, float], list[Any]]]] = {
    ("", "Pod"): (pods.pod_facts, pods.pod_cells),
}


class RowCache:
    """Values computed from stored objects, which the store never changes in place, kept per object.

    Entries are keyed by (scope, namespace, name) and hold the object itself: a hit needs the very same object
    (`is`) and the same `variant` (say, the time shift applied), so a new version of an object (or another
    cluster's object of that name) simply misses and replaces the entry. Pass only objects nobody mutates
    (the store's own references).
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._entries: dict[tuple[str, str, str], tuple[Obj, Any, Any]] = {}

    def lookup(self, scope: str, obj: Obj, variant: Any, compute: Callable[[Obj], Any]) -> Any:
        meta = obj.get("metadata") or {}
        key = (scope, meta.get("namespace") or "", meta.get("name") or "")
        hit = self._entries.get(key)
        if hit is not None and hit[0] is obj and hit[1] == variant:
            return hit[2]
        value = compute(obj)
        if len(self._entries) >= self.limit:
            self._entries.clear()  # rare (that many distinct objects): starting over beats LRU bookkeeping
        self._entries[key] = (obj, variant, value)
        return value


def _generic_columns() -> list[Obj]:
    """rest.DefaultTableConvertor's columns, for kinds apiserver has no printer for."""
    return [name_column(), column("Created At", "date", doc(META, "creationTimestamp"))]


def _generic_row(obj: Obj, now: float) -> list[Any]:
    return [name(obj), rfc3339((obj.get("metadata") or {}).get("creationTimestamp"))]


def _printer(kind: Kind) -> Printer:
    return PRINTERS.get((kind.group, kind.kind), (_generic_columns, _generic_row))


@cache
def _columns(group: str, kind: str) -> tuple[Obj, ...]:
    return tuple(PRINTERS.get((group, kind), (_generic_columns, _generic_row))[0]())


def columns(kind: Kind) -> list[Obj]:
    """The Table's columnDefinitions for a kind (copies: callers may keep or change them)."""
    return [dict(c) for c in _columns(kind.group, kind.kind)]


def row(kind: Kind, obj: Obj, now: float) -> list[Any]:
    """One object's cells, in column order (integers as ints, everything else as apiserver's strings)."""
    return _printer(kind)[1](obj, now)


def row_conditions(kind: Kind, obj: Obj) -> list[Obj]:
    """TableRow.conditions: only finished pods carry one (`Completed`)."""
    if (kind.group, kind.kind) == ("", "Pod"):
        return pods.pod_conditions(obj)
    return []


def partial_object_metadata(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION, "metadata": obj.get("metadata") or {}}


def row_object(kind: Kind, obj: Obj, include_object: str) -> Obj | None:
    if include_object == "Object":
        return {"kind": kind.kind, "apiVersion": kind.api_version, **obj}
    if include_object == "Metadata":
        return partial_object_metadata(obj)
    return None  # `None`: Go prints the empty RawExtension as null


def table(kind: Kind, objs: list[Obj], now: float, *, include_object: str = "Metadata",
          resource_version: str = "") -> Obj:
    """The metav1.Table apiserver sends for a list (or a one-item list for a single GET)."""
    include_object = include_object or "Metadata"
    if include_object not in INCLUDE_OBJECT:
        raise ApiError("BadRequest", f'includeObject: Unsupported value: "{include_object}": supported values: '
                                     '"Metadata", "None", "Object"')
    rows = []
    for obj in objs:
        entry: Obj = {"cells": row(kind, obj, now)}
        conditions = row_conditions(kind, obj)
        if conditions:
            entry["conditions"] = conditions
        entry["object"] = row_object(kind, obj, include_object)
        rows.append(entry)
    metadata = {"resourceVersion": resource_version} if resource_version else {}
    return {"kind": "Table", "apiVersion": TABLE_API_VERSION, "metadata": metadata,
            "columnDefinitions": columns(kind), "rows": rows}


def table_for(kind: Kind, objs: list[Obj], now: float, wide: bool = False, cache: RowCache | None = None) -> Obj:
    """Columns and rows only (no row objects): for callers that attach objects and metadata themselves.

    `wide` is accepted and ignored: like apiserver, the server always prints every column and kubectl
    hides the priority-1 ones unless `-o wide`. With a `cache`, rows of kinds with split printers reuse the
    facts computed for the same stored object before.
    """
    split = SPLIT_PRINTERS.get((kind.group, kind.kind)) if cache is not None else None
    if split is None:
        cells = [row(kind, o, now) for o in objs]
    else:
        facts, timed = split
        scope = f"{kind.group}/{kind.kind}"
        cells = [timed(cache.lookup(scope, o, None, facts), now) for o in objs]  # type: ignore[union-attr]
    return {"columnDefinitions": columns(kind),
            "rows": [{"cells": c, **({"conditions": k} if (k := row_conditions(kind, o)) else {})}
                     for c, o in zip(cells, objs, strict=True)]}


__all__ = ["RowCache", "columns", "human_age", "row", "table", "table_for"]
