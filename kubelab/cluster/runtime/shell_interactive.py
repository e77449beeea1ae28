"""The shell reading its commands from stdin as they arrive: `kubectl exec -i POD -- sh` (and `-it`).

Each complete line (or the lines that finish a compound command: `for …` waits for `done`, with
the PS2 prompt `> `) runs before the next one is read, so output flows back while the learner
types. With a terminal the shell prints its prompt as the image's shell does — busybox ash
`/ # ` (the working directory, `~` for $HOME), dash `# `, bash `root@web:/# ` — and ^C (SIGINT)
ends the running command, not the shell. End of input or `exit` ends the shell.

Read by: shell_command (`sh` with no script and a LiveInput stdin). Reads: shell, shell_parser, session.
"""

from __future__ import annotations

import math
from collections.abc import Generator

from kubelab.cluster.runtime.process import Signal, Sleep
from kubelab.cluster.runtime.session import IO, LiveInput, WaitInput
from kubelab.cluster.runtime.shell import Shell
from kubelab.cluster.runtime.shell_lexer import ShellSyntaxError
from kubelab.cluster.runtime.shell_parser import parse

Run = Generator[Sleep, None, int]
SIGINT = 2


def prompt(sh: Shell) -> str:
    """PS1 as the image's shell shows it by default."""
    sign = "#" if sh.session.cred.uid == 0 else "$"
    if sh.dialect == "dash":
        return f"{sign} "
    home = sh.vars.get("HOME") or ""
    cwd = sh.cwd
    if home and home != "/" and (cwd == home or cwd.startswith(home + "/")):
        cwd = "~" + cwd[len(home):]
    if sh.dialect == "bash":
        return f"{sh.session.user_name}@{sh.session.ctx.hostname}:{cwd}{sign} "
    return f"{cwd} {sign} "


def _incomplete(text: str) -> bool:
    """Whether `text` only needs more lines (an open `if`, loop, quote or `\\`) to parse."""
    try:
        parse(text)
    except ShellSyntaxError as err:
        return err.token is None and err.kind in ("unexpected", "unterminated") or text.endswith("\\\n")
    return False


def _read_line(stdin: LiveInput) -> Generator[Sleep, None, str | None]:
    while not stdin.ready():
        yield WaitInput(math.inf, stdin)
    return stdin.readline()


def run_interactive(sh: Shell, io: IO, stdin: LiveInput) -> Run:
    """Read, run, repeat until the end of input; the exit status is the last command's."""
    session = sh.session
    # The terminal's ^C queues SIGINT for this shell; "throw" makes the runner raise it at our yield.
    session.procs.handlers.setdefault(sh.pid, {})[SIGINT] = "throw"

    def interrupt() -> None:
        session.procs.kill(sh.pid, SIGINT)

    stdin.interrupt = interrupt
    pending = ""
    while True:
        if stdin.tty:
            io.out("> " if pending else prompt(sh))
        try:
            line = yield from _read_line(stdin)
        except Signal:
            pending = ""  # ^C at the prompt drops the line being typed
            io.out("\n")
            continue
        if line is None:
            if pending:
                yield from sh.run_script(pending, io)  # prints the shell's "unexpected end of file"
            return sh.status
        pending += line if line.endswith("\n") else line + "\n"
        if _incomplete(pending):
            continue
        text, pending = pending, ""
        session.budget.count = 0  # a person typing is time passing: each line gets a fresh budget
        try:
            yield from sh.run_script(text, io)
        except Signal as sig:
            sh.status = 128 + sig.signum  # the command dies of ^C; the interactive shell ignores it
            io.out("\n")
        yield from sh.handle_signals(io)
