"""`LiveGraph`: the cluster drawn as a graph that follows the cluster as it changes.

Each refresh reads a snapshot from the source, compares each object's version with the last
drawn one, and — only when something changed — draws `viz.to_dot` with the changed objects
highlighted, then `viz.to_svg` (skipped again when the DOT text is the same). A Node's version
moves with every kubelet heartbeat, so Nodes are compared on what the picture shows instead.

Read by: kubelab.widgets (public), magics.graphs. Reads: widgets.live, viz.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import traitlets

from kubelab.viz.dot import VIEWS, to_dot
from kubelab.viz.render import to_svg
from kubelab.viz.snapshot import KINDS, Snapshot
from kubelab.widgets.live import LiveView

ALWAYS = ("Namespace", "Node")  # the boxes objects are drawn in, whatever `kinds` says


class LiveGraph(LiveView):
    """A live ownership or placement graph of a cluster.

    `source`: a `kubelab.Cluster`, a kubeconfig context name, or None for `%kube`'s current target.
    `kinds` (e.g. `["deploy", "pods"]`) limits what is drawn; `selector` (`app=web`) keeps matching
    objects with their owners. Read `.dot`, `.svg`, `.changed`, `.renders`, `.skipped`.
    """

    dot = traitlets.Unicode("", help="the DOT text of the current picture")
    changed = traitlets.Any(frozenset(), help="uids highlighted as just changed in the current picture")

    def __init__(
        self,
        source: Any = None,
        view: str = "ownership",
        namespace: str | None = None,
        kinds: Iterable[str] | None = None,
        selector: str | None = None,
        *,
        live: bool = True,
        **kwargs: Any,
    ) -> None:
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}: choose one of {', '.join(VIEWS)}")
        self.view = view
        self.namespace = namespace
        self.kinds = kind_names(kinds) if kinds else None
        self.selector = selector
        self._versions: dict[str, str] | None = None
        self._objects = 0
        super().__init__(source, live=live, **kwargs)

    def _watched(self) -> list[str]:
        return [k for k in KINDS if self.kinds is None or k in self.kinds or k in ALWAYS]

    def _namespace(self) -> str | None:
        return self.namespace

    def _draw(self) -> tuple[str, str] | None:
        snapshot = self.source.snapshot(self.namespace)
        if self.kinds is not None:
            snapshot = Snapshot({k: v for k, v in snapshot.by_kind.items() if k in self.kinds or k in ALWAYS},
                                snapshot.unreadable)
        versions = _versions(snapshot)
        if versions == self._versions:
            return None
        previous, self._versions = self._versions, versions
        changed = frozenset() if previous is None else frozenset(
            uid for uid, version in versions.items() if previous.get(uid) != version)
        dot = to_dot(snapshot, self.view, self.namespace, self.selector, highlight=changed)
        if dot == self.dot:
            return None
        svg = to_svg(dot)
        self._objects = len(snapshot)
        with self.hold_trait_notifications():
            self.dot = dot
            self.changed = changed
        return svg, self._caption_for(snapshot, changed)

    def _caption_for(self, snapshot: Snapshot, changed: frozenset[str]) -> str:
        parts = [f"{self.view} · {self.source.name}" + (f" · namespace {self.namespace}" if self.namespace else "")]
        if changed:
            parts.append(f"{len(changed)} changed (blue outline)")
        if snapshot.unreadable:
            parts.append("could not read " + "; ".join(snapshot.unreadable))
        return '<span style="color:#607d8b;font-size:90%">' + " · ".join(_escape(p) for p in parts) + "</span>"

    def _summary(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"<LiveGraph {self.view}: {self._objects} objects{where}, {self.source.name}>"


def kind_names(names: Iterable[str]) -> frozenset[str]:
    """`["deploy", "pods", "Service"]` → `{"Deployment", "Pod", "Service"}` (kubectl's names all work)."""
    from kubelab.api import kinds

    out = set()
    for name in names:
        kind = name if name in KINDS else kinds.resolve(name).kind
        if kind not in KINDS:
            raise ValueError(f"LiveGraph does not draw {name!r}: choose from {', '.join(KINDS)}")
        out.add(kind)
    return frozenset(out)


def _versions(snapshot: Snapshot) -> dict[str, str]:
    """uid → what counts as a change of that object in the picture."""
    out = {}
    for kind, items in snapshot.by_kind.items():
        for obj in items:
            meta = obj.get("metadata") or {}
            key = meta.get("uid") or f"{kind}/{meta.get('namespace', '')}/{meta.get('name')}"
            out[key] = _node_face(obj) if kind == "Node" else str(meta.get("resourceVersion", ""))
    return out


def _node_face(node: Mapping[str, Any]) -> str:
    """A Node as drawn: labels, spec (taints, unschedulable) and condition statuses, not heartbeats."""
    conditions = sorted((c.get("type", ""), c.get("status", ""))
                        for c in (node.get("status") or {}).get("conditions") or ())
    face = [(node.get("metadata") or {}).get("labels"), node.get("spec"), conditions]
    return json.dumps(face, sort_keys=True, default=str)


def _escape(text: str) -> str:
    from html import escape

    return escape(text)
