"""Pure helpers of the Deployment controller: fenceposts, ReplicaSet lists, revisions, annotations.

The arithmetic of a rollout as kube-controller-manager's deployment/util does it: maxSurge
rounds up and maxUnavailable rounds down (both resolving to 0 means maxUnavailable 1),
the new ReplicaSet is the oldest one whose template equals the Deployment's ignoring
`pod-template-hash`, revisions live in `deployment.kubernetes.io/revision` (a rolled-back-to
ReplicaSet remembers its earlier numbers in `revision-history`), and scaling a Deployment
mid-rollout spreads the change proportionally using `deployment.kubernetes.io/max-replicas`.
Every function takes and returns plain dicts and never writes to the store.

Read by: controllers.deployment, controllers.deployment_rolling, controllers.deployment_status,
cluster.rolloutops. Reads: nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Obj = dict[str, Any]

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Deployment annotations that are not copied to its ReplicaSets (and kept on rollback).
ANNOTATIONS_TO_SKIP = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                                 ROLLBACK_TO})
MAX_REVISION_HISTORY_CHARS = 2000
NO_PROGRESS_DEADLINE = 2**31 - 1  # progressDeadlineSeconds = MaxInt32 turns progress checks off

# ------------------------------------------------------------------ replicas and fenceposts
def replicas(obj: Obj | None) -> int:
    value = ((obj or {}).get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: an int as is, "25%" of `total` rounded up or down."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        raise ValueError(f'invalid value for IntOrString: invalid type: string is not a percentage: "{value}"')
    exact = int(text[:-1]) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None, desired: int) -> tuple[int, int]:
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        # Rounding down can make a percentage 0; a rollout that may neither surge nor lose a pod
        # could never move, so it may lose one.
        unavailable = 1
    return surge, unavailable


def is_rolling_update(d: Obj) -> bool:
    return ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def _rolling(d: Obj) -> Obj:
    return ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(d: Obj) -> int:
    if not is_rolling_update(d):
        return 0
    return resolve_fenceposts(_rolling(d).get("maxSurge"), _rolling(d).get("maxUnavailable"), replicas(d))[0]


def max_unavailable(d: Obj) -> int:
    if not is_rolling_update(d) or replicas(d) == 0:
        return 0
    unavailable = resolve_fenceposts(_rolling(d).get("maxSurge"), _rolling(d).get("maxUnavailable"), replicas(d))[1]
    return min(unavailable, replicas(d))


def has_progress_deadline(d: Obj) -> bool:
    deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return deadline is not None and deadline != NO_PROGRESS_DEADLINE


def has_revision_history_limit(d: Obj) -> bool:
    limit = (d.get("spec") or {}).get("revisionHistoryLimit")
    return limit is not None and limit != NO_PROGRESS_DEADLINE


# ------------------------------------------------------------------------- ReplicaSet lists
def creation_key(rs: Obj) -> tuple[str, str]:
    """controller.ReplicaSetsByCreationTimestamp: oldest first, then by name."""
    return rs["metadata"].get("creationTimestamp") or "", rs["metadata"]["name"]


def revision(rs: Obj | None) -> int:
    text = (((rs or {}).get("metadata") or {}).get("annotations") or {}).get(REVISION, "")
    try:
        return int(text)
    except ValueError:
        return 0


def max_revision(rss: list[Obj]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def equal_ignore_hash(t1: Obj | None, t2: Obj | None) -> bool:
    """Are two pod templates the same, `pod-template-hash` aside? (apiequality.Semantic: empty == absent.)"""
    return _semantic(_without_hash(t1)) == _semantic(_without_hash(t2))


def _without_hash(template: Obj | None) -> Obj:
    template = dict(template or {})
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != POD_TEMPLATE_HASH}
    meta["labels"] = labels
    template["metadata"] = meta
    return template


def _semantic(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


def find_new_rs(d: Obj, rs_list: list[Obj]) -> Obj | None:
    """The oldest ReplicaSet whose template is the Deployment's."""
    template = (d.get("spec") or {}).get("template")
    for rs in sorted(rs_list, key=creation_key):
        if equal_ignore_hash((rs.get("spec") or {}).get("template"), template):
            return rs
    return None


def find_old_rss(d: Obj, rs_list: list[Obj]) -> tuple[list[Obj], list[Obj]]:
    """(old ReplicaSets with pods wanted, all old ReplicaSets)."""
    new = find_new_rs(d, rs_list)
    old = [rs for rs in rs_list if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
    return [rs for rs in old if replicas(rs) != 0], old


def active(rss: Sequence[Obj | None]) -> list[Obj]:
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


def spec_replicas(rss: Sequence[Obj | None]) -> int:
    return sum(replicas(rs) for rs in rss if rs is not None)


def status_count(rss: Sequence[Obj | None], field: str) -> int:
    return sum(((rs.get("status") or {}).get(field) or 0) for rs in rss if rs is not None)


def terminating_count(rss: Sequence[Obj | None]) -> int | None:
    """Sum of status.terminatingReplicas; None if a ReplicaSet the controller has seen does not report it."""
    total = 0
    for rs in rss:
        if rs is None:
            continue
        status = rs.get("status") or {}
        if not status.get("observedGeneration") and "terminatingReplicas" not in status:
            continue
        if "terminatingReplicas" not in status:
            return None
        total += status["terminatingReplicas"] or 0
    return total


def by_size_newer(rss: list[Obj]) -> list[Obj]:
    """Largest first; among equals the newest first (where scaling up goes)."""
    ordered = sorted(rss, key=creation_key, reverse=True)
    return sorted(ordered, key=lambda rs: -replicas(rs))


def by_size_older(rss: list[Obj]) -> list[Obj]:
    """Largest first; among equals the oldest first (where scaling down goes)."""
    return sorted(sorted(rss, key=creation_key), key=lambda rs: -replicas(rs))


def by_revision(rss: list[Obj]) -> list[Obj]:
    return sorted(sorted(rss, key=creation_key), key=revision)


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    """The only ReplicaSet with pods wanted, or the newest if none has any; None while several do."""
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=creation_key, reverse=True)
    candidates = active([*newest_first, new_rs])
    if not candidates:
        return new_rs if new_rs is not None else newest_first[0]
    return candidates[0] if len(candidates) == 1 else None


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    """The new ReplicaSet runs all replicas, for this Deployment size, all of them available."""
    if rs is None:
        return False
    try:
        desired = int((rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS, ""))
    except ValueError:
        return False
    want = replicas(d)
    return replicas(rs) == want and desired == want and ((rs.get("status") or {}).get("availableReplicas") or 0) == want


def new_rs_new_replicas(d: Obj, all_rss: Sequence[Obj | None], new_rs: Obj) -> int:
    """How far the new ReplicaSet may be scaled up now."""
    want = replicas(d)
    if not is_rolling_update(d):
        return want
    surge = scaled_value(_rolling(d).get("maxSurge"), want, True)
    current = spec_replicas(all_rss)
    ceiling = want + surge
    if current >= ceiling:
        return replicas(new_rs)
    return replicas(new_rs) + min(ceiling - current, want - replicas(new_rs))


# ------------------------------------------------------------------------------ annotations
def desired_replicas_annotation(rs: Obj) -> int | None:
    try:
        return int((rs["metadata"].get("annotations") or {})[DESIRED_REPLICAS])
    except (KeyError, ValueError):
        return None


def replicas_annotations_need_update(rs: Obj, desired: int, maximum: int) -> bool:
    annotations = rs["metadata"].get("annotations") or {}
    return annotations.get(DESIRED_REPLICAS) != str(desired) or annotations.get(MAX_REPLICAS) != str(maximum)


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def copy_deployment_annotations(d: Obj, rs: Obj) -> bool:
    """The Deployment's own annotations (kubernetes.io/change-cause …) go onto its new ReplicaSet."""
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in (d["metadata"].get("annotations") or {}).items():
        if key in ANNOTATIONS_TO_SKIP or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    return changed


def set_new_rs_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> bool:
    """Copy annotations, raise the revision to `new_revision` if lower (remembering a rolled-back-to
    ReplicaSet's earlier numbers in revision-history), and on creation the replica annotations."""
    changed = copy_deployment_annotations(d, rs)
    annotations = rs["metadata"].setdefault("annotations", {})
    old_text = annotations.get(REVISION)
    if old_text is not None:
        try:
            old = int(old_text)
        except ValueError:
            return False
    else:
        old = 0
    if old < new_revision:
        annotations[REVISION] = str(new_revision)
        changed = True
        if old_text is not None:
            _remember_revision(annotations, old_text)
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def _remember_revision(annotations: dict[str, str], old_text: str) -> None:
    history = annotations.get(REVISION_HISTORY, "")
    if not history:
        annotations[REVISION_HISTORY] = old_text
        return
    revisions = history.split(",")
    total, start = len(history) + len(old_text) + 1, 0
    while total > MAX_REVISION_HISTORY_CHARS and start < len(revisions):
        total -= len(revisions[start]) + 1
        start += 1
    if total <= MAX_REVISION_HISTORY_CHARS:
        annotations[REVISION_HISTORY] = ",".join([*revisions[start:], old_text])


def set_deployment_revision(d: Obj, value: str) -> bool:
    annotations = d["metadata"].setdefault("annotations", {})
    if annotations.get(REVISION) == value:
        return False
    annotations[REVISION] = value
    return True


# -------------------------------------------------------------------- proportional scaling
def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """This ReplicaSet's share of a Deployment-level scale change, bounded by what is left to hand out."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _fraction(rs: Obj, d: Obj) -> int:
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_replicas = replicas(d) + max_surge(d)
    try:
        before = int((rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS, ""))
    except ValueError:
        before = 0
    if before == 0:
        before = (d.get("status") or {}).get("replicas") or 0
    if before == 0:
        return 0
    size = replicas(rs) * deployment_replicas / before
    return _round_half_away(size) - replicas(rs)


def _round_half_away(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))
