"""The controller pattern: informer handlers enqueue keys, `reconcile(key)` does the work.

Like Kubernetes' sample-controller, a controller declares the resources it watches; the store
calls `handle(event)` synchronously on every write, which only turns the event into keys on
a de-duplicating FIFO work queue. The cluster's pump later calls `reconcile(key)` for each key,
in order, so runs are deterministic. A reconcile that raises is recorded and retried with
exponential back-off on the simulated clock; it never stops the other controllers.

Read by: every module in cluster.controllers, cluster.core (runs the queues). Reads: store.watch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kubelab.store.watch import Event

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Key = tuple[str, str]  # (namespace, name)


class WorkQueue:
    """An ordered set: a key queued twice before it is processed is processed once."""

    # A FIFO of keys plus the set of those queued. (A dict popped from the front was O(n) per pop:
    # `next(iter(d))` walks past every slot freed before it, 0.25 s of pods.py's 10,000-pod drains.)
    def __init__(self) -> None:
        self._order: deque[Any] = deque()
        self._queued: set[Any] = set()

    def add(self, key: Any) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._order.append(key)

    def pop(self) -> Any:
        key = self._order.popleft()
        self._queued.remove(key)
        return key

    def __len__(self) -> int:
        return len(self._order)

    def __bool__(self) -> bool:
        return bool(self._order)


class Controller:
    name = "controller"
    # (group, plural) of the primary resource; keys are its (namespace, name).
    primary: tuple[str, str] = ("", "")
    # Other resources whose events map to primary keys through `keys_for`.
    secondary: tuple[tuple[str, str], ...] = ()

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.api = cluster.api
        self.store = cluster.store
        self.queue = WorkQueue()
        self.failures: dict[Any, int] = {}

    def watched(self) -> Iterable[tuple[str, str]]:
        return (self.primary, *self.secondary)

    def handle(self, event: Event) -> None:
        if event.resource == self.primary:
            meta = event.object["metadata"]
            self.queue.add((meta.get("namespace", ""), meta["name"]))
        else:
            for key in self.keys_for(event):
                self.queue.add(key)

    def keys_for(self, event: Event) -> Iterable[Key]:
        """Primary keys affected by an event on a secondary resource (default: the controller owner)."""
        for obj in (event.object, event.old):
            if obj is None:
                continue
            for ref in obj["metadata"].get("ownerReferences") or ():
                if ref.get("controller"):
                    yield (obj["metadata"].get("namespace", ""), ref["name"])

    def reconcile(self, key: Key) -> float | None:
        """Make the world match the object at `key`; return seconds until a re-check, or None."""
        raise NotImplementedError

    def requeue_after(self, key: Key, seconds: float) -> None:
        self.cluster.clock.call_later(seconds, lambda: self.queue.add(key))
