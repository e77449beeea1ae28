"""Storage: file nodes, credentials, and `Volume`, a tree of nodes that filesystems mount.

A container's root volume shares its image's nodes copy-on-write (`base`): thousands of containers
of one image hold one set of file nodes, and a node is copied only when a container changes it.
A Volume is shared by reference: the same emptyDir instance mounted in two containers is one
directory for both. `project` lays out ConfigMap/Secret/downward-API files the way the kubelet
does (a timestamped directory, `..data` pointing at it, one symlink per key), so updates swap
atomically and `ls -la` shows what it shows on a node.

Read by: filesystem, rootfs, the kubelet (emptyDir, PVC data). Reads: clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelab.cluster.runtime.clock import strftime


@dataclass(slots=True)  # slots: a container holds dozens, a big cluster hundreds of thousands
class Node:
    kind: str  # "file" | "dir" | "link"
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: float = 0.0
    target: str = ""

    def copy(self) -> Node:
        """A plain, private Node with the same fields (a subclass's copy is plain too: see `private`)."""
        return Node(self.kind, self.data, self.mode, self.uid, self.gid, self.mtime, self.target)


class Deferred:
    """File content made at its first read: `make(*args)` returns the bytes. Every pod's token volume
    holds a JWT that is hashed and base64-encoded (~1/8 of a pause container's start, ~1.8 KB) and
    almost never read. Equal when made from equal arguments, as the contents then are."""

    __slots__ = ("make", "args")

    def __init__(self, make: Callable[..., bytes], args: tuple[Any, ...]) -> None:
        self.make, self.args = make, args

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Deferred) and self.make is other.make and self.args == other.args

    def __hash__(self) -> int:
        return hash(self.args)


_DATA = Node.__dict__["data"]  # the slot under DeferredNode's property


class DeferredNode(Node):
    """A file node whose `data` is made when first read (then kept, as any node's)."""

    __slots__ = ("deferred",)

    def __init__(self, deferred: Deferred | None, *args: Any) -> None:
        super().__init__(*args)
        self.deferred = deferred

    @property  # type: ignore[override]
    def data(self) -> bytes:
        deferred = self.deferred
        if deferred is not None:
            self.deferred = None
            _DATA.__set__(self, deferred.make(*deferred.args))
        value: bytes = _DATA.__get__(self, Node)
        return value

    @data.setter
    def data(self, value: bytes) -> None:
        self.deferred = None  # a write replaces what was never made
        _DATA.__set__(self, value)


class SharedNode(Node):
    """A node held by several containers' volumes outside any `base` (the kubelet's /etc/hosts,
    /etc/hostname and /etc/resolv.conf when equal at one instant): `Volume.private` copies it
    before any change, so a write in one container is never seen in another."""

    __slots__ = ()


@dataclass(frozen=True)
class Cred:
    """Who is asking: root bypasses permission bits, as in the kernel."""

    uid: int = 0
    gids: tuple[int, ...] = (0,)


ROOT = Cred()


class Volume:
    """A tree of nodes keyed by path relative to the volume root ("" is the root directory)."""

    __slots__ = ("nodes", "_generation", "base")  # one or more per container

    def __init__(self, mode: int = 0o777) -> None:
        self.nodes: dict[str, Node] = {"": Node("dir", mode=mode)}
        self._generation = 0
        # The image's nodes this volume started from, shared with every container of the image:
        # a node still identical (`is`) to its base entry must be copied before it is changed.
        self.base: dict[str, Node] | None = None

    @classmethod
    def layered(cls, base: dict[str, Node]) -> Volume:
        """A volume whose nodes start as `base`'s (shared, never changed in place: see `private`)."""
        volume = cls.__new__(cls)  # not __init__: its root node would be replaced by base's at once
        volume.nodes, volume._generation, volume.base = dict(base), 0, base
        return volume

    def private(self, rel: str) -> Node:
        """The node at `rel`, safe to change in place (copied first if still shared with the base)."""
        node = self.nodes[rel]
        if (self.base is not None and self.base.get(rel) is node) or type(node) is SharedNode:
            node = self.nodes[rel] = node.copy()
        return node

    def project(self, files: Mapping[str, str | bytes | Deferred], *, mode: int = 0o644, gid: int = 0,
                now: float = 0.0) -> None:
        """(Re)write projected files the kubelet's way: `..<timestamp>/key`, `..data` → it, `key` → `..data/key`."""
        self._generation += 1
        nodes = self.nodes
        if len(nodes) > 1:  # a re-projection (a new volume holds only its root): drop the last one's files
            for rel in [r for r in nodes if r and r.split("/")[0].startswith("..")]:
                del nodes[rel]
            for rel in [r for r in nodes if r and "/" not in r and nodes[r].kind == "link"]:
                del nodes[rel]
            _lay_out(nodes, files, mode, gid, now, self._generation)
            return
        # A new volume: every pod of a namespace projects the same kube-api-access files (but its token)
        # at the same instant, so the layout's nodes are made once and shared copy-on-write, as an
        # image's are (`base`, see `private`); only Deferred contents (the token) get their own node.
        key = (now, self._generation, mode, gid,
               tuple(sorted((k, None if isinstance(v, Deferred) else v) for k, v in files.items())))
        layout = _LAYOUTS.get(key)
        if layout is None:
            shared: dict[str, Node] = {}
            stamp = _lay_out(shared, {k: b"" if isinstance(v, Deferred) else v for k, v in files.items()},
                             mode, gid, now, self._generation)
            if len(_LAYOUTS) >= 64:  # one per (namespace's files, instant) in use: keep it bounded
                _LAYOUTS.clear()
            deferred_paths = [(f"{stamp}/{k}", k) for k, v in files.items() if isinstance(v, Deferred)]
            layout = _LAYOUTS[key] = (shared, deferred_paths)
        shared, deferred = layout
        nodes.update(shared)  # in _lay_out's order; a Deferred's placeholder is replaced in place below
        for rel, k in deferred:
            nodes[rel] = DeferredNode(files[k], "file", b"", mode, 0, gid, now)  # type: ignore[arg-type]
        self.base = shared


# Shared projected layouts by (now, generation, mode, gid, sorted files with Deferred contents as None).
_LAYOUTS: dict[tuple[Any, ...], tuple[dict[str, Node], list[tuple[str, str]]]] = {}


def _lay_out(nodes: dict[str, Node], files: Mapping[str, str | bytes | Deferred], mode: int, gid: int, now: float,
             generation: int) -> str:
    """Add the projected layout of `files` to `nodes`; returns its timestamped directory's name."""
    stamp = f"..{_stamp(now)}.{int((now % 1) * 1e9) + generation:09d}"
    # Nodes built positionally — (kind, data, mode, uid, gid, mtime, target) — since every pod's
    # token volume is projected here; keyword construction measured about twice as slow.
    nodes[stamp] = Node("dir", b"", 0o755, 0, gid, now)
    for key, value in sorted(files.items()):
        if "/" in key:
            parts = key.split("/")
            for i in range(1, len(parts)):
                nodes.setdefault(stamp + "/" + "/".join(parts[:i]), Node("dir", b"", 0o755, 0, gid, now))
            top = parts[0]
        else:
            top = key
        if isinstance(value, Deferred):
            nodes[f"{stamp}/{key}"] = DeferredNode(value, "file", b"", mode, 0, gid, now)
        else:
            data = value.encode() if isinstance(value, str) else value
            nodes[f"{stamp}/{key}"] = Node("file", data, mode, 0, gid, now)
        nodes[top] = Node("link", b"", 0o777, 0, 0, now, f"..data/{top}")
    nodes["..data"] = Node("link", b"", 0o777, 0, 0, now, stamp)
    return stamp


def _stamp(now: float) -> str:
    return strftime("%Y_%m_%d_%H_%M_%S", now)
