"""`kubelab.Cluster`: the local Kubernetes control plane and its Python API.

A Cluster owns the store, the simulated clock, the seeded generator, the in-process API
server, the event recorder and trace, and the components (controllers, scheduler, kubelets)
that later modules register. Its `pump()` runs everything that is due: timers at or before
simulated now, then every controller's work queue, until nothing is left — so a write's
immediate consequences (a ReplicaSet creating its pods) are visible to the next read, while
anything with a delay waits for time to move (`advance`, `settle`, or the realtime thread).

Read by: kubelab (public API), server, magics, widgets. Reads: api, store, cluster.*.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import random
import threading
from pathlib import Path
from typing import Any

from kubelab.api import kinds, manifests, patch
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.cluster.apiserver import ApiServer, any_kind, kind_of, namespace_of
from kubelab.cluster.clock import SimClock
from kubelab.cluster.controllers.base import Controller
from kubelab.cluster.gcpause import PausingLock, paused_gc
from kubelab.cluster.handles import ClusterSnapshot, ClusterWatch, bookmark
from kubelab.cluster.nodeops import NodeOperations
from kubelab.cluster.podops import PodOperations
from kubelab.cluster.recorder import EventRecorder, Trace
from kubelab.cluster.rolloutops import RolloutOperations
from kubelab.cluster.systempods import BOOT_SECONDS
from kubelab.store.memory import MemoryStore, Obj, thaw
from kubelab.store.watch import Event

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
MAX_PUMP_STEPS = 1_000_000
STALE_READ_RETRIES = 50  # immediate retries of a Conflict/NotFound/AlreadyExists before backing off
_EVENTS = kinds.resolve("events")  # what the recorder writes (its create skips the kind look-up)


class Cluster(NodeOperations, RolloutOperations, PodOperations):
    """A local Kubernetes cluster in this Python process.

    >>> c = Cluster(clock="stepped", seed=1)
    >>> c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1"}})[0]["kind"]
    'ConfigMap'
    """

    pod_network: Any = None  # the cluster network pods talk through (cluster.network installs it)

    def __init__(
        self,
        nodes: int = 1,
        seed: int | None = None,
        clock: str | None = None,
        state: str | os.PathLike[str] | None = None,
        *,
        speed: float = 1.0,
        profile: str = "kubelab",
    ) -> None:
        clock = clock or os.environ.get("KUBELAB_CLOCK") or "realtime"
        if seed is None and os.environ.get("KUBELAB_SEED"):
            seed = int(os.environ["KUBELAB_SEED"])
        self.seed = seed
        self.rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8), "big"))
        self.clock = SimClock(clock, speed=speed, lead=BOOT_SECONDS)  # kube-system boots in the lead
        self.lock = PausingLock()  # the collector waits while it is held (cluster.gcpause)
        self.store: MemoryStore = self._open_store(state)
        self.trace_log = Trace(self.clock.now)
        self.api = ApiServer(self.store, self.clock, self.rng, self.trace_log)
        self.recorder = EventRecorder(self.clock.now, self._write_event)
        self.profile = profile
        self.controllers: list[Controller] = []
        self._closed = False
        self._thread: threading.Thread | None = None
        self._servers: list[Any] = []  # API servers started by serve(), stopped by close()
        self._bootstrap()
        self._install_components(nodes)
        self.pump()
        if self.clock.mode == "realtime":
            self._thread = threading.Thread(target=self._follow_wall_clock, name="kubelab-clock", daemon=True)
            self._thread.start()

    # --------------------------------------------------------- set-up
    def _open_store(self, state: str | os.PathLike[str] | None) -> MemoryStore:
        """Memory by default; with `state`, SQLite that also carries the clock and the generator."""
        if state is None:
            return MemoryStore()
        from kubelab.store.sqlite import SqliteStore

        store = SqliteStore(Path(state))
        if not store.writable:
            store.close()
            raise ApiError("ServiceUnavailable", f"{state} is in use by another kubelab cluster: close it "
                           "(cluster.close() or restart that kernel) and try again")
        saved_now = store.meta_get("clock.now")
        if saved_now is not None and self.clock.mode == "stepped":
            self.clock.move_to(float(saved_now))
        saved_rng = store.meta_get("rng.state")
        if saved_rng is not None:
            version, internal, gauss = saved_rng
            self.rng.setstate((version, tuple(internal), gauss))
        self._closers = [lambda: self._save_state(store)]
        return store

    def _save_state(self, store: Any) -> None:
        store.meta_set("clock.now", self.clock.now())
        store.meta_set("rng.state", self.rng.getstate())

    def _bootstrap(self) -> None:
        for ns in SYSTEM_NAMESPACES:
            if self.store.get(("", "namespaces"), "", ns) is None:
                self.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    def _install_components(self, nodes: int) -> None:
        """Register controllers and node components; later layers extend this list."""
        from kubelab.cluster import components

        components.install(self, nodes)

    def add_controller(self, controller: Controller) -> None:
        self.controllers.append(controller)
        for resource in controller.watched():
            self.store.subscribe(resource, controller.handle)
        # Like an informer's initial list: reconcile what is already stored.
        objs, _ = self.store.list(controller.primary)
        for obj in objs:
            controller.queue.add((obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))

    # ----------------------------------------------------------- pump
    def pump(self) -> None:
        """Run all work due at the current simulated time, in passes: every due timer, then each
        controller (in install order) once over the keys it had queued when its turn came. A key
        queued again during its own turn waits for the next pass, so a Deployment never takes two
        scaling steps before its ReplicaSet acted on the first, and a burst of pod updates reaches a
        ReplicaSet as one reconcile — the batching a real work queue gives."""
        with self.lock, paused_gc():
            controllers = self.controllers
            for _ in range(MAX_PUMP_STEPS):
                worked = False
                while (timer := self.clock.pop_due()) is not None:
                    self._run(timer.fn, "timer")
                    worked = True
                for controller in controllers:
                    queue = controller.queue
                    for _ in range(len(queue)):
                        self._reconcile(controller, queue.pop())
                        worked = True
                if not worked:
                    return
            raise RuntimeError("kubelab: components did not settle (a reconcile loop keeps requeueing)")

    def _reconcile(self, controller: Controller, key: Any) -> None:
        try:
            again = controller.reconcile(key)
        except Exception as err:  # a controller bug must not stop the cluster either
            failures = controller.failures[key] = controller.failures.get(key, 0) + 1
            stale = isinstance(err, ApiError) and err.reason in ("Conflict", "NotFound", "AlreadyExists")
            if stale and failures <= STALE_READ_RETRIES:
                controller.queue.add(key)  # a stale read: try again with fresh state, like a real requeue
                return
            # Any other error, or one that fresh reads did not cure (a pod of that name owned by
            # someone else): client-go's per-item back-off, a stale-read error from its first step.
            self._retry_later(controller, key, err, failures - STALE_READ_RETRIES if stale else failures)
            return
        controller.failures.pop(key, None)
        if again is not None:
            controller.requeue_after(key, again)

    def _retry_later(self, controller: Controller, key: Any, err: Exception, step: int) -> None:
        """Requeue a failed key after 5 ms × 2^step, at most 1000 s (client-go's per-item back-off)."""
        delay = min(0.005 * 2 ** step, 1000.0)
        self.trace_log.add(controller.name, "reconcile failed", f"{key[0]}/{key[1]}" if key[0] else key[1], str(err))
        controller.requeue_after(key, delay)

    def _run(self, fn: Any, what: str) -> None:
        try:
            fn()
        except Exception as err:  # a component bug is logged in the trace, the clock goes on
            self.trace_log.add("kubelab", f"{what} failed", repr(fn), repr(err))

    def _follow_wall_clock(self) -> None:
        while not self._closed:
            with self.clock.changed:
                due = self.clock.first_due()
                wait = None if due is None else max(0.0, (due - self.clock.now()) / self.clock.speed)
                if wait is None or wait > 0:
                    self.clock.changed.wait(timeout=wait if wait is not None else None)
            if not self._closed:
                self.pump()

    # ------------------------------------------------------ time API
    @property
    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move simulated time forward by `seconds`, running everything that falls due on the way."""
        with self.lock, paused_gc():  # one pause for all the pumps on the way
            self.pump()
            target = self.clock.now() + seconds
            while True:
                due = self.clock.first_due()
                if due is None or due > target:
                    break
                self.clock.move_to(due)
                self.pump()
            self.clock.move_to(target)
            self.pump()

    def settle(self, timeout: float = 600.0) -> float:
        """Advance to each next pending non-background timer until none is left (or `timeout` simulated
        seconds passed). Returns the simulated seconds it moved."""
        with self.lock, paused_gc():
            self.pump()
            start = self.clock.now()
            while True:
                due = self.clock.next_due(include_background=False)
                if due is None or due - start > timeout:
                    break
                self._advance_to(due)
            return self.clock.now() - start

    def _advance_to(self, due: float) -> None:
        """Run every timer up to `due` in order (background ones on the way too), then `due` itself."""
        while True:
            first = self.clock.first_due()
            if first is None or first > due:
                break
            self.clock.move_to(first)
            self.pump()
        self.clock.move_to(due)
        self.pump()

    def step_watch(self) -> bool:
        """For a waiting client in stepped mode: jump to the next timer that makes progress (background
        timers such as heartbeats never drag time forward on their own). False when none is pending."""
        if self.clock.mode != "stepped":
            return False
        with self.lock:
            due = self.clock.next_due(include_background=False)
            if due is None:
                return False
            self._advance_to(due)
            return True

    # ------------------------------------------------------- objects
    def apply(self, source: Any, namespace: str | None = None) -> list[Obj]:
        """Create or update every object in `source` (YAML/JSON text, dict, list or path), like
        `kubectl apply`. Every document is checked before anything is written: if one is invalid,
        nothing changes."""
        documents = manifests.load(source)
        with self.lock:
            self.pump()
            plans = [self._plan_apply(doc, namespace) for doc in documents]
            results = []
            for plan in plans:
                results.append(thaw(self._commit_apply(plan)))
                self.pump()
            return results

    def _plan_apply(self, doc: Obj, namespace: str | None) -> tuple[str, Kind, Any, Obj | None]:
        """What applying `doc` will do — ("create", kind, prepared), ("update", kind, merged, live) or
        ("unchanged", kind, live) — validated without writing."""
        kind = kind_of(doc)
        ns = namespace_of(kind, doc, namespace)
        name = doc.get("metadata", {}).get("name")
        modified = _with_last_applied(doc)
        live = self.store.get((kind.group, kind.plural), ns, name) if name else None
        if live is None:
            _, prepared, _ = self.api.prepare(modified, namespace)
            return ("create", kind, prepared, None)
        original_text = (live["metadata"].get("annotations") or {}).get(LAST_APPLIED)
        original = json.loads(original_text) if original_text else None
        diff = patch.create_three_way_patch(original, modified, live, kind)  # the engines copy their inputs
        if not diff:
            return ("unchanged", kind, live, live)
        merged = patch.strategic_merge_patch(live, diff, kind)
        merged["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        return ("update", kind, self.api.prepare_update(merged, ns), live)

    def _commit_apply(self, plan: tuple[str, Kind, Any, Obj | None]) -> Obj:
        action, kind, obj, live = plan
        if action == "create":
            return self.api.commit_create(kind, obj)
        if action == "update":
            return self.api.commit_update(obj)
        return obj

    def create(self, obj: Obj, namespace: str | None = None) -> Obj:
        with self.lock:
            self.pump()
            stored = self.api.create(manifests.load(obj)[0], namespace)
            self.pump()
            return thaw(stored)

    def update(self, obj: Obj, namespace: str | None = None) -> Obj:
        with self.lock:
            self.pump()
            stored = self.api.update(obj, namespace)
            self.pump()
            return thaw(stored)

    def get(self, kind: str | Kind, name: str, namespace: str | None = "default") -> Obj:
        with self.lock:
            self.pump()
            k = any_kind(kind)
            return thaw(self.api.get(k, namespace or "default", name))

    def list(
        self,
        kind: str | Kind,
        namespace: str | None = "default",
        selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        with self.lock:
            self.pump()
            items, _ = self.api.list(any_kind(kind), namespace, selector, field_selector)
            return [thaw(o) for o in items]

    def delete(
        self,
        kind: str | Kind,
        name: str,
        namespace: str | None = "default",
        propagation: str = "Background",
        grace_period: int | None = None,
    ) -> Obj:
        with self.lock:
            self.pump()
            gone = self.api.delete(any_kind(kind), namespace or "default", name, propagation=propagation,
                                   grace_period=grace_period)
            self.pump()
            return thaw(gone)

    def watch(
        self,
        kind: str | Kind,
        namespace: str | None = None,
        resource_version: str | int | None = None,
        selector: str | None = None,
        field_selector: str | None = None,
        bookmarks: bool = False,
    ) -> ClusterWatch:
        """Events as `{"type": ..., "object": ...}` dicts. Without `resource_version`, current objects
        arrive first as ADDED (like a watch with no resourceVersion); with one, only later changes.
        With `bookmarks`, a BOOKMARK marks the end of the initial events (annotated
        `k8s.io/initial-events-end`, as a WatchList stream does) and `next(timeout)` answers an idle
        wait with a BOOKMARK carrying the current resourceVersion."""
        from kubelab.cluster.apiserver import predicate

        k = any_kind(kind)
        with self.lock:
            self.pump()
            since = int(resource_version) if resource_version not in (None, "") else None
            w = self.store.watch((k.group, k.plural), namespace if k.namespaced else None, since=since,
                                 predicate=predicate(k, selector, field_selector), initial=since is None)
            if bookmarks:
                w.push(Event("BOOKMARK", (k.group, k.plural), bookmark(k, self.store.revision, initial_end=True),
                             None, self.store.revision))
        if self.clock.mode == "stepped":
            w.idle_hook = self.step_watch
        return ClusterWatch(w, (lambda: bookmark(k, self.store.revision)) if bookmarks else None)

    def events(self, namespace: str | None = None) -> builtins.list[Obj]:
        """core/v1 Events, oldest first (by lastTimestamp, then name)."""
        items = self.list("events", namespace)
        return sorted(items, key=lambda e: (e.get("lastTimestamp") or "", e["metadata"]["name"]))

    def record_event(self, obj: Obj, type: str, reason: str, message: str, component: str, *,
                     host: str | None = None, field_path: str | None = None) -> Obj:
        return self.recorder.record(obj, type, reason, message, component, host=host, field_path=field_path)

    def _write_event(self, event: Obj, existing: Obj | None) -> Obj:
        if existing is not None:
            live = self.store.get(("", "events"), existing["metadata"]["namespace"], existing["metadata"]["name"])
            if live is not None:
                event["metadata"] = dict(live["metadata"])
                return self.api.replace_trusted(event)  # the recorder built it: no decode/validation
            event = dict(event)
            event["metadata"] = {"name": existing["metadata"]["name"], "namespace": existing["metadata"]["namespace"]}
        try:
            return self.api.create_trusted(event, _EVENTS)
        except ApiError:
            return event  # the namespace is going away: the event has nowhere to live

    def serve(self, port: int = 0, kubeconfig: str | os.PathLike[str] | None = None) -> Any:
        """Serve this cluster's Kubernetes API over HTTPS on 127.0.0.1 for kubectl and clients.

        Returns a `kubelab.server.ServerHandle` (`url`, `kubeconfig`, `token`, `stop()`). With
        `kubeconfig`, the `kubelab` context is merged into that file; otherwise a private one is written.
        Closing the cluster stops it."""
        # The server layer sits above this one: look it up at call time rather than importing it.
        server = importlib.import_module("kubelab.server")
        handle = server.serve(self, port, kubeconfig)
        self._servers.append(handle)
        return handle

    def trace(self, since: int | None = None) -> builtins.list:
        return self.trace_log.since(since)

    # ------------------------------------------------ snapshot/restore
    def snapshot(self) -> ClusterSnapshot:
        with self.lock:
            self.pump()
            return ClusterSnapshot(self.store.snapshot(), self.trace_log.last_seq)

    def restore(self, snapshot: ClusterSnapshot) -> None:
        """Bring every object back to the snapshot (time keeps moving forward), and the kubelets with the Nodes."""
        with self.lock:
            self.store.restore(snapshot.objects)
            self._reconcile_agents()
            self.recorder.forget()
            self.pump()

    def close(self) -> None:
        for handle in self._servers:
            handle.stop()
        self._closed = True
        with self.clock.changed:
            self.clock.changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for closer in getattr(self, "_closers", ()):
            closer()
        self.store.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<kubelab.Cluster {self.clock.mode} seed={self.seed} revision={self.store.revision}>"


def _with_last_applied(doc: Obj) -> Obj:
    """The manifest as kubectl sends it on apply: with its own JSON in the last-applied annotation."""
    clean = thaw(doc)
    annotations = (clean.get("metadata") or {}).get("annotations") or {}
    annotations.pop(LAST_APPLIED, None)
    text = json.dumps(clean, separators=(",", ":"), sort_keys=True) + "\n"
    meta = clean.setdefault("metadata", {})
    meta["annotations"] = {**annotations, LAST_APPLIED: text}
    return clean


__all__ = ["Cluster", "ClusterSnapshot", "ClusterWatch", "kinds"]
