"""Finding and running executables inside the container, the way execve and $PATH do.

Executables are files of the in-memory filesystem. A file whose content is `ELF_MARK + name`
stands for a built-in implementation: a utility (`cat`, `wget`…) or an image program
(`program:nginx`). Files starting with `#!` run through their interpreter, other text files
through /bin/sh (ENOEXEC). So `rm /bin/cat` really removes cat, a ConfigMap script without
the exec bit really fails with "Permission denied", and an image lacking a tool lacks it.

Read by: shell, runner, programs (entrypoint passthrough). Reads: session, utilities, programs.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

from kubelab.cluster.runtime.filesystem import FsError, Node
from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.session import IO, Call

if TYPE_CHECKING:
    from kubelab.cluster.runtime.shell import Shell

ELF_MARK = b"\x7fELF kubelab:"
PROGRAM = "program:"  # an image program's executable: ELF_MARK + b"program:nginx"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
Run = Generator[Sleep, None, int]

UTILITIES: dict[str, Callable[[Call], int | Run]] = {}
PROGRAMS: dict[str, Callable] = {}


def utility(*names: str) -> Callable:
    """Register a utility implementation under one or more command names."""

    def register(fn: Callable) -> Callable:
        for name in names:
            UTILITIES[name] = fn
        return fn

    return register


def executable(impl: str) -> bytes:
    return ELF_MARK + impl.encode()


class NotRunnable(Exception):
    """execve failed: `reason` is "not found" | "permission" | "directory"."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(reason, path)
        self.reason, self.path = reason, path


def locate(fs, name: str, env: dict[str, str], cwd: str) -> tuple[str, Node]:  # noqa: ANN001
    """Resolve a command name to (path, file node) like execvp; raises NotRunnable."""
    if "/" in name:
        path = posixpath.normpath(posixpath.join(cwd, name))
        try:
            node = fs.stat(path)
        except OSError:
            raise NotRunnable("not found", path)
        if node.kind == "dir":
            raise NotRunnable("directory", path)
        if not node.mode & 0o111:
            raise NotRunnable("permission", path)
        return path, node
    denied = None
    for d in (env.get("PATH") or DEFAULT_PATH).split(":"):
        path = posixpath.join(d or ".", name)
        try:
            node = fs.stat(path)
        except OSError:
            continue
        if node.kind == "file":
            if node.mode & 0o111:
                return path, node
            denied = path
    if denied:
        raise NotRunnable("permission", denied)
    raise NotRunnable("not found", name)


def not_found_message(sh: Shell, io: IO, e: NotRunnable, name: str) -> int:
    if e.reason == "permission":
        sh.error(io, f"{name}: Permission denied")
        return 126
    if e.reason == "directory":
        sh.error(io, f"{name}: {'Is a directory' if sh.dialect == 'bash' else 'Permission denied'}")
        return 126
    if sh.dialect == "bash":
        sh.error(io, f"{name}: {'No such file or directory' if '/' in name else 'command not found'}")
    else:
        sh.error(io, f"{name}: not found")
    return 127


def run_external(sh: Shell, argv: list[str], env: dict[str, str], io: IO, *, pid: int | None = None) -> Run:
    """Run argv as a process: a child of `sh`, or in its place when `pid` is given (exec)."""
    session = sh.session
    try:
        path, node = locate(session.fs, argv[0], env, sh.cwd)
    except NotRunnable as e:
        return not_found_message(sh, io, e, argv[0])
    procs = session.procs
    own_row = pid is None
    if own_row:
        pid = procs.spawn(" ".join(argv), user=session.user_name, started=session.now()).pid
    elif pid in procs.rows:
        procs.rows[pid].command = " ".join(argv)
    try:
        return (yield from run_file(sh, path, node, argv, env, io, pid))  # type: ignore[arg-type]
    finally:
        if own_row:
            procs.exit(pid)  # type: ignore[arg-type]


def run_file(sh: Shell, path: str, node: Node, argv: list[str], env: dict[str, str], io: IO, pid: int) -> Run:
    # The shell is itself a program (run_shell), imported where a shell runs: most container starts
    # that come through here are not for a shell (an image program as main process skips this: runner._drive).
    session = sh.session
    data = node.data
    if data.startswith(ELF_MARK):
        impl = data[len(ELF_MARK) :].decode()
        if impl in ("sh", "ash", "dash", "bash"):
            from kubelab.cluster.runtime.shell_command import run_shell

            return (yield from run_shell(session, argv, io, pid=pid, env=env, cwd=sh.cwd))
        if impl.startswith(PROGRAM):
            from kubelab.cluster.runtime.programs import run_program

            return (yield from run_program(impl[len(PROGRAM) :], sh, argv, env, io, pid))
        fn = UTILITIES.get(impl)
        if fn is None:
            sh.error(io, f"{argv[0]}: not found")
            return 127
        result = fn(Call(sh, argv, io, env))
        if not isinstance(result, int):
            result = yield from result
        return result
    try:
        text = session.fs.read_text(path, session.cred)
    except FsError:
        sh.error(io, f"{argv[0]}: Permission denied")
        return 126
    from kubelab.cluster.runtime.shell_command import run_shell

    if text.startswith("#!"):
        line = text.splitlines()[0][2:].strip().split(None, 1)
        if not line:
            return (yield from run_shell(session, ["sh", path] + argv[1:], io, pid=pid, env=env, cwd=sh.cwd))
        interp = line[:1] + line[1:]
        if posixpath.basename(interp[0]) == "env" and len(interp) > 1:
            interp = interp[1].split()
        inner = interp + [path] + argv[1:]
        try:
            ipath, inode = locate(session.fs, inner[0], env, sh.cwd)
        except NotRunnable:
            sh.error(io, f"{argv[0]}: not found")  # the kernel reports the script, not the interpreter
            return 127
        return (yield from run_file(sh, ipath, inode, inner, env, io, pid))
    return (yield from run_shell(session, ["sh", path] + argv[1:], io, pid=pid, env=env, cwd=sh.cwd))


# The utilities register themselves on import; importing them here makes UTILITIES complete.
from kubelab.cluster.runtime import (  # noqa: E402,F401
    fileutils,
    httpclients,
    miscutils,
    netutils,
    sed,
    shell_builtins,
    sysutils,
    textutils,
)
