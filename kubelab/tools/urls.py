"""The address a learner's browser can open for a URL the kernel serves on 127.0.0.1.

On a laptop, `http://127.0.0.1:PORT/…` is that address. Under JupyterHub (mybinder.org included)
the browser is not on the kernel's machine; jupyter-server-proxy, when installed beside the
single-user server, forwards `{JUPYTERHUB_SERVICE_PREFIX}proxy/PORT/…` to the kernel's local
port, stripping that prefix so the local server sees its own path. The address is absolute when
the hub says where it lives (JUPYTERHUB_PUBLIC_URL, else JUPYTERHUB_EXTERNAL_URL or
JUPYTERHUB_HOST), otherwise a path on the hub the learner already has open.

Read by: tools.session (minikube service/dashboard through the host), tools.portforward.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def proxy_installed() -> bool:
    """jupyter-server-proxy is importable here (on a hub, the kernel shares the server's environment)."""
    return importlib.util.find_spec("jupyter_server_proxy") is not None


def browser_url(local_url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """`local_url` as the learner's browser on this JupyterHub reaches it through jupyter-server-proxy;
    None when not under a hub, without the proxy, or when `local_url` is not a loopback HTTP URL."""
    env = os.environ if environ is None else environ
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "")
    if not prefix:
        return None
    parts = urlsplit(local_url)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK or parts.port is None:
        return None
    if not proxy_installed():
        return None
    prefix = "/" + prefix.strip("/") + "/"
    rest = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    path = f"{prefix}proxy/{parts.port}/{rest}"
    public = env.get("JUPYTERHUB_PUBLIC_URL", "")
    if public:  # the server's own public URL: it already ends with the prefix
        return public.rstrip("/") + "/" + path[len(prefix):]
    base = env.get("JUPYTERHUB_EXTERNAL_URL") or env.get("JUPYTERHUB_HOST") or ""
    if base.startswith(("http://", "https://")):
        return urljoin(base, path)  # the prefix is an absolute path: it replaces any path of `base`
    return path


def browser_note(local_url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The line shown beside `local_url` when a hub's browser needs another address, else None."""
    url = browser_url(local_url, environ)
    return None if url is None else f"(from your browser on this hub: {url})"
