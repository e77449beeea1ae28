"""The simulated clock: a discrete-event scheduler that owns every delay in the local cluster.

Two modes (DESIGN decision 4):
- `stepped`: time moves only when asked (`advance`, `settle`, or a waiting client fast-forwarding);
  it starts at a fixed instant so the same seed gives byte-identical timestamps.
  (A cluster's clock starts `lead` seconds before that `origin`: its kube-system boots in them.)
- `realtime`: simulated time follows the wall clock × `speed`, from the wall time at start; a
  background thread (owned by the Cluster) sleeps until the next timer — no polling.

Timers are `background` when they only keep things alive (heartbeats, steady probes, cron
schedules): `settle()` does not move time just to reach them. Pending timers are kept per instant
(a FIFO per distinct due time, and a heap of those times): thousands of pods fall due together.

Read by: cluster.core (pumps due timers), kubelets, controllers (call_later). Reads: nothing.
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

STEPPED_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: where every stepped cluster starts


@dataclass(slots=True)  # a pod on its way up makes four; thousands are pending at once
class Timer:
    when: float
    seq: int
    fn: Callable[[], None]
    background: bool = False
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class SimClock:
    def __init__(self, mode: str = "stepped", *, speed: float = 1.0, start: float | None = None,
                 lead: float = 0.0) -> None:
        if mode not in ("stepped", "realtime"):
            raise ValueError(f'clock must be "stepped" or "realtime", not {mode!r}')
        self.mode = mode
        self.speed = speed
        # `origin` is where the user's time begins; a new cluster boots in the `lead` seconds before it.
        self.origin = start if start is not None else (STEPPED_EPOCH if mode == "stepped" else time.time())
        self._sim_start = self.origin - lead
        self._wall_start = time.monotonic()
        self._now = self._sim_start  # stepped mode's current time
        self._offset = 0.0  # realtime: extra simulated seconds from advance()
        # Timers run ordered by time, then by creation. Thousands are due at the very same instant
        # (every pod created together takes its SyncPod steps together), so they are kept in one
        # FIFO per instant, with a heap of the distinct instants: adding or taking a timer is O(1)
        # instead of a sift through a heap of tens of thousands of (when, seq, timer) tuples
        # (pop_due and call_at were ~3 % of pods.py, py-spy). An instant's FIFO leaves `_buckets`
        # (and its time the heap) only once found empty at the head, so `when in _buckets` always
        # means `when` is in `_whens`.
        self._whens: list[float] = []
        self._buckets: dict[float, deque[Timer]] = {}
        self._seq = itertools.count()
        self.changed = threading.Condition()  # notified when a timer is added (wakes the realtime thread)

    # ------------------------------------------------------------------ time
    def now(self) -> float:
        if self.mode == "stepped":
            return self._now
        return self._sim_start + (time.monotonic() - self._wall_start) * self.speed + self._offset

    def move_to(self, when: float) -> None:
        """Set simulated now (never backwards)."""
        if self.mode == "stepped":
            self._now = max(self._now, when)
        else:
            self._offset += max(0.0, when - self.now())

    # ---------------------------------------------------------------- timers
    def call_at(self, when: float, fn: Callable[[], None], *, background: bool = False) -> Timer:
        timer = Timer(when, next(self._seq), fn, background)
        bucket = self._buckets.get(when)
        if bucket is None:
            bucket = self._buckets[when] = deque()
            heapq.heappush(self._whens, when)
        bucket.append(timer)
        if self.mode == "realtime":  # only the realtime thread waits on it (a stepped clock moves when asked)
            with self.changed:
                self.changed.notify_all()
        return timer

    def call_later(self, delay: float, fn: Callable[[], None], *, background: bool = False) -> Timer:
        return self.call_at(self.now() + max(0.0, delay), fn, background=background)

    def _head(self) -> deque[Timer] | None:
        """The earliest instant's FIFO, its cancelled timers at the front dropped (None: no timer)."""
        whens, buckets = self._whens, self._buckets
        while whens:
            bucket = buckets[whens[0]]
            while bucket and bucket[0].cancelled:
                bucket.popleft()
            if bucket:
                return bucket
            del buckets[heapq.heappop(whens)]
        return None

    def pop_due(self, until: float | None = None) -> Timer | None:
        """The earliest timer due at or before `until` (default: now), removed from the queue."""
        limit = self.now() if until is None else until
        bucket = self._head()
        if bucket is None or self._whens[0] > limit:
            return None
        return bucket.popleft()

    def next_due(self, *, include_background: bool = True) -> float | None:
        for when in sorted(self._whens):
            for t in self._buckets[when]:
                if not t.cancelled and (include_background or not t.background):
                    return when
        return None

    def first_due(self) -> float | None:
        return self._whens[0] if self._head() is not None else None

    def pending(self) -> int:
        return sum(1 for bucket in self._buckets.values() for t in bucket if not t.cancelled)


def rfc3339(t: float) -> str:
    """`2026-01-01T00:00:00Z`: the second-precision timestamps Kubernetes objects carry."""
    # ~20 calls per pod on its way to Running (statuses, events, API server stamps), nearly all for
    # the same instant: a plain dict keyed by the time itself answers those in one look-up (about
    # half of the lru_cache call's cost, measured with timeit).
    text = _STAMPS.get(t)
    if text is None:
        if len(_STAMPS) >= 8192:  # a realtime clock gives every call a new float: stay bounded
            _STAMPS.clear()
        text = _STAMPS[t] = _rfc3339_second(int(t))
    return text


_STAMPS: dict[float, str] = {}


@lru_cache(maxsize=4096)
def _rfc3339_second(second: int) -> str:
    # Every status write and event stamps the same few seconds: format each second once.
    return datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(t: float) -> str:
    """`2026-01-01T00:00:00.000000Z`: MicroTime, as Leases and events.k8s.io use."""
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(text: str) -> float:
    """Epoch seconds of an RFC 3339 timestamp, with or without fractions (ValueError otherwise)."""
    text = text.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat wants exactly 3 or 6 fraction digits (MicroTime has 6, RFC3339Nano 9).
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
