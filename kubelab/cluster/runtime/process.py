"""The execution model shared by everything that runs inside a simulated container.

A running program is a generator: it yields `Sleep(seconds)` whenever simulated time must pass
and returns its exit code. The caller (kubelet, Compose engine) owns the clock and resumes the
generator once the time has passed; output goes out through the `ProcessContext` callbacks. To
stop a container the caller throws `Signal(n)` into the generator (the program may shut down
gracefully, keep going, or ignore it as PID 1 shells do) and `close()`s it to SIGKILL.

Read by: every module of `cluster.runtime`, and the kubelet. Reads: `filesystem` (type only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kubelab.cluster.runtime.filesystem import FileSystem


@dataclass(frozen=True)
class Sleep:
    """Ask the caller to resume the program after `seconds` of simulated time (may be math.inf)."""

    seconds: float


# The endless sleep (a server or pause waiting for a signal): one object, as a frozen Sleep never
# changes and building one runs the frozen dataclass's slow __init__ (each container start yields two).
FOREVER = Sleep(math.inf)

Program = Generator[Sleep, None, int]
# A listening socket's answer: (method, path, headers, client_ip) -> (status, headers, body).
HttpHandler = Callable[[str, str, "dict[str, str]", str], "tuple[int, dict[str, str], bytes]"]

SIGNALS = {
    1: "SIGHUP",
    2: "SIGINT",
    3: "SIGQUIT",
    9: "SIGKILL",
    10: "SIGUSR1",
    12: "SIGUSR2",
    15: "SIGTERM",
    17: "SIGCHLD",
}
SIGNAL_NUMBERS = {name: num for num, name in SIGNALS.items()} | {name[3:]: num for num, name in SIGNALS.items()}


class Signal(Exception):
    """A signal delivered to a process: the caller does `gen.throw(Signal(15))`.

    A program that handles it keeps yielding (shutting down) or returns; one that does not is
    terminated with exit code 128 + signum by the runtime.
    """

    def __init__(self, signum: int = 15) -> None:
        super().__init__(SIGNALS.get(signum, f"signal {signum}"))
        self.signum = signum

    @property
    def name(self) -> str:
        return SIGNALS.get(self.signum, f"SIG{self.signum}")


class StartError(Exception):
    """The container's process could not be started (containerd's message; exit code 128).

    The kubelet reports it as `Terminated` with reason `StartError` and this message, and the
    waiting reason `RunContainerError` while it backs off.
    """

    exit_code = 128


class ExecError(Exception):
    """`kubectl exec` could not start the command; the message is containerd's exec failure text."""

    exit_code = 126


@dataclass(slots=True)  # slots: a container's main process keeps one as long as it runs
class ProcessInfo:
    """One row of the container's process table (what `ps` and /proc show)."""

    pid: int
    command: str
    user: str = "root"
    started: float = 0.0
    vsz_kb: int = 1600
    rss_kb: int = 900
    stat: str = "S"
    tty: str = "?"
    cpu_seconds: float = 0.0


class ProcessTable:
    """A container's processes (PID 1 = main). Lives on its FileSystem, where /proc shows it."""

    __slots__ = ("rows", "pending", "handlers", "_next")  # one per container

    def __init__(self) -> None:
        self.rows: dict[int, ProcessInfo] = {}
        self.pending: dict[int, list[int]] = {}  # signals sent with `kill`, picked up by the runner
        # Installed handlers: "throw" = the program catches Signal at its yield (nginx, redis…);
        # "defer" = a shell trap, run between commands.
        self.handlers: dict[int, dict[int, str]] = {}
        self._next = 1

    def spawn(self, command: str, *, user: str = "root", started: float = 0.0, pid: int | None = None) -> ProcessInfo:
        if pid is None:
            pid = self._next
        # Real PIDs keep climbing; leave gaps like the forks a shell does.
        self._next = max(self._next, pid) + 1
        row = ProcessInfo(pid, command, user, started)  # positional: one per container start and exec
        self.rows[pid] = row
        return row

    def skip(self, n: int) -> None:
        """Consume PIDs, as the short-lived processes of an entrypoint script would."""
        self._next += n

    def exit(self, pid: int) -> None:
        self.rows.pop(pid, None)
        self.pending.pop(pid, None)
        self.handlers.pop(pid, None)

    def memory_bytes(self) -> int:
        """The container's working set: what the kubelet compares with the memory limit."""
        return sum(row.rss_kb for row in self.rows.values()) * 1024

    def kill(self, pid: int, signum: int) -> bool:
        if pid not in self.rows:
            return False
        self.pending.setdefault(pid, []).append(signum)
        return True

    def take_signals(self, pid: int) -> list[int]:
        return self.pending.pop(pid, [])

    def list(self) -> list[ProcessInfo]:
        return [self.rows[pid] for pid in sorted(self.rows)]


class Network(Protocol):
    """The cluster network as seen from inside a pod (answered by the networking layer)."""

    def resolve(self, name: str) -> list[str]:
        """IP addresses of a fully qualified name; raise LookupError when it does not exist."""
        ...

    def http(self, method: str, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Send a request to `http://IP:PORT/path`; raise ConnectionRefusedError or TimeoutError.

        Status 0 means "connected, but the port does not speak HTTP" (a database). An optional
        `reverse(ip) -> str | None` method lets old busybox nslookup print the server's name.
        """
        ...


NO_NETWORK_HINT = "kubelab: the cluster network is not connected to this container yet"


class NoNetwork:
    """The default network: every lookup and connection fails, saying why."""

    def resolve(self, name: str) -> list[str]:
        raise LookupError(NO_NETWORK_HINT)

    def http(self, method: str, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        raise ConnectionRefusedError(NO_NETWORK_HINT)


@dataclass(slots=True)  # slots: one per container run and per exec, kept as long as the container
class ProcessContext:
    """Everything a process may touch. Nothing here reaches the host.

    `fs` is the container's filesystem and also holds its process table, so the kubelet passes
    the same FileSystem to `start` and to every `exec_` of that container. `listening` is shared
    by all containers of a pod (one network namespace): programs add their port when they are
    ready to accept connections and remove it when they exit; probes and Services read it.
    """

    env: dict[str, str]
    fs: FileSystem
    hostname: str
    now: Callable[[], float]
    stdout: Callable[[str], None]
    stderr: Callable[[str], None]
    processes: Callable[[], list[ProcessInfo]] | None = None
    network: Network = field(default_factory=NoNetwork)
    stdin: str | Any = None  # the whole input, or a session.LiveInput fed while the process runs
    workdir: str = ""  # the container's workingDir; "" = the image's WORKDIR
    listening: dict[int, HttpHandler] = field(default_factory=dict)
    user: str | None = None  # securityContext runAsUser[:runAsGroup]; None = the image's USER
    groups: tuple[int, ...] = ()  # supplementalGroups / fsGroup, shown by `id`
    pod_ip: str = ""
