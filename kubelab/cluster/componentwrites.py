"""The API server's write paths for the cluster's own components: trusted writes and pods/binding.

Kubelets, the event recorder and the scheduler write objects they built themselves, thousands of
times a minute in a big cluster. `ComponentWrites` (a part of `ApiServer`) gives them paths that
keep the semantics that matter and skip what only guards against clients — the structural decode
and field validation — and `bind`, the pods/binding subresource. Stored objects are immutable, so
a new version shares every part it does not change with the stored one.

Read by: cluster.apiserver (ApiServer is a ComponentWrites). Reads: api (kinds, errors), store,
cluster.clock, cluster.recorder.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError, FieldError, invalid
from kubelab.api.kinds import Kind
from kubelab.cluster.clock import SimClock, rfc3339
from kubelab.cluster.recorder import Trace
from kubelab.store.memory import MemoryStore

Obj = dict[str, Any]
Hook = Callable[[Obj, Obj | None], None]
_PODS = kinds.resolve("pods")


class ComponentWrites:
    store: MemoryStore
    clock: SimClock
    trace: Trace
    on_update: dict[str, list[Hook]]

    if TYPE_CHECKING:
        def get(self, kind: Kind, namespace: str, name: str) -> Obj: ...
        def now(self) -> str: ...
        def uid(self) -> str: ...
        def commit_create(self, kind: Kind, obj: Obj, *, dry_run: bool = False) -> Obj: ...

    # ------------------------------------------------------- trusted writes
    # Components (kubelets, the event recorder) write objects they built themselves, thousands of
    # times a minute in a big cluster. These paths keep the semantics that matter — the object and
    # its uid must exist, a stale resourceVersion is a 409, a status write changes only `status`, a
    # pod never leaves Succeeded/Failed, hooks run, system metadata is filled — and skip the
    # structural decode against the OpenAPI schema and field validation, which only guard against
    # what a client could send. The store takes ownership of what is passed (no copy): the writer
    # must build it fresh and never touch it again. (Measured: a pod status write ~410 µs → ~70 µs,
    # an Event create ~75 µs → ~13 µs, store and informer hand-offs included.)
    def update_status(self, obj: Obj) -> Obj:
        """The status subresource for a trusted writer: the stored object with `obj["status"]`."""
        kind = kinds.for_object(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default" if kind.namespaced else ""
        old = self.get(kind, ns, meta["name"])
        old_meta = old["metadata"]
        if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
            raise ApiError("Conflict", f"Precondition failed: UID in precondition: {meta['uid']}, UID in object "
                                       f"meta: {old_meta.get('uid')}")
        status = obj.get("status") or {}
        if kind.kind == "Pod":
            before = (old.get("status") or {}).get("phase")
            if before in ("Succeeded", "Failed") and status.get("phase") != before:
                raise invalid(kind.kind, kind.group, meta["name"], [FieldError(
                    "Forbidden", "status.phase", detail=f"cannot transition from terminal phase {before} to "
                                                        f"{status.get('phase')}")])
        new = dict(old)  # spec and metadata are shared with the stored version: both are immutable
        new["status"] = status
        for hook in self.on_update.get(kind.kind, ()):
            hook(new, old)
        return self.store.update(kind.store_key, new, expect_rv=meta.get("resourceVersion") or None,
                                 copy=False)

    def create_trusted(self, obj: Obj, kind: Kind | None = None) -> Obj:
        """Create an object a component built (an Event): namespace checks, uid, creationTimestamp, hooks.
        Its `metadata` is filled in place: the store takes it with the object (build both fresh).
        `kind`, when the writer knows it, saves looking it up from apiVersion/kind."""
        if kind is None:
            kind = kinds.for_object(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if kind.namespaced:
            if not meta.get("namespace"):
                meta["namespace"] = "default"
        else:
            meta.pop("namespace", None)
        meta["uid"] = self.uid()
        meta["creationTimestamp"] = rfc3339(self.clock.now())  # self.now(), one call less (4 Events a pod)
        return self.commit_create(kind, obj)

    def replace_trusted(self, obj: Obj) -> Obj:
        """Replace an object a component owns (an aggregated Event's count), keeping its system metadata."""
        kind = kinds.for_object(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default" if kind.namespaced else ""
        old = self.get(kind, ns, meta["name"])
        new = obj
        new_meta = new["metadata"] = dict(new.get("metadata") or {})
        for key in ("uid", "creationTimestamp", "namespace"):
            if key in old["metadata"]:
                new_meta[key] = old["metadata"][key]
        for hook in self.on_update.get(kind.kind, ()):
            hook(new, old)
        return self.store.update(kind.store_key, new, expect_rv=meta.get("resourceVersion") or None,
                                 copy=False)

    # -------------------------------------------------------------- binding
    def bind(self, namespace: str, name: str, node: str) -> Obj:
        """The pods/binding subresource (registry/core/pod assignPod): set `spec.nodeName` and
        `PodScheduled=True` in one write. Pod updates may not change `spec.nodeName`, so this is the
        only way a pod gets a node; a pod already bound or being deleted is refused."""
        live = self.get(_PODS, namespace, name)
        if live["metadata"].get("deletionTimestamp"):
            raise ApiError("Conflict", f"pod {name} is being deleted, cannot be assigned to a host")
        current = (live.get("spec") or {}).get("nodeName")
        if current:
            raise ApiError("Conflict", f'pod {name} is already assigned to node "{current}"')
        # A new object sharing every untouched part with the stored one (stored objects are immutable).
        bound = dict(live)
        bound["spec"] = dict(live["spec"], nodeName=sys.intern(node))
        status = bound["status"] = dict(live.get("status") or {})
        conditions = status.get("conditions")  # a new pod has none: no comprehension to run (one per pod)
        conditions = [c for c in conditions if c.get("type") != "PodScheduled"] if conditions else []
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": sys.intern(self.now())})
        status["conditions"] = conditions
        stored = self.store.update(("", "pods"), bound, expect_rv=live["metadata"]["resourceVersion"], copy=False)
        self.trace.add("api-server", "bound", stored, f"to {node}")
        return stored
