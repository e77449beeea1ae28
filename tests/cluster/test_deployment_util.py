"""The Deployment controller's arithmetic: fenceposts and their rounding, new-ReplicaSet sizing, proportional
shares, template equality ignoring the hash, and revision bookkeeping on rollback."""

from __future__ import annotations

import pytest

from kubelab.cluster.controllers import deployment_util as du


def deployment(replicas: int = 10, surge: int | str = "25%", unavailable: int | str = "25%",
               kind: str = "RollingUpdate") -> dict:
    strategy: dict = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "web", "annotations": {}}, "spec": {"replicas": replicas, "strategy": strategy},
            "status": {}}


def rs(name: str, replicas: int, created: str = "2026-01-01T00:00:00Z", **annotations: str) -> dict:
    return {"metadata": {"name": name, "uid": name, "creationTimestamp": created, "annotations": dict(annotations)},
            "spec": {"replicas": replicas}, "status": {}}


@pytest.mark.parametrize(("surge", "unavailable", "desired", "expected"), [
    ("25%", "25%", 10, (3, 2)),  # surge rounds up, unavailable rounds down
    ("39%", "39%", 10, (4, 3)),
    ("25%", "25%", 4, (1, 1)),
    ("0%", "0%", 0, (0, 1)),  # nothing may move: one pod may be lost
    ("10%", "10%", 5, (1, 0)),
    (2, 0, 5, (2, 0)),
    (0, "1%", 10, (0, 1)),  # 0.1 rounds down to 0, and both zero means 1
])
def test_fenceposts_round_surge_up_and_unavailable_down(surge, unavailable, desired, expected):
    assert du.resolve_fenceposts(surge, unavailable, desired) == expected


def test_max_unavailable_is_capped_by_replicas_and_zero_for_recreate():
    assert du.max_unavailable(deployment(replicas=2, unavailable=5)) == 2
    assert du.max_unavailable(deployment(replicas=0)) == 0
    assert du.max_unavailable(deployment(kind="Recreate")) == du.max_surge(deployment(kind="Recreate")) == 0


def test_a_percentage_without_percent_sign_is_rejected():
    with pytest.raises(ValueError, match="string is not a percentage"):
        du.scaled_value("25", 10, True)


def test_new_replicaset_grows_up_to_replicas_plus_surge_and_recreate_takes_everything():
    d = deployment(replicas=10)
    new = rs("new", 0)
    assert du.new_rs_new_replicas(d, [rs("old", 10), new], new) == 3
    assert du.new_rs_new_replicas(d, [rs("old", 8), rs("new", 3)], rs("new", 3)) == 5
    assert du.new_rs_new_replicas(d, [rs("old", 10), rs("new", 3)], rs("new", 3)) == 3  # at the ceiling
    assert du.new_rs_new_replicas(deployment(kind="Recreate"), [new], new) == 10


def test_proportional_shares_follow_the_max_replicas_annotation():
    d = deployment(replicas=20, surge=3, unavailable=2)
    old = rs("old", 8, **{du.MAX_REPLICAS: "13"})
    new = rs("new", 5, created="2026-01-01T00:01:00Z", **{du.MAX_REPLICAS: "13"})
    assert du.proportion(old, d, 10, 0) == 6  # 8 * 23 / 13 = 14.15 → 14
    assert du.proportion(new, d, 10, 6) == 4  # 5 * 23 / 13 = 8.85 → 9, and 4 are left to hand out
    assert du.proportion(new, d, 10, 10) == 0
    assert du.proportion(old, deployment(replicas=0), -10, 0) == -8  # scaling to zero takes everything


def test_largest_replicaset_first_ties_broken_by_age():
    a = rs("a", 3, created="2026-01-01T00:00:00Z")
    b = rs("b", 3, created="2026-01-01T00:01:00Z")
    c = rs("c", 5, created="2026-01-01T00:02:00Z")
    assert [x["metadata"]["name"] for x in du.by_size_newer([a, b, c])] == ["c", "b", "a"]
    assert [x["metadata"]["name"] for x in du.by_size_older([a, b, c])] == ["c", "a", "b"]


def test_the_only_active_replicaset_or_the_newest_takes_a_plain_scale():
    old, new = rs("old", 0), rs("new", 0, created="2026-01-01T00:01:00Z")
    assert du.find_active_or_latest(new, [old]) is new
    assert du.find_active_or_latest(None, [old, rs("older", 0, created="2025-12-31T00:00:00Z")]) is old
    assert du.find_active_or_latest(new, [rs("busy", 2)])["metadata"]["name"] == "busy"
    assert du.find_active_or_latest(rs("new", 1), [rs("busy", 2)]) is None


def test_templates_are_equal_ignoring_pod_template_hash_and_empty_fields():
    base = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    hashed = {"metadata": {"labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"}, "annotations": {}},
              "spec": {"containers": [{"name": "c", "image": "nginx", "env": []}]}}
    other = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "httpd"}]}}
    assert du.equal_ignore_hash(base, hashed)
    assert not du.equal_ignore_hash(base, other)


def test_a_rolled_back_to_replicaset_takes_the_new_revision_and_remembers_the_old_ones():
    d = deployment()
    d["metadata"]["annotations"] = {"kubernetes.io/change-cause": "undo", du.LAST_APPLIED: "{}", du.REVISION: "2"}
    target = rs("web-1", 0, **{du.REVISION: "1"})
    assert du.set_new_rs_annotations(d, target, 3, exists=True)
    annotations = target["metadata"]["annotations"]
    assert annotations == {du.REVISION: "3", du.REVISION_HISTORY: "1", "kubernetes.io/change-cause": "undo"}
    du.set_new_rs_annotations(d, target, 5, exists=True)
    assert annotations[du.REVISION_HISTORY] == "1,3"
    assert not du.set_new_rs_annotations(d, target, 4, exists=True)  # never lowered
    created = rs("web-2", 0)
    du.set_new_rs_annotations(d, created, 1, exists=False)
    assert created["metadata"]["annotations"][du.DESIRED_REPLICAS] == "10"
    assert created["metadata"]["annotations"][du.MAX_REPLICAS] == "13"
