"""Container logs: what a container instance wrote, line by line, stamped with the simulated clock.

A `LogBuffer` belongs to one container instance (the kubelet keeps the current one and the last
terminated one, which is `kubectl logs --previous`). The runtime hands it text chunks on stdout
and stderr; it keeps whole lines, as the CRI log format does, and a last line without a newline
is kept as a partial line. `select` applies `sinceSeconds`/`sinceTime`, `tailLines` and
`limitBytes` the way the kubelet's log reader does; `render` prints lines, with `timestamps` in
RFC3339Nano with nine digits as kubelet writes them. `LogStream` is `kubectl logs -f`: it yields
lines as they are written until the instance ends.

Read by: kubelet.containers (writes), cluster.podops (reads, follows), server. Reads: nothing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import NamedTuple

MAX_LINES = 20_000  # what one instance keeps (the kubelet rotates container logs at 10 MiB)


class LogLine(NamedTuple):
    """One line of a container's log (immutable). A NamedTuple, made ~5× faster than a frozen
    dataclass: a web server writes a dozen lines as it starts."""

    time: float
    stream: str  # "stdout" | "stderr"
    text: str  # without its newline
    partial: bool = False  # the last line of an instance that ended without a newline


def rfc3339_nano(t: float) -> str:
    """`2026-01-01T00:00:05.120000000Z` (Go's RFC3339NanoFixed, which the kubelet uses for --timestamps)."""
    micros = round(t * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:06d}000Z"


class LogBuffer:
    def __init__(self) -> None:
        self.lines: deque[LogLine] = deque(maxlen=MAX_LINES)
        self._pending: dict[str, tuple[float, str]] = {}
        self.closed = False
        self.listeners: list[Callable[[LogLine | None], None]] = []

    def write(self, stream: str, text: str, now: float) -> None:
        if self.closed or not text:
            return
        start, head = self._pending.pop(stream, (now, ""))
        parts = (head + text).split("\n")
        for part in parts[:-1]:
            self._add(LogLine(start, stream, part))
            start = now
        if parts[-1]:
            self._pending[stream] = (start, parts[-1])

    def close(self) -> None:
        """The instance ended: a last partial line becomes visible; followers are told."""
        if self.closed:
            return
        for stream, (start, text) in sorted(self._pending.items(), key=lambda item: item[1][0]):
            self._add(LogLine(start, stream, text, partial=True))
        self._pending.clear()
        self.closed = True
        for listener in list(self.listeners):
            listener(None)

    def _add(self, line: LogLine) -> None:
        self.lines.append(line)
        if self.listeners:  # mostly nobody follows: no copy of an empty list per line
            for listener in list(self.listeners):
                listener(line)

    def select(
        self,
        now: float,
        *,
        tail_lines: int | None = None,
        since_seconds: float | None = None,
        since_time: float | None = None,
    ) -> list[LogLine]:
        lines = list(self.lines)
        since = since_time
        if since_seconds is not None:
            since = now - since_seconds
        if since is not None:
            lines = [line for line in lines if line.time >= since]
        if tail_lines is not None:
            lines = lines[len(lines) - tail_lines:] if tail_lines > 0 else []
        return lines


def render(lines: list[LogLine], timestamps: bool = False, limit_bytes: int | None = None) -> str:
    text = "".join(render_line(line, timestamps) for line in lines)
    if limit_bytes is not None:
        text = text.encode()[:limit_bytes].decode(errors="ignore")
    return text


def render_line(line: LogLine, timestamps: bool = False) -> str:
    body = line.text if line.partial else line.text + "\n"
    return f"{rfc3339_nano(line.time)} {body}" if timestamps else body


class LogStream:
    """Lines of one container instance as they come (`kubectl logs -f`).

    `next(timeout)` returns the next rendered line, or None when none came in time; `done` tells a
    finished instance from a quiet one. In stepped mode a waiting reader moves the clock to the next
    timer (`advance`, the cluster's step), as a waiting watch does.
    """

    def __init__(self, buffer: LogBuffer, backlog: list[LogLine], *, timestamps: bool = False,
                 advance: Callable[[], bool] | None = None) -> None:
        self._buffer = buffer
        self._timestamps = timestamps
        self._advance = advance
        self._queue: deque[LogLine] = deque(backlog)
        self._cond = threading.Condition()
        self._ended = buffer.closed
        self.stopped = False
        if not buffer.closed:
            buffer.listeners.append(self._offer)

    def _offer(self, line: LogLine | None) -> None:
        with self._cond:
            if line is None:
                self._ended = True
            else:
                self._queue.append(line)
            self._cond.notify_all()

    @property
    def done(self) -> bool:
        return self.stopped or (self._ended and not self._queue)

    def next(self, timeout: float | None = None) -> str | None:
        while True:
            with self._cond:
                if self._queue:
                    return render_line(self._queue.popleft(), self._timestamps)
                if self._ended or self.stopped:
                    return None
            if self._advance is not None:
                if self._advance():
                    continue
                return None  # stepped and nothing pending: nothing more will ever come
            with self._cond:
                if not self._queue and not self._ended and not self.stopped:
                    self._cond.wait(timeout)
                if not self._queue:
                    return None

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self.next(timeout=None)
            if line is None:
                return
            yield line

    def stop(self) -> None:
        self.stopped = True
        if self._offer in self._buffer.listeners:
            self._buffer.listeners.remove(self._offer)
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
