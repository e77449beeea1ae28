"""The session's side of `%minikube`: the `MinikubeHost` protocol over the kernel's local clusters.

A minikube profile is a local `kubelab.Cluster` the session serves under the profile's name:
`start` creates or resumes it and makes it the target, `stop` stops serving it but keeps the
Cluster (so `state` says Stopped and `start` resumes it, as minikube restarts its container),
`delete` forgets it with its snapshots and context. `dashboard_url` starts the live cluster page
lazily; `browser_url` says where a browser on a JupyterHub opens a loopback URL.

Read by: tools.session (Session inherits it). Reads: tools.target, tools.urls, kubelab.widgets.dashboard
(looked up at call time: widgets sit above tools). Uses the Session's clusters, servers and lock.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from kubelab.tools import target as targets
from kubelab.tools import urls
from kubelab.tools.target import LOCAL_PROFILE

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster, ClusterSnapshot
    from kubelab.tools.runner import Completed
    from kubelab.tools.target import Target


class _Session(Protocol):
    """What the mixin uses of the Session it is mixed into."""

    clusters: dict[str, Cluster]
    servers: dict[str, Any]
    dashboards: dict[str, Any]
    starts: dict[str, ClusterSnapshot]
    started_at: dict[str, float]
    snapshots: dict[tuple[str, str], ClusterSnapshot]
    _lock: threading.RLock
    _target: Target | None
    _followed: tuple[Any, str] | None

    @property
    def target(self) -> Target: ...
    def ensure_local(self) -> Cluster: ...
    def _start_cluster(self, profile: str, nodes: int) -> Cluster: ...
    def _serve(self, profile: str) -> None: ...
    def _forget_context(self, profile: str) -> None: ...
    def run_kubectl(self, args: list[str], *, out: TextIO | None = None, err: TextIO | None = None) -> Completed: ...
    def stop(self, profile: str) -> None: ...


class ProfileHost:
    """`MinikubeHost` for the Session (a mixin: `self` is the Session, with its clusters, servers and lock)."""

    _target: Target | None  # the Session's chosen target; `start` and `delete` change it
    _followed: tuple[Any, str] | None  # the kubeconfig state an `auto` target followed

    def cluster(self: _Session, profile: str) -> Cluster | None:
        """The running (served) local cluster of `profile`, or None."""
        return self.clusters.get(profile) if profile in self.servers else None

    def state(self: _Session, profile: str) -> str | None:
        """"Running" while `profile` is served, "Stopped" after `stop` (the Cluster is kept), else None."""
        if profile in self.servers:
            return "Running"
        return "Stopped" if profile in self.clusters else None

    def start(self: _Session, profile: str, nodes: int) -> Cluster:
        """Start (or resume) `profile`'s local cluster, serve it, and make its context the target."""
        with self._lock:
            cluster = self.clusters.get(profile) or self._start_cluster(profile, nodes)
            if profile not in self.servers:
                self._serve(profile)
            self._target = targets.local(f"%minikube start -p {profile}", profile=profile)
            self._followed = None  # chosen by `start`, not by `auto`: it stays until changed
            return cluster

    def stop(self: _Session, profile: str) -> None:
        """Stop serving `profile` (its context stays, kubectl finds nothing there); `start` resumes it."""
        with self._lock:
            for handles in (self.dashboards, self.servers):  # a stopped cluster has no dashboard either
                handle = handles.pop(profile, None)
                if handle is not None:
                    handle.stop()

    def delete(self: _Session, profile: str) -> None:
        """Close and forget `profile`'s cluster, its snapshots and its context."""
        with self._lock:
            self.stop(profile)
            cluster = self.clusters.pop(profile, None)
            if cluster is not None:
                cluster.close()
            self.starts.pop(profile, None)
            self.started_at.pop(profile, None)
            for key in [k for k in self.snapshots if k[0] == profile]:
                del self.snapshots[key]
            self._forget_context(profile)
            if self._target is not None and self._target.profile == profile:
                self._target = None  # chosen again from the setting on the next command

    def kubectl(self: _Session, args: list[str], out: TextIO, err: TextIO) -> int:
        """Run the real kubectl against the target, streaming into `out`/`err`."""
        return self.run_kubectl(args, out=out, err=err).returncode

    def dashboard_url(self: _Session) -> str | None:
        """The URL of the live view of the target's local cluster (started on first call, on 127.0.0.1
        under a secret path); None when the target is not a local cluster."""
        target = self.target
        if not target.is_local:
            return None
        profile = target.profile or LOCAL_PROFILE
        with self._lock:
            handle = self.dashboards.get(profile)
            if handle is None:
                cluster = self.ensure_local()
                # The widgets layer sits above this one: look it up at call time rather than importing it.
                dashboard = importlib.import_module("kubelab.widgets.dashboard")
                handle = self.dashboards[profile] = dashboard.serve(cluster)
            return str(handle.url)

    def browser_url(self: _Session, local_url: str) -> str | None:
        """Where the learner's browser opens `local_url` when the kernel runs on a JupyterHub."""
        return urls.browser_url(local_url)
