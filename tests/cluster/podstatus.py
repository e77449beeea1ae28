"""Pod status for the workload-controller tests: the real kubelet when it exists, a stand-in until then.

`start_kubelets(cluster)` makes bound pods start on simulated time: with `kubelab.cluster.kubelet`
present it does nothing (the cluster's own kubelets run pods, pulling images for a few seconds);
otherwise it installs `StandInKubelet`, which marks a bound pod Running and Ready `PULL_SECONDS`
after it is bound — except images that cannot be pulled (`nginx:does-not-exist`), which stay
Pending in ErrImagePull — and removes a deleted pod one second later. `mark_ready` writes a
realistic Running status directly, for a test that needs a pod state on demand (not ready, ready
at a chosen time).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers.base import Controller
from kubelab.store.memory import thaw

Obj = dict[str, Any]
POD = kinds.resolve("pods")
HAS_KUBELET = importlib.util.find_spec("kubelab.cluster.kubelet") is not None
PULL_SECONDS = 2.0


def mark_ready(cluster: Any, pod: Obj | str, *, ready: bool = True, namespace: str = "default",
               pump: bool = True) -> Obj:
    """Write the status a kubelet reports for a started pod: Running, Ready (or not), container running."""
    name = pod if isinstance(pod, str) else pod["metadata"]["name"]
    live = thaw(cluster.api.get(POD, namespace, name))
    now = rfc3339(cluster.clock.now())
    old = {c["type"]: c for c in (live.get("status") or {}).get("conditions") or ()}
    conditions = []
    for kind, status in (("PodReadyToStartContainers", "True"), ("Initialized", "True"),
                         ("Ready", "True" if ready else "False"), ("ContainersReady", "True" if ready else "False"),
                         ("PodScheduled", "True")):
        same = old.get(kind, {}).get("status") == status
        condition = {"type": kind, "status": status, "lastProbeTime": None,
                     "lastTransitionTime": old[kind]["lastTransitionTime"] if same else now}
        if status == "False":
            condition["reason"] = "ContainersNotReady"
            condition["message"] = "containers with unready status: [" + \
                " ".join(c["name"] for c in live["spec"]["containers"]) + "]"
        conditions.append(condition)
    index = sum(map(ord, live["metadata"]["uid"])) % 250 + 2
    status = live.setdefault("status", {})
    status.update({
        "phase": "Running", "conditions": conditions,
        "hostIP": "172.18.0.3", "hostIPs": [{"ip": "172.18.0.3"}],
        "podIP": f"10.244.1.{index}", "podIPs": [{"ip": f"10.244.1.{index}"}],
        "startTime": status.get("startTime") or now, "qosClass": "BestEffort",
        "containerStatuses": [{"name": c["name"], "state": {"running": {"startedAt": now}}, "lastState": {},
                               "ready": ready, "restartCount": 0, "image": c["image"], "imageID": "",
                               "containerID": f"containerd://{live['metadata']['uid'].replace('-', '')}",
                               "started": True} for c in live["spec"]["containers"]],
    })
    stored = cluster.api.update(live, subresource="status")
    if pump:
        cluster.pump()
    return thaw(stored)


def pull_fails(pod: Obj) -> bool:
    return any("does-not-exist" in c.get("image", "") for c in pod["spec"]["containers"])


def start_kubelets(cluster: Any) -> None:
    if not HAS_KUBELET:
        cluster.add_controller(StandInKubelet(cluster))


class StandInKubelet(Controller):
    name = "stand-in-kubelet"
    primary = ("", "pods")

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._seen: set[str] = set()

    def reconcile(self, key: tuple[str, str]) -> float | None:
        pod = self.store.get(self.primary, *key)
        if pod is None or not pod["spec"].get("nodeName"):
            return None
        uid = pod["metadata"]["uid"]
        if pod["metadata"].get("deletionTimestamp"):
            if uid + "/stop" not in self._seen:
                self._seen.add(uid + "/stop")
                self.cluster.clock.call_later(1.0, lambda: self._stop(key, uid))
        elif uid not in self._seen:
            self._seen.add(uid)
            self.cluster.clock.call_later(PULL_SECONDS, lambda: self._start(key, uid))
        return None

    def _live(self, key: tuple[str, str], uid: str) -> Obj | None:
        pod = self.store.get(self.primary, *key)
        return pod if pod is not None and pod["metadata"]["uid"] == uid else None

    def _start(self, key: tuple[str, str], uid: str) -> None:
        pod = self._live(key, uid)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        if pull_fails(pod):
            live = thaw(pod)
            live.setdefault("status", {})["containerStatuses"] = [
                {"name": c["name"], "state": {"waiting": {"reason": "ErrImagePull"}}, "lastState": {},
                 "ready": False, "restartCount": 0, "image": c["image"], "imageID": "", "started": False}
                for c in live["spec"]["containers"]]
            self.cluster.api.update(live, subresource="status")
            return
        mark_ready(self.cluster, pod, namespace=key[0], pump=False)

    def _stop(self, key: tuple[str, str], uid: str) -> None:
        if self._live(key, uid) is not None:
            try:
                self.cluster.api.finish_deletion(POD, *key)
            except ApiError:
                pass
