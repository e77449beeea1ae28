"""`EventsTimeline`: the cluster's core/v1 Events as they come, as `kubectl get events` lists them.

Rows are LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (NAMESPACE first across all namespaces),
computed by the same row printer the local API server uses for kubectl's Table, so the widget
and kubectl agree cell for cell. The picture is an HTML table (its fallback is `text/html`);
Warning rows are tinted. `.rows` holds the cells as tuples for tests and graders.

Read by: kubelab.widgets (public), magics.graphs. Reads: widgets.live, server.printers_core.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import traitlets

from kubelab.server.printers_core import event_row
from kubelab.widgets.live import LiveView

COLUMNS = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
MAX_ROWS = 200  # the newest ones: a long lesson makes thousands, and every row is in the fallback


class EventsTimeline(LiveView):
    """Events of a cluster (all namespaces, or one), oldest first, updating as new ones arrive."""

    rows: traitlets.List[tuple[str, ...]] = traitlets.List(
        help="(LAST SEEN, TYPE, REASON, OBJECT, MESSAGE) per event, oldest first")
    mimetype = "text/html"

    def __init__(self, source: Any = None, namespace: str | None = None, *, max_rows: int = MAX_ROWS,
                 live: bool = True, **kwargs: Any) -> None:
        self.namespace = namespace
        self.max_rows = max_rows
        super().__init__(source, live=live, **kwargs)

    def _watched(self) -> list[str]:
        return ["Event"]

    def _namespace(self) -> str | None:
        return self.namespace

    def _draw(self) -> tuple[str, str] | None:
        events = self.source.events(self.namespace)[-self.max_rows:]
        now = self.source.now()
        rows = []
        for event in events:
            cells = event_row(event, now)
            row: tuple[str, ...] = (cells[0], cells[1], cells[2], cells[3], cells[6])
            if self.namespace is None:
                row = ((event.get("metadata") or {}).get("namespace") or "", *row)
            rows.append(row)
        if rows == self.rows:
            return None
        self.rows = rows
        columns = COLUMNS if self.namespace is not None else ("NAMESPACE", *COLUMNS)
        caption = f'<span style="color:#607d8b;font-size:90%">{len(rows)} events · {escape(self.source.name)}</span>'
        return events_table(columns, rows), caption

    def _summary(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"<EventsTimeline: {len(self.rows)} events{where}, {self.source.name}>"


def events_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table in kubectl's column order; Warning rows tinted."""
    type_at = columns.index("TYPE")
    head = "".join(f'<th style="text-align:left;padding:2px 8px">{escape(c)}</th>' for c in columns)
    body = []
    for row in rows:
        tint = ' style="background:#fdecea"' if row[type_at] == "Warning" else ""
        cells = "".join(f'<td style="text-align:left;padding:2px 8px;vertical-align:top">{escape(str(c))}</td>'
                        for c in row)
        body.append(f"<tr{tint}>{cells}</tr>")
    if not rows:
        body.append(f'<tr><td colspan="{len(columns)}" style="padding:2px 8px">No events.</td></tr>')
    return ('<table style="border-collapse:collapse;font-family:monospace;font-size:12px">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>\n")
