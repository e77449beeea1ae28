"""The API server's delete paths: `delete` and `finish_deletion`, as kube-apiserver's registry does them.

A delete with finalizers (the GC's `orphan` and `foregroundDeletion` among them, from
`propagationPolicy`) or a grace period (a pod running on a node) leaves the object in place with
`deletionTimestamp` set; a Namespace turns Terminating; anything else leaves the store at once.
`finish_deletion` is the kubelet's last word on a pod it stopped.

Read by: cluster.apiserver (ApiServer is a Deletions). Reads: api.errors, store, cluster.clock,
cluster.recorder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.cluster.clock import SimClock, rfc3339
from kubelab.cluster.recorder import Trace
from kubelab.store.memory import MemoryStore, thaw

Obj = dict[str, Any]
# The namespaces kube-apiserver refuses to delete (its namespace lifecycle admission; kube-node-lease too).
PROTECTED_NAMESPACES = {"default", "kube-system", "kube-public"}


class Deletions:
    store: MemoryStore
    clock: SimClock
    trace: Trace

    if TYPE_CHECKING:
        def get(self, kind: Kind, namespace: str, name: str) -> Obj: ...
        def now(self) -> str: ...

    def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        *,
        propagation: str | None = None,
        grace_period: int | None = None,
        expect_rv: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete as kube-apiserver does: finalizers and graceful deletion leave the object in place
        with `deletionTimestamp` set; otherwise it leaves the store at once."""
        ns = namespace if kind.namespaced else ""
        live = self.get(kind, ns, name)
        if propagation not in (None, "Background", "Foreground", "Orphan"):
            raise ApiError("BadRequest", f'unsupported propagationPolicy "{propagation}", supported values: '
                           '"Orphan", "Foreground", "Background"')
        if kind.kind == "Namespace" and name in PROTECTED_NAMESPACES | {"kube-node-lease"}:
            raise ApiError("Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                           details={"name": name, "kind": "namespaces"})
        obj = thaw(live)
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or ())
        if propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        grace = self._grace_period(kind, obj, grace_period)
        if dry_run:
            return live
        if kind.kind == "Namespace":
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = self.now()
                meta["deletionGracePeriodSeconds"] = 0
                obj.setdefault("status", {})["phase"] = "Terminating"
                self.trace.add("api-server", "marked for deletion", obj)
                return self.store.update(("", "namespaces"), obj)
            return live
        if finalizers or grace:
            if meta.get("deletionTimestamp"):
                # A second delete may shorten the grace period, never lengthen it.
                current = meta.get("deletionGracePeriodSeconds") or 0
                if grace >= current and finalizers == list(meta.get("finalizers") or ()):
                    return live
            meta["finalizers"] = finalizers
            if not finalizers:
                meta.pop("finalizers")
            meta["deletionTimestamp"] = rfc3339(self.clock.now() + grace)
            meta["deletionGracePeriodSeconds"] = grace
            self.trace.add("api-server", "marked for deletion", obj, f"grace period {grace}s" if grace else "")
            return self.store.update(kind.store_key, obj, expect_rv=expect_rv)
        gone = self.store.delete(kind.store_key, ns, name, expect_rv=expect_rv)
        self.trace.add("api-server", "deleted", gone)
        return gone

    def _grace_period(self, kind: Kind, obj: Obj, requested: int | None) -> int:
        if kind.kind != "Pod":
            return 0
        spec, status = obj.get("spec", {}), obj.get("status", {})
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0  # never started anywhere: nothing to stop
        if requested is not None:
            return max(0, requested)
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def finish_deletion(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        """The last word on a deletion (a kubelet confirming its pod stopped: a delete with grace
        period 0). Finalizers still hold the object — with `deletionGracePeriodSeconds: 0` — until
        their controllers remove them (a Job counts its pod first); otherwise it leaves the store."""
        resource = kind.store_key
        live = self.store.get(resource, namespace, name)
        if live is None:
            return None
        if live["metadata"].get("finalizers") and kind.kind != "Namespace":
            if live["metadata"].get("deletionGracePeriodSeconds") == 0:
                return live
            held = thaw(live)
            held["metadata"]["deletionGracePeriodSeconds"] = 0
            return self.store.update(resource, held)
        gone = self.store.delete(resource, namespace, name)
        self.trace.add("api-server", "deleted", gone)
        return gone

