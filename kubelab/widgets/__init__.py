"""Live cluster pictures for notebooks: `LiveGraph`, `EventsTimeline`, `SequenceTrace` (ipywidgets 8).

Each takes a `source` — a `kubelab.Cluster`, a kubeconfig context name, or None for the `%kube`
magics' current target — follows it through watches, and carries a static fallback (SVG or
HTML) in its output so a saved notebook shows the last picture without a kernel.

Read by: magics.graphs, lessons. Reads: viz (drawing), server.printers_core (event rows).
"""

from __future__ import annotations

from kubelab.widgets.graph import LiveGraph
from kubelab.widgets.timeline import EventsTimeline
from kubelab.widgets.trace import SequenceTrace

__all__ = ["EventsTimeline", "LiveGraph", "SequenceTrace"]
