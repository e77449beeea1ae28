"""The revisioned object store, like etcd/kine: one global revision, watches, snapshots.

Every write bumps the store's revision and stamps it on the object as
`metadata.resourceVersion`; updates and deletes may demand the revision they last saw
(409 Conflict when stale). Stored objects are immutable: the store keeps its own compact
copy (strings interned, which keeps a pod at ~2× its JSON size) and hands out references
that callers must not mutate — `kubelab.cluster` copies at the public boundary. A bounded
event log lets watches resume from any retained revision; older ones get 410 Gone.

Read by: store.sqlite (persists the same events), cluster.apiserver, controllers (through
it). Reads: api.errors, store.watch.
"""

from __future__ import annotations

import builtins
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from kubelab.api import errors
from kubelab.api.jsoncopy import copy_json, interned_copy
from kubelab.store.watch import Event, Watch

Obj = dict[str, Any]
Resource = tuple[str, str]  # (group, plural)
Listener = Callable[[Event], None]

# A private deep copy with interned keys and short strings (objects share their vocabulary): the
# compact form the store keeps objects in, the same copy the decoder makes of free-form values.
freeze = interned_copy

# `Event(...)` runs the named tuple's Python-level `__new__`; the store makes one per write (8 per pod
# on its way to Running), so it builds them with the C constructor the generated `__new__` calls.
_tuple_new = tuple.__new__


def _controller_uid(obj: Obj) -> Any:
    """The uid of the object's controller reference; None without one, `_NO_UID` when it names none."""
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid", _NO_UID)
    return None


def _orphan(obj: Obj) -> bool:
    # A controller reference without a uid counts as no controller, as the controllers' own filter reads it.
    uid = _controller_uid(obj)
    return uid is None or uid is _NO_UID


_NO_UID = object()

# The default of the store's look-ups that may miss (`.get(resource, _EMPTY)`): one shared empty dict
# instead of a fresh `{}` per call — reads, updates and the listeners' `any_in` on every pod write.
# Never written: every write path looks up or creates the real dict first.
_EMPTY: dict[Any, Any] = {}


def _toggle(index: dict[Any, set[str]], key: Any, name: str, add: bool) -> None:
    if add:
        index.setdefault(key, set()).add(name)
        return
    names = index.get(key)
    if names is not None:
        names.discard(name)
        if not names:
            del index[key]


def thaw(value: Any) -> Any:
    """A mutable deep copy of a stored object."""
    return copy_json(value)


class MemoryStore:
    """Objects keyed by (group, plural) → namespace → name; one revision counter for all."""

    def __init__(self, *, history: int = 100_000) -> None:
        self.lock = threading.RLock()
        self._objects: dict[Resource, dict[str, dict[str, Obj]]] = {}
        self._revision = 1
        self._log: deque[Event] = deque(maxlen=history)
        self._compacted = 1  # watches may start from revisions > this
        self._watches: dict[Resource, list[Watch]] = {}
        self._listeners: dict[Resource, list[Listener]] = {}
        self._any_listeners: list[Listener] = []
        # resource → its listeners then the catch-all ones, in subscription order: what `_emit` calls on
        # every write (~15 per pod write), as one tuple instead of two look-ups and two loops.
        self._fanout: dict[Resource, tuple[Listener, ...]] = {}
        # (resource, owner uid) → {(namespace, name)}: what controllers and the GC ask most.
        self._by_owner: dict[tuple[Resource, str], set[tuple[str, str]]] = {}
        # (resource, namespace, controller uid) → names: what a ReplicaSet counts on every sync.
        self._by_controller: dict[tuple[Resource, str, str], set[str]] = {}
        # resource → namespace → names of objects no controller owns; kept for a resource once asked.
        self._orphans: dict[Resource, dict[str, set[str]]] = {}

    # ----------------------------------------------------------------- reads
    @property
    def revision(self) -> int:
        return self._revision

    def get(self, resource: Resource, namespace: str, name: str) -> Obj | None:
        # `_EMPTY`, not `{}`: two empty dicts were built and dropped on every read (the commonest store
        # call, and the namespace check of every create) for the rare miss.
        return self._objects.get(resource, _EMPTY).get(namespace, _EMPTY).get(name)

    def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        predicate: Callable[[Obj], bool] | None = None,
    ) -> tuple[builtins.list[Obj], int]:
        """Objects sorted by (namespace, name) as etcd's key order gives them, and the revision."""
        with self.lock:
            by_ns = self._objects.get(resource, _EMPTY)
            if namespace is not None:
                objs = by_ns.get(namespace)
                if not objs:  # controllers ask this of empty namespaces on every pod event
                    return [], self._revision
                spaces: Iterable[tuple[str, dict[str, Obj]]] = [(namespace, objs)]
            else:
                spaces = sorted(by_ns.items())
            items: builtins.list[Obj] = []
            for _, objs in spaces:
                names = sorted(objs)
                if predicate is None:
                    items.extend(objs[n] for n in names)
                else:
                    items.extend(o for o in (objs[n] for n in names) if predicate(o))
            return items, self._revision

    def any_in(self, resource: Resource, namespace: str) -> bool:
        """Whether `namespace` holds an object of `resource`: a point read like `get`, for the listeners
        that only care about pods in namespaces with a workload of their kind."""
        return bool(self._objects.get(resource, _EMPTY).get(namespace))

    def owned_by(self, resource: Resource, owner_uid: str) -> builtins.list[Obj]:
        """Objects of `resource` with an ownerReference to `owner_uid`, sorted like `list`."""
        with self.lock:
            keys = sorted(self._by_owner.get((resource, owner_uid), ()))
            spaces = self._objects.get(resource, _EMPTY)
            return [spaces[ns][name] for ns, name in keys]

    def claimable(self, resource: Resource, namespace: str,
                  owner_uid: str) -> tuple[builtins.list[Obj], builtins.list[Obj]]:
        """(objects in `namespace` whose controller is `owner_uid`, objects there with no controller): what
        a ReplicaSet may count or adopt, from the indexes — without walking the namespace. Both lists are
        in no particular order (set order): a ReplicaSet re-reads all its pods on every sync and only
        sorts them when order shows (deletions, adoptions), so the per-sync sort of 10,000 names is saved."""
        with self.lock:
            orphans = self._orphans.get(resource)
            if orphans is None:
                orphans = self._orphans[resource] = {}
                for ns, objs in self._objects.get(resource, _EMPTY).items():
                    for name, obj in objs.items():
                        if _orphan(obj):
                            orphans.setdefault(ns, set()).add(name)
            space = self._objects.get(resource, _EMPTY).get(namespace, _EMPTY)
            controlled = self._by_controller.get((resource, namespace, owner_uid), ())
            return [space[name] for name in controlled], [space[name] for name in orphans.get(namespace, ())]

    def _index(self, resource: Resource, old: Obj | None, new: Obj | None) -> None:
        old_refs = old["metadata"].get("ownerReferences") if old is not None else None
        new_refs = new["metadata"].get("ownerReferences") if new is not None else None
        if old is not None and new is not None and old_refs == new_refs:
            return  # same key, same owners (a status or label write): neither index moves
        orphans = self._orphans.get(resource)
        if orphans is None and not old_refs and not new_refs:
            return  # nothing owns it and nobody asked for this resource's orphans (Events, bare pods)
        for obj, add in ((old, False), (new, True)):
            if obj is None:
                continue
            meta = obj["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            if orphans is not None:
                if add and _orphan(obj):
                    orphans.setdefault(key[0], set()).add(key[1])
                elif not add:
                    orphans.get(key[0], set()).discard(key[1])
            controller = _controller_uid(obj)
            if controller and type(controller) is str:  # a uid, not None or _NO_UID
                _toggle(self._by_controller, (resource, key[0], controller), key[1], add)
            for ref in meta.get("ownerReferences") or ():
                uid = ref.get("uid")
                if not uid:
                    continue
                if add:
                    self._by_owner.setdefault((resource, uid), set()).add(key)
                else:
                    owned = self._by_owner.get((resource, uid))
                    if owned is not None:
                        owned.discard(key)
                        if not owned:
                            del self._by_owner[(resource, uid)]

    def count(self, resource: Resource) -> int:
        return sum(len(v) for v in self._objects.get(resource, _EMPTY).values())

    def resources(self) -> builtins.list[Resource]:
        return [r for r, spaces in self._objects.items() if any(spaces.values())]

    # ---------------------------------------------------------------- writes
    def create(self, resource: Resource, obj: Obj, *, copy: bool = True) -> Obj:
        """Store a new object. With `copy=False` the store takes ownership of `obj` and of its
        `metadata` (the API server passes objects it built privately, metadata included); the caller
        must never touch either again."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        with self.lock:
            # Looked up before `setdefault`: its `{}` defaults would be built on every create.
            spaces = self._objects.get(resource)
            if spaces is None:
                spaces = self._objects[resource] = {}
            space = spaces.get(namespace)
            if space is None:
                space = spaces[namespace] = {}
            if name in space:
                raise errors.already_exists(resource[0], resource[1], name)
            revision = self._revision = self._revision + 1
            stored = freeze(obj) if copy else obj
            # A new object's metadata is the store's own — frozen just now, or built fresh by the owner
            # that handed it over — so it is stamped in place: one dict less per create (an Event, four
            # per pod). `update` copies instead: its metadata is shared with the stored version.
            stored["metadata"]["resourceVersion"] = str(revision)
            space[name] = stored
            if resource in self._orphans or stored["metadata"].get("ownerReferences"):
                self._index(resource, None, stored)  # (otherwise no index moves: `_index`'s own early exit)
            self._emit(_tuple_new(Event, ("ADDED", resource, stored, None, revision)))
            return stored

    def update(self, resource: Resource, obj: Obj, *, expect_rv: str | None = None, copy: bool = True) -> Obj:
        """Replace an object. `expect_rv` (or the object's own resourceVersion, if set) must be current."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        with self.lock:
            space = self._objects.get(resource, _EMPTY).get(namespace, _EMPTY)
            old = space.get(name)
            if old is None:
                raise errors.not_found(resource[0], resource[1], name)
            wanted = expect_rv if expect_rv is not None else meta.get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise errors.conflict(resource[0], resource[1], name)
            revision = self._revision = self._revision + 1
            stored = freeze(obj) if copy else obj
            meta = stored["metadata"] = dict(stored["metadata"], resourceVersion=str(revision))
            space[name] = stored
            if meta.get("ownerReferences") != old["metadata"].get("ownerReferences"):
                self._index(resource, old, stored)  # (same owners: neither index moves — most writes)
            self._emit(_tuple_new(Event, ("MODIFIED", resource, stored, old, revision)))
            return stored

    def delete(self, resource: Resource, namespace: str, name: str, *, expect_rv: str | None = None) -> Obj:
        with self.lock:
            space = self._objects.get(resource, _EMPTY).get(namespace, _EMPTY)
            old = space.get(name)
            if old is None:
                raise errors.not_found(resource[0], resource[1], name)
            if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(resource[0], resource[1], name)
            del space[name]
            self._index(resource, old, None)
            self._revision += 1
            # The DELETED event carries the last state at the deletion's revision, as etcd watches do.
            tomb = dict(old)
            tomb["metadata"] = dict(old["metadata"], resourceVersion=str(self._revision))
            self._emit(Event("DELETED", resource, tomb, old, self._revision))
            return tomb

    # ----------------------------------------------------------------- watch
    def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        since: int | None = None,
        predicate: Callable[[Obj], bool] | None = None,
        initial: bool = False,
    ) -> Watch:
        """Events after revision `since` (None: from now). `initial` sends ADDED for current objects first
        (what a watch without resourceVersion, or with sendInitialEvents, gives)."""
        with self.lock:
            if since is not None and since < self._compacted and since != 0:
                raise errors.ApiError(
                    "Expired", f"too old resource version: {since} ({self._compacted})", code=410
                )
            w = Watch(resource, namespace, predicate, self._forget)
            if initial or since == 0:
                objs, _ = self.list(resource, namespace, predicate)
                for o in objs:
                    w.push(Event("ADDED", resource, o, None, int(o["metadata"]["resourceVersion"])))
            elif since is not None:
                for ev in self._log:
                    if ev.revision > since and ev.resource == resource:
                        w.offer(ev)
            self._watches.setdefault(resource, []).append(w)
            return w

    def _forget(self, w: Watch) -> None:
        with self.lock:
            ws = self._watches.get(w.resource, [])
            if w in ws:
                ws.remove(w)

    def subscribe(self, resource: Resource | None, listener: Listener) -> None:
        """Call `listener(event)` synchronously after every write to `resource` (None: all resources).
        Listeners only enqueue work (informer handlers); they must not write to the store."""
        with self.lock:
            if resource is None:
                self._any_listeners.append(listener)
            else:
                self._listeners.setdefault(resource, []).append(listener)
            self._fanout.clear()

    def _emit(self, event: Event) -> None:
        log, resource = self._log, event.resource  # every write comes here: look each up once
        if log.maxlen:
            log.append(event)
            if len(log) == log.maxlen:
                self._compacted = log[0].revision
        else:
            self._compacted = event.revision + 1
        for w in self._watches.get(resource, ()):
            w.offer(event)
        fanout = self._fanout.get(resource)
        if fanout is None:
            fanout = self._fanout[resource] = (*self._listeners.get(resource, ()), *self._any_listeners)
        for listener in fanout:
            listener(event)

    def compact(self, revision: int) -> None:
        """Forget history up to `revision`: later watches from older revisions get 410 Gone."""
        with self.lock:
            while self._log and self._log[0].revision <= revision:
                self._log.popleft()
            self._compacted = max(self._compacted, revision + 1)

    # ------------------------------------------------------ snapshot/restore
    def snapshot(self) -> dict[Resource, dict[str, dict[str, Obj]]]:
        """A consistent copy of every object (cheap: stored objects are immutable and shared)."""
        with self.lock:
            return {r: {ns: dict(objs) for ns, objs in spaces.items()} for r, spaces in self._objects.items()}

    def restore(self, snapshot: dict[Resource, dict[str, dict[str, Obj]]]) -> None:
        """Bring the store back to `snapshot`. Time moves forward: every difference becomes a new
        write (DELETED, ADDED or MODIFIED at a fresh revision), so watchers and controllers follow."""
        with self.lock:
            for resource in list(self._objects):
                target = snapshot.get(resource, {})
                for ns, objs in list(self._objects[resource].items()):
                    for name in list(objs):
                        if name not in target.get(ns, {}):
                            self.delete(resource, ns, name)
            for resource, spaces in snapshot.items():
                for ns, objs in spaces.items():
                    current = self._objects.setdefault(resource, {}).setdefault(ns, {})
                    for name, obj in objs.items():
                        live = current.get(name)
                        if live is obj:
                            continue
                        if live is None:
                            self._restore_one(resource, current, name, obj, None)
                        else:
                            self._restore_one(resource, current, name, obj, live)

    def _restore_one(self, resource: Resource, space: dict[str, Obj], name: str, obj: Obj, live: Obj | None) -> None:
        self._revision += 1
        stored = dict(obj)
        stored["metadata"] = dict(obj["metadata"], resourceVersion=str(self._revision))
        space[name] = stored
        self._index(resource, live, stored)
        self._emit(Event("ADDED" if live is None else "MODIFIED", resource, stored, live, self._revision))

    def close(self) -> None:
        with self.lock:
            for ws in self._watches.values():
                for w in list(ws):
                    w.stop()
            self._watches.clear()
