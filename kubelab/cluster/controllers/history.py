"""ControllerRevisions: the template history DaemonSets and StatefulSets keep (pkg/controller/history).

A revision stores, as `data`, the strategic-merge patch that would restore the workload's pod
template (`{"spec": {"template": {…, "$patch": "replace"}}}`) and a `revision` number that grows
with every new template; `kubectl rollout history/undo` read them. `sync_revisions` finds the
revisions a workload controls, the one matching its current template (creating it, or renumbering
it when an old template comes back), and returns the older ones; `prune` deletes the oldest
beyond `revisionHistoryLimit`, sparing revisions that live pods still run.

Read by: controllers.daemonset, controllers.statefulset. Reads: api.names, controllers.podutil.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.names import fnv32a, safe_encode
from kubelab.cluster.controllers.podutil import controller_of, controller_ref
from kubelab.store.memory import thaw

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
REVISION = kinds.resolve("controllerrevisions.apps")
RESOURCE = ("apps", "controllerrevisions")


def template_patch(workload: Obj) -> Obj:
    """The revision's data: the pod template, marked to replace the live one when applied."""
    template = thaw((workload.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def data_hash(data: Obj, collision_count: int | None) -> str:
    """HashControllerRevision: FNV-32a of the data (and collision count), on the safe alphabet."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if collision_count:
        text += str(collision_count)
    return safe_encode(str(fnv32a(text.encode())))


def controlled(cluster: Cluster, owner: Obj) -> list[Obj]:
    uid = owner["metadata"]["uid"]
    return [r for r in cluster.store.list(RESOURCE, owner["metadata"]["namespace"])[0]
            if (controller_of(r) or {}).get("uid") == uid]


def sync_revisions(
    cluster: Cluster,
    owner: Obj,
    name_and_labels: Callable[[Obj], tuple[str, dict[str, str], dict[str, str]]],
) -> tuple[Obj, list[Obj]]:
    """(current revision, older revisions) of `owner`. `name_and_labels(data)` gives the name, labels
    and annotations a new revision of `data` gets."""
    data = template_patch(owner)
    current: list[Obj] = []
    old: list[Obj] = []
    for revision in controlled(cluster, owner):
        (current if revision.get("data") == data else old).append(revision)
    next_number = max((r.get("revision", 0) for r in old), default=0) + 1
    if not current:
        name, labels, annotations = name_and_labels(data)
        revision = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                    "metadata": {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                                 "ownerReferences": [controller_ref(owner)]},
                    "data": data, "revision": next_number}
        if annotations:
            revision["metadata"]["annotations"] = annotations
        try:
            return cluster.api.create(revision), old
        except ApiError as err:
            if err.reason != "AlreadyExists":
                raise
            existing = cluster.store.get(RESOURCE, owner["metadata"]["namespace"], name)
            if existing is None or existing.get("data") != data:
                raise  # a hash collision: the caller bumps status.collisionCount and retries
            return existing, old
    current.sort(key=lambda r: r.get("revision", 0))
    keep = current[-1]
    for duplicate in current[:-1]:
        _delete(cluster, duplicate)
    if keep.get("revision", 0) < next_number:
        keep = cluster.api.update(dict(thaw(keep), revision=next_number))
    return keep, old


def prune(cluster: Cluster, owner: Obj, old: list[Obj], live: set[str]) -> None:
    """Delete the oldest of `old` beyond spec.revisionHistoryLimit, except those named in `live`."""
    limit = (owner.get("spec") or {}).get("revisionHistoryLimit", 10)
    excess = len(old) - limit
    for revision in sorted(old, key=lambda r: r.get("revision", 0)):
        if excess <= 0:
            break
        if revision["metadata"]["name"] in live:
            continue
        _delete(cluster, revision)
        excess -= 1


def _delete(cluster: Cluster, revision: Obj) -> None:
    try:
        cluster.api.delete(REVISION, revision["metadata"]["namespace"], revision["metadata"]["name"])
    except ApiError as err:
        if err.reason != "NotFound":
            raise
