"""The picture of last resort: a DOT graph as an indented text outline in SVG, with no Graphviz.

When no renderer works, `outline_svg(dot, problems, hint)` still shows the learner the cluster:
each box (namespace or node) as a heading, its objects as coloured chips in an owner tree
(k9s xray style), the other links listed under it; above them what was tried and how to
install Graphviz. It reads the DOT that viz.dot writes (one statement a line); any other DOT
gets the message alone.

Read by: viz.render. Reads: nothing.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

_STRING = r'"((?:[^"\\]|\\.)*)"'
_NODE = re.compile(rf"^\s*{_STRING}\s*\[(.*)\];$")
_EDGE = re.compile(rf"^\s*{_STRING}\s*->\s*{_STRING}\s*(?:\[(.*)\])?;$")
_CLUSTER = re.compile(rf"^\s*subgraph\s+{_STRING}\s*\{{$")
_ATTR = re.compile(rf'(\w+)=(?:{_STRING}|([^,\]\s]+))')

LINE, CHAR, MARGIN = 17, 7.3, 12


def outline_svg(dot: str, problems: list[str], hint: str) -> str:
    lines: list[tuple[int, str | None, bool, str, bool]] = [  # indent, chip colour, dashed, text, bold
        (0, None, False, "Graphviz could not draw this graph; here is its outline.", True)]
    lines += [(1, None, False, p, False) for p in problems]
    lines += [(1, None, False, hint, False), (0, None, False, "", False)]
    lines += _outline(dot)
    width = int(max(MARGIN * 2 + (indent * 2 + 3) * CHAR + len(text) * CHAR for indent, _, _, text, _ in lines))
    height = MARGIN * 2 + LINE * len(lines)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#ce3933"/>']
    for i, (indent, colour, dashed, text, bold) in enumerate(lines):
        y = MARGIN + LINE * (i + 1) - 4
        x = MARGIN + indent * 2 * CHAR
        if colour:
            dash = ' stroke-dasharray="2,2"' if dashed else ""
            out.append(f'<rect x="{x:.0f}" y="{y - 10}" width="11" height="11" rx="2" fill="{escape(colour)}" '
                       f'stroke="#37474f"{dash}/>')
            x += 2 * CHAR
        weight = ' font-weight="bold"' if bold else ""
        out.append(f'<text x="{x:.0f}" y="{y}"{weight} xml:space="preserve">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _outline(dot: str) -> list[tuple[int, str | None, bool, str, bool]]:
    nodes: dict[str, dict[str, str]] = {}
    box_of: dict[str, str] = {}
    boxes: list[tuple[str, str]] = [("", "")]  # (cluster id, title); "" holds nodes outside any box
    edges: list[tuple[str, str, dict[str, str]]] = []
    box = ""
    for line in dot.splitlines():
        if m := _CLUSTER.match(line):
            box = m.group(1)
            boxes.append((box, box))
        elif line.strip() == "}":
            box = ""
        elif line.strip().startswith("graph [") and box:
            boxes[-1] = (box, _attrs(line).get("label", box))
        elif m := _EDGE.match(line):
            edges.append((_unescape(m.group(1)), _unescape(m.group(2)), _attrs(m.group(3) or "")))
        elif (m := _NODE.match(line)) and not line.strip().startswith(("graph", "node", "edge")):
            key = _unescape(m.group(1))
            nodes[key] = _attrs(m.group(2))
            box_of[key] = box
    children: dict[str, list[str]] = {}
    has_parent = set()
    for source, target, values in edges:
        if not values and source in nodes and target in nodes:  # bare edges are owner edges
            children.setdefault(source, []).append(target)
            has_parent.add(target)
    out: list[tuple[int, str | None, bool, str, bool]] = []

    def walk(key: str, depth: int) -> None:
        values = nodes[key]
        text = " - ".join(t for t in values.get("label", key).splitlines() if t) or key
        out.append((depth, values.get("fillcolor", "#ffffff"), "dashed" in values.get("style", ""), text, False))
        for child in children.get(key, []):
            walk(child, depth + 1)

    for box_id, title in boxes:
        members = [k for k in nodes if box_of[k] == box_id]
        if not members:
            continue
        if box_id:
            out.append((0, None, False, " - ".join(t for t in title.splitlines() if t), True))
        for key in members:
            if key not in has_parent:
                walk(key, 1)
        for source, target, values in edges:
            if values and box_of.get(source) == box_id and source in nodes and target in nodes:
                note = f" ({values['label']})" if values.get("label") else ""
                out.append((1, None, False, f"{_first(nodes[source], source)} -> {_first(nodes[target], target)}{note}",
                            False))
    return out


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1): _unescape(m.group(2)) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(text)}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nlr" else m.group(1), text)


def _first(values: dict[str, str], key: str) -> str:
    return (values.get("label") or key).splitlines()[0] if (values.get("label") or key) else key
