"""One pending re-check per key: a controller's `requeue_after` that replaces, rather than adds, timers.

A workload controller asks to look again later (a pod becomes available after minReadySeconds, a
rollout's progress deadline passes). Upstream's delaying queue keeps only the earliest wish per key
and a wish that no longer matters costs one idle sync; here a stale timer would also make
`Cluster.settle()` fast-forward to it. So every reconcile first drops the key's pending re-check
and its return value (or an error back-off) sets the next one.

Read by: controllers.replicas, controllers.deployment. Reads: controllers.base, cluster.clock.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from kubelab.cluster.controllers.base import Controller, Key


class RecheckTimers(Controller):
    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._rechecks: dict[Key, Any] = {}

    def requeue_after(self, key: Key, seconds: float) -> None:
        self.forget_recheck(key)
        self._rechecks[key] = self.cluster.clock.call_later(seconds, partial(self._recheck_due, key))

    def forget_recheck(self, key: Key) -> None:
        timer = self._rechecks.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _recheck_due(self, key: Key) -> None:
        self._rechecks.pop(key, None)
        self.queue.add(key)
