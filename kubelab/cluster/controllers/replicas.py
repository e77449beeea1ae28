"""The replica manager shared by the ReplicaSet and ReplicationController controllers.

Like kube-controller-manager's ReplicaSetController (which also runs ReplicationControllers),
`reconcile(key)` lists the pods in the owner's namespace that it controls or that nobody
controls, adopts matching orphans and releases pods whose labels stopped matching, then creates
pods from the template (`generateName: <owner>-`, a controller ownerReference) in slow-start
batches of 1, 2, 4 … or deletes the pods ranked best to delete, and finally writes status:
replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (ready for minReadySeconds —
the controller looks again when the next pod crosses that line), terminatingReplicas,
observedGeneration and a ReplicaFailure condition while creating or deleting fails. Events
SuccessfulCreate/SuccessfulDelete/FailedCreate/FailedDelete carry upstream's messages. What a sync
reads from each pod (selected, fully labeled, ready) is kept per stored pod version for the next one.

Read by: controllers.replicaset, controllers.replicationcontroller. Reads: controllers.base,
controllers.podutil, controllers.ownership, api.selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers import podutil
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.ownership import claim
from kubelab.cluster.controllers.rechecks import RecheckTimers
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]
POD = kinds.resolve("pods")
PODS = ("", "pods")
BURST_REPLICAS = 500  # at most this many creations or deletions per sync, as upstream
SLOW_START_INITIAL_BATCH = 1


class ManageError(Exception):
    """Creating or deleting pods failed; the message becomes the ReplicaFailure condition's."""


class PodFacts(NamedTuple):
    """What a sync reads from one stored version of a pod (stored objects never change in place)."""

    pod: Obj
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
        ref = podutil.controller_of(event.object) if refs else None
        if old is None:
            settled = ref is not None
        else:
            old_meta = old["metadata"]
            settled = refs == old_meta.get("ownerReferences") and (
                event.type == "DELETED" or meta.get("labels") == old_meta.get("labels"))
        if settled:
            if ref is not None and ref.get("kind") == self.kind.kind:
                self.queue.add((meta["namespace"], ref["name"]))
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
        uid = owner["metadata"]["uid"]
        # The pods it controls or nobody controls, from the store's owner index (not the whole namespace).
        candidates = self.store.claimable(("", "pods"), namespace, uid)
        facts = self._facts(key, selector, _template_selector(owner))
        matches = (lambda p: facts(p).selected)
        # One pass sorts the candidates as podutil.is_active / is_terminating would (this runs over
        # every pod of the owner on each sync: 10,000 pods, dozens of syncs while scaling up).
        live: list[Obj] = []
        terminating: list[Obj] = []
        for pod in candidates:
            if (pod.get("status") or {}).get("phase") in podutil.FINISHED:
                continue
            if not pod["metadata"].get("deletionTimestamp"):
                live.append(pod)
            elif matches(pod) and (podutil.controller_of(pod) or {}).get("uid") == uid:
                terminating.append(pod)
        active = claim(self.api, owner, POD, live, matches)
        error: Exception | None = None
        if not owner["metadata"].get("deletionTimestamp"):
            try:
                self.manage_replicas(owner, active)
            except (ApiError, ManageError) as err:
                error = err
        now = self.cluster.clock.now()
        status = self.calculate_status(owner, active, terminating, error, now, facts)
        self.update_status(owner, status)
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
            name = pod["metadata"]["name"]
            found = seen.get(name) or known.get(name)
            if found is None or found.pod is not pod:
                labels = pod["metadata"].get("labels")
                found = PodFacts(pod, selector.matches(labels), template.matches(labels), podutil.is_ready(pod))
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
        wanted = _replicas(owner)
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
        meta: Obj = {"generateName": f"{name}-" if len(name) < 253 else name,
                     "namespace": owner["metadata"]["namespace"], "labels": thaw(tmeta["labels"])}
        if tmeta.get("annotations"):
            meta["annotations"] = thaw(tmeta["annotations"])
        if tmeta.get("finalizers"):
            meta["finalizers"] = thaw(tmeta["finalizers"])
        meta["ownerReferences"] = [podutil.controller_ref(owner)]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": thaw(template.get("spec") or {})}
        try:
            created = self.api.create(pod, decoded=True)  # built from the stored template
        except ApiError as err:
            if _namespace_terminating(err):
                return  # every creation would fail; the namespace controller is removing us anyway
            self.cluster.record_event(owner, "Warning", "FailedCreate", f"Error creating: {_text(err)}", self.name)
            raise
        self.cluster.record_event(owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                  self.name)

    def _delete_pods(self, owner: Obj, active: list[Obj], count: int) -> None:
        self.cluster.trace_log.add(self.name, "too many replicas", owner,
                                   f"need {_replicas(owner)}, deleting {count}")
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
                self.cluster.record_event(owner, "Warning", "FailedDelete", f"Error deleting: {_text(err)}",
                                          self.name)
                first_error = first_error or ManageError(f"unable to delete pods: {_text(err)}")
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

    # ----------------------------------------------------------- status
    def calculate_status(self, owner: Obj, active: list[Obj], terminating: list[Obj], error: Exception | None,
                         now: float, facts: Facts) -> Obj:
        spec = owner.get("spec") or {}
        old = owner.get("status") or {}
        min_ready = spec.get("minReadySeconds") or 0
        fully, ready = 0, list[Obj]()
        for pod in active:  # one pass: this runs over every replica on each sync
            pod_facts = facts(pod)
            fully += pod_facts.fully_labeled
            if pod_facts.ready:
                ready.append(pod)
        # Without minReadySeconds every ready pod is available (is_available's answer, without asking twice).
        available = sum(1 for p in ready if podutil.is_available(p, min_ready, now)) if min_ready else len(ready)
        conditions = [thaw(c) for c in old.get("conditions") or ()]
        failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
        if error is not None and failure is None:
            diff = len(active) - _replicas(owner)
            reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
            conditions.append({"type": "ReplicaFailure", "status": "True", "lastTransitionTime": rfc3339(now),
                               "reason": reason, "message": str(error) if isinstance(error, ManageError)
                               else _text(error)})
        elif error is None and failure is not None:
            conditions.remove(failure)
        status: Obj = {"replicas": len(active), "fullyLabeledReplicas": fully, "readyReplicas": len(ready),
                       "availableReplicas": available}
        if self.reports_terminating:
            status["terminatingReplicas"] = len(terminating)
        status["observedGeneration"] = old.get("observedGeneration", 0)
        status["conditions"] = conditions
        return status

    def update_status(self, owner: Obj, status: Obj) -> None:
        old = owner.get("status") or {}
        generation = owner["metadata"].get("generation", 0)
        same = all(old.get(k, 0) == status[k] for k in
                   ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"))
        if same and old.get("terminatingReplicas") == status.get("terminatingReplicas") \
                and generation == old.get("observedGeneration", 0) \
                and (old.get("conditions") or []) == status["conditions"]:
            return
        status["observedGeneration"] = generation
        body = dict(owner)
        body["status"] = _omit_empty(status)
        stored = self.api.update(body, subresource="status")
        owner["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        owner["status"] = thaw(stored.get("status") or {})


def _template_selector(owner: Obj) -> LabelSelector:
    """Matches pods that carry every label of the owner's pod template (status.fullyLabeledReplicas)."""
    template = (owner.get("spec") or {}).get("template") or {}
    return LabelSelector.from_set((template.get("metadata") or {}).get("labels"))


def _replicas(owner: Obj) -> int:
    replicas = (owner.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def _omit_empty(status: Obj) -> Obj:
    """JSON as the Go structs marshal it: `replicas` always, the other counters only when non-zero
    (omitempty), terminatingReplicas whenever it is reported (a pointer)."""
    out: Obj = {"replicas": status["replicas"]}
    for key in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
        if status.get(key):
            out[key] = status[key]
    if "terminatingReplicas" in status:
        out["terminatingReplicas"] = status["terminatingReplicas"]
    if status.get("observedGeneration"):
        out["observedGeneration"] = status["observedGeneration"]
    if status.get("conditions"):
        out["conditions"] = status["conditions"]
    return out


def _namespace_terminating(err: ApiError) -> bool:
    return any(c.get("reason") == "NamespaceTerminating" for c in (err.details or {}).get("causes") or ())


def _text(err: Exception) -> str:
    """An error as Go's err.Error() prints it: the Status message, without kubelab's hint line."""
    if isinstance(err, ApiError):
        hint = f"\nhint: {err.hint}" if err.hint else ""
        return err.message[: len(err.message) - len(hint)] if hint else err.message
    return str(err)
