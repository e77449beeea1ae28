"""What the Cluster hands back to callers: snapshots and watch streams.

`ClusterSnapshot` is an opaque copy of every object (restore it with `Cluster.restore`);
`ClusterWatch` turns the store's events into `{"type", "object"}` dicts, copying each object
so callers may change what they receive, and can answer an idle wait with a BOOKMARK.

Read by: cluster.core (returns them), server and widgets (iterate them). Reads: store.watch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kubelab.api.kinds import Kind
from kubelab.store.memory import Obj, thaw
from kubelab.store.watch import Watch


class ClusterSnapshot:
    def __init__(self, objects: dict, trace_seq: int) -> None:
        self.objects = objects
        self.trace_seq = trace_seq

    def __repr__(self) -> str:
        count = sum(len(o) for spaces in self.objects.values() for o in spaces.values())
        return f"<ClusterSnapshot {count} objects>"


class ClusterWatch:
    """Iterate `{"type", "object"}` events; `next(timeout)` returns None when nothing came."""

    def __init__(self, watch: Watch, bookmark: Callable[[], Obj] | None = None) -> None:
        self._watch = watch
        self._bookmark = bookmark

    def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        event = self._watch.next(timeout)
        if event is None:
            if self._bookmark is not None and not self._watch.stopped:
                return {"type": "BOOKMARK", "object": self._bookmark()}
            return None
        return {"type": event.type, "object": thaw(event.object)}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            event = self.next(timeout=None)
            if event is None:
                return
            yield event

    def drain(self) -> list[dict[str, Any]]:
        return [{"type": e.type, "object": thaw(e.object)} for e in self._watch.drain()]

    def stop(self) -> None:
        self._watch.stop()

    def __enter__(self) -> ClusterWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bookmark(kind: Kind, revision: int, *, initial_end: bool = False) -> Obj:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}
