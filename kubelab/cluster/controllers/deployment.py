"""The Deployment controller: one ReplicaSet per pod template, rolled out by strategy.

`reconcile(key)` follows kube-controller-manager's syncDeployment: claim the ReplicaSets the
Deployment's selector matches (adopting orphans, releasing strays); a paused Deployment or a
change of `spec.replicas` only scales (proportionally across ReplicaSets during a rollout);
otherwise the strategy runs (controllers.deployment_rolling). The new ReplicaSet is named
`<deployment>-<pod-template-hash>` (hash of the template and `status.collisionCount`) and takes
the next revision; an existing ReplicaSet whose template comes back (`rollout undo`, a reverted
edit) gets a new revision instead. Status counters and the Available/Progressing conditions
are recomputed on every pass; a rollout that stops progressing turns
ProgressDeadlineExceeded after `progressDeadlineSeconds` of simulated time. Old ReplicaSets
scaled to zero beyond `revisionHistoryLimit` are deleted. Events: ScalingReplicaSet et al.

Read by: cluster.components, controllers.deployment_rolling, controllers.deployment_status.
Reads: controllers.deployment_util, controllers.deployment_status, controllers.deployment_rolling,
controllers.ownership, controllers.podutil, controllers.rechecks, api.names, api.selectors.
"""

from __future__ import annotations

from typing import Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.names import template_hash
from kubelab.api.selectors import LabelSelector
from kubelab.cluster.controllers import deployment_status as ds
from kubelab.cluster.controllers import deployment_util as du
from kubelab.cluster.controllers.base import Key
from kubelab.cluster.controllers.deployment_rolling import rollout_recreate, rollout_rolling
from kubelab.cluster.controllers.ownership import claim
from kubelab.cluster.controllers.podutil import controller_of, controller_ref
from kubelab.cluster.controllers.rechecks import RecheckTimers
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]
DEPLOYMENT = kinds.resolve("deployments")
REPLICASET = kinds.resolve("replicasets")


class DeploymentController(RecheckTimers):
    name = "deployment-controller"
    primary = ("apps", "deployments")
    secondary = (("apps", "replicasets"), ("", "pods"))

    # ------------------------------------------------------------ events
    def handle(self, event: Event) -> None:
        if event.type != "DELETED" and event.resource == ("", "pods"):
            return  # only a pod's deletion concerns a Deployment (`_keys_for_pod`); skip the call chain
        super().handle(event)

    def keys_for(self, event: Event) -> list[Key]:
        if event.resource == ("", "pods"):
            return self._keys_for_pod(event)
        keys: list[Key] = []
        namespace = event.object["metadata"]["namespace"]
        orphan = False
        for rs in (event.object, event.old):
            if rs is None:
                continue
            ref = controller_of(rs)
            if ref is not None and ref.get("kind") == "Deployment":
                keys.append((namespace, ref["name"]))
            elif ref is None and event.type != "DELETED":
                orphan = True
        if orphan and (event.old is None or event.old["metadata"].get("labels")
                       != event.object["metadata"].get("labels") or controller_of(event.old) is not None):
            for d in self.store.list(self.primary, namespace)[0]:
                selector = _selector(d)
                if selector is not None and not selector.empty \
                        and selector.matches(event.object["metadata"].get("labels")):
                    keys.append((namespace, d["metadata"]["name"]))
        return list(dict.fromkeys(keys))

    def _keys_for_pod(self, event: Event) -> list[Key]:
        """Only a Recreate rollout waits for pods: the deletion of an old pod may let it go on."""
        if event.type != "DELETED":
            return []
        ref = controller_of(event.object)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return []
        namespace = event.object["metadata"]["namespace"]
        rs = self.store.get(("apps", "replicasets"), namespace, ref["name"])
        owner = controller_of(rs) if rs is not None else None
        if owner is None or owner.get("kind") != "Deployment":
            return []
        d = self.store.get(self.primary, namespace, owner["name"])
        if d is None or du.is_rolling_update(d):
            return []
        return [(namespace, owner["name"])]

    # --------------------------------------------------------- reconcile
    def reconcile(self, key: Key) -> float | None:
        self.forget_recheck(key)
        namespace, name = key
        stored = self.store.get(self.primary, namespace, name)
        if stored is None:
            return None
        d = thaw(stored)
        if (d.get("spec") or {}).get("selector") == {}:
            self.cluster.record_event(d, "Warning", "SelectingAll",
                                      "This deployment is selecting all pods. A non-empty selector is required.",
                                      self.name)
            if (d.get("status") or {}).get("observedGeneration", 0) < d["metadata"].get("generation", 0):
                d.setdefault("status", {})["observedGeneration"] = d["metadata"]["generation"]
                self.write_status(d)
            return None
        rs_list = self.replica_sets_for(d)
        if d["metadata"].get("deletionTimestamp"):
            new_rs, old_rss = self.get_all_rss(d, rs_list, create=False)
            ds.sync_deployment_status(self, [*old_rss, new_rs], new_rs, d)
            return None
        self.check_paused_conditions(d)
        if d["spec"].get("paused"):
            return self.sync(d, rs_list)
        if self.is_scaling_event(d, rs_list):
            return self.sync(d, rs_list)
        if du.is_rolling_update(d):
            return rollout_rolling(self, d, rs_list)
        return rollout_recreate(self, d, rs_list, self.pods_by_replica_set(d, rs_list))

    def replica_sets_for(self, d: Obj) -> list[Obj]:
        selector = _selector(d)
        if selector is None:
            raise ApiError("Invalid", f"deployment {d['metadata']['namespace']}/{d['metadata']['name']} "
                                      "has invalid label selector")
        rss = [thaw(rs) for rs in self.store.list(("apps", "replicasets"), d["metadata"]["namespace"])[0]]
        return claim(self.api, d, REPLICASET, rss, lambda rs: selector.matches(rs["metadata"].get("labels")))

    def pods_by_replica_set(self, d: Obj, rs_list: list[Obj]) -> dict[str, list[Obj]]:
        """Pods of each ReplicaSet by its uid — terminating ones too: Recreate waits for them to be gone."""
        by_uid: dict[str, list[Obj]] = {rs["metadata"]["uid"]: [] for rs in rs_list}
        for pod in self.store.list(("", "pods"), d["metadata"]["namespace"])[0]:
            ref = controller_of(pod)
            if ref is not None and ref.get("uid") in by_uid:
                by_uid[ref["uid"]].append(pod)
        return by_uid

    # ----------------------------------------------------- paused, scaled
    def check_paused_conditions(self, d: Obj) -> None:
        """Progressing=Unknown while paused, so that the time spent paused never counts as lack of progress."""
        if not du.has_progress_deadline(d):
            return
        status = d.setdefault("status", {})
        condition = ds.get_condition(status, "Progressing")
        if condition is not None and condition.get("reason") == ds.TIMED_OUT_REASON:
            return
        paused_shown = condition is not None and condition.get("reason") == ds.PAUSED_REASON
        now = self.cluster.clock.now()
        if d["spec"].get("paused") and not paused_shown:
            ds.set_condition(status, ds.new_condition("Progressing", "Unknown", ds.PAUSED_REASON,
                                                      "Deployment is paused", now))
        elif not d["spec"].get("paused") and paused_shown:
            ds.set_condition(status, ds.new_condition("Progressing", "Unknown", ds.RESUMED_REASON,
                                                      "Deployment is resumed", now))
        else:
            return
        self.write_status(d)

    def is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        new_rs, old_rss = self.get_all_rss(d, rs_list, create=False)
        for rs in du.active([*old_rss, new_rs]):
            desired = du.desired_replicas_annotation(rs)
            if desired is not None and desired != du.replicas(d):
                return True
        return False

    def sync(self, d: Obj, rs_list: list[Obj]) -> float | None:
        new_rs, old_rss = self.get_all_rss(d, rs_list, create=False)
        self.scale(d, new_rs, old_rss)
        if d["spec"].get("paused"):
            self.cleanup(old_rss, d)
        ds.sync_deployment_status(self, [*old_rss, new_rs], new_rs, d)
        return None

    def scale(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """Follow a change of spec.replicas: the one active ReplicaSet takes it all; during a rollout
        every active ReplicaSet gets its proportional share (leftovers to the largest)."""
        want = du.replicas(d)
        only = du.find_active_or_latest(new_rs, old_rss)
        if only is not None:
            if du.replicas(only) != want:
                self.scale_rs_and_record(only, want, d)
            return
        if du.is_saturated(d, new_rs):
            for rs in du.active(old_rss):
                self.scale_rs_and_record(rs, 0, d)
            return
        if not du.is_rolling_update(d):
            return
        all_rss = du.active([*old_rss, new_rs])
        allowed = want + du.max_surge(d) if want > 0 else 0
        to_add = allowed - du.spec_replicas(all_rss)
        operation = ""
        if to_add > 0:
            all_rss, operation = du.by_size_newer(all_rss), "up"
        elif to_add < 0:
            all_rss, operation = du.by_size_older(all_rss), "down"
        sizes: dict[str, int] = {}
        added = 0
        for rs in all_rss:
            share = du.proportion(rs, d, to_add, added) if to_add else 0
            sizes[rs["metadata"]["name"]] = du.replicas(rs) + share
            added += share
        for i, rs in enumerate(all_rss):
            name = rs["metadata"]["name"]
            if i == 0 and to_add:
                sizes[name] = max(sizes[name] + to_add - added, 0)
            self.scale_rs(rs, sizes[name], d, operation)

    def scale_rs_and_record(self, rs: Obj, new_scale: int, d: Obj) -> bool:
        if du.replicas(rs) == new_scale:
            return False
        return self.scale_rs(rs, new_scale, d, "up" if du.replicas(rs) < new_scale else "down")

    def scale_rs(self, rs: Obj, new_scale: int, d: Obj, operation: str) -> bool:
        """Set the ReplicaSet's size and replica annotations; True (and a ScalingReplicaSet event) if the
        size changed. `rs` is refreshed in place, so every list holding it sees the new state."""
        want, ceiling = du.replicas(d), du.replicas(d) + du.max_surge(d)
        old_scale = du.replicas(rs)
        resize = old_scale != new_scale
        if not resize and not du.replicas_annotations_need_update(rs, want, ceiling):
            return False
        body = thaw(rs)
        body["spec"]["replicas"] = new_scale
        du.set_replicas_annotations(body, want, ceiling)
        self._refresh(rs, self.api.update(body))
        if resize:
            message = f"Scaled {operation} replica set {rs['metadata']['name']} from {old_scale} to {new_scale}"
            self.cluster.record_event(d, "Normal", "ScalingReplicaSet", message, self.name)
            self.cluster.trace_log.add(self.name, f"scaled {operation}", rs, f"from {old_scale} to {new_scale}")
        return resize

    @staticmethod
    def _refresh(rs: Obj, stored: Obj) -> None:
        rs.clear()
        rs.update(thaw(stored))

    # ------------------------------------------------- the new ReplicaSet
    def get_all_rss(self, d: Obj, rs_list: list[Obj], *, create: bool) -> tuple[Obj | None, list[Obj]]:
        """(new ReplicaSet — created if asked and missing — and all old ones), revisions in sync."""
        _, old_rss = du.find_old_rss(d, rs_list)
        new_rs = self.get_new_rs(d, rs_list, old_rss, create)
        return new_rs, old_rss

    def get_new_rs(self, d: Obj, rs_list: list[Obj], old_rss: list[Obj], create: bool) -> Obj | None:
        existing = du.find_new_rs(d, rs_list)
        new_revision = du.max_revision(old_rss) + 1
        now = self.cluster.clock.now()
        if existing is not None:
            body = thaw(existing)
            changed = du.set_new_rs_annotations(d, body, new_revision, exists=True)
            min_ready = d["spec"].get("minReadySeconds") or 0
            if changed or (body["spec"].get("minReadySeconds") or 0) != min_ready:
                _set_min_ready(body, min_ready)
                self._refresh(existing, self.api.update(body))
                return existing
            needs_update = du.set_deployment_revision(d, (existing["metadata"].get("annotations") or {})
                                                      .get(du.REVISION, ""))
            status = d.setdefault("status", {})
            if du.has_progress_deadline(d) and ds.get_condition(status, "Progressing") is None:
                ds.set_condition(status, ds.new_condition("Progressing", "True", ds.FOUND_NEW_RS_REASON,
                                                          f'Found new replica set "{existing["metadata"]["name"]}"',
                                                          now))
                needs_update = True
            if needs_update:
                self.write_status(d)
            return existing
        if not create:
            return None
        return self._create_new_rs(d, rs_list, old_rss, new_revision, now)

    def _create_new_rs(self, d: Obj, rs_list: list[Obj], old_rss: list[Obj], new_revision: int,
                       now: float) -> Obj:
        status = d.setdefault("status", {})
        template = thaw(d["spec"]["template"])
        pod_hash = template_hash(template, status.get("collisionCount"))
        template.setdefault("metadata", {})["labels"] = {**(template["metadata"].get("labels") or {}),
                                                         du.POD_TEMPLATE_HASH: pod_hash}
        selector = thaw(d["spec"]["selector"])
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), du.POD_TEMPLATE_HASH: pod_hash}
        name = f"{d['metadata']['name']}-{pod_hash}"
        rs: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                   "metadata": {"name": name, "namespace": d["metadata"]["namespace"],
                                "labels": dict(template["metadata"]["labels"]),
                                "ownerReferences": [controller_ref(d)]},
                   "spec": {"replicas": 0, "selector": selector, "template": template}}
        _set_min_ready(rs, d["spec"].get("minReadySeconds") or 0)
        rs["spec"]["replicas"] = new_replicas = du.new_rs_new_replicas(d, [*old_rss, rs], rs)
        du.set_new_rs_annotations(d, rs, new_revision, exists=False)
        already_exists = False
        try:
            created = thaw(self.api.create(rs))
        except ApiError as err:
            if err.reason == "AlreadyExists":
                found = self.store.get(("apps", "replicasets"), rs["metadata"]["namespace"], name)
                ref = controller_of(found) if found is not None else None
                if found is not None and ref is not None and ref.get("uid") == d["metadata"]["uid"] \
                        and du.equal_ignore_hash(d["spec"]["template"], found["spec"]["template"]):
                    created, already_exists = thaw(found), True
                else:
                    # Same name, different template: another hash is needed. Retry with the count raised.
                    status["collisionCount"] = (status.get("collisionCount") or 0) + 1
                    self.write_status(d)
                    raise
            elif any(c.get("reason") == "NamespaceTerminating" for c in err.details.get("causes") or ()):
                raise
            else:
                message = f'Failed to create new replica set "{name}": {err.message}'
                if du.has_progress_deadline(d):
                    ds.set_condition(status, ds.new_condition("Progressing", "False", ds.FAILED_RS_CREATE_REASON,
                                                              message, now))
                    self.write_status(d)
                self.cluster.record_event(d, "Warning", ds.FAILED_RS_CREATE_REASON, message, self.name)
                raise
        if not already_exists:
            rs_list.append(created)
            self.cluster.trace_log.add(self.name, "created new replica set", created,
                                       f"revision {new_revision}")
            if new_replicas > 0:
                self.cluster.record_event(d, "Normal", "ScalingReplicaSet",
                                          f"Scaled up replica set {name} from 0 to {new_replicas}", self.name)
        needs_update = du.set_deployment_revision(d, str(new_revision))
        if not already_exists and du.has_progress_deadline(d):
            ds.set_condition(status, ds.new_condition("Progressing", "True", ds.NEW_RS_REASON,
                                                      f'Created new replica set "{name}"', now))
            needs_update = True
        if needs_update:
            self.write_status(d)
        return created

    # -------------------------------------------------------- housekeeping
    def cleanup(self, old_rss: list[Obj], d: Obj) -> None:
        """Delete the oldest ReplicaSets beyond revisionHistoryLimit — only those scaled to zero and settled."""
        if not du.has_revision_history_limit(d):
            return
        alive = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
        excess = len(alive) - d["spec"]["revisionHistoryLimit"]
        for rs in du.by_revision(alive)[:max(excess, 0)]:
            status = rs.get("status") or {}
            if status.get("replicas") or du.replicas(rs) != 0 \
                    or rs["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
                continue
            try:
                self.api.delete(REPLICASET, rs["metadata"]["namespace"], rs["metadata"]["name"])
            except ApiError as err:
                if err.reason != "NotFound":
                    raise
            self.cluster.trace_log.add(self.name, "deleted old replica set", rs,
                                       f"revision {du.revision(rs)}, beyond revisionHistoryLimit")

    # --------------------------------------------------------------- status
    def write_status(self, d: Obj) -> None:
        """Persist `d`'s annotations (the revision) and status. kube-apiserver keeps annotation changes made
        through /status for Deployments; this API server does not, so a metadata write goes first."""
        live = self.api.get(DEPLOYMENT, d["metadata"]["namespace"], d["metadata"]["name"])
        wanted = d["metadata"].get("annotations") or {}
        if (live["metadata"].get("annotations") or {}) != wanted:
            body = thaw(live)
            body["metadata"]["annotations"] = dict(wanted)
            body["metadata"]["resourceVersion"] = d["metadata"].get("resourceVersion")
            live = self.api.update(body)
            d["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        body = thaw(live)
        body["metadata"]["resourceVersion"] = d["metadata"].get("resourceVersion")
        body["status"] = ds.normalize_status(d.get("status") or {})
        stored = self.api.update(body, subresource="status")
        d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]


def _selector(d: Obj) -> LabelSelector | None:
    try:
        return LabelSelector.from_spec((d.get("spec") or {}).get("selector"))
    except ApiError:
        return None


def _set_min_ready(rs: Obj, seconds: int) -> None:
    if seconds:
        rs["spec"]["minReadySeconds"] = seconds
    else:
        rs["spec"].pop("minReadySeconds", None)
