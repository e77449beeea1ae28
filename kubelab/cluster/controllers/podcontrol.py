"""How workload controllers create and delete the pods they own, and hear about them.

Mirrors kube-controller-manager's RealPodControl: a pod made from a
template carries the template's labels, annotations and finalizers, a controller ownerReference
to its workload (`controller` and `blockOwnerDeletion` true), and the events the workload shows in
`kubectl describe` (`SuccessfulCreate` "Created pod: web-x7k2p", `SuccessfulDelete` "Deleted pod:
…", `FailedCreate` "Error creating: …"). `owner_keys` and `selecting_keys` map pod events to the
workloads that must look again (adoption itself is controllers.ownership's `claim`);
`PodWorkloadController.handle` answers the usual pod writes (those that concern no workload, or only
the pod's unchanged controller) without building them.

Read by: controllers.daemonset, .statefulset, .job, .jobpods, .cronjob. Reads: api, controllers.podutil,
controllers.rechecks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.controllers.podutil import controller_of, controller_ref
from kubelab.cluster.controllers.rechecks import RecheckTimers
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
POD = kinds.resolve("pods")
PODS = ("", "pods")


def pod_from_template(template: Obj, owner: Obj, *, generate_name: str | None = None) -> Obj:
    """controller.GetPodFromTemplate: a new Pod named `<owner>-` + 5 random characters by default."""
    template = thaw(template)
    meta = template.get("metadata") or {}
    pod_meta: Obj = {"generateName": generate_name if generate_name is not None else owner["metadata"]["name"] + "-",
                     "namespace": owner["metadata"]["namespace"]}
    for key in ("labels", "annotations", "finalizers"):
        if meta.get(key):
            pod_meta[key] = meta[key]
    pod_meta["ownerReferences"] = [controller_ref(owner)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}


def create_pod(cluster: Cluster, pod: Obj, owner: Obj, component: str) -> Obj | None:
    """Create `pod` (made by `pod_from_template`) for `owner`, recording SuccessfulCreate or FailedCreate
    on the owner. None when the namespace is going away (every later creation would fail the same way,
    so it is not an error). The pod is built from the owner's stored, already decoded template: the API
    server skips the decode (which would only copy it) and still defaults, admits and validates it."""
    try:
        created = cluster.api.create(pod, decoded=True)
    except ApiError as err:
        if err.reason == "Forbidden" and "is being terminated" in err.message:
            return None
        cluster.record_event(owner, "Warning", "FailedCreate", f"Error creating: {err.message}", component)
        raise
    cluster.record_event(owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                         component)
    cluster.trace_log.add(component, "created", created, f"for {owner['kind']} {owner['metadata']['name']}")
    return created


def delete_pod(cluster: Cluster, pod: Obj, owner: Obj, component: str) -> bool:
    """Delete `pod` (gracefully, as a controller does), recording SuccessfulDelete on the owner. False
    when the pod was already gone."""
    meta = pod["metadata"]
    try:
        cluster.api.delete(POD, meta["namespace"], meta["name"])
    except ApiError as err:
        if err.reason == "NotFound":
            return False
        cluster.record_event(owner, "Warning", "FailedDelete", f"Error deleting: {err.message}", component)
        raise
    cluster.record_event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}", component)
    cluster.trace_log.add(component, "deleted", pod, f"for {owner['kind']} {owner['metadata']['name']}")
    return True


def owner_keys(event: Event, kind: str) -> list[tuple[str, str]]:
    """Keys of the `kind` controllers owning the object of `event` (before and after the change)."""
    obj, old = event.object, event.old
    refs = obj["metadata"].get("ownerReferences")
    # Most events keep the owners (the stored list itself, or an equal one): one controller to read.
    if old is None or refs is (old_refs := old["metadata"].get("ownerReferences")) or refs == old_refs:
        ref = controller_of(obj) if refs else None
        if ref is None or ref.get("kind") != kind:
            return []
        return [(obj["metadata"].get("namespace", ""), ref["name"])]
    keys = []
    for version in (event.object, event.old):
        if version is None:
            continue
        ref = controller_of(version)
        if ref is not None and ref.get("kind") == kind:
            key = (version["metadata"].get("namespace", ""), ref["name"])
            if key not in keys:
                keys.append(key)
    return keys


def selecting_keys(cluster: Cluster, resource: tuple[str, str], event: Event) -> list[tuple[str, str]]:
    """Keys of the workloads in the object's namespace whose selector matches an orphan (adoption)."""
    obj = event.object
    if event.type == "DELETED" or controller_of(obj) is not None:
        return []
    namespace = obj["metadata"].get("namespace", "")
    labels = obj["metadata"].get("labels")
    keys = []
    for workload in cluster.store.list(resource, namespace)[0]:
        selector = (workload.get("spec") or {}).get("selector")
        if selector and LabelSelector.from_spec(selector).matches(labels):
            keys.append((namespace, workload["metadata"]["name"]))
    return keys


def without_empty(status: Obj, omit_empty: tuple[str, ...]) -> Obj:
    """A status as Go's encoding/json writes it: `omitempty` fields left out when zero or empty."""
    return {k: v for k, v in status.items() if not (k in omit_empty and v in (0, None, "", [], {}))}


class PodWorkloadController(RecheckTimers):
    """A workload controller (its `primary` resource, objects of `workload_kind`) whose `keys_for` answers
    pod events with `owner_keys(...) or selecting_keys(...)`. Every pod write reaches `handle`; most keep
    the pod's owners, and then the answer needs no keys built: nothing for an orphan in a namespace
    without such workloads or for a pod another kind controls, the pod's controller when it is ours.
    The rest take `keys_for`'s way."""

    workload_kind = ""

    def handle(self, event: Event) -> None:
        if event.resource == PODS:
            old = event.old
            meta = event.object["metadata"]
            refs = meta.get("ownerReferences")
            if not refs:
                if (old is None or not old["metadata"].get("ownerReferences")) and (
                        event.type == "DELETED" or not self.store.any_in(self.primary, meta.get("namespace", ""))):
                    return  # an orphan before and after, that no workload of ours could adopt
            # Writes that keep the owners share the stored list (`is`), or carry an equal one.
            elif old is None or refs is (old_refs := old["metadata"].get("ownerReferences")) or refs == old_refs:
                for ref in refs:
                    if ref.get("controller"):
                        if ref.get("kind") == self.workload_kind:
                            self.queue.add((meta.get("namespace", ""), ref["name"]))
                        return  # its controller, unchanged, is the only workload concerned
        super().handle(event)
