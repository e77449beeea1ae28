"""Image programs: the simulated main processes of catalog images, and the API they are written in.

A program is a generator function taking a `Proc` (its argv, env, I/O, filesystem, clock). It
logs what the real program logs, `listen`s on its ports once ready (probes and Services read
the pod's listening table), declares the signals it handles with `trap` (nginx shuts down
gracefully on SIGQUIT; a program that traps nothing ignores SIGTERM as PID 1), and returns its
exit code. `generic` runs images registered as plain data by lessons.

Read by: commands (`program:NAME` executables), images (`Image.http`). Reads: session, process;
programs_web, programs_apps, programs_sql and programs_db register themselves here.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from kubelab.cluster.runtime.clock import strftime
from kubelab.cluster.runtime.process import FOREVER, HttpHandler, Signal, Sleep
from kubelab.cluster.runtime.session import IO, Input, Session

if TYPE_CHECKING:
    from kubelab.cluster.runtime.images import Image
    from kubelab.cluster.runtime.shell import Shell

Run = Generator[Sleep, None, int]
IMPLS: dict[str, Callable[[Proc], Run]] = {}
SERVERS: dict[str, Callable[[Proc], dict[int, HttpHandler]]] = {}


def program(name: str, serves: Callable[[Proc], dict[int, HttpHandler]] | None = None) -> Callable:
    """Register a program implementation (and, for servers, how it answers HTTP per port)."""

    def register(fn: Callable[[Proc], Run]) -> Callable[[Proc], Run]:
        IMPLS[name] = fn
        if serves is not None:
            SERVERS[name] = serves
        return fn

    return register


class Proc:
    """What a program sees of the world.

    `sh` is the shell the program was started from. A container's main program gets none
    (`session` and `cwd` instead): its shell is made at first use with the state it would have had
    at the start (argv0, env, PID, working directory), since pause, nginx and most programs never
    use it and a shell was ~1/6 of a pause container's start.
    """

    def __init__(self, sh: Shell | None, argv: list[str], env: dict[str, str], io: IO, pid: int, *,
                 session: Session | None = None, cwd: str = "/") -> None:
        self._sh, self.argv, self.env, self.io, self.pid = sh, argv, env, io, pid
        self.session: Session = sh.session if sh is not None else session  # type: ignore[assignment]
        self._cwd = cwd  # for the shell made at first use
        self.ports: list[int] = []
        self.rows: list[int] = []

    @property
    def sh(self) -> Shell:
        sh = self._sh
        if sh is None:
            from kubelab.cluster.runtime.shell import Shell

            # Its inputs never change after the start: argv and env are not reassigned or edited by
            # programs, the session's user and /bin/sh dialect are fixed.
            sh = self._sh = Shell(self.session, argv0=self.argv[0], env=self.env, pid=self.pid, cwd=self._cwd)
        return sh

    @property
    def argv0(self) -> str:
        """The name a Runaway message gives the process (its shell's argv0)."""
        return self.argv[0]

    @property
    def image(self) -> Image:
        return self.session.image

    @property
    def options(self) -> dict[str, Any]:
        return self.session.image.options

    @property
    def version(self) -> str:
        return self.session.image.version

    @property
    def fs(self):  # noqa: ANN201
        return self.session.fs

    @property
    def hostname(self) -> str:
        return self.session.ctx.hostname

    def now(self) -> float:
        return self.session.now()

    def stamp(self, fmt: str) -> str:
        return strftime(fmt, self.now())

    def out(self, text: str) -> None:
        self.io.out(text)

    def err(self, text: str) -> None:
        self.io.err(text)

    def log(self, *lines: str, stderr: bool = False) -> None:
        (self.err if stderr else self.out)("".join(line + "\n" for line in lines))

    def listen(self, port: int, handler: HttpHandler) -> None:
        self.session.ctx.listening[port] = handler
        self.ports.append(port)

    def unlisten(self) -> None:
        for port in self.ports:
            self.session.ctx.listening.pop(port, None)
        self.ports = []

    def trap(self, *signums: int) -> None:
        handlers = self.session.procs.handlers.setdefault(self.pid, {})
        for s in signums:
            handlers[s] = "throw"

    def set_title(self, command: str) -> None:
        row = self.session.procs.rows.get(self.pid)
        if row is not None:
            row.command = command

    def set_memory(self, nbytes: int) -> None:
        row = self.session.procs.rows.get(self.pid)
        if row is not None:
            row.rss_kb = max(nbytes // 1024, 1)
            row.vsz_kb = max(row.vsz_kb, row.rss_kb * 2)

    def add_row(self, command: str, user: str = "root", rss_kb: int = 2000) -> int:
        row = self.session.procs.spawn(command, user=user, started=self.now())
        row.rss_kb, row.vsz_kb = rss_kb, rss_kb * 4
        self.rows.append(row.pid)
        return row.pid

    def exec(self, argv: list[str]) -> Run:
        """`exec "$@"` of an entrypoint script: run argv in this process's place."""
        from kubelab.cluster.runtime.commands import run_external

        return (yield from run_external(self.sh, argv, self.env, self.io, pid=self.pid))

    def cleanup(self) -> None:
        self.unlisten()
        for pid in self.rows:
            self.session.procs.exit(pid)
        self.rows = []


def run_program(name: str, sh: Shell, argv: list[str], env: dict[str, str], io: IO, pid: int) -> Run:
    return (yield from run_proc(name, Proc(sh, argv, env, io, pid)))


def run_proc(name: str, proc: Proc) -> Run:
    """Run the program `name` as `proc` (an unknown name fails as the shell reports it)."""
    fn = IMPLS.get(name)
    if fn is None:
        proc.sh.error(proc.io, f"{proc.argv[0]}: not found")
        return 127
    try:
        return (yield from fn(proc))
    except Signal as s:
        return 128 + s.signum
    finally:
        proc.cleanup()


def serve_forever(proc: Proc, on_signal: Callable[[Signal], Run] | None = None) -> Run:
    """Block until a trapped signal arrives; `on_signal` produces the shutdown (default: exit 0)."""
    try:
        yield FOREVER
    except Signal as s:
        proc.unlisten()
        if on_signal is None:
            return 0
        return (yield from on_signal(s))
    return 0


# ---- static answers for Image.http -------------------------------------------------------
_STATIC: dict[str, Proc] = {}


def static_http(
    image: Image, port: int, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes] | None:
    serves = SERVERS.get(image.program)
    if serves is None:
        return None
    key = f"{image.repository}:{image.tag}"
    proc = _STATIC.get(key)
    if proc is None:
        from kubelab.cluster.runtime.runner import make_shell

        sh = make_shell(image)
        proc = Proc(sh, image.entrypoint + image.cmd, dict(image.env), IO(lambda t: None, lambda t: None, Input()), 1)
        _STATIC[key] = proc
    handler = serves(proc).get(port)
    if handler is None:
        return None
    return handler(method, path, headers, "10.244.0.1")


# ---- small programs ----------------------------------------------------------------------
HELLO_WORLD = """
Hello from Docker!
This message shows that your installation appears to be working correctly.

To generate this message, Docker took the following steps:
 1. The Docker client contacted the Docker daemon.
 2. The Docker daemon pulled the "hello-world" image from the Docker Hub.
    (amd64)
 3. The Docker daemon created a new container from that image which runs the
    executable that produces the output you are currently reading.
 4. The Docker daemon streamed that output to the Docker client, which sent it
    to your terminal.

To try something more ambitious, you can run an Ubuntu container with:
 $ docker run -it ubuntu bash

Share images, automate workflows, and more with a free Docker ID:
 https://hub.docker.com/

For more examples and ideas, visit:
 https://docs.docker.com/get-started/

"""


@program("hello")
def hello(proc: Proc) -> Run:
    proc.out(HELLO_WORLD)
    return 0
    yield  # a generator, like every program


@program("pause")
def pause(proc: Proc) -> Run:
    proc.trap(2, 15)
    try:
        yield FOREVER
    except Signal as s:
        proc.err(f"Shutting down, got signal: {'Interrupt' if s.signum == 2 else 'Terminated'}\n")
    return 0


@program("generic")
def generic(proc: Proc) -> Run:
    """A lesson image described as data: logs, required env, served routes, exit code."""
    opts = proc.options
    for var, message in (opts.get("requires_env") or {}).items():
        if not proc.env.get(var):
            proc.err(message.rstrip("\n") + "\n")
            return int(opts.get("missing_env_exit_code", 1))
    for line in opts.get("logs", []):
        delay = 0.0
        if isinstance(line, (list, tuple)):
            delay, line = line
        if delay:
            yield Sleep(float(delay))
        proc.out(_template(proc, line) + "\n")
    for port, handler in generic_server(proc).items():
        proc.listen(port, handler)
    if "exit_code" in opts:
        yield Sleep(float(opts.get("run_seconds", 0)))
        return int(opts["exit_code"])
    proc.trap(15, 2)
    return (yield from serve_forever(proc))


def _template(proc: Proc, text: str) -> str:
    return (
        text.replace("{hostname}", proc.hostname)
        .replace("{version}", proc.version)
        .replace("{time}", proc.stamp("%Y-%m-%dT%H:%M:%SZ"))
    )


def generic_server(proc: Proc) -> dict[int, HttpHandler]:
    routes: dict[Any, Any] = proc.options.get("http") or {}
    handlers: dict[int, HttpHandler] = {}
    for port, table in routes.items():

        def handle(
            method: str, path: str, headers: dict[str, str], client: str, _table: dict[str, Any] = table
        ) -> tuple[int, dict[str, str], bytes]:
            answer = _table.get(path.split("?")[0], _table.get("*"))
            if answer is None:
                return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"404 page not found\n"
            status, body = answer if isinstance(answer, (list, tuple)) else (200, answer)
            text = _template(proc, body if isinstance(body, str) else body.decode())
            return int(status), {"Content-Type": "text/plain; charset=utf-8"}, text.encode()

        handlers[int(port)] = handle
    return handlers


SERVERS["generic"] = generic_server

from kubelab.cluster.runtime import programs_apps, programs_db, programs_sql, programs_web  # noqa: E402,F401
