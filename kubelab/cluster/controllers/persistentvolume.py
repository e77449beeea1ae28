"""Volume binding: a PersistentVolumeClaim gets a PersistentVolume and turns Bound.

What kind's `standard` StorageClass (rancher.io/local-path) or minikube's (k8s.io/minikube-hostpath)
and the PV controller do together, reduced to what a learner sees: a Pending claim first takes a
matching Available volume (same class, enough capacity, the access modes it asks for); a claim of
the default class (`standard`, or none given) otherwise gets a new hostPath volume `pvc-<claim uid>`
provisioned for it (`ProvisioningSucceeded` "Successfully provisioned volume pvc-…"). Both sides
then point at each other (`spec.claimRef`, `spec.volumeName`, the `pv.kubernetes.io/bind-completed`
annotations) and show phase Bound. When the claim goes, a Delete-policy volume goes too and a
Retain one becomes Released. Binding is immediate (no WaitForFirstConsumer).

Read by: cluster.components. Reads: controllers.base, scheduling.resources (quantities).
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.scheduling.resources import amount
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

COMPONENT = "persistentvolume-controller"
CLAIMS = ("", "persistentvolumeclaims")
VOLUMES = ("", "persistentvolumes")
PV = kinds.resolve("persistentvolumes")
DEFAULT_CLASS = "standard"
PROVISIONERS = {"minikube": "k8s.io/minikube-hostpath"}
LOCAL_PATH = "rancher.io/local-path"


class PersistentVolumeController(Controller):
    name = COMPONENT
    primary = CLAIMS
    secondary = (VOLUMES,)

    def handle(self, event: Event) -> None:
        if event.resource == CLAIMS and event.type == "DELETED":
            self._claim_gone(event.object)
            return
        super().handle(event)

    def keys_for(self, event: Event) -> list[Key]:
        """A volume that became Available may serve any waiting claim."""
        if event.type == "DELETED" or (event.object.get("status") or {}).get("phase") != "Available":
            return []
        return [(c["metadata"]["namespace"], c["metadata"]["name"]) for c in self.store.list(CLAIMS)[0]
                if not (c.get("spec") or {}).get("volumeName")]

    def reconcile(self, key: Key) -> float | None:
        pvc = self.store.get(CLAIMS, *key)
        if pvc is None or pvc["metadata"].get("deletionTimestamp"):
            return None
        spec = pvc.get("spec") or {}
        if spec.get("volumeName"):
            volume = self.store.get(VOLUMES, "", spec["volumeName"])
            if volume is not None and (pvc.get("status") or {}).get("phase") != "Bound":
                self._bind(pvc, volume)
            return None
        volume = self._matching_volume(pvc)
        if volume is None:
            klass = spec.get("storageClassName")
            if klass not in (None, DEFAULT_CLASS):
                return None  # no provisioner for that class: the claim stays Pending
            volume = self._provision(pvc)
        self._bind(pvc, volume)
        return None

    def _matching_volume(self, pvc: Obj) -> Obj | None:
        spec = pvc.get("spec") or {}
        wanted = amount("storage", ((spec.get("resources") or {}).get("requests") or {}).get("storage", "0"))
        klass = spec.get("storageClassName")
        best = None
        for volume in self.store.list(VOLUMES)[0]:
            vspec = volume.get("spec") or {}
            if (volume.get("status") or {}).get("phase") != "Available" or vspec.get("claimRef"):
                continue
            if (vspec.get("storageClassName") or "") != (DEFAULT_CLASS if klass is None else klass):
                continue  # no class asked for means the default class, as admission would have set it
            if not set(spec.get("accessModes") or ()) <= set(vspec.get("accessModes") or ()):
                continue
            size = amount("storage", (vspec.get("capacity") or {}).get("storage", "0"))
            if size >= wanted and (best is None or size < best[0]):
                best = (size, volume)
        return best[1] if best else None

    def _provision(self, pvc: Obj) -> Obj:
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        provisioner = PROVISIONERS.get(self.cluster.profile, LOCAL_PATH)
        name = f"pvc-{meta['uid']}"
        if provisioner == LOCAL_PATH:
            path = f"/var/local-path-provisioner/{name}_{meta['namespace']}_{meta['name']}"
        else:
            path = f"/tmp/hostpath-provisioner/{meta['namespace']}/{meta['name']}"
        volume = {
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner}},
            "spec": {
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")},
                "claimRef": _claim_ref(pvc),
                "hostPath": {"path": path, "type": "DirectoryOrCreate"},
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": DEFAULT_CLASS,
                "volumeMode": spec.get("volumeMode", "Filesystem"),
            },
        }
        created = self.api.create(volume)
        self.cluster.record_event(pvc, "Normal", "ProvisioningSucceeded", f"Successfully provisioned volume {name}",
                                  provisioner)
        return created

    def _bind(self, pvc: Obj, volume: Obj) -> None:
        vol = thaw(volume)
        vol["spec"]["claimRef"] = _claim_ref(pvc)
        if vol["spec"] != (volume.get("spec") or {}):
            vol = thaw(self.api.update(vol))
        if (vol.get("status") or {}).get("phase") != "Bound":
            self.api.update(dict(vol, status={"phase": "Bound"}), subresource="status")
        claim = thaw(pvc)
        annotations = claim["metadata"].setdefault("annotations", {})
        annotations.update({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"})
        provisioner = (volume["metadata"].get("annotations") or {}).get("pv.kubernetes.io/provisioned-by")
        if provisioner:
            annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
            annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
        claim["spec"]["volumeName"] = vol["metadata"]["name"]
        claim = thaw(self.api.update(claim))
        claim["status"] = {"phase": "Bound", "accessModes": list(vol["spec"].get("accessModes") or ()),
                           "capacity": dict(vol["spec"].get("capacity") or {})}
        self.api.update(claim, subresource="status")
        self.cluster.trace_log.add(COMPONENT, "bound", pvc, f"to PersistentVolume {vol['metadata']['name']}")

    def _claim_gone(self, pvc: Obj) -> None:
        """Reclaim the volume of a deleted claim: Delete removes it, Retain leaves it Released."""
        name = (pvc.get("spec") or {}).get("volumeName")
        volume = self.store.get(VOLUMES, "", name) if name else None
        if volume is None or ((volume.get("spec") or {}).get("claimRef") or {}).get("uid") != pvc["metadata"]["uid"]:
            return
        # Listeners must not write: do it on the clock, right away.
        self.cluster.clock.call_later(0, lambda: self._reclaim(volume))

    def _reclaim(self, volume: Obj) -> None:
        try:
            if (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete":
                self.api.delete(PV, "", volume["metadata"]["name"])
            else:
                live = thaw(self.api.get(PV, "", volume["metadata"]["name"]))
                self.api.update(dict(live, status={"phase": "Released"}), subresource="status")
        except ApiError as err:
            if err.reason != "NotFound":
                raise


def _claim_ref(pvc: Obj) -> Obj:
    meta = pvc["metadata"]
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": meta["name"], "namespace": meta["namespace"],
            "uid": meta["uid"]}
