"""The scheduler's incremental paths give exactly what a full recomputation gives.

Filtering/raw scores (`NodeMemo.evaluate`) and default spreading (`SpreadMemo.scores`) patch the
previous cycle's answer for the nodes that changed; on every cycle of a scale up, down and up
again — plus a workload whose large requests take nodes in and out of feasibility — the patched
answer must equal, in value and in order, the one computed from scratch."""

from __future__ import annotations

import pytest

import kubelab
from kubelab.cluster.scheduling import memo, scoring


def _deployment(name: str, replicas: int, cpu: str | None = None) -> dict:
    container: dict = {"name": "app", "image": "registry.k8s.io/pause:3.10"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}


def _scale_up_down_up(cluster: kubelab.Cluster) -> None:
    cluster.apply(_deployment("density", 0))
    for replicas in (240, 60, 150):
        cluster.scale("deployment", "density", replicas)
        cluster.settle()
    cluster.apply(_deployment("big", 30, cpu="1500m"))
    cluster.settle()


def test_patched_filters_and_raw_scores_equal_a_full_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    patched = memo.NodeMemo.evaluate
    checked = []

    def compare(self, pod, facts, shape, epoch, infos):
        got = patched(self, pod, facts, shape, epoch, infos)
        want = memo.NodeMemo()._evaluate(pod, facts, shape, epoch, infos)
        assert [i.name for i in got[0]] == [i.name for i in want[0]]
        assert got[1] == want[1] and list(got[1]) == list(want[1])
        assert got[2] == want[2] and (got[2] is None or list(got[2]) == list(want[2]))
        checked.append(pod["metadata"]["name"])
        return got

    monkeypatch.setattr(memo.NodeMemo, "evaluate", compare)
    with kubelab.Cluster(nodes=11, clock="stepped", seed=3) as cluster:
        _scale_up_down_up(cluster)
    assert len(checked) >= 300


def test_patched_spreading_scores_equal_a_full_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    patched = scoring.SpreadMemo.scores
    checked = []

    def compare(self, pod, feasible, selector, epoch):
        got = patched(self, pod, feasible, selector, epoch)
        want = scoring._topology_spread(pod, feasible, selector)
        assert got == want and list(got) == list(want)
        checked.append(pod["metadata"]["name"])
        return got

    monkeypatch.setattr(scoring.SpreadMemo, "scores", compare)
    with kubelab.Cluster(nodes=11, clock="stepped", seed=3) as cluster:
        _scale_up_down_up(cluster)
    assert len(checked) >= 300
