"""What happened, for people: core/v1 Events and the component trace.

`EventRecorder.record(obj, type, reason, message, component)` writes core/v1 Events the way
client-go's recorder does: named `<object>.<hex nanoseconds>`, with `involvedObject`,
`source.component`, `first/lastTimestamp`, and repeats of the same event within ten minutes
aggregated into one Event whose `count` grows (what `kubectl describe` shows as `x3 over 2m`);
it forgets what can no longer matter, so a long-running cluster does not grow it without bound.

`Trace` is kubelab's own record of every component's actions — `(time, component, action,
object, detail)` — bounded, queryable by sequence number; the sequence widget draws it so the
course's numbered sequences come from a real run.

Read by: cluster.core and every component. Reads: cluster.clock (timestamps).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from kubelab.cluster.clock import rfc3339

AGGREGATE_WINDOW = 600.0  # seconds: client-go's EventCorrelator keeps similar events for 10 minutes


class TraceRecord(NamedTuple):
    """One component action (a named tuple: thousands are made per second in a big cluster)."""

    seq: int
    time: float
    component: str
    action: str
    object: str  # "Pod default/db"
    detail: str

    def __str__(self) -> str:
        return f"{self.component}: {self.action} {self.object}" + (f" ({self.detail})" if self.detail else "")


_new_record = tuple.__new__


class Trace:
    def __init__(self, now: Callable[[], float], limit: int = 10_000) -> None:
        self._now = now
        self._records: deque[TraceRecord] = deque(maxlen=limit)
        self._seq = 0

    def add(self, component: str, action: str, obj: str | dict[str, Any], detail: str = "") -> TraceRecord:
        self._seq += 1
        # tuple.__new__ skips the named tuple's generated Python-level __new__ (same record): ~6 records
        # per pod, and callgrind counts ~20 % fewer instructions per add with this and `describe`'s one f-string.
        record = _new_record(TraceRecord, (self._seq, self._now(), component, action, describe(obj), detail))
        self._records.append(record)
        return record

    @property
    def last_seq(self) -> int:
        return self._seq

    def since(self, seq: int | None = None) -> list[TraceRecord]:
        if seq is None:
            return list(self._records)
        return [r for r in self._records if r.seq > seq]

    def restore_point(self) -> int:
        return self._seq


def describe(obj: str | dict[str, Any]) -> str:
    if isinstance(obj, str):
        return obj
    meta = obj.get("metadata", {})
    ns = meta.get("namespace")
    if ns:
        return f"{obj.get('kind', '?')} {ns}/{meta.get('name')}"
    return f"{obj.get('kind', '?')} {meta.get('name')}"


def object_reference(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    namespace, uid, rv = meta.get("namespace"), meta.get("uid"), meta.get("resourceVersion")
    if namespace and uid and rv:
        # The usual reference, built whole: one grown key by key is resized on its way.
        return {"kind": obj.get("kind"), "apiVersion": obj.get("apiVersion"), "name": meta["name"],
                "namespace": namespace, "uid": uid, "resourceVersion": rv}
    ref = {"kind": obj.get("kind"), "apiVersion": obj.get("apiVersion"), "name": meta["name"]}
    if namespace:
        ref["namespace"] = namespace
    if uid:
        ref["uid"] = uid
    if rv:
        ref["resourceVersion"] = rv
    return ref


class EventRecorder:
    """Writes and aggregates core/v1 Events through `write(event_dict, existing_or_None)`.

    Its memory stays bounded however long the cluster runs: an aggregation entry older than the
    window can never be aggregated into again, and a name whose nanosecond lies before the clock's
    can never be generated again (the clock only moves forward), so both are pruned, in batches."""

    def __init__(
        self, now: Callable[[], float], write: Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]
    ) -> None:
        self._now = now
        self._write = write
        self._recent: dict[tuple, tuple[float, dict[str, Any]]] = {}
        self._recent_limit = _PRUNE_AT
        self._recent_since: float | None = None  # no entry is older than this
        # Names handed out that a later event could still be given: name → its nanosecond stamp.
        self._names: dict[str, int] = {}
        self._names_limit = _PRUNE_AT
        # How many Events were created (not aggregated): the offset client-go-like names take when
        # two events of one object fall in the same nanosecond.
        self._created = 0
        # The last instant stamped, its RFC 3339 text and its nanoseconds (see `record`).
        self._stamped: float | None = None
        self._stamp = ""
        self._nanos = 0
        self._suffix = ""  # ".<hex nanoseconds>", the usual end of an Event's name
        # The last involvedObject made and what it was made from; the `source` of each (component, host).
        self._ref: dict[str, Any] = {}
        self._ref_key: tuple | None = None
        self._sources: dict[tuple[str, str | None], dict[str, str]] = {}

    def record(
        self,
        obj: dict[str, Any],
        type: str,
        reason: str,
        message: str,
        component: str,
        *,
        host: str | None = None,
        field_path: str | None = None,
    ) -> dict[str, Any]:
        now = self._now()
        meta = obj["metadata"]
        name, uid, ns = meta["name"], meta.get("uid"), meta.get("namespace")
        namespace = ns or "default"
        # What makes two events one (client-go's aggregation key), read from the metadata itself:
        # the same values `object_reference` would give (it leaves out an empty uid or namespace).
        key = (uid or None, name, namespace, type, reason, message, component, host, field_path)
        previous = self._recent.get(key)
        if now != self._stamped:
            # Events come in bursts at one instant (every pod's Pulled at the same step): its text and
            # nanoseconds are worked out once, and the names table shares that one int.
            nanos = int(now * 1e9)
            self._stamped, self._stamp, self._nanos, self._suffix = now, rfc3339(now), nanos, f".{nanos:x}"
        stamp = self._stamp
        if previous is not None and now - previous[0] <= AGGREGATE_WINDOW:
            event = dict(previous[1])
            event["count"] = event.get("count", 1) + 1
            event["lastTimestamp"] = stamp
            stored = self._write(event, previous[1])
        else:
            nanos = at = self._nanos
            event_name = name + self._suffix
            names = self._names
            if event_name in names:
                # Two events of one object in the same nanosecond: the second is offset by the
                # number of events created so far — a stamp no earlier name can have, as it grows.
                at = nanos + self._created
                event_name = f"{name}.{at:x}"
            names[event_name] = at
            self._created += 1
            if len(names) > self._names_limit:
                self._prune_names(nanos)
            # The involvedObject and the source are built only when they differ (callgrind: ~25 % of
            # this method went to building them): consecutive Events that would get equal ones share
            # them — stored objects are immutable, so Events may share parts as versions of one object
            # do: a pod's Pulled, Created and Started name one version and one container. The
            # reference is reused only when every input to it is equal (a caller may pass a dict it
            # changes between calls).
            kind, api_version, rv = obj.get("kind"), obj.get("apiVersion"), meta.get("resourceVersion")
            ref_key = (name, field_path, rv, uid, ns, kind, api_version)
            if ref_key == self._ref_key:
                ref = self._ref
            else:
                ref = object_reference(obj)
                if field_path:
                    ref["fieldPath"] = field_path
                self._ref, self._ref_key = ref, ref_key
            sources = self._sources
            source = sources.get((component, host))
            if source is None:  # one per component and node: the table stays small
                source = sources[component, host] = {"component": component, "host": host} if host else {
                    "component": component}
            event = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": event_name, "namespace": namespace},
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "count": 1,
                "type": type,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": host or "",
            }
            stored = self._write(event, None)
        recent = self._recent
        recent[key] = (now, stored)
        if self._recent_since is None:
            self._recent_since = now
        if len(recent) > self._recent_limit:
            self._prune_recent(now)
        return stored

    def _prune_names(self, nanos: int) -> None:
        # Names stamped before this nanosecond can never come up again: every later candidate is
        # stamped at or after it (the clock never goes back). Pruning in batches keeps the cost
        # per event constant.
        self._names = {n: s for n, s in self._names.items() if s >= nanos}
        self._names_limit = max(_PRUNE_AT, 2 * len(self._names))

    def _prune_recent(self, now: float) -> None:
        # Entries older than the window are never aggregated into again (record overwrites them).
        # `_recent_since` is at or before every entry's time: while it is inside the window, nothing
        # could go (a burst of thousands of events in a few simulated seconds), so skip the walk.
        if self._recent_since is not None and now - self._recent_since <= AGGREGATE_WINDOW:
            self._recent_limit = 2 * len(self._recent)
            return
        self._recent = {k: v for k, v in self._recent.items() if now - v[0] <= AGGREGATE_WINDOW}
        self._recent_since = min((v[0] for v in self._recent.values()), default=None)
        self._recent_limit = max(_PRUNE_AT, 2 * len(self._recent))

    def forget(self) -> None:
        self._recent.clear()
        self._recent_since = None


# Entries the recorder's tables hold before it prunes what can no longer matter.
_PRUNE_AT = 4096
