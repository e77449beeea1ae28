"""Past 300 objects the ownership view folds pods into counted groups per owner; the placement view keeps tiles."""

from __future__ import annotations

import pytest

import kubelab
from kubelab import seed
from kubelab.viz import Snapshot, to_dot


@pytest.fixture(scope="module")
def four_hundred() -> Snapshot:
    # 400 replicas on 3 workers of 110 pods each, kube-proxy taking one on each: 327 run, 73 cannot be scheduled.
    cluster = kubelab.Cluster(nodes=4, clock="stepped", seed=11)
    cluster.apply(seed.HELLOWORLD_DEPLOYMENT_FIXED.replace("replicas: 1 ", "replicas: 400 "))
    cluster.advance(60)
    snap = Snapshot.from_cluster(cluster)
    cluster.close()
    return snap


def test_four_hundred_pods_collapse_into_one_counted_group(golden, four_hundred):
    dot = to_dot(four_hundred)
    golden("collapse_400_ownership", dot)
    assert 'label="400 pods: 327 ok, 73 pending"' in dot
    assert '"Pod/' not in dot


def test_below_the_threshold_pods_are_drawn_one_by_one(four_hundred):
    assert to_dot(four_hundred, collapse_over=1000).count('"Pod/default/helloworld-') == 400 * 2  # node and edge


def test_large_placement_keeps_every_pod_as_an_unlabelled_tile(four_hundred):
    dot = to_dot(four_hundred, view="placement")
    tiles = [ln for ln in dot.splitlines() if ln.strip().startswith('"Pod/default/')]
    assert len(tiles) == 400 and all('label=""' in t and "fixedsize" in t for t in tiles)
    assert "Pending (not scheduled)\\l73 pods" in dot
