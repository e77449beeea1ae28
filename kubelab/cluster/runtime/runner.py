"""Starting processes in a container — `start` (its main process) and `exec_` (`kubectl exec`) —
and driving them on the caller's simulated clock.

The returned generator schedules the process tree: the main process plus background jobs
(`cmd &`), waking each when its sleep is over and yielding the earliest wake-up to the caller.
Signals thrown in by the caller go where a kernel would send them: to a program that handles
them, to a shell's trap (run after the current command), or nowhere, for a PID 1 without a
handler — which is why `sh -c 'sleep 3600'` takes the whole grace period to stop.

Read by: the kubelet, Compose. Reads: shell, commands, session, images, families, rootfs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Generator

from kubelab.cluster.runtime.commands import DEFAULT_PATH, ELF_MARK, PROGRAM, NotRunnable, locate, run_file
from kubelab.cluster.runtime.families import family
from kubelab.cluster.runtime.filesystem import Cred, FileSystem, Node, unset_clock
from kubelab.cluster.runtime.images import Image
from kubelab.cluster.runtime.process import FOREVER, ExecError, ProcessContext, Signal, Sleep, StartError
from kubelab.cluster.runtime.programs import Proc, run_proc
from kubelab.cluster.runtime.session import (
    IO,
    RUNAWAY_EXIT_CODE,
    STEP_BUDGET,
    Budget,
    Input,
    Runaway,
    Session,
    Task,
    WaitFor,
    WaitInput,
)
from kubelab.cluster.runtime.shell import Shell

Program = Generator[Sleep, None, int]
START_ERROR_PREFIX = (
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: error during container init: "
)
EPSILON = 1e-9
_PROGRAM_MARK = ELF_MARK + PROGRAM.encode()  # an image program's executable (commands.run_file)
# The stdin of every process started without input (each container's main process): an empty Input
# never changes (read and readline leave it as it is), so all share one.
_NO_INPUT = Input("")


def expand_k8s_vars(text: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion for command, args and env values.

    `$(VAR)` becomes VAR's value when VAR is defined, and stays literally otherwise; `$$` is an
    escaped `$` (so `$$(VAR)` yields `$(VAR)`); any other `$` is kept as is.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end < 0:
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : end]
            out.append(env[name] if name in env else f"$({name})")
            i = end + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


_PASSWD_ROWS: dict[bytes, list[list[str]]] = {}  # by file content: in practice one entry per image
_NO_ROWS: list[list[str]] = []  # an image without /etc/passwd (scratch): one shared, never-changed list


def passwd_rows(fs: FileSystem) -> list[list[str]]:
    """The container's /etc/passwd split into fields (shared lists: read, never change them); each
    distinct content is parsed once, since every container of an image starts with the same file."""
    try:
        data = fs.read_if_exists("/etc/passwd")
    except OSError:
        return _NO_ROWS
    if data is None:
        return _NO_ROWS
    rows = _PASSWD_ROWS.get(data)
    if rows is None:
        if len(_PASSWD_ROWS) >= 256:  # contents edited inside containers: keep the cache bounded
            _PASSWD_ROWS.clear()
        rows = _PASSWD_ROWS[data] = [line.split(":") for line in data.decode("utf-8", errors="replace").splitlines()]
    return rows


# credentials' answers by (id(rows), user spec, groups). Each value keeps its `rows` list, so that id
# cannot be reused by another list while the entry exists; the answer is immutable (a frozen Cred
# and a str). Every container of an image asks the same question: the memo saves the passwd scan
# and the frozen dataclass's slow __init__ (measured ~2 µs of a ~60 µs pause-container start).
_CREDENTIALS: dict[tuple[int, str, tuple[int, ...]], tuple[list[list[str]], Cred, str]] = {}


def credentials(image: Image, ctx: ProcessContext, rows: list[list[str]] | None = None) -> tuple[Cred, str]:
    """The process's uid/gids and user name from securityContext (ctx.user) or the image's USER
    (`rows`: the container's passwd_rows, when the caller has just read them)."""
    spec = ctx.user or image.user or "0"
    if rows is None:
        rows = passwd_rows(ctx.fs)
    key = (id(rows), spec, ctx.groups)
    found = _CREDENTIALS.get(key)
    if found is not None and found[0] is rows:
        return found[1], found[2]
    user, _, group = spec.partition(":")
    uid, gid, name = 0, 0, None
    for fields in rows:
        if len(fields) < 7:
            continue
        if fields[0] == user or (user.isdigit() and fields[2] == user):
            name, uid, gid = fields[0], int(fields[2]), int(fields[3])
            break
    else:
        uid = int(user) if user.isdigit() else 0
    if group.isdigit():
        gid = int(group)
    gids = tuple(dict.fromkeys((gid, *ctx.groups)))
    cred, user_name = Cred(uid, gids), name or str(uid)
    if len(_CREDENTIALS) >= 1024:  # many passwd contents or securityContexts: keep it bounded
        _CREDENTIALS.clear()
    _CREDENTIALS[key] = (rows, cred, user_name)
    return cred, user_name


def make_session(image: Image, ctx: ProcessContext, *, budget: int = STEP_BUDGET,
                 rows: list[list[str]] | None = None) -> Session:
    fam = family(image.family)
    cred, user_name = credentials(image, ctx, rows)
    return Session(ctx, image, Budget(ctx.now, budget), cred, user_name, fam.flavor, fam.dialect or "ash")


def container_env(image: Image, ctx: ProcessContext, cred: Cred,
                  rows: list[list[str]] | None = None) -> dict[str, str]:
    """The image's ENV under the container's env, plus what runc adds (HOSTNAME, HOME, PATH)."""
    env = {"PATH": DEFAULT_PATH, **image.env, "HOSTNAME": ctx.hostname, **ctx.env}
    if "HOME" not in env:
        home = "/root" if cred.uid == 0 else "/"
        uid = str(cred.uid)
        for f in passwd_rows(ctx.fs) if rows is None else rows:
            if len(f) > 5 and f[2] == uid:
                home = f[5]
        env["HOME"] = home
    return env


def make_shell(image: Image, ctx: ProcessContext | None = None) -> Shell:
    """A shell attached to a fresh container of `image` (for tests and static answers)."""
    if ctx is None:
        from kubelab.cluster.runtime.rootfs import container_fs

        ctx = ProcessContext(
            env={},
            fs=container_fs(image),
            hostname="localhost",
            now=lambda: 0.0,
            stdout=lambda t: None,
            stderr=lambda t: None,
        )
    session = make_session(image, ctx)
    return Shell(session, env=container_env(image, ctx, session.cred), cwd=ctx.workdir or image.workdir or "/")


def _check_executable(argv: list[str], image: Image, session: Session, env: dict[str, str],
                      cwd: str) -> tuple[str, Node]:
    """What runc checks before the process exists: the executable's (path, node), found once and run
    by `_drive` as execve runs what it found; raises NotRunnable-like messages as ValueError."""
    if not argv or not argv[0]:
        raise ValueError('exec: "": executable file not found in $PATH')
    fs = session.fs
    try:
        path, node = locate(fs, argv[0], env, cwd)
    except NotRunnable as e:
        if e.reason == "not found":
            if "/" in argv[0]:
                raise ValueError(f'exec: "{argv[0]}": stat {argv[0]}: no such file or directory')
            raise ValueError(f'exec: "{argv[0]}": executable file not found in $PATH')
        raise ValueError(f'exec: "{argv[0]}": permission denied')
    if node.data.startswith(ELF_MARK):
        return path, node
    if not node.data.startswith(b"#!"):
        raise ValueError(f"exec {path}: exec format error")
    interp = node.data[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if interp and not fs.isfile(interp[0]):
        raise ValueError(f"exec {path}: no such file or directory")
    return path, node


def start(argv: list[str], image: Image, ctx: ProcessContext, *, budget: int = STEP_BUDGET) -> Program:
    """Start a container's main process (PID 1). Raises StartError (exit code 128) if runc would fail."""
    if ctx.fs.now is unset_clock:
        ctx.fs.now = ctx.now
    rows = passwd_rows(ctx.fs)  # read once for the user and for HOME (nothing writes in between)
    session = make_session(image, ctx, budget=budget, rows=rows)
    env = container_env(image, ctx, session.cred, rows)
    cwd = ctx.workdir or image.workdir or "/"
    # runc creates a missing working directory ("/", most images' own, always exists: a filesystem's
    # root is a directory; skipping that path walk saves ~2 µs of every container start).
    if cwd != "/" and not ctx.fs.isdir(cwd):
        ctx.fs.mkdir(cwd, parents=True, force=True)
    try:
        found = _check_executable(argv, image, session, env, cwd)
    except ValueError as e:
        raise StartError(START_ERROR_PREFIX + str(e)) from None
    row = session.procs.spawn(" ".join(argv), user=session.user_name, started=ctx.now(), pid=1)
    row.rss_kb = max(image.memory_bytes // 1024 // 8, 300)
    return _drive(session, argv, env, cwd, 1, found)


def exec_(argv: list[str], image: Image, ctx: ProcessContext, *, budget: int = STEP_BUDGET) -> Program:
    """Run a command in a running container (`kubectl exec`). Raises ExecError if it cannot start."""
    rows = passwd_rows(ctx.fs)  # read once for the user and for HOME (nothing writes in between)
    session = make_session(image, ctx, budget=budget, rows=rows)
    env = container_env(image, ctx, session.cred, rows)
    cwd = ctx.workdir or image.workdir or "/"
    try:
        found = _check_executable(argv, image, session, env, cwd)
    except ValueError as e:
        exec_id = hashlib.sha256(f"{ctx.hostname} {ctx.now()} {argv} {len(session.procs.rows)}".encode()).hexdigest()
        raise ExecError(
            f'failed to exec in container: failed to start exec "{exec_id}": OCI runtime exec failed: '
            f"exec failed: unable to start container process: {e}: unknown"
        ) from None
    row = session.procs.spawn(" ".join(argv), user=session.user_name, started=ctx.now())
    return _drive(session, argv, env, cwd, row.pid, found)


def _drive(session: Session, argv: list[str], env: dict[str, str], cwd: str, pid: int,
           found: tuple[str, Node]) -> Program:
    """Run the process tree of `argv` (whose executable `_check_executable` found) to its end."""
    ctx = session.ctx
    stdin = ctx.stdin
    io = IO(ctx.stdout, ctx.stderr, stdin if isinstance(stdin, Input) else Input(stdin) if stdin else _NO_INPUT)
    path, node = found
    if node.data.startswith(_PROGRAM_MARK):
        # An image program (pause, nginx…): run it as run_file would, its shell made only if it asks
        # (see programs.Proc). The Proc stands for that shell in the Task (a Runaway names its argv0).
        proc = Proc(None, argv, env, io, pid, session=session, cwd=cwd)
        main = Task(run_proc(node.data[len(_PROGRAM_MARK) :].decode(), proc), pid, proc, wake=session.now())
    else:
        shell = Shell(session, argv0=argv[0], env=env, pid=pid, cwd=cwd)
        main = Task(run_file(shell, path, node, argv, env, io, pid), pid, shell, wake=session.now())
    try:
        return (yield from _schedule(session, main))
    finally:
        for task in [main, *session.jobs.values()]:
            task.gen.close()
        if pid == 1:
            for other in list(session.procs.rows):
                session.procs.exit(other)
        else:
            session.procs.exit(pid)


def _step(session: Session, task: Task, action: str = "send", signum: int = 0) -> None:
    try:
        if action == "throw":
            request = task.gen.throw(Signal(signum))
        else:
            request = task.gen.send(None)
    except StopIteration as stop:
        task.status = stop.value if isinstance(stop.value, int) else 0
    except Signal as s:
        task.status = 128 + s.signum
    except Runaway as r:
        session.ctx.stderr(f"{task.shell.argv0 if task.shell else 'sh'}: {r}\n")
        task.status = RUNAWAY_EXIT_CODE
    except RecursionError:
        session.ctx.stderr("kubelab stopped this process: it nested too deeply (endless recursion?)\n")
        task.status = RUNAWAY_EXIT_CODE
    else:
        task.reading = None
        if isinstance(request, WaitFor):
            task.waiting, task.wake = request.pids, math.inf
        elif isinstance(request, WaitInput):
            task.waiting, task.wake, task.reading = None, math.inf, request.stdin
        else:
            task.waiting, task.wake = None, session.now() + max(request.seconds, 0.0)
    if task.status is not None and task.pid in session.jobs:
        session.finished[task.pid] = task.status


def _deliver(session: Session, task: Task, signum: int) -> None:
    if task.status is not None:
        return
    mode = session.procs.handlers.get(task.pid, {}).get(signum)
    if signum == 9:
        task.gen.close()
        task.status = 137
    elif mode == "throw":
        _step(session, task, "throw", signum)
    elif mode == "defer":
        session.deferred.setdefault(task.pid, []).append(signum)
        if task.waiting is not None:  # a trapped signal interrupts `wait`, as POSIX says
            task.waiting, task.wake = None, session.now()
    elif task.pid != 1 and signum != 17:
        task.gen.close()
        task.status = 128 + signum
    if task.status is not None and task.pid in session.jobs:
        session.finished[task.pid] = task.status


def _schedule(session: Session, main: Task) -> Program:
    # The process table, its signal queue, the clock and the jobs table are read once: they never
    # change for a session, and every container start goes through this loop.
    procs, now, jobs = session.procs, session.ctx.now, session.jobs
    pending = procs.pending  # signals queued by `kill`: nearly always none, so no per-task look-up
    while True:
        progressed = True
        while progressed and main.status is None:
            progressed = False
            for task in [main, *jobs.values()]:
                if pending:
                    for signum in procs.take_signals(task.pid):
                        _deliver(session, task, signum)
                        progressed = True
                if task.status is not None:
                    continue
                if task.reading is not None and task.reading.ready():
                    task.reading, task.wake = None, now()  # the caller fed a line and woke us
                if task.waiting is not None:
                    watched = task.waiting or tuple(p for p in jobs if p != task.pid)
                    if any(p in jobs and jobs[p].status is None for p in watched):
                        continue
                    task.waiting, task.wake = None, now()
                if task.wake <= now() + EPSILON:
                    _step(session, task)
                    progressed = True
        if main.status is not None:
            return main.status
        if jobs:
            live = [t for t in [main, *jobs.values()] if t.status is None]
            wake = min((t.wake for t in live if t.waiting is None), default=math.inf)
        else:  # the main process alone (pause, nginx… as every container starts): no lists to build
            wake = main.wake if main.waiting is None else math.inf
        try:
            yield FOREVER if wake == math.inf else Sleep(max(wake - session.now(), 0.0))
        except Signal as s:
            _deliver(session, main, s.signum)
            if main.status is not None:
                return main.status
