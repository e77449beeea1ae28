"""Run a command-line tool from an argv list — never through a shell — into the cell.

`run(argv, env=..., input=..., out=..., err=..., timeout=...)` starts the tool, feeds `input`
to its stdin, and reads stdout and stderr as they come: each chunk is written to `out`/`err`
when given (streaming into the cell) and kept for the returned `Completed`. Reading happens in
two small threads, writing in the caller's thread, so output lands in the cell that ran the
command. `timeout` (kubelab's `--for SECONDS`) ends the tool after that many seconds as a
normal stop; KeyboardInterrupt (the kernel's interrupt) terminates the tool before it returns.

Read by: tools.session, magics. Reads: nothing.
"""

from __future__ import annotations

import codecs
import os
import queue
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TextIO

CHUNK = 65536
TERMINATE_GRACE = 2.0  # seconds a tool gets to exit after SIGTERM before it is killed


@dataclass
class Completed:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    stopped: bool = False  # ended by `timeout` or an interrupt, not by itself
    interrupted: bool = False


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, input: str | None = None,
        out: TextIO | None = None, err: TextIO | None = None, timeout: float | None = None,
        cwd: str | None = None) -> Completed:
    """Run `argv`; stream to `out`/`err` if given; stop it after `timeout` seconds (then `stopped`)."""
    args = [str(a) for a in argv]
    proc = subprocess.Popen(
        args, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env) if env is not None else None, cwd=cwd,
    )
    chunks: queue.Queue[tuple[int, bytes]] = queue.Queue()
    readers = [threading.Thread(target=_pump, args=(i, pipe, chunks), daemon=True)
               for i, pipe in enumerate((proc.stdout, proc.stderr))]
    for reader in readers:
        reader.start()
    if input is not None:
        threading.Thread(target=_feed, args=(proc.stdin, input.encode()), daemon=True).start()
    decoders = [codecs.getincrementaldecoder("utf-8")("replace") for _ in range(2)]
    kept: list[list[str]] = [[], []]
    sinks = (out, err)
    deadline = None if timeout is None else time.monotonic() + timeout
    open_pipes, stopped, interrupted = 2, False, False

    def take(index: int, data: bytes) -> None:
        text = decoders[index].decode(data, final=not data)
        if text:
            kept[index].append(text)
            sink = sinks[index]
            if sink is not None:
                sink.write(text)
                sink.flush()

    try:
        while open_pipes:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                index, data = chunks.get(timeout=0.25 if wait is None else min(wait, 0.25))
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline and not stopped:
                    stopped = True
                    _terminate(proc)
                continue
            take(index, data)
            if not data:
                open_pipes -= 1
    except KeyboardInterrupt:
        stopped = interrupted = True
        _terminate(proc)
        _drain(chunks, readers, take)
    returncode = proc.wait()
    for reader in readers:
        reader.join(timeout=1)
    result = Completed(args, returncode, "".join(kept[0]), "".join(kept[1]), stopped, interrupted)
    if interrupted and out is None:
        raise KeyboardInterrupt  # a captured command that was interrupted has no result to show
    return result


def _pump(index: int, pipe: IO[bytes] | None, chunks: queue.Queue[tuple[int, bytes]]) -> None:
    assert pipe is not None
    with pipe:
        while True:
            data = os.read(pipe.fileno(), CHUNK)
            chunks.put((index, data))
            if not data:
                return


def _feed(stdin: IO[bytes] | None, data: bytes) -> None:
    assert stdin is not None
    try:
        with stdin:
            stdin.write(data)
    except (BrokenPipeError, OSError):  # the tool exited without reading all of it
        pass


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=TERMINATE_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()


def _drain(chunks: queue.Queue[tuple[int, bytes]], readers: list[threading.Thread], take: object) -> None:
    """After terminating: show what the tool printed on the way out."""
    for reader in readers:
        reader.join(timeout=1)
    while True:
        try:
            index, data = chunks.get_nowait()
        except queue.Empty:
            return
        take(index, data)  # type: ignore[operator]
