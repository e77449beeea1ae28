"""Draw numbered steps as an SVG sequence diagram, without Graphviz: the same steps give the same bytes.

Lifelines are columns in `sequence.LIFELINES` order (only those the steps use, kubectl and the
API server always); each step is one row — an arrow with its number in a circle and its text
above, or a loop on one lifeline for a component's own action. Text is escaped; widths come
from a fixed per-character estimate so the output never depends on installed fonts.

Read by: widgets.trace (SequenceTrace). Reads: widgets.sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from kubelab.widgets.sequence import API, KUBECTL, LIFELINES, Step

COLUMN = 170  # px between lifelines
MARGIN = 20
HEAD = 46  # lifeline header box height + gap
ROW = 34
CHAR = 6.6  # average width of one 12px sans-serif character
FONT = "font-family=\"Helvetica,Arial,sans-serif\""
ARROW_COLOUR = {"watch": "#607d8b"}  # watch notifications drawn lighter than requests


def lifelines_for(steps: Sequence[Step]) -> list[str]:
    used = {KUBECTL, API} | {s.source for s in steps} | {s.target for s in steps}
    return [name for name in LIFELINES if name in used]


def sequence_svg(steps: Sequence[Step], title: str = "", note: str = "") -> str:
    """The diagram as a standalone SVG document (deterministic text)."""
    lines = lifelines_for(steps)
    x = {name: MARGIN + COLUMN // 2 + i * COLUMN for i, name in enumerate(lines)}
    top = MARGIN + (22 if title else 0)
    body_top = top + HEAD
    rows = []
    widest = MARGIN + len(lines) * COLUMN
    for i, step in enumerate(steps):
        y = body_top + 18 + i * ROW
        label = f"{step.text}"
        x1, x2 = x[step.source], x[step.target]
        colour = ARROW_COLOUR["watch"] if step.text.startswith("watch:") else "#263238"
        dash = ' stroke-dasharray="5,3"' if step.text.startswith("watch:") else ""
        if x1 == x2:  # a component's own action: a small loop on its lifeline
            path = f"M{x1},{y - 6} h28 v12 h-24"
            rows.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.3"{dash} '
                        f'marker-end="url(#head)"/>')
            text_x = x1 + 34
            rows.append(_text(text_x, y + 4, label, "start"))
            widest = max(widest, int(text_x + len(label) * CHAR + MARGIN))
        else:
            rows.append(f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}" stroke-width="1.3"{dash} '
                        f'marker-end="url(#head)"/>')
            text_x = min(x1, x2) + 14
            rows.append(_text(text_x, y - 5, label, "start"))
            widest = max(widest, int(text_x + len(label) * CHAR + MARGIN))
        rows.append(f'<circle cx="{x1}" cy="{y}" r="8" fill="#326ce5"/>')
        rows.append(f'<text x="{x1}" y="{y + 4}" text-anchor="middle" font-size="10" fill="#ffffff" '
                    f'{FONT}>{step.number}</text>')
    bottom = body_top + 18 + len(steps) * ROW + (18 if note else 0)
    height = bottom + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{widest}" height="{height}" '
        f'viewBox="0 0 {widest} {height}">',
        '<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#263238"/></marker></defs>',
        f'<rect x="0" y="0" width="{widest}" height="{height}" fill="#ffffff"/>',
    ]
    if title:
        parts.append(_text(MARGIN, MARGIN + 8, title, "start", size=14, weight="bold"))
    for name in lines:
        cx = x[name]
        parts.append(f'<line x1="{cx}" y1="{top + 28}" x2="{cx}" y2="{bottom - 4}" stroke="#b0bec5" '
                     f'stroke-dasharray="4,4"/>')
        parts.append(f'<rect x="{cx - 72}" y="{top}" width="144" height="28" rx="4" fill="#e3f2fd" '
                     f'stroke="#326ce5"/>')
        parts.append(_text(cx, top + 18, name, "middle", weight="bold"))
    parts.extend(rows)
    if note:
        parts.append(_text(MARGIN, bottom - 2, note, "start", size=11, colour="#607d8b"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _text(x: float, y: float, text: str, anchor: str, *, size: int = 12, weight: str = "normal",
          colour: str = "#263238") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" font-size="{size}"{bold} fill="{colour}" '
            f'{FONT}>{escape(text)}</text>')
