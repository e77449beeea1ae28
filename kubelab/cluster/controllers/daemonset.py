"""The DaemonSet controller: one pod of the daemon on every node that should run it.

A node qualifies when the template's nodeSelector and required node affinity match and its
NoSchedule/NoExecute taints are tolerated, counting the tolerations every daemon pod gets
(not-ready/unreachable NoExecute; pressure and unschedulable NoSchedule): the control plane's taint
keeps daemons off it unless tolerated, a cordoned node still runs them. Each pod is pinned by a
required node affinity on `metadata.name` (the scheduler binds it) and labelled with the current
`controller-revision-hash`. Pods leave nodes that stop qualifying (a later NoSchedule taint lets
them stay), failed ones are replaced with back-off, updates roll by maxUnavailable/maxSurge or
wait for deletions (OnDelete), and the status counts what `kubectl get ds` shows.

Read by: cluster.components. Reads: controllers.{rechecks,ownership,podcontrol,podutil,history,
daemonset_update}, scheduling.{filters,taints,cache}.
"""

from __future__ import annotations

from typing import Any

from kubelab.api.errors import ApiError
from kubelab.api.names import template_hash
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.clock import parse_time
from kubelab.cluster.controllers import history
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.daemonset_update import HASH_LABEL, rolling_update
from kubelab.cluster.controllers.ownership import claim
from kubelab.cluster.controllers.podcontrol import (
    POD,
    PodWorkloadController,
    create_pod,
    delete_pod,
    owner_keys,
    pod_from_template,
    selecting_keys,
    without_empty,
)
from kubelab.cluster.controllers.podutil import is_available, is_ready
from kubelab.cluster.scheduling import filters, taints
from kubelab.cluster.scheduling.cache import NodeInfo
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

COMPONENT = "daemonset-controller"
RESOURCE = ("apps", "daemonsets")
GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
GENERATION_LABEL = "pod-template-generation"
# Tolerations every daemon pod gets (util.AddOrUpdateDaemonPodTolerations), in upstream's order.
DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
NETWORK_UNAVAILABLE = ("node.kubernetes.io/network-unavailable", "NoSchedule")
FAILED_BACKOFF, FAILED_BACKOFF_MAX = 1.0, 900.0
STATUS_OMITEMPTY = ("observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable",
                    "collisionCount", "conditions")


def daemon_tolerations(spec: Obj) -> list[Obj]:
    """The pod spec's tolerations with the daemon ones added or updated (AddOrUpdateTolerationInPodSpec)."""
    result = [dict(t) for t in spec.get("tolerations") or ()]
    wanted = list(DAEMON_TOLERATIONS) + ([NETWORK_UNAVAILABLE] if spec.get("hostNetwork") else [])
    for key, effect in wanted:
        toleration = {"key": key, "operator": "Exists", "effect": effect}
        same = [i for i, t in enumerate(result)
                if t.get("key") == key and t.get("effect") == effect and (t.get("operator") or "Equal") == "Exists"
                and not t.get("value")]
        if same:
            result[same[0]] = toleration
        else:
            result.append(toleration)
    return result


def should_run(node: Obj, ds: Obj) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (should a new pod start here, may a running one stay)."""
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    name = node["metadata"]["name"]
    if spec.get("nodeName") and spec["nodeName"] != name:
        return False, False
    pod = {"spec": dict(spec, tolerations=daemon_tolerations(spec))}
    if filters.node_affinity(pod, NodeInfo(name, node)) is not None:
        return False, False
    node_taints = (node.get("spec") or {}).get("taints") or []
    tolerations = pod["spec"]["tolerations"]
    if taints.first_untolerated(node_taints, tolerations) is None:
        return True, True
    return False, taints.first_untolerated(node_taints, tolerations, (taints.NO_EXECUTE,)) is None


def target_node(pod: Obj) -> str | None:
    """GetTargetNodeName: the bound node, or the node a pending daemon pod is pinned to."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or ():
        for field in term.get("matchFields") or ():
            values = field.get("values") or ()
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and len(values) == 1:
                return field["values"][0]
    return None


def pin_to_node(spec: Obj, node: str) -> None:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity selects exactly `node`."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    affinity = spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}


def _by_age(pod: Obj) -> tuple:
    """podByCreationTimestampAndPhase: bound pods first, then oldest, then by name."""
    return (not (pod.get("spec") or {}).get("nodeName"), pod["metadata"].get("creationTimestamp") or "",
            pod["metadata"]["name"])


class DaemonSetController(PodWorkloadController):
    name = COMPONENT
    primary = RESOURCE
    secondary = (("", "pods"), ("", "nodes"))
    workload_kind = "DaemonSet"

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._failed_backoff: dict[tuple[str, str], tuple[float, float]] = {}  # (ds uid, node) → (delay, at)

    def keys_for(self, event: Event) -> list[Key]:
        if event.resource == ("", "nodes"):
            if event.type == "MODIFIED" and event.old is not None and _placement(event.old) == _placement(event.object):
                return []  # heartbeats and conditions do not change where daemons run
            return [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in self.store.list(RESOURCE)[0]]
        return owner_keys(event, "DaemonSet") or selecting_keys(self.cluster, RESOURCE, event)

    # ------------------------------------------------------------------ sync
    def reconcile(self, key: Key) -> float | None:
        self.forget_recheck(key)
        ds = self.store.get(RESOURCE, *key)
        if ds is None:
            return None
        selector_spec = (ds.get("spec") or {}).get("selector") or {}
        if not selector_spec.get("matchLabels") and not selector_spec.get("matchExpressions"):
            self.cluster.record_event(ds, "Warning", "SelectingAll",
                                      "This daemon set is selecting all pods. A non-empty selector is required.",
                                      COMPONENT)
            return None
        if ds["metadata"].get("deletionTimestamp"):
            return None  # its revisions may be gone already: nothing reliable to compute
        current, old = self._history(ds)
        hash_ = current["metadata"]["labels"][HASH_LABEL]
        nodes = self.store.list(("", "nodes"))[0]
        selector = LabelSelector.from_spec(selector_spec)
        again = self._manage(ds, nodes, selector, hash_)
        strategy = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate":
            node_pods = self._node_pods(ds, selector)
            runs = {n["metadata"]["name"]: should_run(n, ds)[0] for n in nodes}
            doomed, surge_nodes = rolling_update(ds, node_pods, runs, hash_, self.cluster.clock.now())
            self._sync_nodes(ds, doomed, surge_nodes, hash_)
        live = {p["metadata"].get("labels", {}).get(HASH_LABEL) for ps in self._node_pods(ds, selector).values()
                for p in ps}
        history.prune(self.cluster, ds, old, {f"{ds['metadata']['name']}-{h}" for h in live if h})
        status_again = self._update_status(ds, nodes, selector, hash_)
        waits = [t for t in (again, status_again) if t is not None]
        return min(waits) if waits else None

    def _history(self, ds: Obj) -> tuple[Obj, list[Obj]]:
        name = ds["metadata"]["name"]
        collisions = (ds.get("status") or {}).get("collisionCount")

        def describe(data: Obj) -> tuple[str, dict[str, str], dict[str, str]]:
            hash_ = template_hash((ds.get("spec") or {}).get("template"), collisions)
            labels = dict(((ds["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
            labels[HASH_LABEL] = hash_
            return f"{name}-{hash_}", labels, dict(ds["metadata"].get("annotations") or {})

        try:
            return history.sync_revisions(self.cluster, ds, describe)
        except ApiError as err:
            if err.reason != "AlreadyExists":
                raise
            status = dict(thaw(ds.get("status") or {}), collisionCount=(collisions or 0) + 1)
            self.api.update(dict(thaw(ds), status=status), subresource="status")
            raise  # retried with the new collision count

    def _node_pods(self, ds: Obj, selector: LabelSelector) -> dict[str, list[Obj]]:
        pods = self.store.list(("", "pods"), ds["metadata"]["namespace"])[0]
        by_node: dict[str, list[Obj]] = {}
        for pod in claim(self.api, ds, POD, pods, lambda p: selector.matches(p["metadata"].get("labels"))):
            node = target_node(pod)
            if node is not None:
                by_node.setdefault(node, []).append(pod)
        return by_node

    def _manage(self, ds: Obj, nodes: list[Obj], selector: LabelSelector, hash_: str) -> float | None:
        node_pods = self._node_pods(ds, selector)
        create: list[str] = []
        delete: list[Obj] = []
        waits: list[float] = []
        surge = _allows_surge(ds)
        for node in nodes:
            name = node["metadata"]["name"]
            run, stay = should_run(node, ds)
            pods = node_pods.get(name, [])
            if run and not pods:
                create.append(name)
            elif stay:
                running = []
                for pod in pods:
                    if pod["metadata"].get("deletionTimestamp"):
                        continue
                    phase = (pod.get("status") or {}).get("phase")
                    if phase == "Failed":
                        wait = self._failed(ds, pod, name)
                        if wait is None:
                            delete.append(pod)
                        else:
                            waits.append(wait)
                    elif phase == "Succeeded":
                        self.cluster.record_event(
                            ds, "Normal", "SucceededDaemonPod", f"Found succeeded daemon pod "
                            f"{pod['metadata']['namespace']}/{pod['metadata']['name']} on node {name}, will try to "
                            "delete it", COMPONENT)
                        delete.append(pod)
                    else:
                        running.append(pod)
                running.sort(key=_by_age)
                if not surge:
                    delete.extend(running[1:])
                elif not running and run:
                    create.append(name)
                elif len(running) > 1:
                    delete.extend(self._surge_prune(ds, running, hash_))
            elif pods:
                delete.extend(p for p in pods if not p["metadata"].get("deletionTimestamp"))
        known = {n["metadata"]["name"] for n in nodes}
        for node_name, pods in node_pods.items():
            if node_name not in known:  # never scheduled, so the pod GC will not see it
                delete.extend(p for p in pods if not (p.get("spec") or {}).get("nodeName"))
        self._sync_nodes(ds, delete, create, hash_)
        return min(waits) if waits else None

    def _surge_prune(self, ds: Obj, running: list[Obj], hash_: str) -> list[Obj]:
        """Two pods may share a node while surging: the oldest new one and the oldest old one."""
        newest = oldest = None
        extra = []
        for pod in running:
            updated = (pod["metadata"].get("labels") or {}).get(HASH_LABEL) == hash_
            if updated and newest is None:
                newest = pod
            elif not updated and oldest is None:
                oldest = pod
            else:
                extra.append(pod)
        if newest is not None and oldest is not None:
            min_ready = int(ds["spec"].get("minReadySeconds") or 0)
            if not is_ready(oldest) or is_available(newest, min_ready, self.cluster.clock.now()):
                extra.append(oldest)
        return extra

    def _failed(self, ds: Obj, pod: Obj, node: str) -> float | None:
        """Back off (1 s doubling to 15 min) before killing a failed daemon pod: None to delete it now,
        else the seconds to wait — kubelets that keep rejecting a pod must not make the two fight."""
        key = (ds["metadata"]["uid"], node)
        now = self.cluster.clock.now()
        delay, at = self._failed_backoff.get(key, (0.0, -1e18))
        if delay and now - at < delay:
            return delay - (now - at)
        fresh = now - at > 2 * FAILED_BACKOFF_MAX
        self._failed_backoff[key] = (FAILED_BACKOFF if fresh or not delay else min(delay * 2, FAILED_BACKOFF_MAX), now)
        meta = pod["metadata"]
        self.cluster.record_event(ds, "Warning", "FailedDaemonPod", f"Found failed daemon pod {meta['namespace']}/"
                                  f"{meta['name']} on node {node}, will try to kill it", COMPONENT)
        return None

    def _sync_nodes(self, ds: Obj, delete: list[Obj], create: list[str], hash_: str) -> None:
        template = thaw((ds.get("spec") or {}).get("template") or {})
        spec = template.setdefault("spec", {})
        spec["tolerations"] = daemon_tolerations(spec)
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        generation = (ds["metadata"].get("annotations") or {}).get(GENERATION_ANNOTATION)
        if generation is not None and generation.isdigit():
            labels[GENERATION_LABEL] = generation
        labels[HASH_LABEL] = hash_
        for node in create:
            pod = pod_from_template(template, ds)
            pin_to_node(pod["spec"], node)
            if create_pod(self.cluster, pod, ds, COMPONENT) is None:
                break
        for pod in delete:
            delete_pod(self.cluster, pod, ds, COMPONENT)

    # ---------------------------------------------------------------- status
    def _update_status(self, ds: Obj, nodes: list[Obj], selector: LabelSelector, hash_: str) -> float | None:
        node_pods = self._node_pods(ds, selector)
        now = self.cluster.clock.now()
        min_ready = int(ds["spec"].get("minReadySeconds") or 0)
        generation = (ds["metadata"].get("annotations") or {}).get(GENERATION_ANNOTATION)
        desired = current = misscheduled = ready = updated = available = 0
        for node in nodes:
            run, _ = should_run(node, ds)
            pods = sorted(node_pods.get(node["metadata"]["name"], []), key=_by_age)
            if not run:
                misscheduled += 1 if pods else 0
                continue
            desired += 1
            if not pods:
                continue
            current += 1
            pod = pods[0]
            if is_ready(pod):
                ready += 1
                available += 1 if is_available(pod, min_ready, now) else 0
            labels = pod["metadata"].get("labels") or {}
            by_generation = generation is not None and labels.get(GENERATION_LABEL) == generation
            if labels.get(HASH_LABEL) == hash_ or by_generation:
                updated += 1
        old = ds.get("status") or {}
        status = {
            "currentNumberScheduled": current, "numberMisscheduled": misscheduled, "desiredNumberScheduled": desired,
            "numberReady": ready, "observedGeneration": ds["metadata"].get("generation"),
            "updatedNumberScheduled": updated, "numberAvailable": available, "numberUnavailable": desired - available,
            "collisionCount": old.get("collisionCount"), "conditions": old.get("conditions"),
        }
        status = without_empty(status, STATUS_OMITEMPTY)
        if status != old:
            self.api.update(dict(thaw(ds), status=status), subresource="status")
        if min_ready and ready != available:
            return _next_available(node_pods, min_ready, now)
        return None


def _allows_surge(ds: Obj) -> bool:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return False
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge", 0)
    return surge not in (0, "0", "0%", None)


def _next_available(node_pods: dict[str, list[Obj]], min_ready: int, now: float) -> float | None:
    """Seconds until the next ready pod has been ready for minReadySeconds."""
    waits = []
    for pods in node_pods.values():
        for pod in pods:
            for condition in (pod.get("status") or {}).get("conditions") or ():
                if condition.get("type") == "Ready" and condition.get("status") == "True":
                    at = parse_time(condition["lastTransitionTime"]) + min_ready
                    if at > now:
                        waits.append(at - now)
    return min(waits) if waits else None


def _placement(node: Obj) -> tuple:
    spec = node.get("spec") or {}
    return node["metadata"].get("labels"), spec.get("taints")
