"""The shell as a program: `sh [-c SCRIPT [NAME ARGS…]] | [-ex] [FILE [ARGS…]]`.

With no script and no stdin it exits at once (a busybox pod without a command "Completes");
`-c` scripts exec their last command, as ash and dash do. Stdin that arrives while it runs
(`kubectl exec -i … -- sh`) is read and run line by line (shell_interactive).

Read by: commands (sh, ash, dash and bash executables). Reads: shell, shell_interactive, session.
"""

from __future__ import annotations

import posixpath
from collections.abc import Generator

from kubelab.cluster.runtime.process import Signal, Sleep
from kubelab.cluster.runtime.session import IO, ExitShell, LiveInput, Session
from kubelab.cluster.runtime.shell import Shell
from kubelab.cluster.runtime.shell_interactive import run_interactive

Run = Generator[Sleep, None, int]


def run_shell(session: Session, argv: list[str], io: IO, *, pid: int, env: dict[str, str], cwd: str) -> Run:
    """`sh [-c SCRIPT [NAME ARGS…]] | [-e] [-x] [FILE [ARGS…]]` as a process of its own."""
    name = posixpath.basename(argv[0])
    dialect = "bash" if name == "bash" else session.dialect
    args = argv[1:]
    options: set[str] = set()
    script: str | None = None
    from_c = False
    while args and args[0].startswith("-") and args[0] not in ("-", "--"):
        flag = args.pop(0)
        if "c" in flag[1:]:
            if not args:
                io.err(
                    f"{argv[0]}: -c requires an argument\n"
                    if dialect != "ash"
                    else f"{argv[0]}: -c requires an argument\n"
                )
                return 2
            script, from_c = args.pop(0), True
        options |= set(flag[1:]) & {"e", "x", "u", "a"}
    if args and args[0] == "--":
        args.pop(0)
    sh = Shell(session, argv0=argv[0], env=env, dialect=dialect, pid=pid, cwd=cwd)
    sh.options = options
    if script is None:
        if args:
            path = sh.path(args[0])
            try:
                script = session.fs.read_text(path, session.cred)
            except OSError as e:
                msg = {"ash": f"can't open '{args[0]}': {e.strerror}", "dash": f"Can't open {args[0]}"}
                io.err(
                    f"{argv[0]}: "
                    + (
                        f"0: {msg['dash']}"
                        if dialect == "dash"
                        else msg["ash"]
                        if dialect == "ash"
                        else f"{args[0]}: {e.strerror}"
                    )
                    + "\n"
                )
                return 127 if dialect != "ash" else 2
            sh.argv0, sh.args = args[0], args[1:]
        elif isinstance(io.stdin, LiveInput):
            try:
                return (yield from run_interactive(sh, io, io.stdin))
            except ExitShell as e:
                return e.code
        else:
            script = io.stdin.read()  # no tty, no stdin: `sh` exits at once, like `docker run busybox`
    else:
        if args:
            sh.argv0, sh.args = args[0], args[1:]
    try:
        status = yield from sh.run_script(script, io, exec_last=from_c)
        yield from sh.handle_signals(io)
        return status
    except ExitShell as e:
        return e.code
    except Signal as s:
        return 128 + s.signum
