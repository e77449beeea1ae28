"""Fixtures for the widget tests: a stepped local cluster running one ReplicaSet of nginx pods."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import kubelab

WEB = {
    "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
}


@pytest.fixture
def cluster() -> Iterator[kubelab.Cluster]:
    c = kubelab.Cluster(nodes=2, clock="stepped", seed=3)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def web(cluster: kubelab.Cluster) -> kubelab.Cluster:
    cluster.apply(WEB)
    cluster.settle()
    return cluster
