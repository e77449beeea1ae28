"""kubelab: teach container orchestration in Jupyter, on a real cluster or an embedded local one.

Public surface: `kubelab.Cluster` (the local cluster and its Python API), `kubelab.ApiError`
(a failed call, carrying the Kubernetes Status), and `%load_ext kubelab` for the magics.
Heavy modules load on first use, so `import kubelab` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster, ClusterSnapshot

__all__ = ["ApiError", "Cluster", "ClusterSnapshot"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in ("Cluster", "ClusterSnapshot"):
        from kubelab.cluster import core

        return getattr(core, name)
    if name in ("seed", "images"):  # the course's manifests; the image catalog
        import importlib

        return importlib.import_module(f"kubelab.{name}")
    raise AttributeError(f"module 'kubelab' has no attribute {name!r}")
