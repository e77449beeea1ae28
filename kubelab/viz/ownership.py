"""The ownership view: a namespace box holding Deployment → ReplicaSet → Pods, Services beside them.

Owner edges are solid; a Service's selector edges are dashed, green to a pod its Endpoints list
as ready and dotted orange ("not ready") to a selected pod that gets no traffic. With
`endpoints=True` the Endpoints object is drawn between them, the way the endpoints controller
sees it. Past `collapse_over` objects, pods fold into one counted node per owner (Octant does the
same), because `dot` takes seconds beyond a thousand nodes.

Read by: viz.dot. Reads: viz.snapshot, viz.status, viz.relations, viz.dotlang, api.selectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelab.viz import relations
from kubelab.viz.dotlang import EDGE, HIGHLIGHT, edge_line, header, label_for, node_line, quote
from kubelab.viz.snapshot import Snapshot, ref
from kubelab.viz.status import BUCKETS, ERROR, OK, PALETTE, PENDING, Status, status_of

# Drawn kinds, in the order they are listed inside a namespace box (tools read top-down like this).
ORDER = ("Ingress", "Service", "Endpoints", "CronJob", "Deployment", "DaemonSet", "StatefulSet", "Job",
         "ReplicaSet", "Pod", "PodGroup")
GROUP = "PodGroup"


def ownership_dot(snapshot: Snapshot, *, selector: str | None = None, highlight: Iterable[str] = frozenset(),
                  endpoints: bool = False, collapse_over: int = 300) -> str:
    kinds = [k for k in ORDER if k not in (GROUP,) and (endpoints or k != "Endpoints")]
    drawn: dict[str, Mapping[str, Any]] = {ref(o): o for k in kinds for o in snapshot.of(k)}
    edges = _edges(snapshot, endpoints)
    if selector:
        drawn = _select(snapshot, drawn, edges, selector)
    edges = [e for e in edges if e.source in drawn and e.target in drawn]
    statuses = {key: status_of(obj, snapshot) for key, obj in drawn.items()}
    marked = _highlighted(snapshot, highlight)
    groups: dict[str, list[str]] = {}
    if len(drawn) > collapse_over:
        groups, edges = _collapse(drawn, edges)

    lines = header("ownership", {"rankdir": "TB", "nodesep": 0.25, "ranksep": 0.45, "newrank": "true"})
    by_ns: dict[str, list[tuple[int, str, str]]] = {}
    grouped = {p for members in groups.values() for p in members}
    for key, obj in drawn.items():
        if key not in grouped:
            by_ns.setdefault(_namespace(key), []).append((ORDER.index(obj["kind"]), key, obj["kind"]))
    for group in groups:
        by_ns.setdefault(_namespace(group), []).append((ORDER.index(GROUP), group, GROUP))
    for namespace in sorted(by_ns):
        lines.append(f"  subgraph {quote('cluster_ns/' + namespace)} {{")
        lines.append(f"    graph [label={quote('namespace ' + namespace)}, labeljust=l, style=rounded, "
                     f'color="#90a4ae", fontcolor="#455a64"];')
        for _, key, kind in sorted(by_ns[namespace]):
            if kind == GROUP:
                lines.append(_group_line(key, groups[key], statuses, marked))
                continue
            status = statuses[key]
            lines.append(node_line(key, label_for(kind, key.split("/", 2)[2], status), status, kind=kind,
                                   highlighted=key in marked or _uid(drawn[key]) in marked, indent="    "))
        lines.append("  }")
    for edge in sorted(edges):
        lines.append(edge_line(edge.source, edge.target, _edge_style(edge)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edges(snapshot: Snapshot, endpoints: bool) -> list[relations.Edge]:
    """Owner, Service-selects-Pod (readiness as the Endpoints say) and, if asked, Endpoints edges."""
    edges = relations.owner_edges(snapshot)
    listed = relations.endpoint_readiness(snapshot)
    addressed: set[tuple[str, str]] = set()
    if endpoints:
        edges.extend(relations.endpoint_edges(snapshot))
        addressed = set(listed)
    for edge in relations.selector_edges(snapshot):
        key = (edge.source, edge.target)
        if key in addressed:  # the Endpoints path already draws this pod
            continue
        # The endpoints controller's verdict wins over the pod's own condition when both are there.
        ready = listed.get(key, edge.ready)
        edges.append(relations.Edge(edge.kind, edge.source, edge.target, ready))
    edges.extend(_ingress_edges(snapshot))
    return edges


def _ingress_edges(snapshot: Snapshot) -> list[relations.Edge]:
    edges = set()
    for ing in snapshot.ingresses:
        spec, namespace = ing.get("spec") or {}, (ing.get("metadata") or {}).get("namespace") or ""
        backends = [spec.get("defaultBackend") or {}]
        for rule in spec.get("rules") or []:
            backends += [p.get("backend") or {} for p in ((rule.get("http") or {}).get("paths") or [])]
        for backend in backends:
            name = (backend.get("service") or {}).get("name")
            if name:
                edges.add(relations.Edge("ingress", ref(ing), f"Service/{namespace}/{name}"))
    return sorted(edges)


def _select(snapshot: Snapshot, drawn: dict[str, Mapping[str, Any]], edges: list[relations.Edge],
            selector: str) -> dict[str, Mapping[str, Any]]:
    """Objects whose labels match, their owners up the chain, and the Services/Endpoints that reach them."""
    from kubelab.api.selectors import LabelSelector  # a bad selector raises the apiserver's BadRequest

    wanted = LabelSelector.parse(selector)
    keep = {k for k, o in drawn.items() if wanted.matches((o.get("metadata") or {}).get("labels") or {})}
    parents = {e.target: e.source for e in edges if e.kind == relations.OWNER}
    for key in list(keep):
        while key in parents and parents[key] not in keep:
            key = parents[key]
            keep.add(key)
    for edge in sorted(edges, key=lambda e: e.kind != relations.ADDRESS):  # endpoints before their services
        if edge.kind in (relations.SELECTOR, relations.ADDRESS) and edge.target in keep:
            keep.add(edge.source)
    for edge in edges:
        if edge.kind in (relations.ENDPOINTS, "ingress") and (edge.target in keep):
            keep.add(edge.source)
    return {k: o for k, o in drawn.items() if k in keep}


def _collapse(drawn: Mapping[str, Mapping[str, Any]], edges: list[relations.Edge]
              ) -> tuple[dict[str, list[str]], list[relations.Edge]]:
    """Fold pods into one node per owner (or per namespace for bare pods); re-aim edges at the groups."""
    parent = {e.target: e.source for e in edges if e.kind == relations.OWNER}
    group_of: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for key, obj in drawn.items():
        if obj["kind"] == "Pod":
            group = f"{GROUP}/{_namespace(key)}/{parent.get(key, '')}"
            group_of[key] = group
            groups.setdefault(group, []).append(key)
    merged: dict[tuple[str, str, str], bool | None] = {}
    for edge in edges:
        target = group_of.get(edge.target, edge.target)
        k = (edge.kind, edge.source, target)
        if edge.ready is None:
            merged.setdefault(k, None)
        else:  # a group is reached "ready" when any of its pods is
            merged[k] = bool(merged.get(k)) or edge.ready
    return groups, [relations.Edge(kind, s, t, r) for (kind, s, t), r in merged.items()]


def _group_line(group: str, members: list[str], statuses: Mapping[str, Status], marked: set[str]) -> str:
    counts = {b: 0 for b in BUCKETS}
    for member in members:
        counts[statuses[member].bucket] += 1
    worst = next((b for b in (ERROR, PENDING, OK) if counts[b]), None) or max(counts, key=lambda b: counts[b])
    parts = ", ".join(f"{n} {b}" for b, n in counts.items() if n)
    label = f"{len(members)} pod{'s' if len(members) != 1 else ''}: {parts}"
    return node_line(group, label, Status(worst, parts), kind="", indent="    ",
                     highlighted=any(m in marked for m in members),
                     extra={"shape": "box3d", "tooltip": label})


def _edge_style(edge: relations.Edge) -> dict[str, str | float | int | None]:
    if edge.kind == relations.OWNER:
        return {}
    if edge.kind in (relations.SELECTOR, relations.ADDRESS):
        if edge.ready:
            return {"style": "dashed" if edge.kind == relations.SELECTOR else "solid", "color": PALETTE[OK]}
        # Selected but getting no traffic: its own colour, dotted, an open head and a word on it.
        return {"style": "dotted", "color": PALETTE[PENDING], "arrowhead": "odot", "penwidth": 1.5,
                "label": "not ready"}
    if edge.kind == relations.ENDPOINTS:
        return {"color": HIGHLIGHT, "arrowhead": "none"}
    return {"color": EDGE, "style": "bold"}  # ingress → service


def _highlighted(snapshot: Snapshot, highlight: Iterable[str]) -> set[str]:
    """Refs and uids to outline: widgets pass uids of changed objects, tests may pass refs."""
    marked = set(highlight)
    for uid in list(marked):
        obj = snapshot.by_uid(uid)
        if obj is not None:
            marked.add(ref(obj))
    return marked


def _namespace(key: str) -> str:
    return key.split("/", 2)[1]


def _uid(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("uid") or ""
