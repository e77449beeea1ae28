"""Which cluster a command goes to: the user's kubeconfig context, or the kernel's local cluster.

`Target` names it and says why. `auto` (the default) takes the current context of the user's
kubeconfig (`$KUBECONFIG`, else ~/.kube/config) when its API server answers an HTTPS request
within about a second, otherwise the local cluster; `local` always takes the local cluster; any
other word is a context name. The user's kubeconfig is only read here, never written; its
stamp (`kubeconfig_stamp`) lets an `auto` session notice another current-context.

Read by: tools.session, magics (`%kube target`, `%kube use`). Reads: pyyaml.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROBE_TIMEOUT = 1.0  # seconds: long enough for a LAN or cloud API server, short enough to wait once
LOCAL_PROFILE = "kubelab"


@dataclass(frozen=True)
class Target:
    """Where kubectl points: a local cluster (`profile`) or a context of the user's kubeconfig."""

    kind: str  # "local" | "context"
    context: str  # the kubeconfig context kubectl uses
    reason: str  # why this target was chosen, for `%kube target`
    profile: str | None = None  # local: the cluster's profile ("kubelab", "minikube")
    server: str | None = None  # context: its API server URL

    @property
    def is_local(self) -> bool:
        return self.kind == "local"


def local(reason: str, profile: str = LOCAL_PROFILE) -> Target:
    return Target("local", profile, reason, profile=profile)


# ------------------------------------------------------------------------ the user's kubeconfig
def kubeconfig_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files kubectl reads: every entry of $KUBECONFIG, else ~/.kube/config."""
    env = os.environ if environ is None else environ
    value = env.get("KUBECONFIG", "")
    if value:
        return [Path(p).expanduser() for p in value.split(os.pathsep) if p]
    return [Path(env.get("HOME") or Path.home()) / ".kube" / "config"]


def describe_paths(paths: list[Path]) -> str:
    home = str(Path.home())
    shown = [str(p).replace(home, "~", 1) if str(p).startswith(home + os.sep) else str(p) for p in paths]
    return ":".join(shown)


def load_kubeconfig(paths: list[Path]) -> dict[str, Any]:
    """The merged kubeconfig, as kubectl merges it: the first file to set a value or a name wins."""
    import yaml

    merged: dict[str, Any] = {"clusters": {}, "contexts": {}, "users": {}, "current-context": ""}
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(doc, dict):
            continue
        if not merged["current-context"] and doc.get("current-context"):
            merged["current-context"] = str(doc["current-context"])
        for section in ("clusters", "contexts", "users"):
            for entry in doc.get(section) or ():
                if isinstance(entry, dict) and entry.get("name") and entry["name"] not in merged[section]:
                    merged[section][entry["name"]] = entry.get(section[:-1]) or {}
    return merged


def kubeconfig_stamp(environ: Mapping[str, str] | None = None) -> tuple[Any, ...]:
    """What changes when the user's kubeconfig does: $KUBECONFIG and each file's mtime and size
    (a few stat calls: cheap enough to check before every command)."""
    env = os.environ if environ is None else environ
    stamp: list[Any] = [env.get("KUBECONFIG", "")]
    for path in kubeconfig_paths(env):
        try:
            st = path.stat()
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append((str(path), None))
    return tuple(stamp)


def kubeconfig_state(environ: Mapping[str, str] | None = None) -> tuple[tuple[Any, ...], str]:
    """(the files' stamp, their current-context): what an `auto` target remembers to follow."""
    stamp = kubeconfig_stamp(environ)
    return stamp, load_kubeconfig(kubeconfig_paths(environ))["current-context"]


def use_context_word(args: Sequence[str]) -> str | None:
    """X of kubectl's `config use-context X` (alias `config use X`) on the default kubeconfig, else None."""
    if any(a == "--kubeconfig" or a.startswith("--kubeconfig=") for a in args):
        return None  # an explicit file: kubectl edits it, and which cluster the magics use is not about it
    words = [a for a in args if not a.startswith("-")]
    if len(words) >= 3 and words[0] == "config" and words[1] in ("use-context", "use"):
        return words[2]
    return None


def server_of(config: dict[str, Any], context: str) -> str | None:
    ctx = config["contexts"].get(context)
    if not isinstance(ctx, dict):
        return None
    cluster = config["clusters"].get(ctx.get("cluster"))
    return cluster.get("server") if isinstance(cluster, dict) else None


# ------------------------------------------------------------------------------------- probing
def probe(server: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when `server` answers an HTTP(S) GET /version within `timeout`; otherwise what went wrong."""
    parts = urlsplit(server)
    secure = parts.scheme != "http"
    host = parts.hostname or "localhost"
    port = parts.port or (443 if secure else 80)
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            sock: socket.socket = raw
            if secure:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # only asking "is anyone there?"; kubectl verifies
                sock = context.wrap_socket(raw, server_hostname=host)
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            sock.sendall(f"GET /version HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            first = sock.recv(16)
        if first.startswith(b"HTTP/"):
            return None
        return "it did not answer in HTTP"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except ConnectionRefusedError:
        return "connection refused"
    except (OSError, ssl.SSLError) as err:
        return getattr(err, "strerror", None) or str(err) or type(err).__name__


def choose_auto(environ: Mapping[str, str] | None = None, timeout: float = PROBE_TIMEOUT) -> Target:
    """The `auto` choice: the user's current context if its server answers, else the local cluster."""
    paths = kubeconfig_paths(environ)
    where = describe_paths(paths)
    if not any(p.is_file() for p in paths):
        return local(f'target is "auto" and there is no kubeconfig ({where} does not exist)')
    config = load_kubeconfig(paths)
    current = config["current-context"]
    if not current:
        return local(f'target is "auto" and {where} has no current context')
    server = server_of(config, current)
    if not server:
        return local(f'target is "auto" and the current context "{current}" of {where} names no server')
    problem = probe(server, timeout)
    if problem is not None:
        return local(f'target is "auto" and the current context "{current}" of {where} did not answer '
                     f"({server}: {problem})")
    return Target("context", current, f'target is "auto" and the current context of {where} answered ({server})',
                  server=server)


def named(context: str, reason: str, environ: Mapping[str, str] | None = None) -> Target:
    """A context of the user's kubeconfig by name; ValueError naming the known ones if there is none."""
    paths = kubeconfig_paths(environ)
    config = load_kubeconfig(paths)
    if context not in config["contexts"]:
        known = ", ".join(sorted(config["contexts"])) or "none"
        raise ValueError(f'context "{context}" not found in {describe_paths(paths)} (contexts: {known}); '
                         'use "local" for the kernel\'s local cluster')
    return Target("context", context, reason, server=server_of(config, context))
