"""The replica manager shared by the ReplicaSet and ReplicationController controllers.

Like kube-controller-manager's ReplicaSetController (which also runs ReplicationControllers),
`reconcile(key)` reads the pods it controls and those nobody controls from the store's indexes,
in no particular order (it sorts them by name only where order shows: adoptions, releases,
deletions), adopts matching orphans and releases pods whose labels stopped matching, then creates
pods from the template (`generateName: <owner>-`, a controller ownerReference) in slow-start
batches of 1, 2, 4 … or deletes the pods ranked best to delete, and finally writes status:
replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for minReadySeconds —
the controller looks again when the next pod crosses that line), terminatingReplicas,
observedGeneration and a ReplicaFailure condition (controllers.replicas_status). Events
SuccessfulCreate/SuccessfulDelete/FailedCreate/FailedDelete carry upstream's messages. What a sync
reads from each pod (live/terminating/finished, selected, fully labeled, ready) is kept per stored
pod version for the next one.

Read by: controllers.replicaset, controllers.replicationcontroller. Reads: controllers.base,
controllers.podutil, controllers.ownership, controllers.replicas_status, api.selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.controllers import podutil
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.ownership import claim
from kubelab.cluster.controllers.rechecks import RecheckTimers
from kubelab.cluster.controllers.replicas_status import (
    ManageError,
    calculate_status,
    replicas_of,
    text_of,
    update_status,
)
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]
POD = kinds.resolve("pods")
PODS = ("", "pods")
BURST_REPLICAS = 500  # at most this many creations or deletions per sync, as upstream
SLOW_START_INITIAL_BATCH = 1


LIVE, TERMINATING, FINISHED = 0, 1, 2  # a pod's state as a sync counts it (podutil.is_active / is_terminating)


class PodFacts(NamedTuple):
    """What a sync reads from one stored version of a pod (stored objects never change in place)."""

    pod: Obj
    state: int  # LIVE, TERMINATING (deletionTimestamp, not finished) or FINISHED (Succeeded or Failed)
    selected: bool  # by the owner's selector
    fully_labeled: bool  # carries every label of the owner's template
    ready: bool


Facts = Callable[[Obj], PodFacts]


class ReplicaManager(RecheckTimers):
    """Keeps `spec.replicas` pods of an owner kind running. Subclasses say which kind and how its selector reads."""

    kind: Kind
    # ReplicaSets report status.terminatingReplicas (DeploymentReplicaSetTerminatingReplicas, on by
    # default); ReplicationControllers have no such field.
    reports_terminating = True

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        # owner → (selector, template labels, pod name → facts) as its last sync saw them.
        self._last_facts: dict[Key, tuple[LabelSelector, LabelSelector, dict[str, PodFacts]]] = {}

    def selector_of(self, owner: Obj) -> LabelSelector:
        raise NotImplementedError

    # ------------------------------------------------------------ events
    def handle(self, event: Event) -> None:
        """`keys_for`'s answer without its walk for the usual pod events: a new pod with a controller, and
        writes that keep owners and labels (status, binding, deletion). Then only the pod's controller,
        if it is one of ours, must look again; no adoption can have become possible."""
        if event.resource != PODS:
            super().handle(event)
            return
        old = event.old
        meta = event.object["metadata"]
        refs = meta.get("ownerReferences")
        settled = False  # for a new pod, whether it has a controller (below)
        if old is not None:
            old_meta = old["metadata"]
            # A write that keeps owners and labels keeps the stored list and map themselves (`is`) or equal ones.
            old_refs, labels, old_labels = old_meta.get("ownerReferences"), meta.get("labels"), old_meta.get("labels")
            settled = (refs is old_refs or refs == old_refs) and (
                labels is old_labels or event.type == "DELETED" or labels == old_labels)
        if refs and (settled or old is None):
            for ref in refs:  # podutil.controller_of, inlined: this runs on every pod write
                if ref.get("controller"):
                    if ref.get("kind") == self.kind.kind:
                        self.queue.add((meta["namespace"], ref["name"]))
                    return
        if settled:
            return
        if not refs and (old is None or not old["metadata"].get("ownerReferences")) \
                and not self.store.any_in(self.primary, meta["namespace"]):
            return  # an orphan, and no owner of our kind in its namespace that could adopt it
        super().handle(event)

    def keys_for(self, event: Event) -> list[Key]:
        """A pod event concerns its controller, or — for an orphan whose labels or owners changed — every
        owner of this kind whose selector matches it (one of them may adopt it)."""
        keys: list[Key] = []
        orphan_changed = False
        for pod in (event.object, event.old):
            if pod is None:
                continue
            ref = podutil.controller_of(pod)
            if ref is not None:
                if ref.get("kind") == self.kind.kind:
                    keys.append((pod["metadata"]["namespace"], ref["name"]))
            elif event.type != "DELETED":
                orphan_changed = True
        if orphan_changed and self._orphan_event_matters(event):
            namespace = event.object["metadata"]["namespace"]
            owners, _ = self.store.list(self.primary, namespace)
            for owner in owners:
                selector = self._selector_or_none(owner)
                if selector is not None and any(
                        selector.matches(p["metadata"].get("labels")) for p in (event.object, event.old) if p):
                    keys.append((namespace, owner["metadata"]["name"]))
        return list(dict.fromkeys(keys))

    @staticmethod
    def _orphan_event_matters(event: Event) -> bool:
        if event.old is None:
            return True
        old, new = event.old["metadata"], event.object["metadata"]
        return old.get("labels") != new.get("labels") or old.get("ownerReferences") != new.get("ownerReferences")

    def _selector_or_none(self, owner: Obj) -> LabelSelector | None:
        try:
            return self.selector_of(owner)
        except ApiError:
            return None

    # --------------------------------------------------------- reconcile
    def reconcile(self, key: Key) -> float | None:
        self.forget_recheck(key)
        namespace, name = key
        stored = self.store.get(self.primary, namespace, name)
        if stored is None:
            self._last_facts.pop(key, None)
            return None
        owner = thaw(stored)
        selector = self._selector_or_none(owner)
        if selector is None:
            return None  # upstream logs the bad selector and gives up on this object
        # The pods it controls and those nobody controls, from the store's indexes (not the whole namespace).
        controlled, orphans = self.store.claimable(PODS, namespace, owner["metadata"]["uid"])
        facts = self._facts(key, selector, _template_selector(owner))
        # One pass over the pods it controls, in no particular order (this runs over every pod of the owner on
        # each sync: 10,000 pods, dozens of syncs while scaling up). It counts what the status reports on the way.
        active: list[Obj] = []  # live and selected: its replicas, unless adoptions or releases change them
        strays: list[Obj] = []  # live, no longer selected: claim releases them
        ready: list[Obj] = []
        fully = terminating = 0
        for pod in controlled:
            found = facts(pod)
            if found.state == LIVE:
                if found.selected:
                    active.append(pod)
                    fully += found.fully_labeled
                    if found.ready:
                        ready.append(pod)
                else:
                    strays.append(pod)
            elif found.state == TERMINATING and found.selected:
                terminating += 1
        owner_deleting = bool(owner["metadata"].get("deletionTimestamp"))
        adoptable = [] if owner_deleting else [p for p in orphans if (f := facts(p)).state == LIVE and f.selected]
        if adoptable or (strays and not owner_deleting):
            # Adoptions and releases are writes: claim makes them in name order, as upstream walks the pods.
            live = sorted([*active, *strays, *adoptable], key=_name)
            active = claim(self.api, owner, POD, live, lambda p: facts(p).selected)
            fully, ready = _counts(active, facts)
        error: Exception | None = None
        if not owner["metadata"].get("deletionTimestamp"):
            try:
                self.manage_replicas(owner, active)
            except (ApiError, ManageError) as err:
                error = err
        now = self.cluster.clock.now()
        reported = terminating if self.reports_terminating else None
        status = calculate_status(owner, len(active), fully, ready, reported, error, now)
        update_status(self.api, owner, status)
        if error is not None:
            raise error
        return self._next_availability_check(owner, active, status, now)

    def _facts(self, key: Key, selector: LabelSelector, template: LabelSelector) -> Facts:
        """The facts of each pod this sync reads, reusing the last sync's for pod versions it saw already:
        scaling to 10,000 replicas syncs the owner dozens of times over mostly unchanged pods."""
        last = self._last_facts.get(key)
        known = last[2] if last is not None and last[0] == selector and last[1] == template else {}
        seen: dict[str, PodFacts] = {}
        self._last_facts[key] = (selector, template, seen)

        def facts(pod: Obj) -> PodFacts:
            meta = pod["metadata"]
            name = meta["name"]
            found = seen.get(name) or known.get(name)
            if found is None or found.pod is not pod:
                labels = meta.get("labels")
                state = (FINISHED if (pod.get("status") or {}).get("phase") in podutil.FINISHED
                         else TERMINATING if meta.get("deletionTimestamp") else LIVE)
                found = PodFacts(pod, state, selector.matches(labels), template.matches(labels),
                                 podutil.is_ready(pod))
            seen[name] = found
            return found

        return facts

    def _next_availability_check(self, owner: Obj, active: list[Obj], status: Obj, now: float) -> float | None:
        min_ready = (owner.get("spec") or {}).get("minReadySeconds") or 0
        if not min_ready or status.get("readyReplicas", 0) == status.get("availableReplicas", 0):
            return None
        waits = [when - now for p in active if (when := podutil.available_at(p, min_ready)) is not None and when > now]
        return min(waits) if waits else None

    # ---------------------------------------------------------- scaling
    def manage_replicas(self, owner: Obj, active: list[Obj]) -> None:
        wanted = replicas_of(owner)
        diff = len(active) - wanted
        if diff < 0:
            self._create_pods(owner, min(-diff, BURST_REPLICAS), len(active), wanted)
        elif diff > 0:
            self._delete_pods(owner, active, min(diff, BURST_REPLICAS))

    def _create_pods(self, owner: Obj, count: int, have: int, wanted: int) -> None:
        """Slow start: batches of 1, 2, 4 … so a template that cannot be created fails once, not N times."""
        self.cluster.trace_log.add(self.name, "too few replicas", owner, f"need {wanted}, creating {count}")
        remaining, batch = count, min(count, SLOW_START_INITIAL_BATCH)
        while batch > 0:
            first_error: Exception | None = None
            for _ in range(batch):
                try:
                    self._create_pod(owner)
                except (ApiError, ManageError) as err:
                    first_error = first_error or err
            if first_error is not None:
                raise first_error
            remaining -= batch
            batch = min(2 * batch, remaining)

    def _create_pod(self, owner: Obj) -> None:
        template = (owner.get("spec") or {}).get("template") or {}
        tmeta = template.get("metadata") or {}
        if not tmeta.get("labels"):
            raise ManageError("unable to create pods, no labels")
        name = owner["metadata"]["name"]
        # The template's stored parts go in as they are: `prepare` copies what it keeps and changes
        # nothing it is given.
        meta: Obj = {"generateName": f"{name}-" if len(name) < 253 else name,
                     "namespace": owner["metadata"]["namespace"], "labels": tmeta["labels"]}
        if tmeta.get("annotations"):
            meta["annotations"] = tmeta["annotations"]
        if tmeta.get("finalizers"):
            meta["finalizers"] = tmeta["finalizers"]
        meta["ownerReferences"] = [podutil.controller_ref(owner)]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template.get("spec") or {}}
        try:
            created = self.api.create(pod, decoded=True)  # built from the stored template
        except ApiError as err:
            if _namespace_terminating(err):
                return  # every creation would fail; the namespace controller is removing us anyway
            self.cluster.record_event(owner, "Warning", "FailedCreate", f"Error creating: {text_of(err)}", self.name)
            raise
        self.cluster.record_event(owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                  self.name)

    def _delete_pods(self, owner: Obj, active: list[Obj], count: int) -> None:
        self.cluster.trace_log.add(self.name, "too many replicas", owner,
                                   f"need {replicas_of(owner)}, deleting {count}")
        active = sorted(active, key=_name)  # a sync reads its pods in no particular order; upstream's is by name
        if count < len(active):
            victims = podutil.deletion_order(active, self._related_pods(owner), self.cluster.clock.now())[:count]
        else:
            victims = active[:count]
        first_error: ManageError | None = None
        for pod in victims:
            pod_name = pod["metadata"]["name"]
            try:
                self.api.delete(POD, pod["metadata"]["namespace"], pod_name)
            except ApiError as err:
                if err.reason == "NotFound":
                    continue
                self.cluster.record_event(owner, "Warning", "FailedDelete", f"Error deleting: {text_of(err)}",
                                          self.name)
                first_error = first_error or ManageError(f"unable to delete pods: {text_of(err)}")
                continue
            self.cluster.record_event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {pod_name}", self.name)
        if first_error is not None:
            raise first_error

    def _related_pods(self, owner: Obj) -> list[Obj]:
        """The pods of every owner that shares our controller (a Deployment's ReplicaSets), to spot pods
        doubled up on one node. Without a controller there are none (upstream: every rank is 0)."""
        ref = podutil.controller_of(owner)
        if ref is None:
            return []
        namespace = owner["metadata"]["namespace"]
        siblings = [o for o in self.store.list(self.primary, namespace)[0]
                    if (podutil.controller_of(o) or {}).get("uid") == ref.get("uid")]
        pods, _ = self.store.list(("", "pods"), namespace)
        related: dict[str, Obj] = {}
        for sibling in siblings:
            selector = self._selector_or_none(sibling)
            if selector is None:
                continue
            for pod in pods:
                if selector.matches(pod["metadata"].get("labels")):
                    related.setdefault(pod["metadata"]["uid"], pod)
        return list(related.values())


def _template_selector(owner: Obj) -> LabelSelector:
    """Matches pods that carry every label of the owner's pod template (status.fullyLabeledReplicas)."""
    template = (owner.get("spec") or {}).get("template") or {}
    return LabelSelector.from_set((template.get("metadata") or {}).get("labels"))


def _counts(active: list[Obj], facts: Facts) -> tuple[int, list[Obj]]:
    """(fully labeled, ready pods) among `active`."""
    fully, ready = 0, []
    for pod in active:
        found = facts(pod)
        fully += found.fully_labeled
        if found.ready:
            ready.append(pod)
    return fully, ready


def _name(obj: Obj) -> str:
    return obj["metadata"]["name"]


def _namespace_terminating(err: ApiError) -> bool:
    return any(c.get("reason") == "NamespaceTerminating" for c in (err.details or {}).get("causes") or ())
