"""Job and signal builtins: `wait`, `kill`, `trap`.

`wait` yields `WaitFor` so the runner resumes the shell when its background jobs end; `kill`
queues a signal on the container's process table; `trap` installs a handler the runner honours
between commands (a PID 1 shell without one ignores SIGTERM, as the kernel guarantees).

Read by: shell_builtins (registration). Reads: session, process, commands.
"""

from __future__ import annotations

import math
from collections.abc import Generator

from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.process import SIGNAL_NUMBERS, SIGNALS, Sleep
from kubelab.cluster.runtime.session import Call, WaitFor
from kubelab.cluster.runtime.shell_builtins import builtin


@builtin("wait")
def b_wait(c: Call) -> Generator[Sleep, None, int]:
    session = c.session
    pids = tuple(int(a) for a in c.args if a.isdigit())
    waiting = pids or tuple(session.jobs)
    if any(p in session.jobs for p in waiting):
        yield WaitFor(math.inf, waiting)
    if pids:
        return session.finished.get(pids[-1], 127)
    return 0


def signal_number(spec: str) -> int | None:
    spec = spec.upper().removeprefix("-")
    if spec.isdigit():
        return int(spec)
    return SIGNAL_NUMBERS.get(spec) or SIGNAL_NUMBERS.get(spec.removeprefix("SIG"))


@builtin("kill")
@utility("kill")
def b_kill(c: Call) -> int:
    args = list(c.args)
    signum = 15
    if args and args[0] == "-l":
        c.out(" ".join(name[3:] for _, name in sorted(SIGNALS.items())) + "\n")
        return 0
    if args and args[0] == "-s" and len(args) > 1:
        args.pop(0)
        args[0] = "-" + args[0]
    if args and args[0].startswith("-") and len(args[0]) > 1:
        n = signal_number(args.pop(0))
        if n is None:
            return c.fail("bad signal name" if c.busybox else "invalid signal specification")
        signum = n
    if not args:
        c.err(
            "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n"
            if c.sh.dialect == "bash"
            else "kill: usage: kill [-s sigspec | -signum | -sigspec] [pid | job]... or\n"
        )
        return 2 if c.sh.dialect != "ash" else 1
    status = 0
    procs = c.session.procs
    for target in args:
        if not target.lstrip("-").isdigit():
            c.sh.error(
                c.io, f"kill: invalid number '{target}'" if c.sh.dialect == "ash" else f"kill: Illegal number: {target}"
            )
            status = 1
            continue
        pid = int(target)
        if pid == 1 and signum == 9:
            continue  # the kernel shields a namespace's init from SIGKILL sent inside it
        if not procs.kill(pid, signum):
            c.sh.error(
                c.io,
                f"can't kill pid {pid}: No such process"
                if c.sh.dialect == "ash"
                else f"kill: ({pid}) - No such process"
                if c.sh.dialect == "bash"
                else "kill: No such process",
            )
            status = 1
    return status


@builtin("trap")
def b_trap(c: Call) -> int:
    args = c.args
    if not args:
        for signum, action in sorted(c.sh.traps.items()):
            name = SIGNALS.get(signum, f"SIG{signum}")[3:] if signum else "EXIT"
            c.out(f"trap -- '{action}' {name}\n")
        return 0
    action, specs = (args[0], args[1:]) if len(args) > 1 else ("-", args)
    procs = c.session.procs
    for spec in specs:
        n = 0 if spec in ("0", "EXIT") else signal_number(spec)
        if n is None:
            c.sh.error(c.io, f"trap: {spec}: bad trap")
            return 1
        if action == "-":
            c.sh.traps.pop(n, None)
            procs.handlers.get(c.sh.pid, {}).pop(n, None)
        else:
            c.sh.traps[n] = action
            procs.handlers.setdefault(c.sh.pid, {})[n] = "defer"
    return 0
