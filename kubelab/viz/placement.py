"""The placement view: one box per Node with its pods as coloured tiles (kube-ops-view style).

Pods without `spec.nodeName` sit in a "Pending" box; pods bound to a node the snapshot does not
have get a box of their own saying so. Drawn by Graphviz `osage` (set in the DOT), which packs
clusters in milliseconds even at a thousand pods; past `collapse_over` pods the tiles lose their
names (the tooltip keeps them) so the picture stays readable.

Read by: viz.dot. Reads: viz.snapshot, viz.status, viz.dotlang.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelab.viz.dotlang import HIGHLIGHT, header, left_label, node_line, quote
from kubelab.viz.snapshot import Snapshot, ref
from kubelab.viz.status import Status, status_of

UNSCHEDULED = "cluster_unscheduled"


def placement_dot(snapshot: Snapshot, pods: Iterable[Mapping[str, Any]], *, highlight: Iterable[str] = frozenset(),
                  collapse_over: int = 300) -> str:
    pods = list(pods)
    marked = set(highlight)
    small = len(pods) > collapse_over
    on_node: dict[str, list[Mapping[str, Any]]] = {}
    for pod in pods:
        on_node.setdefault((pod.get("spec") or {}).get("nodeName") or "", []).append(pod)
    nodes = {(n.get("metadata") or {}).get("name", ""): n for n in snapshot.nodes}

    lines = header("placement", {"layout": "osage", "pack": 8, "packmode": "array_u", "sortv": 0})
    order = 1
    for name in sorted(set(nodes) | {n for n in on_node if n}):
        node = nodes.get(name)
        status = status_of(node) if node is not None else Status("error", "not found")
        tenants = on_node.get(name, [])
        roles = _roles(node) if node is not None else ""
        title = f"node {name}{roles}\n{status.reason}, {len(tenants)} pod{'s' if len(tenants) != 1 else ''}"
        highlighted = node is not None and (ref(node) in marked or _uid(node) in marked)
        lines += _box(f"cluster_node/{name}", title, status, order, highlighted)
        lines += _tiles(snapshot, tenants, marked, small)
        lines.append("  }")
        order += 1
    if on_node.get(""):
        tenants = on_node[""]
        title = f"Pending (not scheduled)\n{len(tenants)} pod{'s' if len(tenants) != 1 else ''}"
        lines += _box(UNSCHEDULED, title, Status("pending"), order, False)
        lines += _tiles(snapshot, tenants, marked, small)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _box(cluster_id: str, title: str, status: Status, order: int, highlighted: bool) -> list[str]:
    # The border carries the node's status; the inside stays light so the pod tiles stand out.
    style = "rounded,filled" + (",dashed" if status.dashed else "")
    return [
        f"  subgraph {quote(cluster_id)} {{",
        f"    graph [label={left_label(title)}, labeljust=l, style={quote(style)}, fillcolor=\"#f5f7f8\", "
        f"color={quote(HIGHLIGHT if highlighted else status.color)}, penwidth={3 if highlighted else 2}, "
        f"sortv={order}];",
    ]


def _tiles(snapshot: Snapshot, pods: list[Mapping[str, Any]], marked: set[str], small: bool) -> list[str]:
    lines = []
    for pod in sorted(pods, key=lambda p: ref(p)):
        key = ref(pod)
        meta = pod.get("metadata") or {}
        status = status_of(pod, snapshot)
        name = meta.get("name", "")
        namespace = meta.get("namespace") or ""
        extra: dict[str, str | float | int | None] = {"tooltip": f"{namespace}/{name}: {status}", "fontsize": 8}
        if small:
            extra.update({"width": 0.18, "height": 0.18, "fixedsize": "true"})
        label = name if status.reason in ("", "Running") else f"{name}\n{status.reason}"
        if small:
            label = ""
        lines.append(node_line(key, label, status, kind="Pod", highlighted=key in marked or _uid(pod) in marked,
                               indent="    ", extra=extra))
    return lines


def _roles(node: Mapping[str, Any]) -> str:
    labels = (node.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    return f" ({','.join(roles)})" if roles else ""


def _uid(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("uid") or ""
