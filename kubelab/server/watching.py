"""Watch: a chunked stream of `{"type": …, "object": …}` lines, as kube-apiserver sends them.

Without a resourceVersion (or with `0`) the stream starts with ADDED for every current match;
with one, only later changes (replayed from the store's log; a compacted one gives a single
ERROR event carrying the 410 Expired Status). `sendInitialEvents=true` (the WatchList that
`kubectl delete`, `wait` and `rollout status` use) sends ADDED for the current matches, then a
BOOKMARK annotated `k8s.io/initial-events-end: "true"`. With `allowWatchBookmarks`, quiet
streams get periodic BOOKMARKs. A Table Accept wraps each object in a one-row Table (what
`kubectl get -w` prints). In stepped mode a waiting watch moves simulated time to the next
due event (`Cluster.step_watch`), so a `rollout status` returns as soon as the rollout is done.

Read by: server.app. Reads: cluster.apiserver.predicate, store (watch), server.present.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.cluster.apiserver import predicate
from kubelab.server.messages import Request, Stream, encode
from kubelab.server.present import wants_table
from kubelab.server.routes import Target
from kubelab.store.memory import Obj
from kubelab.store.watch import Watch

if TYPE_CHECKING:
    from kubelab.server.app import ApiApp

BOOKMARK_INTERVAL = 5.0  # wall seconds without an event before a BOOKMARK (when the client allows them)
POLL = 0.5  # how often an idle stream lets the transport check that the client is still there
STEP_PACE = 0.02  # wall seconds between two fast-forward steps of a stepped clock (bounds a crash loop's pace)
# After an event, a stepped stream holds the clock this long before stepping on: a client that got what
# it waited for (`kubectl wait`, `rollout status`) has left by then, so simulated time stops where it
# was satisfied instead of running on by however long the server took to notice.
DELIVERY_GRACE = 0.2
DEFAULT_TIMEOUT = 1800.0  # apiserver picks 30–60 min when the client names no timeoutSeconds
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class Stepper:
    """The idle hook of a waiting stream on a stepped cluster: move time to the next due event, at
    most one step per STEP_PACE, and hand control back to the stream every POLL (to notice a gone
    client or the timeout) even while steps bring nothing this stream wants. A watch steps only to
    timers that make progress (`step_watch`); a followed log also lets background timers pass
    (`follow=True`, `step_follow`): the container's own sleeps are such timers."""

    def __init__(self, cluster: Any, follow: bool = False) -> None:
        self.cluster = cluster
        self.follow = follow
        self.round_start = time.monotonic()
        self.last_step = 0.0
        self.holding = False  # just delivered an event: let the client leave before moving time

    def new_round(self) -> None:
        self.round_start = time.monotonic()

    def __call__(self) -> bool:
        now = time.monotonic()
        if self.holding or now - self.round_start >= POLL:
            return False
        if self.cluster.clock.next_due(include_background=self.follow) is None:
            return False  # nothing to move to: wait for writes instead (no pause, no lock)
        pause = self.last_step + STEP_PACE - now
        if pause > 0:
            time.sleep(pause)
        self.last_step = time.monotonic()
        return bool(self.cluster.step_follow() if self.follow else self.cluster.step_watch())


def _selectors(req: Request, target: Target) -> tuple[str | None, str | None]:
    fields = req.param("fieldSelector")
    if target.name is not None:  # watching one object: GET …/pods/x?watch=true
        fields = f"metadata.name={target.name}" + (f",{fields}" if fields else "")
    return req.param("labelSelector"), fields


def watch(app: ApiApp, req: Request, target: Target) -> Stream:
    cluster, kind = app.cluster, target.kind
    labels, fields = _selectors(req, target)
    matches = predicate(kind, labels, fields)  # a bad selector is a 400 before the stream starts
    rv = req.param("resourceVersion") or ""
    initial_events = req.param("sendInitialEvents") in ("true", "1", "True")
    since: int | None = None
    if rv not in ("", "0") and not initial_events:
        try:
            since = int(rv)
        except ValueError:
            raise ApiError("BadRequest", f'resourceVersion: Invalid value: "{rv}": must be a number') from None
    namespace = target.namespace if kind.namespaced else None
    resource = (kind.group, kind.plural)
    store = cluster.store
    initial: list[Obj] = []
    with cluster.lock:  # no write between the list and the watch: nothing is missed or sent twice
        cluster.pump()
        if since is None:
            initial, revision = store.list(resource, namespace, matches)
        else:
            revision = store.revision
        try:
            w = store.watch(resource, namespace, since=since, predicate=matches)
        except ApiError as err:  # 410 Expired: one ERROR event tells the client to list again
            return Stream(iter([_line("ERROR", err.status)]), cancel=lambda: None)
    if cluster.clock.mode == "stepped":
        w.idle_hook = Stepper(cluster)
    stream = _WatchStream(app, kind, w, wants_table(req.accept), req.param("includeObject"))
    chunks = stream.chunks(initial, revision if initial_events else None, req.flag("allowWatchBookmarks"),
                           req.int_param("timeoutSeconds") or DEFAULT_TIMEOUT)
    return Stream(chunks, cancel=w.stop)


def _line(event_type: str, obj: Any) -> bytes:
    return encode({"type": event_type, "object": obj}) + b"\n"


class _WatchStream:
    """One client's watch: store events rendered as JSON lines (objects or one-row Tables)."""

    def __init__(self, app: ApiApp, kind: Kind, w: Watch, table: bool, include: str | None) -> None:
        self.app, self.kind, self.w, self.table, self.include = app, kind, w, table, include

    def event(self, event_type: str, obj: Obj) -> bytes:
        presenter = self.app.presenter
        seconds = presenter.offset()
        if self.table:
            meta = {"resourceVersion": obj["metadata"]["resourceVersion"]}
            return _line(event_type, presenter.table(self.kind, [obj], seconds, self.include, meta))
        return _line(event_type, presenter.object(self.kind, obj, seconds))

    def bookmark(self, revision: int, end_of_initial: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(revision), "creationTimestamp": None}
        if end_of_initial:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        return _line("BOOKMARK", {"kind": self.kind.kind, "apiVersion": self.kind.api_version, "metadata": meta})

    def chunks(self, initial: list[Obj], initial_end: int | None, bookmarks: bool,
               timeout: float) -> Iterator[bytes | None]:
        """ADDED for `initial`, the initial-events-end BOOKMARK at `initial_end` (WatchList), then
        live events until `timeout`; None while idle, so the transport can check on the client."""
        w, store = self.w, self.app.cluster.store
        stepper = w.idle_hook if isinstance(w.idle_hook, Stepper) else None
        try:
            for obj in initial:
                yield self.event("ADDED", obj)
            if initial_end is not None:
                yield self.bookmark(initial_end, end_of_initial=True)
            deadline = time.monotonic() + timeout
            quiet_since = time.monotonic()
            delivered = False
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if stepper is not None:
                    stepper.new_round()
                    stepper.holding = delivered
                event = w.next(timeout=min(DELIVERY_GRACE if delivered and stepper else POLL, remaining))
                delivered = event is not None
                if event is not None:
                    yield self.event(event.type, event.object)
                    quiet_since = time.monotonic()
                elif w.stopped:
                    return
                elif bookmarks and time.monotonic() - quiet_since >= BOOKMARK_INTERVAL:
                    with store.lock:  # every event up to this revision has been offered to the watch
                        pending, revision = w.drain(), store.revision
                    for e in pending:
                        yield self.event(e.type, e.object)
                    yield self.bookmark(revision)
                    quiet_since = time.monotonic()
                else:
                    yield None
        finally:
            w.stop()
