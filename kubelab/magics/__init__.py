"""kubelab's IPython magics: `%kube`, `%%kube` and `%minikube` (`%load_ext kubelab`).

`load_ipython_extension` creates the kernel's `Session` (tools.session), the `KubeMagic`
(settings from the IPython config, then `[tool.kubelab]` in pyproject.toml) and the
`MinikubeMagic`, and installs the transformer that shows every bare `%kube` line's output.
`unload_ipython_extension` removes all of it and stops the local clusters. The magics stay
thin: they parse, pick the target and call `kubelab.tools`.

Read by: kubelab (`%load_ext kubelab`). Reads: magics.kube, magics.minikube, magics.config,
magics.display, tools.session.
"""

from __future__ import annotations

import atexit
from typing import Any

from kubelab.magics import config
from kubelab.magics.display import ShowBareMagics
from kubelab.magics.kube import KubeMagic
from kubelab.magics.minikube import MinikubeMagic
from kubelab.tools import session as sessions

__all__ = ["KubeMagic", "MinikubeMagic", "load_ipython_extension", "unload_ipython_extension"]

_MAGICS = {"line": ("kube", "minikube"), "cell": ("kube",)}


def load_ipython_extension(ip: Any) -> None:
    """Register `%kube`, `%%kube` and `%minikube` in the shell `ip`."""
    session = sessions.Session()
    kube = KubeMagic(shell=ip, session=session)
    config.apply(kube)
    kube.sync_session()
    sessions.install(session)
    ip.register_magics(kube)
    ip.register_magics(MinikubeMagic(ip, kube))
    ip.ast_transformers.append(ShowBareMagics())
    atexit.register(session.close)  # a kernel that exits still removes its kubeconfig (it holds a token)


def unload_ipython_extension(ip: Any) -> None:
    """Remove the magics and the transformer, and stop the kernel's local clusters."""
    manager = ip.magics_manager
    for kind, names in _MAGICS.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    for cls in (KubeMagic, MinikubeMagic):
        instance = manager.registry.pop(cls.__name__, None)
        if instance in ip.configurables:
            ip.configurables.remove(instance)
    ip.ast_transformers[:] = [t for t in ip.ast_transformers if not isinstance(t, ShowBareMagics)]
    current = sessions._current
    if current is not None:
        atexit.unregister(current.close)
        current.close()
    sessions.install(None)
