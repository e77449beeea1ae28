"""Fixtures for the API server tests: one served local cluster per test module (`served`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apiserver_client import Served

import kubelab


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Served]:
    """A served stepped cluster (seed 7); a test module may set `NODES` (default 2)."""
    tmp = tmp_path_factory.mktemp("apiserver")
    cluster = kubelab.Cluster(clock="stepped", seed=7, nodes=getattr(request.module, "NODES", 2))
    handle = cluster.serve(kubeconfig=tmp / "kubeconfig")
    home = tmp / "home"
    home.mkdir()
    try:
        yield Served(cluster, handle, home)
    finally:
        handle.stop()
        cluster.close()
