"""kubelab's minikube: minikube's commands and output, played on the kernel's local cluster.

`Minikube(host).run(argv, out, err)` takes minikube's argv (without the leading "minikube"),
writes what minikube v1.37 would write, and returns its exit code. The host (the magics'
session) owns the clusters and the kubeconfig; this package decides what minikube says and
which host operation each command means. It is the local engine behind `%minikube` when no real
minikube is installed, alongside compose/, kompose/ and helm/.

Read by: the magics. Reads: kubelab.minikube.commands (and through it kubelab.cluster).
"""

from __future__ import annotations

import weakref
from typing import TextIO

from kubelab.minikube.commands import dispatch
from kubelab.minikube.host import MinikubeHost
from kubelab.minikube.profiles import Session

# What minikube keeps in ~/.minikube (drivers, node lists, the active profile) lives as long as its
# host: `%minikube` builds a Minikube per line, and each must see what the previous ones did.
_memory: weakref.WeakKeyDictionary[MinikubeHost, Session] = weakref.WeakKeyDictionary()


class Minikube:
    """One emulated minikube: remembers its profiles (stopped ones too) between commands, and between
    Minikube objects on the same host."""

    def __init__(self, host: MinikubeHost) -> None:
        try:
            session = _memory.get(host)
            if session is None:
                # The remembered Session reaches its host through a weak proxy: a strong reference from
                # the value would keep the key, and so the host and its clusters, alive for ever.
                session = _memory[host] = Session(weakref.proxy(host))  # type: ignore[arg-type]
        except TypeError:  # a host that cannot be weakly referenced or hashed: memory for this object only
            session = Session(host)
        self.session = session
        self._host = host  # the proxy's referent lives at least as long as this Minikube

    def run(self, argv: list[str], out: TextIO, err: TextIO) -> int:
        """Run `minikube ARGV`; returns minikube's exit code."""
        return dispatch(self.session, list(argv), out, err)


__all__ = ["Minikube", "MinikubeHost"]
