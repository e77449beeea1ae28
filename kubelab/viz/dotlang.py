"""Writing DOT text: quoting, one line per node or edge, attributes in a fixed order.

Both views build their graphs from these helpers so the output is byte-stable (the golden
tests and nbval compare it) and safe for any object name.

Read by: viz.ownership, viz.placement. Reads: viz.status (palette).
"""

from __future__ import annotations

from collections.abc import Mapping

from kubelab.viz.status import ERROR, OK, Status

FONT = "Helvetica"
HIGHLIGHT = "#1e88e5"  # "just changed": blue border, thick (k9s colours additions/changes apart from status)
EDGE = "#607d8b"

# Short kind words, kubectl's own short names where it has them.
ABBREVIATIONS = {
    "Deployment": "deploy", "ReplicaSet": "rs", "Pod": "pod", "Service": "svc", "Endpoints": "ep",
    "DaemonSet": "ds", "StatefulSet": "sts", "Job": "job", "CronJob": "cj", "Ingress": "ing", "Node": "node",
}
SHAPES = {"Service": "ellipse", "Endpoints": "note", "Ingress": "cds"}


def quote(text: str) -> str:
    """A DOT double-quoted string; newlines become centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def left_label(text: str) -> str:
    """A quoted label whose lines are left-aligned (DOT's `\\l` ends a line flush left)."""
    return quote(text)[:-1].replace("\\n", "\\l") + '\\l"'


def attrs(values: Mapping[str, str | float | int | None]) -> str:
    """`[a="x", b=2]` in the given order, skipping None values."""
    parts = [f"{k}={v if isinstance(v, (int, float)) else quote(str(v))}" for k, v in values.items() if v is not None]
    return f" [{', '.join(parts)}]" if parts else ""


def header(name: str, graph: Mapping[str, str | float | int | None]) -> list[str]:
    return [
        f"digraph {quote(name)} {{",
        f"  graph{attrs({'fontname': FONT, 'fontsize': 10, **graph})};",
        f"  node{attrs({'shape': 'box', 'style': 'rounded,filled', 'fontname': FONT, 'fontsize': 9})};",
        f"  edge{attrs({'color': EDGE, 'arrowsize': 0.6, 'fontname': FONT, 'fontsize': 8})};",
    ]


def node_line(node_id: str, label: str, status: Status, *, kind: str = "", highlighted: bool = False,
              indent: str = "  ", extra: Mapping[str, str | float | int | None] | None = None) -> str:
    """One object as a filled box in its status colour; grey buckets dashed, changed ones outlined blue."""
    style = "rounded,filled" + (",dashed" if status.dashed else "")
    if kind in SHAPES:
        style = "filled" + (",dashed" if status.dashed else "")
    light_text = status.bucket in (OK, ERROR)
    values: dict[str, str | float | int | None] = {
        "label": label,
        "shape": SHAPES.get(kind),
        "style": style,
        "fillcolor": status.color,
        "fontcolor": "#ffffff" if light_text else "#212121",
        "color": HIGHLIGHT if highlighted else "#37474f",
        "penwidth": 3 if highlighted else None,
        "tooltip": f"{kind} {node_id.split('/', 1)[-1].lstrip('/')}: {status}" if kind else None,
    }
    values.update(extra or {})
    return f"{indent}{quote(node_id)}{attrs(values)};"


def edge_line(source: str, target: str, values: Mapping[str, str | float | int | None] | None = None,
              indent: str = "  ") -> str:
    return f"{indent}{quote(source)} -> {quote(target)}{attrs(values or {})};"


def label_for(kind: str, name: str, status: Status) -> str:
    """`rs go-demo-2` over `2/2 ready`: kind word, name, and the status reason when there is one."""
    first = f"{ABBREVIATIONS.get(kind, kind.lower())} {name}"
    return f"{first}\n{status.reason}" if status.reason else first
