"""A fake minikube host backed by real stepped local clusters (no API server, no real kubectl)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TextIO

import pytest

from kubelab.cluster.core import Cluster
from kubelab.minikube import Minikube
from kubelab.tools import urls


class FakeHost:
    def __init__(self) -> None:
        self.clusters: dict[str, Cluster] = {}
        self.serving: set[str] = set()
        self.kubectl_calls: list[list[str]] = []
        self.dashboard: str | None = "http://127.0.0.1:8888/kubelab/cluster"

    def cluster(self, profile: str) -> Cluster | None:
        return self.clusters.get(profile) if profile in self.serving else None

    def state(self, profile: str) -> str | None:
        if profile not in self.clusters:
            return None
        return "Running" if profile in self.serving else "Stopped"

    def start(self, profile: str, nodes: int) -> Cluster:
        if profile not in self.clusters:
            self.clusters[profile] = Cluster(profile="minikube", clock="stepped", seed=1, nodes=nodes)
        self.serving.add(profile)
        return self.clusters[profile]

    def stop(self, profile: str) -> None:
        self.serving.discard(profile)

    def delete(self, profile: str) -> None:
        self.serving.discard(profile)
        cluster = self.clusters.pop(profile, None)
        if cluster is not None:
            cluster.close()

    def kubectl(self, args: list[str], out: TextIO, err: TextIO) -> int:
        self.kubectl_calls.append(args)
        out.write("NAME   READY   STATUS\n")
        return 0

    def dashboard_url(self) -> str | None:
        return self.dashboard

    def browser_url(self, local_url: str) -> str | None:
        return urls.browser_url(local_url)  # what the magics' session answers


@dataclass
class Result:
    code: int
    out: str
    err: str


class Runner:
    def __init__(self) -> None:
        self.host = FakeHost()
        self.minikube = Minikube(self.host)

    def __call__(self, line: str) -> Result:
        import shlex

        out, err = io.StringIO(), io.StringIO()
        code = self.minikube.run(shlex.split(line), out, err)
        return Result(code, out.getvalue(), err.getvalue())

    @property
    def cluster(self) -> Cluster:
        return self.host.clusters["minikube"]


@pytest.fixture
def minikube():
    runner = Runner()
    yield runner
    for cluster in list(runner.host.clusters.values()):
        cluster.close()


@pytest.fixture
def started(minikube):
    assert minikube("start").code == 0
    return minikube
