"""kubelab's simulated container runtime (DESIGN decision 6): images, filesystems, processes.

The kubelet (and Compose) pull images from the catalog (`lookup`, `pull_error`), build each
container's filesystem (`container_fs`, then `mount` volumes on it) and run processes as
generators on the simulated clock (`start`, `exec_`). Shell commands run in a sandboxed
POSIX-sh interpreter; nothing here touches the host.

Read by: cluster.kubelet, compose. Reads: its submodules.
"""

from kubelab.cluster.runtime.filesystem import Cred, FileSystem, FsError, Volume
from kubelab.cluster.runtime.images import (
    Image,
    lookup,
    parse_reference,
    pull_error,
    pull_failure,
    register,
    repositories,
)
from kubelab.cluster.runtime.process import (
    ExecError,
    Network,
    NoNetwork,
    ProcessContext,
    ProcessInfo,
    Signal,
    Sleep,
    StartError,
)
from kubelab.cluster.runtime.rootfs import container_fs, kubernetes_hosts, kubernetes_resolv_conf
from kubelab.cluster.runtime.runner import exec_, expand_k8s_vars, start
from kubelab.cluster.runtime.session import RUNAWAY_EXIT_CODE, STEP_BUDGET

__all__ = [
    "Cred",
    "ExecError",
    "FileSystem",
    "FsError",
    "Image",
    "Network",
    "NoNetwork",
    "ProcessContext",
    "ProcessInfo",
    "RUNAWAY_EXIT_CODE",
    "STEP_BUDGET",
    "Signal",
    "Sleep",
    "StartError",
    "Volume",
    "container_fs",
    "exec_",
    "expand_k8s_vars",
    "kubernetes_hosts",
    "kubernetes_resolv_conf",
    "lookup",
    "parse_reference",
    "pull_error",
    "pull_failure",
    "register",
    "repositories",
    "start",
]
