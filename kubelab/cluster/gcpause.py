"""Pausing Python's cyclic garbage collector while the cluster pumps.

A pump of thousands of pods allocates millions of short-lived, acyclic dicts (manifests,
events, statuses) that reference counting frees at once; the cyclic collector still scans
the whole, growing heap every so often, and measured (benchmarks/pods.py) its full
collections took about a third of the wall time. Pausing it for the length of a pump and
resuming it afterwards removes that cost without changing what the cluster does. A long pause
leaves every object it made in the youngest generation, and the first allocation after the
resume would scan them all at once (0.85 s after 10,000 pods): those survivors are the
cluster's long-lived objects, so they move straight to the oldest generation instead, where the
next full collection (run by Python's usual rule) finds any cycles among them. The cluster's lock
(`PausingLock`) pauses it too while held: a batch of API calls under it (10,000 creates) is such a
burst as well, and ends in a pump anyway.

Read by: cluster.core (`Cluster.pump`, `Cluster.lock`). Reads: nothing.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Below this many objects made during the pause, the young collection after it is cheap and
# keeps its usual job (freeing the short cycles a small pump leaves); above it, survivors are moved.
PROMOTE_ABOVE = 50_000

_lock = threading.Lock()
_depth = 0  # pumps in progress (nested or in several clusters): the collector resumes when the last ends
_resume = False  # whether the collector was enabled when the first of them began


@contextmanager
def paused_gc() -> Iterator[None]:
    _pause()
    try:
        yield
    finally:
        _resume_if_last()


def _pause() -> None:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1


def _resume_if_last() -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth == 0 and _resume:
            _promote_survivors()
            gc.enable()


class PausingLock:
    """A re-entrant lock that pauses the collector from its outermost acquire to its last release."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._held = 0  # how many times the holder acquired it: only the holder changes it

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._held += 1
        if self._held == 1:
            _pause()
        return True

    def release(self) -> None:
        self._held -= 1
        if self._held == 0:
            _resume_if_last()
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _promote_survivors() -> None:
    """Move what the pause made to the oldest generation without scanning it: `freeze` empties
    every generation into the permanent one (and zeroes the young count), `unfreeze` puts them all
    in the oldest. Skipped when the program froze objects itself (unfreeze would thaw those too)."""
    if gc.get_count()[0] > PROMOTE_ABOVE and gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
