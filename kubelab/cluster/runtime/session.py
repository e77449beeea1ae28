"""One process tree inside a container: its I/O plumbing, step budget and background jobs.

`start` and `exec_` each open a `Session`; the shell, its utilities and the image programs
all receive it. The `Budget` counts commands run while simulated time stands still, so a loop
without `sleep` ends with a clear message instead of hanging the notebook kernel.

Read by: shell, shell_builtins, the utilities, programs, runner. Reads: process, filesystem.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubelab.cluster.runtime.filesystem import Cred, FileSystem
from kubelab.cluster.runtime.process import ProcessContext, ProcessTable, Sleep

if TYPE_CHECKING:
    from kubelab.cluster.runtime.programs import Proc
    from kubelab.cluster.runtime.shell import Shell

STEP_BUDGET = 50_000
RUNAWAY_EXIT_CODE = 137
MAX_DEPTH = 40


class Runaway(Exception):
    """The process used its step budget (or nesting/memory limit) without simulated time passing."""


class ExitShell(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class BreakLoop(Exception):
    def __init__(self, levels: int, cont: bool = False) -> None:
        super().__init__(levels)
        self.levels, self.cont = levels, cont


class ReturnFunc(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class WaitFor(Sleep):
    """Yielded by `wait`: resume me when these background jobs (all, if empty) have finished."""

    pids: tuple[int, ...] = ()


@dataclass(frozen=True)
class WaitInput(Sleep):
    """Yielded by an interactive shell with no complete line to read: resume me when `stdin` has one."""

    stdin: Any = None


class Budget:
    __slots__ = ("now", "limit", "count", "at")

    def __init__(self, now: Callable[[], float], limit: int = STEP_BUDGET) -> None:
        self.now, self.limit, self.count = now, limit, 0
        self.at = now()

    def tick(self, n: int = 1) -> None:
        t = self.now()
        if t != self.at:
            self.at, self.count = t, 0
        self.count += n
        if self.count > self.limit:
            raise Runaway(
                f"kubelab stopped this process: it ran {self.limit} commands without letting simulated time "
                "pass (a loop with no sleep?)"
            )


class Input:
    """A readable stream (stdin of a command): consumed progressively by `read`, at once by `cat`."""

    def __init__(self, data: str = "") -> None:
        self.data, self.pos = data, 0

    def read(self) -> str:
        rest = self.data[self.pos :]
        self.pos = len(self.data)
        return rest

    def readline(self) -> str | None:
        if self.pos >= len(self.data):
            return None
        end = self.data.find("\n", self.pos)
        end = len(self.data) if end < 0 else end + 1
        line = self.data[self.pos : end]
        self.pos = end
        return line


class LiveInput(Input):
    """stdin that arrives while the program runs (`kubectl exec -i`): fed by the caller, read by line.

    `ready()` says whether a whole line (or the end) is there; `interrupt` is the terminal's ^C, set
    up by the interactive shell reading it (its pid and process table, where the signal is queued).
    """

    def __init__(self, tty: bool = False) -> None:
        super().__init__("")
        self.tty = tty
        self.closed = False
        self.interrupt: Callable[[], None] = lambda: None

    def feed(self, text: str) -> None:
        self.data, self.pos = self.data[self.pos :] + text, 0

    def close(self) -> None:
        self.closed = True

    def ready(self) -> bool:
        return self.closed or "\n" in self.data[self.pos :]


def discard(text: str) -> None:
    return None


# slots: an IO, a Task, a Session and a Budget live as long as each container's main process.
@dataclass(slots=True)
class IO:
    out: Callable[[str], None]
    err: Callable[[str], None]
    stdin: Input


@dataclass(slots=True)
class Task:
    gen: Generator[Sleep, None, int]
    pid: int
    shell: Shell | Proc | None = None  # a main image program's Proc stands for its shell (made on demand)
    wake: float = 0.0
    waiting: tuple[int, ...] | None = None
    status: int | None = None
    reading: LiveInput | None = None  # waiting for a line of interactive stdin


@dataclass(slots=True)
class Session:
    ctx: ProcessContext
    image: Any
    budget: Budget
    cred: Cred
    user_name: str
    flavor: str  # "busybox" | "gnu": which utilities' messages and formats
    dialect: str  # what /bin/sh is: "ash" | "dash" | "bash"
    jobs: dict[int, Task] = field(default_factory=dict)
    finished: dict[int, int] = field(default_factory=dict)
    deferred: dict[int, list[int]] = field(default_factory=dict)  # trapped signals awaiting a shell's next command
    depth: int = 0
    runner: Any = None  # the dispatcher used to exec argv (set by runner)

    @property
    def fs(self) -> FileSystem:
        return self.ctx.fs

    @property
    def procs(self) -> ProcessTable:
        return self.ctx.fs.procs

    def now(self) -> float:
        return self.ctx.now()

    def spawn_job(self, gen: Generator[Sleep, None, int], pid: int, shell: Shell | None = None) -> None:
        self.jobs[pid] = Task(gen, pid, shell, wake=self.now())


class Call:
    """One invocation of a builtin or utility: its argv, I/O and environment."""

    __slots__ = ("sh", "argv", "io", "_env")

    def __init__(self, sh: Shell, argv: list[str], io: IO, env: dict[str, str] | None = None) -> None:
        self.sh, self.argv, self.io, self._env = sh, argv, io, env

    @property
    def env(self) -> dict[str, str]:
        """The process environment (for builtins: the shell's exported variables, built on demand)."""
        if self._env is None:
            self._env = self.sh.environ()
        return self._env

    @property
    def name(self) -> str:
        return posixpath.basename(self.argv[0])

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    @property
    def fs(self) -> FileSystem:
        return self.sh.session.fs

    @property
    def session(self) -> Session:
        return self.sh.session

    @property
    def busybox(self) -> bool:
        return self.sh.session.flavor == "busybox"

    def out(self, text: str) -> None:
        self.io.out(text)

    def err(self, text: str) -> None:
        self.io.err(text)

    def fail(self, message: str, code: int = 1) -> int:
        self.io.err(f"{self.name}: {message}\n")
        return code

    def path(self, p: str) -> str:
        return self.sh.path(p)

    def read_input(self, files: list[str]) -> tuple[str, int]:
        """Concatenate files ('-' or none = stdin), printing each tool's error for missing ones."""
        if not files:
            return self.io.stdin.read(), 0
        chunks, status = [], 0
        for f in files:
            if f == "-":
                chunks.append(self.io.stdin.read())
                continue
            try:
                chunks.append(self.fs.read_text(self.path(f), self.session.cred))
            except OSError as e:
                status = 1
                if self.name == "cat" and self.busybox:
                    self.fail(f"can't open '{f}': {e.strerror}")
                else:
                    self.fail(f"{f}: {e.strerror}")
        return "".join(chunks), status
