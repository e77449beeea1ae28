"""`SequenceTrace`: what the components did, drawn as the course's numbered sequence diagrams.

On the local cluster it reads `cluster.trace(since)` and turns the records into steps
(`widgets.sequence.steps`), drawn by `sequence_svg` — deterministic SVG, no Graphviz. A real
cluster keeps no component trace, so there the steps are inferred from its Events, and the
diagram says so; with `since="now"` only Events created or repeated after the widget was made
count (`sources.events_after`, by identity rather than by the cluster's timestamps). `.steps`
holds the steps as text ("1. kubectl → API server: create Pod default/db") for tests and lessons.

Read by: kubelab.widgets (public), magics.graphs. Reads: widgets.live, widgets.sequence(_svg), viz.snapshot.
"""

from __future__ import annotations

from typing import Any

import traitlets

from kubelab.viz.snapshot import KINDS
from kubelab.widgets.live import LiveView
from kubelab.widgets.sequence import renumbered, steps_from_events
from kubelab.widgets.sequence import steps as trace_steps
from kubelab.widgets.sequence_svg import sequence_svg
from kubelab.widgets.sources import event_mark, events_after

MAX_STEPS = 60  # beyond this a diagram stops being readable: show the newest ones
NO_TRACE = "Inferred from Events: the component trace (every arrow) needs the local cluster."


class SequenceTrace(LiveView):
    """The component trace as a numbered sequence diagram.

    `since`: a trace sequence number (`cluster.trace()[-1].seq`), or `"now"` for what happens after
    the widget is made; None: from the start. `last`: only the last N steps (numbered 1..N).
    """

    steps: traitlets.List[str] = traitlets.List(help="the drawn steps as text, numbered as in the picture")

    def __init__(self, source: Any = None, since: int | str | None = None, last: int | None = None, *,
                 title: str = "", live: bool = True, **kwargs: Any) -> None:
        self._since_arg = since
        self.last = last
        self.title = title
        self._seen: Any = None
        self._events_mark: frozenset[tuple[str, str]] | None = None  # since="now" on a cluster without a trace
        self._mark_events = False  # since="now": the next Events read are the ones from before
        super().__init__(source, live=live, **kwargs)

    @property
    def since(self) -> int | None:
        if self._since_arg == "now":  # fixed at the first look, so later draws keep the same start
            self._since_arg = self.source.trace_mark()
            self._mark_events = True
        return self._since_arg  # type: ignore[return-value]

    def _watched(self) -> list[str]:
        return [*KINDS, "Event"]

    def _draw(self) -> tuple[str, str] | None:
        since = self.since
        records = self.source.trace(since)
        note = ""
        if records is None:
            events = self.source.events()
            if self._mark_events:  # the first look: every Event here came before the widget
                self._events_mark, self._mark_events = event_mark(events), False
            if self._events_mark is not None:
                events = events_after(events, self._events_mark)
            key: Any = tuple((e["metadata"]["name"], e.get("count")) for e in events)
            drawn = steps_from_events(events)
            note = NO_TRACE
        else:
            key = records[-1].seq if records else since
            drawn = trace_steps(records)
        if key == self._seen and self.renders:
            return None
        self._seen = key
        total = len(drawn)
        window = min(self.last or MAX_STEPS, MAX_STEPS)
        if total > window:
            drawn = renumbered(drawn[-window:])
            if not self.last or self.last > MAX_STEPS:
                note = (note + " " if note else "") + f"Showing the last {window} of {total} steps."
        self.steps = [str(s) for s in drawn]
        caption = f'<span style="color:#607d8b;font-size:90%">{len(drawn)} steps · {self.source.name}</span>'
        return sequence_svg(drawn, self.title, note), caption

    def _summary(self) -> str:
        return f"<SequenceTrace: {len(self.steps)} steps, {self.source.name}>"
