"""kubelab: teach container orchestration in Jupyter, on a real cluster or an embedded local one.

Public surface: `kubelab.Cluster` (the local cluster and its Python API), `kubelab.ApiError`
(a failed call, carrying the Kubernetes Status), `%load_ext kubelab` for the magics, and
`kubelab.KubectlError` (what a failing `%kube` raises), and `kubelab.local_cluster()` (the
local cluster the magics drive, for the Python API beside them; None on a real target).
Heavy modules load on first use, so `import kubelab` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster, ClusterSnapshot

__all__ = ["ApiError", "Cluster", "ClusterSnapshot", "KubectlError", "load_ipython_extension", "local_cluster",
           "unload_ipython_extension"]
__version__ = "0.1.0"


# The magics and tools sit at the top of the layers, and lower layers import this package: look
# them up at call time so `import kubelab` neither loads IPython nor points downward-only rules up.
def load_ipython_extension(ip: Any) -> None:
    """`%load_ext kubelab`: register `%kube`, `%%kube` and `%minikube`."""
    importlib.import_module("kubelab.magics").load_ipython_extension(ip)


def unload_ipython_extension(ip: Any) -> None:
    """`%unload_ext kubelab`: remove the magics and stop the kernel's local clusters."""
    importlib.import_module("kubelab.magics").unload_ipython_extension(ip)


def local_cluster() -> Cluster | None:
    """The local cluster `%kube` is talking to (started if the target is local), or None on a real target."""
    session = importlib.import_module("kubelab.tools.session").current()
    return session.ensure_local() if session.target.is_local else None


def __getattr__(name: str) -> Any:
    if name == "KubectlError":
        return importlib.import_module("kubelab.tools.errors").KubectlError
    if name in ("Cluster", "ClusterSnapshot"):
        from kubelab.cluster import core

        return getattr(core, name)
    if name in ("seed", "images"):  # the course's manifests; the image catalog
        return importlib.import_module(f"kubelab.{name}")
    raise AttributeError(f"module 'kubelab' has no attribute {name!r}")
