"""The Cluster's workload verbs: scale, rollout history/undo/restart/pause/resume — what kubectl sends.

`RolloutOperations` is mixed into `kubelab.Cluster`. Each method does kubectl's client-side part
and sends the same request: `scale` sets spec.replicas (the /scale subresource), `rollout_undo`
finds the ReplicaSet of the wanted revision and replaces the Deployment's `spec.template` (hash
label removed) and annotations with a JSON patch — the Deployment controller then recognises that
ReplicaSet as new and gives it the next revision — `rollout_restart` stamps
`kubectl.kubernetes.io/restartedAt` on the pod template, `rollout_pause`/`rollout_resume` flip
spec.paused. Refusals raise `RolloutError` with kubectl's words.

Read by: cluster.core (mixin). Reads: api.patch, cluster.apiserver, controllers.deployment_util,
controllers.podutil.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.api import kinds, patch
from kubelab.api.errors import ApiError
from kubelab.cluster.apiserver import any_kind
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers import deployment_util as du
from kubelab.cluster.controllers.podutil import controller_of
from kubelab.store.memory import thaw

if TYPE_CHECKING:
    from kubelab.api.kinds import Kind
    from kubelab.cluster.apiserver import ApiServer
    from kubelab.cluster.clock import SimClock
    from kubelab.cluster.gcpause import PausingLock
    from kubelab.cluster.recorder import Trace
    from kubelab.store.memory import MemoryStore

Obj = dict[str, Any]
DEPLOYMENT = kinds.resolve("deployments")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
RESTARTABLE = ("Deployment", "DaemonSet", "StatefulSet")


class RolloutError(RuntimeError):
    """kubectl refused the rollout command (paused deployment, unknown revision, …)."""


def history(d: Obj, replica_sets: list[Obj]) -> list[Obj]:
    """`kubectl rollout history` rows, oldest revision first: revision, change cause, ReplicaSet, template."""
    rows: dict[int, Obj] = {}
    for rs in owned(d, replica_sets):
        number = du.revision(rs)
        if number <= 0:
            continue
        rows[number] = {"revision": number,
                        "change_cause": (rs["metadata"].get("annotations") or {}).get(du.CHANGE_CAUSE),
                        "replicaset": rs["metadata"]["name"], "template": thaw(rs["spec"]["template"])}
    return [rows[n] for n in sorted(rows)]


def owned(d: Obj, replica_sets: list[Obj]) -> list[Obj]:
    uid = d["metadata"]["uid"]
    return [rs for rs in replica_sets if (controller_of(rs) or {}).get("uid") == uid]


def undo_patch(d: Obj, replica_sets: list[Obj], to_revision: int | None) -> tuple[list[Obj] | None, int]:
    """The JSON patch `kubectl rollout undo` sends, and the revision it restores (patch None: nothing to do)."""
    name = d["metadata"]["name"]
    if (d.get("spec") or {}).get("paused"):
        raise RolloutError("you cannot rollback a paused deployment; resume it first with 'kubectl rollout "
                           "resume' and try again")
    mine = owned(d, replica_sets)
    if to_revision:
        target = next((rs for rs in mine if du.revision(rs) == to_revision), None)
        if target is None:
            raise RolloutError(f"unable to find specified revision {to_revision} in history")
    else:
        ranked = sorted((rs for rs in mine if du.revision(rs) > 0), key=du.revision, reverse=True)
        if len(ranked) < 2:
            raise RolloutError(f'no rollout history found for deployment "{name}"')
        target = ranked[1]  # the one before the current revision
    number = du.revision(target)
    if du.equal_ignore_hash(target["spec"]["template"], d["spec"]["template"]):
        return None, number
    template = thaw(target["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(du.POD_TEMPLATE_HASH, None)
    annotations = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k in du.ANNOTATIONS_TO_SKIP}
    annotations.update({k: v for k, v in (target["metadata"].get("annotations") or {}).items()
                        if k not in du.ANNOTATIONS_TO_SKIP})
    return [{"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations}], number


class RolloutOperations:
    if TYPE_CHECKING:
        lock: PausingLock
        api: ApiServer
        store: MemoryStore
        clock: SimClock
        trace_log: Trace

        def pump(self) -> None: ...

    def scale(self, kind: str | Kind, name: str, replicas: int, namespace: str = "default") -> Obj:
        """Set spec.replicas of a Deployment, ReplicaSet, ReplicationController or StatefulSet
        (`kubectl scale`). Returns the object once the controllers have acted."""
        k = any_kind(kind)
        if "scale" not in k.subresources:
            raise ApiError("NotFound", "the server could not find the requested resource")
        with self.lock:
            self.pump()
            live = thaw(self.api.get(k, namespace, name))
            live.setdefault("spec", {})["replicas"] = replicas
            self.api.update(live)
            self.trace_log.add("kubectl", "scaled", live, f"replicas={replicas}")
            self.pump()
            return thaw(self.api.get(k, namespace, name))

    def rollout_history(self, name: str, namespace: str = "default") -> list[Obj]:
        """The Deployment's revisions, oldest first: `{"revision", "change_cause", "replicaset", "template"}`."""
        with self.lock:
            self.pump()
            d = self.api.get(DEPLOYMENT, namespace, name)
            return history(d, self.store.list(("apps", "replicasets"), namespace)[0])

    def rollout_undo(self, name: str, to_revision: int | None = None, namespace: str = "default") -> str:
        """Go back to the previous revision (or `to_revision`), as `kubectl rollout undo` does. Returns
        kubectl's line: `deployment.apps/web rolled back`."""
        with self.lock:
            self.pump()
            live = self.api.get(DEPLOYMENT, namespace, name)
            ops, number = undo_patch(live, self.store.list(("apps", "replicasets"), namespace)[0], to_revision)
            if ops is None:
                return f"deployment.apps/{name} skipped rollback (current template already matches revision {number})"
            patched = patch.json_patch(thaw(live), ops)
            try:
                self.api.update(patched)
            except ApiError as err:
                raise RolloutError(f"failed restoring revision {number}: {err.message}") from err
            self.trace_log.add("kubectl", "rolled back", live, f"to revision {number}")
            self.pump()
            return f"deployment.apps/{name} rolled back"

    def rollout_restart(self, name: str, namespace: str = "default", kind: str = "deployment") -> Obj:
        """Restart every pod (`kubectl rollout restart`): a new restartedAt template annotation → a new rollout."""
        k = any_kind(kind)
        if k.kind not in RESTARTABLE:
            raise RolloutError("restarting is not supported")
        with self.lock:
            self.pump()
            live = thaw(self.api.get(k, namespace, name))
            if k.kind == "Deployment" and live["spec"].get("paused"):
                raise RolloutError("can't restart paused deployment (run rollout resume first)")
            meta = live["spec"]["template"].setdefault("metadata", {})
            stamp = rfc3339(self.clock.now())
            if (meta.get("annotations") or {}).get(RESTARTED_AT) == stamp:
                raise RolloutError(f"failed to create patch for {name}: if restart has already been triggered "
                                   "within the past second, please wait before attempting to trigger another")
            meta["annotations"] = {**(meta.get("annotations") or {}), RESTARTED_AT: stamp}
            self.api.update(live)
            self.trace_log.add("kubectl", "restarted", live)
            self.pump()
            return thaw(self.api.get(k, namespace, name))

    def rollout_pause(self, name: str, namespace: str = "default") -> Obj:
        """`kubectl rollout pause`: template changes wait until resumed (scaling still works)."""
        return self._set_paused(name, namespace, True)

    def rollout_resume(self, name: str, namespace: str = "default") -> Obj:
        """`kubectl rollout resume`: the rollout of the current template goes on."""
        return self._set_paused(name, namespace, False)

    def _set_paused(self, name: str, namespace: str, paused: bool) -> Obj:
        with self.lock:
            self.pump()
            live = thaw(self.api.get(DEPLOYMENT, namespace, name))
            if bool(live["spec"].get("paused")) == paused:
                raise RolloutError(f'deployments.apps "{name}" is {"already" if paused else "not"} paused')
            live["spec"]["paused"] = paused
            self.api.update(live)
            self.trace_log.add("kubectl", "paused" if paused else "resumed", live)
            self.pump()
            return thaw(self.api.get(DEPLOYMENT, namespace, name))
