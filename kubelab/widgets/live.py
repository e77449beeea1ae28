"""What the three widgets share: a picture that follows a watch, coalesced, with a static fallback.

`LiveView` is an ipywidgets VBox (the picture as an `HTML` widget, a one-line caption) whose
`refresh()` redraws from its source. A background thread polls the source's watch streams and
calls `refresh()`; bursts coalesce three ways (visualization.md §2.1): everything that arrived
during one poll is one refresh, a refresh that finds a render busy is dropped (the busy one goes
round again), and a subclass's `_draw` returns None when nothing it draws changed (`skipped`).
Its display carries `image/svg+xml` (or `text/html`) next to the widget view, refreshed once
per executed cell through a display handle, so a saved notebook shows the last picture without
a kernel (visualization.md §2.4). Counters (`renders`, `skipped`, `dropped`) are traits tests read.

Read by: widgets.graph, widgets.timeline, widgets.trace. Reads: widgets.sources, ipywidgets.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets
import traitlets

from kubelab.widgets.sources import resolve

WAIT = 0.25  # seconds a poll waits for a change before checking the stop flag again


class LiveView(ipywidgets.VBox):
    """Base of LiveGraph, EventsTimeline and SequenceTrace (subclasses implement `_draw`)."""

    svg = traitlets.Unicode("", help="the current picture (SVG, or HTML for a table)")
    renders = traitlets.Int(0, help="pictures drawn")
    skipped = traitlets.Int(0, help="refreshes that found nothing new to draw")
    dropped = traitlets.Int(0, help="refreshes dropped because a render was busy")
    mimetype = "image/svg+xml"  # of the static fallback

    def __init__(self, source: Any = None, *, live: bool = True, **kwargs: Any) -> None:
        self._picture = ipywidgets.HTML()
        self._caption = ipywidgets.HTML()
        super().__init__(children=[self._picture, self._caption], **kwargs)
        self.source = resolve(source)
        self._busy = threading.Lock()
        self._again = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._changes: Any = None
        self._display_id: Any = None
        self._pushed = ""
        self._shell: Any = None
        self.refresh()
        if live:
            self.start()

    # ------------------------------------------------------------ subclass hooks
    def _draw(self) -> tuple[str, str] | None:
        """(picture, caption) when something changed since the last draw; None to skip."""
        raise NotImplementedError

    def _watched(self) -> list[str]:
        """Kinds (snapshot.KINDS keys, or "Event") whose changes call for a refresh."""
        raise NotImplementedError

    def _namespace(self) -> str | None:
        return None

    def _summary(self) -> str:
        return type(self).__name__

    # ------------------------------------------------------------ drawing
    def refresh(self) -> bool:
        """Redraw now if something changed (True when a new picture was drawn). Safe from any thread."""
        if not self._busy.acquire(blocking=False):
            self._again.set()
            self.dropped += 1
            return False
        drew = False
        try:
            while True:
                self._again.clear()
                drawn = self._draw()
                if drawn is None:
                    self.skipped += 1
                else:
                    picture, caption = drawn
                    with self.hold_trait_notifications():
                        self.svg = picture
                        self._picture.value = _embeddable(picture)
                        self._caption.value = caption
                        self.renders += 1
                    drew = True
                if not self._again.is_set():  # a change that came while drawing: go round once more
                    return drew
        finally:
            self._busy.release()

    # ------------------------------------------------------------ following changes
    def start(self) -> None:
        """Follow the source's watch on a background thread (the constructor does this unless live=False)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._changes = self.source.changes(self._watched(), self._namespace())
        self._thread = threading.Thread(target=self._follow, name=f"kubelab-{type(self).__name__}", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        while not self._stop.is_set():
            if self._changes.poll(WAIT, self._stop) and not self._stop.is_set():
                try:
                    self.refresh()
                except Exception as err:  # noqa: BLE001 — a drawing bug must not kill the follower
                    self._caption.value = f"<i>not updated: {type(err).__name__}: {err}</i>"

    def stop(self) -> None:
        """Stop following changes (the picture stays)."""
        self._stop.set()
        if self._changes is not None:
            self._changes.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
        self._changes = None

    def close(self) -> None:
        if not hasattr(self, "_stop"):  # __init__ failed early (ipywidgets closes in __del__)
            return super().close()
        self.stop()
        self._push_display()
        if self._shell is not None:
            try:
                self._shell.events.unregister("post_run_cell", self._after_cell)
            except ValueError:
                pass
            self._shell = None
        super().close()

    # ------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data[self.mimetype] = self.svg
        data["text/plain"] = self._summary()
        return data

    def _ipython_display_(self) -> None:
        """Display with a handle, so the fallback can be brought up to date after each cell."""
        from IPython import get_ipython
        from IPython.display import display

        if self._display_id is None:
            self._display_id = f"kubelab-{self.model_id}"
        display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)
        self._pushed = self.svg
        shell = get_ipython()
        if shell is not None and self._shell is None:
            self._shell = shell
            shell.events.register("post_run_cell", self._after_cell)

    def _after_cell(self, *args: Any) -> None:
        self._push_display()

    def _push_display(self) -> None:
        """Refresh the displayed fallback to the current picture (nbclient keeps the last one)."""
        if self._display_id is None or self.svg == self._pushed:
            return
        from IPython.display import update_display

        update_display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)
        self._pushed = self.svg


def _embeddable(picture: str) -> str:
    """An SVG document as HTML content: without its XML prolog, scrolling when wider than the cell."""
    start = picture.find("<svg")
    body = picture[start:] if start > 0 else picture
    return f'<div style="overflow:auto;max-width:100%">{body}</div>'
