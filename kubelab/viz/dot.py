"""`to_dot(snapshot, view)`: a cluster snapshot as Graphviz DOT text, the same text every time.

Two views (DESIGN decision 10): "ownership" (namespaces, controllers, pods, Services) and
"placement" (pods inside node boxes). Everything is sorted, so one snapshot always gives one
string: golden tests compare it, widgets skip a render when it has not changed.

Read by: widgets, magics, tests. Reads: viz.ownership, viz.placement, viz.snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubelab.viz.ownership import ownership_dot
from kubelab.viz.placement import placement_dot
from kubelab.viz.snapshot import Snapshot

VIEWS = ("ownership", "placement")
COLLAPSE_OVER = 300  # objects; beyond this `dot` takes most of a second (see reference/visualization.md §3)


def to_dot(
    snapshot: Snapshot,
    view: str = "ownership",
    namespace: str | None = None,
    selector: str | None = None,
    highlight: Iterable[str] = frozenset(),
    *,
    endpoints: bool = False,
    collapse_over: int = COLLAPSE_OVER,
) -> str:
    """DOT text for one view of the snapshot.

    `namespace` keeps one namespace (None: all); `selector` (`app=web,tier!=db`) keeps matching
    objects with their owners and the Services reaching them; `highlight` outlines objects by
    uid or `Kind/ns/name` (what just changed); `endpoints` draws Service → Endpoints → Pod
    in the ownership view instead of the direct selector edges.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}: choose one of {', '.join(VIEWS)}")
    snap = snapshot.restricted(namespace)
    if view == "placement":
        pods = snap.pods
        if selector:
            from kubelab.api.selectors import LabelSelector

            wanted = LabelSelector.parse(selector)
            pods = tuple(p for p in pods if wanted.matches((p.get("metadata") or {}).get("labels") or {}))
        return placement_dot(snap, pods, highlight=highlight, collapse_over=collapse_over)
    return ownership_dot(snap, selector=selector, highlight=highlight, endpoints=endpoints,
                         collapse_over=collapse_over)
