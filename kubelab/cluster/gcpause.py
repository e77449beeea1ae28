"""Pausing Python's cyclic garbage collector while the cluster pumps.

A pump of thousands of pods allocates millions of short-lived, acyclic dicts (manifests,
events, statuses) that reference counting frees at once; the cyclic collector still scans
the whole, growing heap every so often, and measured (benchmarks/pods.py) its full
collections took about a third of the wall time. Pausing it for the length of a pump and
resuming it afterwards (cycles made meanwhile are collected by the next automatic run)
removes that cost without changing what the cluster does.

Read by: cluster.core (`Cluster.pump`). Reads: nothing.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # pumps in progress (nested or in several clusters): the collector resumes when the last ends
_resume = False  # whether the collector was enabled when the first of them began


@contextmanager
def paused_gc() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
