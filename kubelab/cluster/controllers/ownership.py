"""ControllerRef bookkeeping: which objects a controller may act on, adopting orphans and releasing strays.

Kubernetes' ControllerRefManager rules, for any owner kind and owned kind: an object controlled by
someone else is ignored; one we control that still matches our selector is ours; one we control
that no longer matches is released (our ownerReference removed); an orphan that matches is
adopted (a controller ownerReference added) unless it, or we, are being deleted. Writes go
through the API server on a fresh read, like the adoption patches upstream sends.

Read by: controllers.replicas (pods), controllers.deployment (ReplicaSets), controllers.daemonset. Reads: api.kinds,
controllers.podutil.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.cluster.controllers.podutil import controller_of, controller_ref
from kubelab.store.memory import thaw

if TYPE_CHECKING:
    from kubelab.cluster.apiserver import ApiServer

Obj = dict[str, Any]


def claim(
    api: ApiServer,
    owner: Obj,
    kind: Kind,
    objects: list[Obj],
    matches: Callable[[Obj], bool],
) -> list[Obj]:
    """The objects `owner` controls after adopting and releasing (objects of `kind` in its namespace)."""
    uid = owner["metadata"]["uid"]
    owner_deleting = bool(owner["metadata"].get("deletionTimestamp"))
    claimed = []
    for obj in objects:
        ref = controller_of(obj)
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches(obj):
                claimed.append(obj)
            elif not owner_deleting:
                _rewrite_refs(api, kind, obj, lambda refs: [r for r in refs if r.get("uid") != uid])
            continue
        if owner_deleting or not matches(obj) or obj["metadata"].get("deletionTimestamp"):
            continue
        adopted = _rewrite_refs(api, kind, obj, lambda refs: [*refs, controller_ref(owner)], orphan_only=True)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


def _rewrite_refs(
    api: ApiServer, kind: Kind, obj: Obj, change: Callable[[list[Obj]], list[Obj]], *, orphan_only: bool = False
) -> Obj | None:
    meta = obj["metadata"]
    try:
        fresh = thaw(api.get(kind, meta["namespace"], meta["name"]))
    except ApiError as err:
        if err.reason == "NotFound":
            return None  # gone meanwhile: nothing to adopt or release
        raise
    if fresh["metadata"].get("uid") != meta.get("uid") or (orphan_only and controller_of(fresh) is not None):
        return None  # a different object now, or someone else adopted it first
    refs = change(list(fresh["metadata"].get("ownerReferences") or ()))
    if refs:
        fresh["metadata"]["ownerReferences"] = refs
    else:
        fresh["metadata"].pop("ownerReferences", None)
    return thaw(api.update(fresh))
