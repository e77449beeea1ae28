"""Watch events and watch streams of the store.

An `Event` is what happened to one object at one revision (kopf's "cause"): its type, the
new state and the previous one. A `Watch` is one client's filtered stream of events — a
thread-safe queue fed synchronously by the store on every write. With a predicate (label or
field selectors), an object that starts matching arrives as ADDED and one that stops
matching as DELETED, as kube-apiserver's watch cache does.

Read by: store.memory (feeds watches), cluster (Python watch API), server (HTTP watch).
Reads: nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

Obj = dict[str, Any]


class Event(NamedTuple):
    """Immutable; a named tuple because the store makes one per write (a frozen dataclass's
    `__init__` costs several times more)."""

    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK | ERROR
    resource: tuple[str, str]
    object: Obj
    old: Obj | None
    revision: int

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "object": self.object}


class Watch:
    """A stream of events for one resource, optionally one namespace and a predicate."""

    def __init__(
        self,
        resource: tuple[str, str],
        namespace: str | None,
        predicate: Callable[[Obj], bool] | None,
        on_stop: Callable[[Watch], None],
    ) -> None:
        self.resource = resource
        self.namespace = namespace
        self.predicate = predicate
        self._on_stop = on_stop
        self._queue: deque[Event] = deque()
        self._cond = threading.Condition()
        self.stopped = False
        # Called (outside any lock) while a client waits with nothing queued; the cluster uses it
        # to move a stepped clock forward to the next due event.
        self.idle_hook: Callable[[], bool] | None = None

    def _in_scope(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace", "") != self.namespace:
            return False
        return self.predicate is None or self.predicate(obj)

    def offer(self, event: Event) -> None:
        """Filter an event from the store into this stream (selector transitions become ADDED/DELETED)."""
        now = self._in_scope(event.object)
        if event.type == "DELETED":
            if now:
                self.push(event)
            return
        before = self._in_scope(event.old) if event.old is not None else False
        if now and before:
            self.push(event)
        elif now:
            self.push(Event("ADDED", event.resource, event.object, event.old, event.revision))
        elif before:
            self.push(Event("DELETED", event.resource, event.object, event.old, event.revision))

    def push(self, event: Event) -> None:
        with self._cond:
            self._queue.append(event)
            self._cond.notify_all()

    def next(self, timeout: float | None = None) -> Event | None:
        """The next event; None when `timeout` (wall seconds) passes or the watch is stopped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                if self._queue:
                    return self._queue.popleft()
                if self.stopped:
                    return None
            if self.idle_hook is not None and self.idle_hook():
                continue
            with self._cond:
                if self._queue or self.stopped:
                    continue
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining if remaining is not None else 0.5)

    def drain(self) -> list[Event]:
        with self._cond:
            events = list(self._queue)
            self._queue.clear()
            return events

    def __iter__(self) -> Iterator[Event]:
        while True:
            event = self.next()
            if event is None:
                return
            yield event

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify_all()
        self._on_stop(self)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
