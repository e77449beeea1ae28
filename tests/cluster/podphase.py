"""Pods that run, succeed and fail, for the workload-controller tests, with or without the real kubelet.

`install(cluster)` does nothing once `kubelab.cluster.kubelet` exists (the cluster's own kubelets run
the containers); until then it adds `FakeKubelet`, a stand-in for a whole test: every bound pod
starts after `start_delay` simulated seconds and then runs, succeeds or fails as `outcome(pod)` says
— by default from its command, as a shell would end it: `exit 1` fails, `exit $JOB_COMPLETION_INDEX`
fails except for index 0, another finite `sh -c '…'` succeeds, anything else keeps running and is
Ready. A deleted pod stops after one second and leaves the store, as a kubelet confirms a graceful
deletion. `running`, `succeeded` and `failed` write such a status (phase, conditions, container
states with exit codes) directly through the status subresource.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers.base import Controller
from kubelab.store.memory import thaw

Obj = dict[str, Any]
POD = kinds.resolve("pods")
HAS_KUBELET = importlib.util.find_spec("kubelab.cluster.kubelet") is not None
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


def _conditions(pod: Obj, now: str, ready: bool, reason: str | None = None) -> list[Obj]:
    scheduled = [c for c in (pod.get("status") or {}).get("conditions") or () if c.get("type") == "PodScheduled"]
    conditions = []
    for kind, status in (("PodReadyToStartContainers", "True"), ("Initialized", "True"),
                         ("Ready", "True" if ready else "False"), ("ContainersReady", "True" if ready else "False")):
        condition = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now}
        if status == "False" and reason:
            condition["reason"] = reason
        conditions.append(condition)
    return conditions + scheduled


def _write(cluster: Any, pod: Obj, phase: str, ready: bool, state: Obj, *, reason: str | None = None,
           restarts: int = 0) -> Obj:
    live = thaw(cluster.store.get(("", "pods"), pod["metadata"]["namespace"], pod["metadata"]["name"]))
    now = rfc3339(cluster.clock.now())
    node = live["spec"].get("nodeName", "")
    status = dict(live.get("status") or {})
    ip = f"10.244.1.{len(live['metadata']['name'])}"
    status.update({
        "phase": phase,
        "conditions": _conditions(live, now, ready, reason),
        "hostIP": "172.18.0.3", "hostIPs": [{"ip": "172.18.0.3"}],
        "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": status.get("startTime") or now,
        "qosClass": "BestEffort",
        "containerStatuses": [{
            "name": c["name"], "image": c["image"], "imageID": "", "containerID": f"containerd://{node}",
            "ready": ready, "restartCount": restarts, "started": phase == "Running", "state": state,
        } for c in live["spec"]["containers"]],
    })
    live["status"] = status
    return cluster.api.update(live, subresource="status")


def running(cluster: Any, pod: Obj, *, ready: bool = True, restarts: int = 0) -> Obj:
    now = rfc3339(cluster.clock.now())
    return _write(cluster, pod, "Running", ready, {"running": {"startedAt": now}}, restarts=restarts,
                  reason=None if ready else "ContainersNotReady")


def succeeded(cluster: Any, pod: Obj) -> Obj:
    now = rfc3339(cluster.clock.now())
    state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}}
    return _write(cluster, pod, "Succeeded", False, state, reason="PodCompleted")


def failed(cluster: Any, pod: Obj, exit_code: int = 1) -> Obj:
    now = rfc3339(cluster.clock.now())
    state = {"terminated": {"exitCode": exit_code, "reason": "Error", "startedAt": now, "finishedAt": now}}
    return _write(cluster, pod, "Failed", False, state, reason="PodFailed")


def default_outcome(pod: Obj) -> tuple[str, float]:
    """What the container's command does: (final phase, seconds it runs)."""
    words = " ".join(w for c in pod["spec"]["containers"] for w in (c.get("command") or []) + (c.get("args") or []))
    if "exit 1" in words:
        return "Failed", 3.0
    if "exit $JOB_COMPLETION_INDEX" in words:
        index = (pod["metadata"].get("annotations") or {}).get(INDEX_ANNOTATION)
        return ("Succeeded" if index == "0" else "Failed"), 3.0
    if words and not any(w in words for w in ("sleep", "while", "tail -f")):
        return "Succeeded", 3.0
    return "Running", 0.0


class FakeKubelet(Controller):
    """Starts bound pods and finishes deleted ones, on simulated time."""

    name = "fake-kubelet"
    primary = ("", "pods")

    def __init__(self, cluster: Any, outcome: Callable[[Obj], tuple[str, float]] = default_outcome,
                 start_delay: float = 2.0) -> None:
        super().__init__(cluster)
        self.outcome = outcome
        self.start_delay = start_delay
        self._started: set[str] = set()
        self._stopping: set[str] = set()

    def reconcile(self, key: tuple[str, str]) -> float | None:
        pod = self.store.get(self.primary, *key)
        if pod is None or not (pod.get("spec") or {}).get("nodeName"):
            return None
        uid = pod["metadata"]["uid"]
        if pod["metadata"].get("deletionTimestamp"):
            if uid not in self._stopping:
                self._stopping.add(uid)
                self.cluster.clock.call_later(1.0, lambda: self._stop(pod))
            return None
        if uid not in self._started:
            self._started.add(uid)
            self.cluster.clock.call_later(self.start_delay, lambda: self._start(pod))
        return None

    def _live(self, pod: Obj) -> Obj | None:
        live = self.store.get(self.primary, pod["metadata"]["namespace"], pod["metadata"]["name"])
        return live if live is not None and live["metadata"]["uid"] == pod["metadata"]["uid"] else None

    def _start(self, pod: Obj) -> None:
        live = self._live(pod)
        if live is None or live["metadata"].get("deletionTimestamp"):
            return
        phase, seconds = self.outcome(live)
        running(self.cluster, live, ready=phase == "Running")
        if phase != "Running":
            self.cluster.clock.call_later(seconds, lambda: self._finish(pod, phase))

    def _finish(self, pod: Obj, phase: str) -> None:
        live = self._live(pod)
        if live is None or (live.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return
        (succeeded if phase == "Succeeded" else failed)(self.cluster, live)

    def _stop(self, pod: Obj) -> None:
        live = self._live(pod)
        if live is None:
            return
        if (live.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            live = failed(self.cluster, live, exit_code=137)
        try:
            self.cluster.api.delete(POD, live["metadata"]["namespace"], live["metadata"]["name"], grace_period=0)
        except ApiError:
            pass


def install(cluster: Any, **kw: Any) -> FakeKubelet | None:
    """Make bound pods run: the cluster's kubelets when kubelab has them, else a FakeKubelet."""
    if HAS_KUBELET:
        return None
    kubelet = FakeKubelet(cluster, **kw)
    cluster.add_controller(kubelet)
    return kubelet
