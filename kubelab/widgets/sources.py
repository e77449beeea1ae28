"""Where a widget reads from: the local cluster in this kernel, or a real cluster by kubeconfig context.

`resolve(source)` accepts a `kubelab.Cluster`, a kubeconfig context name, or None (the magics'
current target) and returns a source with one surface: `snapshot(namespace)`, `events(namespace)`,
`trace(since)` (None on a real cluster), `now()`, and `changes(kinds, namespace)` — a stream of
watch events the widget polls. The local source drains `cluster.watch()` streams without ever
blocking on them: a blocked watch on a stepped clock would fast-forward time, and in stepped
mode updates must come only when the notebook advances time. The real source runs one
`kubernetes.watch.Watch` stream per watched kind on daemon threads, each starting at the
resourceVersion noted just before the last snapshot was read, so a change made between the
picture and the watch is never missed; an expired version relists and redraws.

Read by: widgets.live and the three widgets. Reads: viz.snapshot, the official `kubernetes` client.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

from kubelab.viz.snapshot import EVENT_KIND, KINDS, Snapshot

POLL = 0.02  # seconds between drains of the local watches: well inside the 150 ms update budget
API_WATCH_TIMEOUT = 5  # seconds a real watch request stays open, so a closed widget's threads end soon


class LocalChanges:
    """Watch streams of a local cluster, drained together."""

    def __init__(self, cluster: Any, kinds: Iterable[str], namespace: str | None) -> None:
        revision = cluster.store.revision
        self._watches = []
        for kind in kinds:
            plural, namespaced, _ = KINDS.get(kind) or dict([EVENT_KIND])[kind]
            self._watches.append(cluster.watch(plural, namespace if namespaced else None, resource_version=revision))

    def poll(self, timeout: float, stop: threading.Event) -> list[dict[str, Any]]:
        """Everything that happened, waiting up to `timeout` wall seconds for something."""
        deadline = time.monotonic() + timeout
        while True:
            got = [event for w in self._watches for event in w.drain()]
            if got or stop.is_set() or time.monotonic() >= deadline:
                return got
            stop.wait(POLL)

    def stop(self) -> None:
        for w in self._watches:
            w.stop()


class LocalSource:
    """A `kubelab.Cluster` in this kernel."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.name = "local cluster"

    def snapshot(self, namespace: str | None = None) -> Snapshot:
        return Snapshot.from_cluster(self.cluster, namespace)

    def events(self, namespace: str | None = None) -> list[dict[str, Any]]:
        return self.cluster.events(namespace)

    def trace(self, since: int | None = None) -> list[Any] | None:
        return self.cluster.trace(since)

    def trace_mark(self) -> int:
        return self.cluster.trace_log.last_seq

    def now(self) -> float:
        return self.cluster.now

    def changes(self, kinds: Iterable[str], namespace: str | None = None) -> LocalChanges:
        return LocalChanges(self.cluster, kinds, namespace)


class ApiChanges:
    """One `kubernetes.watch.Watch` per kind on daemon threads, feeding one queue."""

    def __init__(self, api_client: Any, kinds: Iterable[str], namespace: str | None, since: str = "") -> None:
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._follow, args=(api_client, kind, namespace, since),
                                          name=f"kubelab-watch-{kind}", daemon=True) for kind in kinds]
        for t in self._threads:
            t.start()

    def _follow(self, api_client: Any, kind: str, namespace: str | None, since: str) -> None:
        from kubernetes import client as k8s
        from kubernetes import watch

        from kubelab.viz.snapshot import _SNAKE

        _, namespaced, api_class = KINDS.get(kind) or dict([EVENT_KIND])[kind]
        api = getattr(k8s, api_class)(api_client)
        snake = _SNAKE[kind]
        args: tuple[str, ...]
        if not namespaced:
            fn, args = getattr(api, f"list_{snake}"), ()
        elif namespace:
            fn, args = getattr(api, f"list_namespaced_{snake}"), (namespace,)
        else:
            fn, args = getattr(api, f"list_{snake}_for_all_namespaces"), ()
        # From the version noted before the picture was read: a thread that starts late (a busy
        # kernel) still sees every change made after that picture. Listing "now" here would not.
        version = since
        while not self._stopped.is_set():
            w = watch.Watch()
            try:
                if not version:  # no picture to start from, or a relist: from now, and redraw, since
                    # whatever changed before this list is in no picture yet
                    listed = json.loads(fn(*args, limit=1, _preload_content=False).data)
                    version = (listed.get("metadata") or {}).get("resourceVersion") or ""
                    self._queue.put({"type": "RELISTED", "object": {"kind": kind}})
                for event in w.stream(fn, *args, resource_version=version, timeout_seconds=API_WATCH_TIMEOUT):
                    obj = event.get("raw_object") or {}
                    if event.get("type") == "ERROR":  # 410 Expired: what came between is lost, relist
                        version = ""
                        w.stop()
                        break
                    version = (obj.get("metadata") or {}).get("resourceVersion") or version
                    self._queue.put({"type": event.get("type"), "object": obj})
                    if self._stopped.is_set():
                        w.stop()
            except Exception:  # noqa: BLE001 — an expired version, RBAC or a dropped connection: relist
                version = ""
                self._stopped.wait(1.0)

    def poll(self, timeout: float, stop: threading.Event) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        try:
            got.append(self._queue.get(timeout=timeout))
        except queue.Empty:
            return got
        while True:
            try:
                got.append(self._queue.get_nowait())
            except queue.Empty:
                return got

    def stop(self) -> None:
        self._stopped.set()


class ApiSource:
    """A cluster reached through a kubeconfig context with the official `kubernetes` client."""

    def __init__(self, context: str | None = None, kubeconfig: str | None = None) -> None:
        import os

        from kubernetes import config

        # $KUBECONFIG as it is now (the client reads it once, at import), so a lesson may set it.
        path = kubeconfig or os.environ.get("KUBECONFIG") or None
        self.api_client = config.new_client_from_config(config_file=path, context=context)
        self.name = f"context {context}" if context else "current context"
        self._mark = ""  # the resourceVersion noted before the last read (`changes` watches from it)

    def snapshot(self, namespace: str | None = None) -> Snapshot:
        self._mark = _revision(self.api_client) or self._mark  # before the read: later changes reach the watch
        return Snapshot.from_api(self.api_client, namespace)

    def events(self, namespace: str | None = None) -> list[dict[str, Any]]:
        self._mark = _revision(self.api_client) or self._mark
        events = _api_events(self.api_client, namespace)
        return sorted(events, key=lambda e: (_last_seen(e), e["metadata"]["name"]))

    def trace(self, since: int | None = None) -> list[Any] | None:
        return None  # only the local cluster records what each component did

    def trace_mark(self) -> int:
        return 0

    def now(self) -> float:
        return time.time()

    def changes(self, kinds: Iterable[str], namespace: str | None = None) -> ApiChanges:
        return ApiChanges(self.api_client, kinds, namespace, since=self._mark)


def _revision(api_client: Any) -> str:
    """The cluster's current resourceVersion (one cheap list). Versions come from one counter (etcd's
    revision), so a watch of any kind may start at it; "" when it cannot be read."""
    from kubernetes import client as k8s

    try:
        response = k8s.CoreV1Api(api_client).list_namespace(limit=1, _preload_content=False)
        body = json.loads(response.data)  # type: ignore[attr-defined]  # raw urllib3 response
        return str((body.get("metadata") or {}).get("resourceVersion") or "")
    except Exception:  # noqa: BLE001 — RBAC may forbid listing namespaces: the watches then list for themselves
        return ""


def _api_events(api_client: Any, namespace: str | None) -> list[dict[str, Any]]:
    from kubernetes import client as k8s

    api = k8s.CoreV1Api(api_client)
    if namespace:
        response = api.list_namespaced_event(namespace, _preload_content=False)
    else:
        response = api.list_event_for_all_namespaces(_preload_content=False)
    return list(json.loads(response.data).get("items") or ())  # type: ignore[attr-defined]


def event_mark(events: Iterable[dict[str, Any]]) -> frozenset[tuple[str, str]]:
    """The Events as they are now, by identity: (uid, resourceVersion) of each."""
    return frozenset(_identity(e) for e in events)


def events_after(events: Iterable[dict[str, Any]], mark: frozenset[tuple[str, str]]) -> list[dict[str, Any]]:
    """The Events created or updated (a repeat bumps `count`) since `mark` was taken.

    Identity, not time: a served kubelab cluster shows its simulated times shifted by (wall now −
    simulated now), which moves as a stepped clock advances, so comparing an Event's lastTimestamp
    with one read earlier can put a new Event before the mark (or an old one after it). An Event's
    uid and resourceVersion change exactly when it happens again, on any cluster."""
    return [e for e in events if _identity(e) not in mark]


def _identity(event: dict[str, Any]) -> tuple[str, str]:
    meta = event.get("metadata") or {}
    return (meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}", str(meta.get("resourceVersion") or ""))


def _last_seen(event: dict[str, Any]) -> str:
    return event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or ""


def resolve(source: Any) -> LocalSource | ApiSource:
    """A widget's `source` argument as a source object (see the module docstring)."""
    if isinstance(source, (LocalSource, ApiSource)):
        return source
    if isinstance(source, str):
        return ApiSource(context=source)
    if source is None:
        return _current_target()
    if hasattr(source, "trace_log") and hasattr(source, "watch"):
        return LocalSource(source)
    raise TypeError(f"source must be a kubelab.Cluster, a kubeconfig context name or None, not {type(source).__name__}")


def _current_target() -> LocalSource | ApiSource:
    """What `%kube` talks to in this kernel: its local cluster, or its kubeconfig context."""
    from kubelab.tools import session

    return from_session(session.current())


def from_session(current: Any) -> LocalSource | ApiSource:
    """A `%kube` session's target: its local cluster (started on first use) or its kubeconfig context."""
    if current.target.is_local:
        return LocalSource(current.ensure_local())
    return ApiSource(context=current.context, kubeconfig=current.kubeconfig_path)
