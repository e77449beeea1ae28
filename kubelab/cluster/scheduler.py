"""kube-scheduler: binds each Pending pod to the best node, or says precisely why none fits.

A controller on Pods (and Nodes; Services and workload controllers only to notice when default
spreading selectors change). A pod with no `spec.nodeName`, `schedulerName:
default-scheduler` and no scheduling gates gets one scheduling cycle: every node goes through
the filters (scheduling.filters); if none passes, preemption is considered
(scheduling.preemption), the pod gets `PodScheduled=False/Unschedulable` with the FitError text
and a `FailedScheduling` event; otherwise the feasible nodes are scored (scheduling.scoring),
ties are broken by the cluster's seeded generator, and the pod is bound (`spec.nodeName`,
`PodScheduled=True`) with a `Scheduled` event "Successfully assigned default/db to node".
Unschedulable pods wait, as in upstream's queue, for an event that may help (a node added or
changed in labels, taints, schedulability or size; a bound pod gone) and are retried after
their back-off (1 s doubling to 10 s), and at the latest every 5 minutes. Every attempt is kept
in `decisions` for `Cluster.scheduling_decision` and summarised in the trace. Each node's
verdict and scores are kept from cycle to cycle and recomputed only for the nodes whose pods
changed (scheduling.board, scheduling.memo).

Read by: cluster.components, cluster.nodeops. Reads: controllers.base, cluster.scheduling.*.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.selectors import LabelSelector, Requirement
from kubelab.cluster.clock import rfc3339
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.scheduling import memo, messages, scoring
from kubelab.cluster.scheduling.board import Board
from kubelab.cluster.scheduling.cache import SchedulerCache
from kubelab.cluster.scheduling.decision import DecisionLog, SchedulingDecision
from kubelab.cluster.scheduling.podfacts import pod_facts
from kubelab.cluster.scheduling.preemption import preempt
from kubelab.cluster.scheduling.resources import TERMINAL_PHASES
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

SCHEDULER_NAME = "default-scheduler"
COMPONENT = "default-scheduler"
INITIAL_BACKOFF, MAX_BACKOFF = 1.0, 10.0
MAX_UNSCHEDULABLE_WAIT = 300.0  # podMaxInUnschedulablePodsDuration
POD = kinds.resolve("pods")
POD_RESOURCE = ("", "pods")
# Controllers and Services whose selectors make pods "the same workload" for default spreading.
SPREAD_OWNERS = (("", "services"), ("", "replicationcontrollers"), ("apps", "replicasets"), ("apps", "statefulsets"))


def wants_scheduling(pod: Obj | None) -> bool:
    if pod is None:
        return False
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    return (not spec.get("nodeName") and not meta.get("deletionTimestamp")
            and (spec.get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME
            and (pod.get("status") or {}).get("phase", "Pending") == "Pending")


def _node_changed(old: Obj | None, new: Obj | None) -> bool:
    """Could this Node event make an unschedulable pod fit? (Heartbeats and lease-only changes cannot.)"""
    if old is None or new is None:
        return new is not None
    def view(n: Obj) -> tuple:
        spec, status = n.get("spec") or {}, n.get("status") or {}
        return ((n["metadata"].get("labels") or {}), spec.get("taints"), bool(spec.get("unschedulable")),
                status.get("allocatable"))
    return view(old) != view(new)


def _same_for_cache(old: Obj, new: Obj) -> bool:
    """Does the cache's entry for this pod stay as it is? (Status writes share the stored spec.)"""
    before, after = old["metadata"], new["metadata"]
    # is_terminal inline: this runs for every pod write (three per pod), and its two calls cost about as
    # much as the rest (cProfile).
    return (old.get("spec") is new.get("spec") and before.get("labels") == after.get("labels")
            and before.get("deletionTimestamp") == after.get("deletionTimestamp")
            and ((old.get("status") or {}).get("phase") in TERMINAL_PHASES)
            == ((new.get("status") or {}).get("phase") in TERMINAL_PHASES))


class Scheduler(Controller):
    name = "scheduler"
    primary = ("", "pods")
    secondary = (("", "nodes"),)

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.cache = SchedulerCache()
        # Each node's verdict and score, patched cycle to cycle where nodes changed (scheduling.board).
        self._board = Board(self.cache, memo.NodeMemo())
        self.decisions = DecisionLog()
        self._unschedulable: dict[Key, float] = {}  # pod → time of its last failed attempt
        self._retry_timers: dict[Key, Any] = {}
        self._selectors: dict[tuple, tuple[Obj, LabelSelector]] = {}  # owner → (its stored selector, parsed)
        # (namespace, pod labels) → (default spreading selector, its key for scoring); emptied whenever a
        # Service, ReplicationController, ReplicaSet or StatefulSet comes, goes or changes its selector.
        self._spreading: dict[tuple, tuple[LabelSelector | None, str | None]] = {}
        for node in self.store.list(("", "nodes"))[0]:
            self.cache.observe_node(node, node["metadata"]["name"])
        for pod in self.store.list(self.primary)[0]:
            self.cache.observe_pod(pod, (pod["metadata"]["namespace"], pod["metadata"]["name"]))

    # ------------------------------------------------------------------ events
    def watched(self) -> Iterable[tuple[str, str]]:
        return (*super().watched(), *SPREAD_OWNERS)

    def handle(self, event: Event) -> None:
        meta = event.object["metadata"]
        if event.resource != POD_RESOURCE:
            if event.resource == ("", "nodes"):
                self.cache.observe_node(None if event.type == "DELETED" else event.object, meta["name"])
                if _node_changed(event.old, None if event.type == "DELETED" else event.object):
                    self._wake_unschedulable()
            elif event.old is None or event.type == "DELETED" or \
                    (event.old.get("spec") or {}).get("selector") != (event.object.get("spec") or {}).get("selector"):
                self._spreading.clear()  # one of SPREAD_OWNERS: which pods it selects may have changed
            return
        key = (meta.get("namespace", ""), meta["name"])
        deleted = event.type == "DELETED"
        old = event.old
        if old is not None and not deleted and (old.get("spec") or {}).get("nodeName") \
                and _same_for_cache(old, event.object):
            # A bound pod's status write (a kubelet's two per pod): its cache entry stays (same spec), it was
            # and stays bound, so nothing is freed and nothing is to be scheduled.
            self._unschedulable.pop(key, None)
            return
        was_bound = self.cache.node_of(key)
        # A pod neither bound before nor now has no cache entry to change (its creation, its own status writes).
        if (was_bound is not None or (event.object.get("spec") or {}).get("nodeName")) \
                and (deleted or old is None or not _same_for_cache(old, event.object)):
            self.cache.observe_pod(None if deleted else event.object, key)
        if was_bound and self.cache.node_of(key) is None:
            self._wake_unschedulable()  # a bound pod went away or finished: room was freed
        if deleted:
            self._unschedulable.pop(key, None)
            self.decisions.forget(key)
            return
        if not wants_scheduling(event.object):
            self._unschedulable.pop(key, None)
            return
        changed_spec = event.old is None or (event.old["metadata"].get("generation")
                                             != meta.get("generation"))
        if key not in self._unschedulable or changed_spec:
            self.queue.add(key)

    def _wake_unschedulable(self) -> None:
        """Move waiting pods back to the queue once their back-off has passed (a timer if it has not)."""
        now = self.cluster.clock.now()
        for key, failed_at in list(self._unschedulable.items()):
            ready_at = failed_at + self._backoff(key)
            if ready_at <= now:
                self.queue.add(key)
            elif key not in self._retry_timers:
                self._retry_timers[key] = self.cluster.clock.call_at(ready_at, partial(self._retry, key))

    def _retry(self, key: Key) -> None:
        self._retry_timers.pop(key, None)
        if key in self._unschedulable:
            self.queue.add(key)

    def _backoff(self, key: Key) -> float:
        attempts = max(1, self.decisions.attempts(key))
        return min(INITIAL_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)

    # --------------------------------------------------------------- reconcile
    def reconcile(self, key: Key) -> float | None:
        pod = self.store.get(self.primary, *key)
        if not wants_scheduling(pod):
            self._unschedulable.pop(key, None)
            return None
        assert pod is not None
        if (pod.get("spec") or {}).get("schedulingGates"):
            self._gate(pod)
            return None
        self.schedule(pod)
        return None

    def schedule(self, pod: Obj) -> SchedulingDecision:
        """One scheduling cycle for `pod`: bind it, or record why it cannot be placed."""
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        ref = f"{key[0]}/{key[1]}"
        now, attempt = self.cluster.clock.now(), self.decisions.attempts(key) + 1
        facts = pod_facts(pod)  # PreFilter: the pod is read once, not once per node and plugin
        outcome = self._board.cycle(pod, facts, memo.shape_of(facts), *self._spreading_of(pod))
        # tied: the best total's nodes, sorted ([] when none is feasible); the scores (when more than one
        # node was feasible, so scored) are built if read.
        decision = SchedulingDecision(ref, now, attempt, None, outcome.rejected, outcome.tied,
                                      _pending_scores=outcome.scores)
        if not outcome.tied:
            self._unschedulable_pod(pod, decision, {i.name: i for i in self.cache.nodes()})
        else:
            node = decision.tied[0] if len(decision.tied) == 1 else self.cluster.rng.choice(decision.tied)
            self._bind(pod, node, decision)
        self.decisions.add(key, decision)
        return decision

    # ------------------------------------------------------------------ binding
    def _bind(self, pod: Obj, node: str, decision: SchedulingDecision) -> None:
        meta = pod["metadata"]
        try:
            bound = bind(self.cluster, pod, node)
        except ApiError as err:
            decision.message = f"Binding rejected: {err}"
            self.cluster.record_event(pod, "Warning", "FailedScheduling", decision.message, COMPONENT)
            raise
        decision.node = node
        decision.message = f"Successfully assigned {decision.pod} to {node}"
        self._unschedulable.pop((meta["namespace"], meta["name"]), None)
        self.cluster.record_event(bound, "Normal", "Scheduled", decision.message, COMPONENT)
        self.cluster.trace_log.add("scheduler", "bound", bound, f"to {node}")

    def _unschedulable_pod(self, pod: Obj, decision: SchedulingDecision, infos: dict) -> None:
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        post_filter = ""
        nominated = None
        if infos:
            outcome = preempt(pod, infos, decision.rejected)
            post_filter = outcome.message
            if outcome.node is not None:
                nominated = outcome.node
                decision.nominated = nominated
                decision.victims = [f"{v.namespace}/{v.name}" for v in outcome.victims]
                self._preempt_victims(pod, outcome.node, outcome.victims)
        decision.message = messages.fit_error(len(infos), decision.rejected, post_filter)
        # Waiting before the status write: that write's own event must not queue the pod again.
        self._unschedulable[key] = self.cluster.clock.now()
        self._set_condition(pod, "False", "Unschedulable", decision.message, nominated)
        self.cluster.record_event(pod, "Warning", "FailedScheduling", decision.message, COMPONENT)
        self.cluster.trace_log.add("scheduler", "could not schedule", pod, decision.message)
        # upstream flushes pods that waited 5 minutes back into the queue; a keep-alive, so background.
        self.cluster.clock.call_later(MAX_UNSCHEDULABLE_WAIT, lambda: self._flush(key), background=True)

    def _flush(self, key: Key) -> None:
        failed_at = self._unschedulable.get(key)
        if failed_at is not None and self.cluster.clock.now() - failed_at >= MAX_UNSCHEDULABLE_WAIT:
            self.queue.add(key)

    def _preempt_victims(self, pod: Obj, node: str, victims: list) -> None:
        uid = pod["metadata"].get("uid", "")
        for victim in victims:
            live = self.store.get(self.primary, victim.namespace, victim.name)
            if live is None:
                continue
            status = dict(live.get("status") or {})
            conditions = [c for c in status.get("conditions") or () if c.get("type") != "DisruptionTarget"]
            conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                               "message": f"{SCHEDULER_NAME}: preempting to accommodate a higher priority pod",
                               "lastProbeTime": None, "lastTransitionTime": rfc3339(self.cluster.clock.now())})
            self.api.update(dict(live, status=dict(status, conditions=conditions)), subresource="status")
            self.cluster.record_event(live, "Normal", "Preempted", f"Preempted by pod {uid} on node {node}",
                                      COMPONENT)
            self.api.delete(POD, victim.namespace, victim.name)

    def _gate(self, pod: Obj) -> None:
        self._set_condition(pod, "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates")

    def _set_condition(self, pod: Obj, status: str, reason: str, message: str, nominated: str | None = None) -> None:
        live = thaw(pod)
        pod_status = live.setdefault("status", {})
        conditions = pod_status.setdefault("conditions", [])
        current = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
        wanted = {"type": "PodScheduled", "status": status, "reason": reason, "message": message,
                  "lastProbeTime": None}
        if current is not None and all(current.get(k) == v for k, v in wanted.items()) \
                and pod_status.get("nominatedNodeName") == (nominated or pod_status.get("nominatedNodeName")):
            return
        stamp = rfc3339(self.cluster.clock.now())
        if current is None:
            conditions.append(dict(wanted, lastTransitionTime=stamp))
        else:
            changed = current.get("status") != status
            current.update(wanted)
            if changed or not current.get("lastTransitionTime"):
                current["lastTransitionTime"] = stamp
        if nominated:
            pod_status["nominatedNodeName"] = nominated
        pod_status.setdefault("phase", "Pending")
        self.api.update(live, subresource="status")

    # ------------------------------------------------------------------ spreading
    def _spreading_of(self, pod: Obj) -> tuple[LabelSelector | None, str | None]:
        """`_spread_selector(pod)` and the key scoring knows it by, remembered per namespace and label set."""
        meta = pod["metadata"]
        key = (meta["namespace"], tuple((meta.get("labels") or {}).items()))
        found = self._spreading.get(key)
        if found is None:
            selector = self._spread_selector(pod)
            found = (selector, None if selector is None else scoring.spread_key(meta["namespace"], selector))
            if len(self._spreading) > 10_000:
                self._spreading.clear()
            self._spreading[key] = found
        return found

    def _spread_selector(self, pod: Obj) -> LabelSelector | None:
        """The default PodTopologySpread selector: the selectors of every Service, ReplicationController,
        ReplicaSet and StatefulSet that selects the pod, together (None when nothing selects it)."""
        meta = pod["metadata"]
        labels = meta.get("labels") or {}
        requirements: list[Requirement] = []
        for resource in SPREAD_OWNERS:
            for owner in self.store.list(resource, meta["namespace"])[0]:
                spec = owner.get("spec") or {}
                raw = spec.get("selector")
                if not raw:
                    continue
                # Parsed once per stored selector (stored objects are immutable: the same dict, the same selector).
                key = (resource, meta["namespace"], owner["metadata"]["name"])
                cached = self._selectors.get(key)
                if cached is not None and cached[0] is raw:
                    selector = cached[1]
                else:
                    if resource in (("", "services"), ("", "replicationcontrollers")):
                        selector = LabelSelector.from_set(raw)
                    else:
                        selector = LabelSelector.from_spec(raw)
                    if len(self._selectors) > 10_000:
                        self._selectors.clear()
                    self._selectors[key] = (raw, selector)
                if not selector.empty and selector.matches(labels):
                    requirements.extend(selector.requirements)
        return LabelSelector(requirements) if requirements else None


def bind(cluster: Any, pod: Obj, node: str) -> Obj:
    """Bind through the API server's pods/binding operation."""
    return cluster.api.bind(pod["metadata"]["namespace"], pod["metadata"]["name"], node)
