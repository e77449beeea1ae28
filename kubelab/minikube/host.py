"""What the minikube emulator needs from its host: a local cluster per profile and a real kubectl.

The magics' session implements `MinikubeHost`: it owns the kernel's local clusters (running or
stopped), serves them, writes the per-kernel kubeconfig, runs kubectl and serves the dashboard.
The emulator (`kubelab.minikube.Minikube`) only decides what minikube would print and which of these to call.

Read by: kubelab.minikube (its commands), the magics' session (implements it). Reads: kubelab.cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster


class MinikubeHost(Protocol):
    def cluster(self, profile: str) -> Cluster | None:
        """The running local cluster of that profile, or None."""

    def state(self, profile: str) -> str | None:
        """"Running" (served), "Stopped" (the Cluster kept, its API server stopped by `stop`), or None
        when the host has no cluster for that profile."""

    def start(self, profile: str, nodes: int) -> Cluster:
        """Start (or resume) the profile's local cluster (`Cluster(profile="minikube", nodes=nodes)`), serve
        it, and write context `<profile>` as current in the per-kernel kubeconfig."""

    def stop(self, profile: str) -> None:
        """Stop serving; keep the Cluster so `start` resumes it."""

    def delete(self, profile: str) -> None:
        """Close and forget the cluster and its context."""

    def kubectl(self, args: list[str], out: TextIO, err: TextIO) -> int:
        """Run the real kubectl (the emulator puts `--context=<profile>` in `args`)."""

    def dashboard_url(self) -> str | None:
        """The URL of kubelab's live cluster view, or None when there is none in this kernel."""

    def browser_url(self, local_url: str) -> str | None:
        """Where a browser that is not on the kernel's machine (JupyterHub, Binder) opens `local_url`,
        or None when `local_url` itself is the address to open."""
