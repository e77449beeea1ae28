"""The kubeconfig that points kubectl and the official client at a local API server.

`write(path, server, ca_pem, token)` adds (or replaces) a cluster, a user and a context all
named `kubelab` and makes it the current context. An existing file keeps its other clusters,
users and contexts, so a learner's minikube or cloud contexts survive. The file holds a
bearer token, so it is written with mode 0600 (and its directory created 0700).

Read by: server.handle, cli. Reads: pyyaml.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

NAME = "kubelab"


def _replace(entries: list[dict[str, Any]] | None, entry: dict[str, Any]) -> list[dict[str, Any]]:
    kept = [e for e in entries or [] if isinstance(e, dict) and e.get("name") != entry["name"]]
    return [*kept, entry]


def config(server: str, ca_pem: bytes, token: str, existing: dict[str, Any] | None = None,
           name: str = NAME) -> dict[str, Any]:
    """`existing` (a parsed kubeconfig) with the kubelab cluster, user and context merged in."""
    doc: dict[str, Any] = dict(existing) if isinstance(existing, dict) else {}
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    doc.setdefault("preferences", {})
    doc["clusters"] = _replace(doc.get("clusters"), {
        "name": name,
        "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()},
    })
    doc["users"] = _replace(doc.get("users"), {"name": name, "user": {"token": token}})
    doc["contexts"] = _replace(doc.get("contexts"), {
        "name": name, "context": {"cluster": name, "user": name, "namespace": "default"},
    })
    doc["current-context"] = name
    return doc


def write(path: str | os.PathLike[str], server: str, ca_pem: bytes, token: str) -> Path:
    """Write (or merge into) the kubeconfig at `path`, readable by its owner only."""
    target = Path(path).expanduser()
    existing = None
    if target.exists():
        existing = yaml.safe_load(target.read_text(encoding="utf-8"))
    else:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = yaml.safe_dump(config(server, ca_pem, token, existing), sort_keys=False)
    # Write next to it and rename, so a reader never sees half a file; 0600 from the start.
    tmp = target.with_name(f".{target.name}.kubelab-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target

