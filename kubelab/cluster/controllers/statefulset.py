"""The StatefulSet controller: pods with stable names `web-0`, `web-1`…, created and removed in order.

Each replica is `<set>-<ordinal>`, labelled `statefulset.kubernetes.io/pod-name`,
`apps.kubernetes.io/pod-index` and `controller-revision-hash` (its ControllerRevision's name), with
hostname = its name and subdomain = the governing Service. Each `volumeClaimTemplates` entry becomes
a claim `<claim>-<set>-<ordinal>` that outlives the pod (unless the retention policy says Delete).
`OrderedReady` creates one pod at a time once every lower ordinal is Running and Ready and removes
the highest ordinal first; `Parallel` does both at once; a RollingUpdate replaces pods from the top
down to `partition`. Events read like upstream's ("create Pod web-0 in StatefulSet web successful").

Read by: cluster.components. Reads: controllers.{rechecks,ownership,podcontrol,podutil,history}.
"""

from __future__ import annotations

import re
from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.clock import parse_time
from kubelab.cluster.controllers import history
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.ownership import claim
from kubelab.cluster.controllers.podcontrol import (
    POD,
    PodWorkloadController,
    owner_keys,
    pod_from_template,
    selecting_keys,
    without_empty,
)
from kubelab.cluster.controllers.podutil import controller_of, controller_ref, is_available, is_ready
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

COMPONENT = "statefulset-controller"
RESOURCE = ("apps", "statefulsets")
PVC = kinds.resolve("persistentvolumeclaims")
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
HASH_LABEL = "controller.kubernetes.io/hash"
STATUS_OMITEMPTY = ("observedGeneration", "readyReplicas", "currentReplicas", "updatedReplicas", "currentRevision",
                    "updateRevision", "conditions")


def ordinal_of(sts: Obj, pod: Obj) -> int | None:
    match = re.fullmatch(r"(.*)-([0-9]+)", pod["metadata"]["name"])
    if match is None or match.group(1) != sts["metadata"]["name"]:
        return None
    return int(match.group(2))


def claim_name(template: Obj, sts: Obj, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def _running_and_ready(pod: Obj) -> bool:
    return _phase(pod) == "Running" and is_ready(pod)


class StatefulSetController(PodWorkloadController):
    name = COMPONENT
    primary = RESOURCE
    secondary = (("", "pods"),)
    workload_kind = "StatefulSet"

    def keys_for(self, event: Event) -> list[Key]:
        return owner_keys(event, "StatefulSet") or selecting_keys(self.cluster, RESOURCE, event)

    def reconcile(self, key: Key) -> float | None:
        self.forget_recheck(key)
        sts = self.store.get(RESOURCE, *key)
        if sts is None:
            return None
        selector = LabelSelector.from_spec((sts.get("spec") or {}).get("selector"))
        pods = claim(self.api, sts, POD, self.store.list(("", "pods"), key[0])[0],
                     lambda p: selector.matches(p["metadata"].get("labels")) and ordinal_of(sts, p) is not None)
        current, update = self._revisions(sts)
        wait = None
        if not sts["metadata"].get("deletionTimestamp"):
            wait = self._sync(sts, {ordinal_of(sts, p): p for p in pods}, current, update)
            uid = sts["metadata"]["uid"]
            pods = [p for p in self.store.list(("", "pods"), key[0])[0] if (controller_of(p) or {}).get("uid") == uid]
        status_wait = self._update_status(sts, pods, current, update)
        waits = [w for w in (wait, status_wait) if w is not None]
        return min(waits) if waits else None

    # ------------------------------------------------------------ revisions
    def _revisions(self, sts: Obj) -> tuple[Obj, Obj]:
        collisions = (sts.get("status") or {}).get("collisionCount")

        def describe(data: Obj) -> tuple[str, dict[str, str], dict[str, str]]:
            hash_ = history.data_hash(data, collisions)
            labels = dict(((sts["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
            labels[HASH_LABEL] = hash_
            return f"{sts['metadata']['name']}-{hash_}", labels, {}

        update, old = history.sync_revisions(self.cluster, sts, describe)
        named = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in old if r["metadata"]["name"] == named), update)
        live = {update["metadata"]["name"], current["metadata"]["name"]}
        live |= {(p["metadata"].get("labels") or {}).get(REVISION_LABEL) for p in
                 self.store.list(("", "pods"), sts["metadata"]["namespace"])[0]}
        history.prune(self.cluster, sts, [r for r in old if r is not current], {n for n in live if n})
        return current, update

    # ----------------------------------------------------------------- pods
    def _sync(self, sts: Obj, by_ordinal: dict[int | None, Obj], current: Obj, update: Obj) -> float | None:
        spec = sts.get("spec") or {}
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        wanted = range(start, start + int(spec.get("replicas", 1)))
        ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.cluster.clock.now()
        condemned = sorted((o for o in by_ordinal if o is not None and o not in wanted), reverse=True)
        unhealthy = [o for o in sorted(o for o in by_ordinal if o is not None)
                     if not _running_and_ready(by_ordinal[o]) or by_ordinal[o]["metadata"].get("deletionTimestamp")]
        first_unhealthy = unhealthy[0] if unhealthy else None
        for ordinal in wanted:
            pod = by_ordinal.get(ordinal)
            if pod is None:
                self._create(sts, ordinal, current, update)
                if ordered:
                    return None
                continue
            if _phase(pod) in ("Failed", "Succeeded"):
                self._recreate(sts, pod)
                if ordered:
                    return None
                continue
            if pod["metadata"].get("deletionTimestamp") or not _running_and_ready(pod):
                if ordered:
                    return None
                continue
            if ordered and not is_available(pod, min_ready, now):
                return self._until_available(pod, min_ready, now)
        for ordinal in condemned:
            pod = by_ordinal[ordinal]
            if pod["metadata"].get("deletionTimestamp"):
                if ordered:
                    return None
                continue
            if ordered and ordinal != first_unhealthy and not is_available(pod, min_ready, now):
                return None
            self._delete(sts, pod)
            if ordered:
                return None
        return self._roll(sts, by_ordinal, wanted, update, min_ready, now)

    def _roll(self, sts: Obj, by_ordinal: dict[int | None, Obj], wanted: range, update: Obj, min_ready: int,
              now: float) -> float | None:
        """RollingUpdate: delete the highest out-of-date pod at or above the partition, once all are healthy."""
        strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return None
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        for ordinal in reversed(wanted):
            pod = by_ordinal.get(ordinal)
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                return None
            if ordinal < wanted.start + partition:
                break
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != update["metadata"]["name"]:
                self._delete(sts, pod)
                return None
            if not is_available(pod, min_ready, now):
                return self._until_available(pod, min_ready, now)
        return None

    def _until_available(self, pod: Obj, min_ready: int, now: float) -> float | None:
        for condition in (pod.get("status") or {}).get("conditions") or ():
            if condition.get("type") == "Ready" and condition.get("status") == "True":
                return max(0.0, parse_time(condition["lastTransitionTime"]) + min_ready - now) or None
        return None

    def _pod(self, sts: Obj, ordinal: int, revision: Obj) -> Obj:
        template = thaw(((revision.get("data") or {}).get("spec") or {}).get("template") or sts["spec"]["template"])
        template.pop("$patch", None)
        pod = pod_from_template(template, sts)
        name = f"{sts['metadata']['name']}-{ordinal}"
        meta, spec = pod["metadata"], pod["spec"]
        meta["name"] = name
        labels = meta.setdefault("labels", {})
        labels[POD_NAME_LABEL] = name
        labels[POD_INDEX_LABEL] = str(ordinal)
        labels[REVISION_LABEL] = revision["metadata"]["name"]
        spec["hostname"] = name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        claimed = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates") or ()}
        volumes = [v for v in spec.get("volumes") or () if v.get("name") not in claimed]
        for template in sts["spec"].get("volumeClaimTemplates") or ():
            volumes.append({"name": template["metadata"]["name"],
                            "persistentVolumeClaim": {"claimName": claim_name(template, sts, ordinal)}})
        if volumes:
            spec["volumes"] = volumes
        return pod

    def _create(self, sts: Obj, ordinal: int, current: Obj, update: Obj) -> None:
        strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        start = int((sts["spec"].get("ordinals") or {}).get("start") or 0)
        old = strategy.get("type", "RollingUpdate") == "RollingUpdate" and ordinal < start + partition
        pod = self._pod(sts, ordinal, current if old else update)
        name = pod["metadata"]["name"]
        set_name = sts["metadata"]["name"]
        self._create_claims(sts, ordinal, name)
        try:
            created = self.api.create(pod)
        except ApiError as err:
            if err.reason == "Forbidden" and "is being terminated" in err.message:
                return
            self.cluster.record_event(sts, "Warning", "FailedCreate",
                                      f"create Pod {name} in StatefulSet {set_name} failed error: {err.message}",
                                      COMPONENT)
            raise
        self.cluster.record_event(sts, "Normal", "SuccessfulCreate",
                                  f"create Pod {name} in StatefulSet {set_name} successful", COMPONENT)
        self.cluster.trace_log.add(COMPONENT, "created", created, f"ordinal {ordinal}")

    def _create_claims(self, sts: Obj, ordinal: int, pod_name: str) -> None:
        namespace, set_name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        retention = (sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted", "Retain")
        match_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
        for template in sts["spec"].get("volumeClaimTemplates") or ():
            name = claim_name(template, sts, ordinal)
            if self.store.get(("", "persistentvolumeclaims"), namespace, name) is not None:
                continue
            meta = thaw(template.get("metadata") or {})
            meta.update(name=name, namespace=namespace, labels={**(meta.get("labels") or {}), **match_labels})
            if retention == "Delete":
                meta["ownerReferences"] = [controller_ref(sts)]
            pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                   "spec": thaw(template.get("spec") or {})}
            try:
                self.api.create(pvc)
            except ApiError as err:
                if err.reason == "AlreadyExists":
                    continue
                self.cluster.record_event(sts, "Warning", "FailedCreate", f"create Claim {name} for Pod {pod_name} "
                                          f"in StatefulSet {set_name} failed error: {err.message}", COMPONENT)
                raise
            message = f"create Claim {name} Pod {pod_name} in StatefulSet {set_name} success"
            self.cluster.record_event(sts, "Normal", "SuccessfulCreate", message, COMPONENT)

    def _recreate(self, sts: Obj, pod: Obj) -> None:
        meta = sts["metadata"]
        if _phase(pod) == "Failed":
            reason, message = "RecreatingFailedPod", "is recreating failed Pod"
        else:
            reason, message = "RecreatingTerminatedPod", "is recreating terminated Pod"
        self.cluster.record_event(sts, "Warning" if reason == "RecreatingFailedPod" else "Normal", reason,
                                  f"StatefulSet {meta['namespace']}/{meta['name']} {message} {pod['metadata']['name']}",
                                  COMPONENT)
        self._delete(sts, pod)

    def _delete(self, sts: Obj, pod: Obj) -> None:
        name = pod["metadata"]["name"]
        try:
            self.api.delete(POD, pod["metadata"]["namespace"], name)
        except ApiError as err:
            if err.reason == "NotFound":
                return
            raise
        self.cluster.record_event(sts, "Normal", "SuccessfulDelete",
                                  f"delete Pod {name} in StatefulSet {sts['metadata']['name']} successful", COMPONENT)
        self.cluster.trace_log.add(COMPONENT, "deleted", pod, f"StatefulSet {sts['metadata']['name']}")

    # ---------------------------------------------------------------- status
    def _update_status(self, sts: Obj, pods: list[Obj], current: Obj, update: Obj) -> float | None:
        spec = sts.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.cluster.clock.now()
        counts = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "currentReplicas": 0, "updatedReplicas": 0}
        for pod in pods:
            counts["replicas"] += 1
            if _running_and_ready(pod):
                counts["readyReplicas"] += 1
                counts["availableReplicas"] += 1 if is_available(pod, min_ready, now) else 0
            if not pod["metadata"].get("deletionTimestamp"):
                revision = (pod["metadata"].get("labels") or {}).get(REVISION_LABEL)
                counts["currentReplicas"] += 1 if revision == current["metadata"]["name"] else 0
                counts["updatedReplicas"] += 1 if revision == update["metadata"]["name"] else 0
        current_name = current["metadata"]["name"]
        rolling = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
        if rolling and counts["updatedReplicas"] == counts["replicas"] == counts["readyReplicas"] \
                and counts["replicas"] == int(spec.get("replicas", 1)):
            counts["currentReplicas"], current_name = counts["updatedReplicas"], update["metadata"]["name"]
        old = sts.get("status") or {}
        status = {
            "observedGeneration": sts["metadata"].get("generation"), **counts,
            "currentRevision": current_name, "updateRevision": update["metadata"]["name"],
            "collisionCount": old.get("collisionCount", 0), "conditions": old.get("conditions"),
        }
        status = without_empty(status, STATUS_OMITEMPTY)
        if status != old:
            self.api.update(dict(thaw(sts), status=status), subresource="status")
        if min_ready and counts["readyReplicas"] != counts["availableReplicas"]:
            waits = [w for p in pods if _running_and_ready(p) and (w := self._until_available(p, min_ready, now))]
            return min(waits) if waits else None
        return None
