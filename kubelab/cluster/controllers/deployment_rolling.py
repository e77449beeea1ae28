"""The two Deployment strategies: RollingUpdate and Recreate, one pass at a time.

RollingUpdate: scale the new ReplicaSet up as far as `replicas + maxSurge` allows; otherwise
scale old ReplicaSets down as far as `replicas - maxUnavailable` available pods allows —
unhealthy old replicas first, then the oldest ReplicaSets; once complete, clean up history.
Recreate: scale every old ReplicaSet to zero, wait until none of their pods is running (a
terminating pod still counts), then create the new ReplicaSet at full size. Each pass ends by
writing the rollout status (controllers.deployment_status.sync_rollout_status); the next pass comes
from the ReplicaSet and pod events that pass caused.

Read by: controllers.deployment. Reads: controllers.deployment_util, controllers.deployment_status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.cluster.controllers import deployment_status as ds
from kubelab.cluster.controllers import deployment_util as du

if TYPE_CHECKING:
    from kubelab.cluster.controllers.deployment import DeploymentController

Obj = dict[str, Any]


# ------------------------------------------------------------------------------ RollingUpdate
def rollout_rolling(dc: DeploymentController, d: Obj, rs_list: list[Obj]) -> float | None:
    new_rs, old_rss = dc.get_all_rss(d, rs_list, create=True)
    assert new_rs is not None
    all_rss = [*old_rss, new_rs]
    if reconcile_new_rs(dc, all_rss, new_rs, d):
        return ds.sync_rollout_status(dc, all_rss, new_rs, d)
    if reconcile_old_rss(dc, all_rss, du.active(old_rss), new_rs, d):
        return ds.sync_rollout_status(dc, all_rss, new_rs, d)
    if ds.deployment_complete(d, d.get("status") or {}):
        dc.cleanup(old_rss, d)
    return ds.sync_rollout_status(dc, all_rss, new_rs, d)


def reconcile_new_rs(dc: DeploymentController, all_rss: list[Obj], new_rs: Obj, d: Obj) -> bool:
    want = du.replicas(d)
    if du.replicas(new_rs) == want:
        return False
    if du.replicas(new_rs) > want:
        return dc.scale_rs_and_record(new_rs, want, d)
    return dc.scale_rs_and_record(new_rs, du.new_rs_new_replicas(d, all_rss, new_rs), d)


def reconcile_old_rss(dc: DeploymentController, all_rss: list[Obj], old_rss: list[Obj], new_rs: Obj,
                      d: Obj) -> bool:
    if du.spec_replicas(old_rss) == 0:
        return False
    min_available = du.replicas(d) - du.max_unavailable(d)
    new_unavailable = du.replicas(new_rs) - ((new_rs.get("status") or {}).get("availableReplicas") or 0)
    # Pods that may go now: everything above the minimum, minus the new pods not yet available
    # (they may never become so, and must not be counted on).
    max_scaled_down = du.spec_replicas(all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    old_rss, cleaned = cleanup_unhealthy_replicas(dc, old_rss, d, max_scaled_down)
    scaled = scale_down_old_rss(dc, [*old_rss, new_rs], old_rss, d)
    return cleaned + scaled > 0


def cleanup_unhealthy_replicas(dc: DeploymentController, old_rss: list[Obj], d: Obj,
                               max_cleanup: int) -> tuple[list[Obj], int]:
    """Unavailable old pods go first: they serve nobody and would block the rollout."""
    old_rss = sorted(old_rss, key=du.creation_key)
    total = 0
    for rs in old_rss:
        if total >= max_cleanup:
            break
        available = (rs.get("status") or {}).get("availableReplicas") or 0
        if du.replicas(rs) == 0 or du.replicas(rs) == available:
            continue
        count = min(max_cleanup - total, du.replicas(rs) - available)
        dc.scale_rs_and_record(rs, du.replicas(rs) - count, d)
        total += count
    return old_rss, total


def scale_down_old_rss(dc: DeploymentController, all_rss: list[Obj], old_rss: list[Obj], d: Obj) -> int:
    """Scale the oldest ReplicaSets down while more than `replicas - maxUnavailable` pods are available."""
    min_available = du.replicas(d) - du.max_unavailable(d)
    available = du.status_count(all_rss, "availableReplicas")
    if available <= min_available:
        return 0
    budget = available - min_available
    total = 0
    for rs in sorted(old_rss, key=du.creation_key):
        if total >= budget:
            break
        if du.replicas(rs) == 0:
            continue
        count = min(du.replicas(rs), budget - total)
        dc.scale_rs_and_record(rs, du.replicas(rs) - count, d)
        total += count
    return total


# ----------------------------------------------------------------------------------- Recreate
def rollout_recreate(dc: DeploymentController, d: Obj, rs_list: list[Obj],
                     pods_by_rs: dict[str, list[Obj]]) -> float | None:
    # The new ReplicaSet is not created yet, so that nothing scales up before everything old is down.
    new_rs, old_rss = dc.get_all_rss(d, rs_list, create=False)
    all_rss: list[Obj | None] = [*old_rss, new_rs]
    scaled_down = False
    for rs in du.active(old_rss):
        scaled_down = dc.scale_rs_and_record(rs, 0, d) or scaled_down
    if scaled_down or old_pods_running(new_rs, old_rss, pods_by_rs):
        return ds.sync_rollout_status(dc, all_rss, new_rs, d)
    if new_rs is None:
        new_rs, old_rss = dc.get_all_rss(d, rs_list, create=True)
        all_rss = [*old_rss, new_rs]
    assert new_rs is not None
    dc.scale_rs_and_record(new_rs, du.replicas(d), d)
    if ds.deployment_complete(d, d.get("status") or {}):
        dc.cleanup(old_rss, d)
    return ds.sync_rollout_status(dc, all_rss, new_rs, d)


def old_pods_running(new_rs: Obj | None, old_rss: list[Obj], pods_by_rs: dict[str, list[Obj]]) -> bool:
    if du.status_count(old_rss, "replicas") > 0:
        return True
    new_uid = new_rs["metadata"]["uid"] if new_rs is not None else None
    for uid, pods in pods_by_rs.items():
        if uid == new_uid:
            continue
        if any((p.get("status") or {}).get("phase") not in ("Failed", "Succeeded") for p in pods):
            return True
    return False
