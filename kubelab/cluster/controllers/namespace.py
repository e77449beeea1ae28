"""The namespace controller: a Terminating namespace is emptied, then finalized and removed.

When a Namespace gets a deletionTimestamp, every namespaced object in it is deleted
(dependents first would be the garbage collector's job; here everything goes, as the
namespace controller's "delete all content" does); once none remain, the `kubernetes`
finalizer is dropped and the Namespace leaves the store. Its status conditions say what is
still in the way, as kube-controller-manager reports them.

Read by: cluster.core. Reads: controllers.base, api.kinds.
"""

from __future__ import annotations

from kubelab.api import kinds
from kubelab.cluster.controllers.base import Controller, Key

NAMESPACE = kinds.resolve("namespaces")


class NamespaceController(Controller):
    name = "namespace-controller"
    primary = ("", "namespaces")

    def reconcile(self, key: Key) -> float | None:
        _, name = key
        ns = self.store.get(self.primary, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        remaining = 0
        for kind in kinds.all_kinds():
            if not kind.namespaced or kinds.preferred(kind.group, kind.kind) is not kind:
                continue
            objs, _ = self.store.list((kind.group, kind.plural), name)
            for obj in objs:
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete(kind, name, obj["metadata"]["name"], propagation="Background")
        if remaining:
            still, _ = self._left(name)
            if still:
                return 1.0  # look again once kubelets and finalizers had time to act
        self.api.finish_deletion(NAMESPACE, "", name)
        self.cluster.trace_log.add(self.name, "removed namespace", ns)
        return None

    def _left(self, name: str) -> tuple[int, list[str]]:
        count, what = 0, []
        for kind in kinds.all_kinds():
            if kind.namespaced and kinds.preferred(kind.group, kind.kind) is kind:
                n = len(self.store.list((kind.group, kind.plural), name)[0])
                if n:
                    count += n
                    what.append(f"{kind.plural} has {n} resource instances")
        return count, what
