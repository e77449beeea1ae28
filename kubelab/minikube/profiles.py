"""The profiles a minikube emulator knows, and minikube's answers when a profile is not usable.

minikube keeps a profile's config after `stop`, so `status` can say `Stopped` and `start` says it
restarts. The host says whether a profile's cluster runs, is stopped or does not exist
(`host.state`); the emulator remembers what only minikube's config would hold (driver, node
names, nodes stopped with `minikube node stop`). `Call` is one command invocation:
its streams, its profile, and the two loaders minikube's commands use — `partial()` (the profile
must exist) and `running()` (its control plane must run) — with minikube's messages and exit codes.

Read by: every command module. Reads: kubelab.minikube.text, kubelab.minikube.host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from kubelab.minikube.text import DEFAULT_PROFILE, EX_GUEST_NOT_FOUND, EX_GUEST_NOT_RUNNING, Exit, say

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster
    from kubelab.minikube.host import MinikubeHost

KIC_DRIVERS = ("docker", "podman")


@dataclass
class Profile:
    name: str
    driver: str = "docker"
    nodes: list[str] = field(default_factory=list)  # node names, as last seen (kept while stopped)
    stopped_nodes: set[str] = field(default_factory=set)  # hosts stopped by `minikube node stop`
    addons: set[str] = field(default_factory=lambda: {"default-storageclass", "storage-provisioner"})

    @property
    def machine_type(self) -> str:
        if self.driver in KIC_DRIVERS:
            return "container"
        return "bare metal machine" if self.driver == "none" else "VM"


@dataclass
class Session:
    """What one emulator remembers between commands."""

    host: MinikubeHost
    profiles: dict[str, Profile] = field(default_factory=dict)
    active: str = DEFAULT_PROFILE  # `minikube profile NAME` changes it
    context: str | None = None  # the kubeconfig context minikube last made current


@dataclass
class Call:
    session: Session
    profile: str
    out: TextIO
    err: TextIO
    args: list[str]

    @property
    def host(self) -> MinikubeHost:
        return self.session.host

    def cluster(self) -> Cluster | None:
        return self.host.cluster(self.profile)

    def state(self) -> str | None:
        """The host's word on the profile: "Running", "Stopped", or None when it has no such cluster."""
        return self.host.state(self.profile)

    def record(self) -> Profile | None:
        """The profile's remembered config. The host is the truth on whether it exists: a cluster the
        emulator never saw (running or stopped) is adopted, one the host no longer has is forgotten."""
        state = self.state()
        if state is None:
            self.session.profiles.pop(self.profile, None)
            return None
        known = self.session.profiles.get(self.profile)
        if known is None:
            known = self.session.profiles[self.profile] = Profile(self.profile)
        cluster = self.cluster() if state == "Running" else None
        if cluster is not None:
            known.nodes = node_names(cluster)
        return known

    def example(self, action: str) -> str:
        """minikube's suggested command, with `-p NAME` unless the profile is the default one."""
        return f"minikube {action}" if self.profile == DEFAULT_PROFILE else f"minikube {action} -p {self.profile}"

    def _exit_tip(self, action: str, code: int) -> Exit:
        say(self.out, "workaround", f'To start a cluster, run: "{self.example(action)}"')
        return Exit(code)

    def partial(self) -> Profile:
        """mustload.Partial: the profile must exist (running or not)."""
        record = self.record()
        if record is None:
            say(self.out, "shrug", f'Profile "{self.profile}" not found. Run "minikube profile list" to view all '
                                   "profiles.")
            raise self._exit_tip("start", EX_GUEST_NOT_FOUND)
        return record

    def running(self) -> tuple[Profile, Cluster]:
        """mustload.Running: the profile's control-plane host must be running."""
        record = self.partial()
        cluster = self.cluster()
        if cluster is None or record.nodes[:1] and record.nodes[0] in record.stopped_nodes:
            machine = record.nodes[0] if record.nodes else self.profile
            say(self.out, "shrug", f"The control-plane node {machine} host is not running: state=Stopped")
            raise self._exit_tip("start", EX_GUEST_NOT_RUNNING)
        return record, cluster


def node_names(cluster: Cluster) -> list[str]:
    """The cluster's nodes, primary control plane first, then by name (minikube-m02, minikube-m03…)."""
    nodes = cluster.list("nodes", None)
    return [n["metadata"]["name"] for n in sorted(nodes, key=_node_order)]


def _node_order(node: dict[str, Any]) -> tuple[int, str]:
    labels = node["metadata"].get("labels") or {}
    return (0 if "node-role.kubernetes.io/control-plane" in labels else 1, node["metadata"]["name"])


def node_ip(cluster: Cluster, name: str) -> str:
    node = cluster.get("nodes", name, None)
    for address in (node.get("status") or {}).get("addresses") or ():
        if address.get("type") == "InternalIP":
            return str(address["address"])
    return ""


def short_name(profile: str, machine: str) -> str:
    """minikube's own node name: `m02` for machine `minikube-m02`; the primary keeps the profile's name."""
    prefix = f"{profile}-"
    return machine[len(prefix):] if machine.startswith(prefix) else machine


def find_node(record: Profile, name: str) -> str | None:
    """node.Retrieve: a node by its machine name or its short name (`m02`)."""
    for machine in record.nodes:
        if name in (machine, short_name(record.name, machine)):
            return machine
    return None
