"""Shell builtins: the commands the shell runs itself (cd, export, read, trap, test, echo…).

Special builtins (POSIX's list: exit, export, set, eval…) keep prefix assignments; regular
ones get them only for their own run. `true`, `false`, `pwd` and `test` also exist as
executables (/bin/true…); echo/printf live in shell_echo, wait/kill/trap in shell_jobs.

Read by: shell. Reads: session, shell_conditions, shell_echo, shell_jobs, commands.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Generator

from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.session import BreakLoop, Call, ExitShell, ReturnFunc

BUILTINS: dict[str, Callable] = {}
SPECIAL_BUILTINS = {
    ":",
    ".",
    "break",
    "continue",
    "eval",
    "exec",
    "exit",
    "export",
    "readonly",
    "return",
    "set",
    "shift",
    "trap",
    "unset",
    "source",
    "local",
}


def builtin(*names: str) -> Callable:
    def register(fn: Callable) -> Callable:
        for n in names:
            BUILTINS[n] = fn
        return fn

    return register


@builtin(":", "true")
@utility("true")
def b_true(c: Call) -> int:
    return 0


@builtin("false")
@utility("false")
def b_false(c: Call) -> int:
    return 1


@builtin("cd")
def b_cd(c: Call) -> int:
    sh = c.sh
    target = c.args[0] if c.args else sh.get("HOME") or "/"
    if target == "-":
        target = sh.get("OLDPWD") or sh.cwd
        c.out(target + "\n")
    path = sh.path(target)
    fs = c.fs
    try:
        node = fs.stat(path)
        if node.kind != "dir":
            raise OSError(20, "Not a directory")
        fs.listdir(path, c.session.cred)
    except OSError as e:
        reason = e.strerror
        if sh.dialect == "dash":
            sh.error(c.io, f"cd: can't cd to {target}")
        elif sh.dialect == "bash":
            sh.error(c.io, f"cd: {target}: {reason}")
        else:
            sh.error(c.io, f"cd: can't cd to {target}: {reason}")
        return 2 if sh.dialect == "dash" else 1
    sh.vars["OLDPWD"] = sh.cwd
    sh.cwd = fs.abspath(path)
    sh.vars["PWD"] = sh.cwd
    return 0


@builtin("pwd")
@utility("pwd")
def b_pwd(c: Call) -> int:
    c.out(c.sh.cwd + "\n")
    return 0


def _assign_words(c: Call, mark: Callable[[str], None]) -> int:
    for arg in c.args:
        if arg.startswith("-"):
            continue
        name, eq, value = arg.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            c.sh.error(
                c.io,
                f"{c.name}: {name}: bad variable name"
                if c.sh.dialect != "bash"
                else f"{c.name}: `{arg}': not a valid identifier",
            )
            return 1 if c.sh.dialect == "bash" else 2
        if eq:
            c.sh.assign(name, value)
        mark(name)
    return 0


@builtin("export")
def b_export(c: Call) -> int:
    if not c.args or c.args == ["-p"]:
        for k in sorted(c.sh.exported):
            if k in c.sh.vars:
                c.out(
                    f"export {k}='{c.sh.vars[k]}'\n" if c.sh.dialect != "bash" else f'declare -x {k}="{c.sh.vars[k]}"\n'
                )
        return 0
    return _assign_words(c, c.sh.exported.add)


@builtin("readonly")
def b_readonly(c: Call) -> int:
    return _assign_words(c, c.sh.readonly.add)


@builtin("local")
def b_local(c: Call) -> int:
    return _assign_words(c, lambda name: None)


@builtin("unset")
def b_unset(c: Call) -> int:
    for name in c.args:
        if not name.startswith("-"):
            c.sh.unset(name)
    return 0


@builtin("set")
def b_set(c: Call) -> int:
    sh, args = c.sh, list(c.args)
    if not args:
        for k in sorted(sh.vars):
            c.out(f"{k}='{sh.vars[k]}'\n")
        return 0
    while args:
        a = args.pop(0)
        if a == "--":
            sh.args = args
            return 0
        if a in ("-o", "+o"):
            opt = args.pop(0) if args else ""
            letter = {"errexit": "e", "xtrace": "x", "nounset": "u", "allexport": "a"}.get(opt)
            if letter:
                (sh.options.add if a == "-o" else sh.options.discard)(letter)
            continue
        if a[:1] in "-+" and len(a) > 1:
            for letter in a[1:]:
                (sh.options.add if a[0] == "-" else sh.options.discard)(letter)
            continue
        sh.args = [a] + args
        return 0
    return 0


@builtin("shift")
def b_shift(c: Call) -> int:
    n = int(c.args[0]) if c.args and c.args[0].isdigit() else 1
    if n > len(c.sh.args):
        c.sh.error(
            c.io, "shift: can't shift that many" if c.sh.dialect != "bash" else "shift: shift count out of range"
        )
        return 1 if c.sh.dialect == "bash" else 2
    c.sh.args = c.sh.args[n:]
    return 0


def _code(c: Call, default: int) -> int:
    if not c.args:
        return default
    try:
        return int(c.args[0]) & 0xFF
    except ValueError:
        c.sh.error(c.io, f"{c.name}: Illegal number: {c.args[0]}")
        return 2


@builtin("exit")
def b_exit(c: Call) -> int:
    raise ExitShell(_code(c, c.sh.status))


@builtin("return")
def b_return(c: Call) -> int:
    if not c.sh.func_depth:
        raise ExitShell(_code(c, c.sh.status))
    raise ReturnFunc(_code(c, c.sh.status))


@builtin("break", "continue")
def b_break(c: Call) -> int:
    n = int(c.args[0]) if c.args and c.args[0].isdigit() else 1
    if not c.sh.loop_depth:
        return 0
    raise BreakLoop(min(max(n, 1), c.sh.loop_depth), cont=c.name == "continue")


@builtin("eval")
def b_eval(c: Call) -> Generator[Sleep, None, int]:
    return (yield from c.sh.run_script(" ".join(c.args), c.io)) if c.args else 0


@builtin(".", "source")
def b_source(c: Call) -> Generator[Sleep, None, int]:
    if not c.args:
        return 0
    name = c.args[0]
    path = c.sh.path(name)
    try:
        text = c.fs.read_text(path, c.session.cred)
    except OSError:
        c.sh.error(
            c.io,
            f"{'.' if c.name == '.' else c.name}: can't open '{name}'"
            if c.sh.dialect == "ash"
            else f"{c.name}: cannot open {name}: No such file",
        )
        raise ExitShell(2) if c.sh.dialect != "bash" else ExitShell(1)
    saved = c.sh.args
    if len(c.args) > 1:
        c.sh.args = c.args[1:]
    try:
        return (yield from c.sh.run_script(text, c.io))
    finally:
        c.sh.args = saved


@builtin("exec")
def b_exec(c: Call) -> Generator[Sleep, None, int]:
    """Replace the shell: the program keeps the shell's PID (so PID 1 stays PID 1)."""
    from kubelab.cluster.runtime.commands import run_external

    if not c.args:
        return 0  # redirections alone were applied by the shell (run_simple)
    status = yield from run_external(c.sh, c.args, c.env, c.io, pid=c.sh.pid)
    raise ExitShell(status)


@builtin("command")
def b_command(c: Call) -> Generator[Sleep, None, int]:
    args = c.args
    if args and args[0] in ("-v", "-V"):
        return _describe(c, args[1:], verbose=args[0] == "-V")
    if not args:
        return 0
    if args[0] in BUILTINS:
        result = BUILTINS[args[0]](Call(c.sh, args, c.io, c.env))
        return result if isinstance(result, int) else (yield from result)
    return (yield from c.sh.exec_argv(args, c.io, c.env))


@builtin("type")
def b_type(c: Call) -> int:
    return _describe(c, c.args, verbose=True)


def _describe(c: Call, names: list[str], verbose: bool) -> int:
    from kubelab.cluster.runtime.commands import NotRunnable, locate

    status = 0
    for name in names:
        if name in c.sh.funcs:
            c.out(f"{name} is a function\n" if verbose else f"{name}\n")
        elif name in BUILTINS:
            kind = "special shell builtin" if name in SPECIAL_BUILTINS else "shell builtin"
            c.out(f"{name} is a {kind}\n" if verbose else f"{name}\n")
        else:
            try:
                path, _ = locate(c.fs, name, c.env, c.sh.cwd)
                c.out(f"{name} is {path}\n" if verbose else f"{path}\n")
            except NotRunnable:
                if verbose:
                    c.out(f"{name}: not found\n")
                status = 1 if not verbose else 127
    return status


@builtin("read")
def b_read(c: Call) -> int:
    args, raw = list(c.args), False
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-r":
            raw = True
        elif flag in ("-p", "-t", "-n", "-d", "-u") and args:
            value = args.pop(0)
            if flag == "-p":
                c.err(value)
    line = c.io.stdin.readline()
    if line is None:
        for name in args or ["REPLY"]:
            c.sh.assign(name, "")
        return 1
    eof = not line.endswith("\n")
    line = line.rstrip("\n")
    if not raw:
        line = re.sub(r"\\(.)", r"\1", line)
    names = args or ["REPLY"]
    if names == ["REPLY"] and not args:
        c.sh.assign("REPLY", line)
        return 1 if eof and not line else 0
    ifs = c.sh.get("IFS", " \t\n")
    white = "".join(ch for ch in ifs if ch.isspace())
    rest = line.strip(white) if white else line
    for k, name in enumerate(names):
        if k == len(names) - 1:
            c.sh.assign(name, rest.rstrip(white) if white else rest)
            break
        m = re.match(f"([^{re.escape(ifs)}]*)[{re.escape(ifs)}]*", rest) if ifs else None
        if not m:
            c.sh.assign(name, rest)
            rest = ""
            continue
        c.sh.assign(name, m.group(1))
        rest = rest[m.end() :]
    return 0


@builtin("umask")
def b_umask(c: Call) -> int:
    if not c.args:
        c.out("0022\n")
    return 0


@builtin("ulimit")
def b_ulimit(c: Call) -> int:
    c.out("unlimited\n" if not c.args or c.args[-1] in ("-f", "-a") else "1048576\n")
    return 0


@builtin("alias", "unalias", "hash", "times", "jobs", "getopts", "let")
def b_noop(c: Call) -> int:
    return 0


@builtin("test", "[")
@utility("test", "[")
def b_test(c: Call) -> int:
    from kubelab.cluster.runtime.shell_conditions import evaluate_test

    return evaluate_test(c)


def basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) or "/"


# echo and printf live in shell_echo; they are builtins of every shell too.
from kubelab.cluster.runtime.shell_echo import b_echo, b_printf, unescape  # noqa: E402

BUILTINS["echo"], BUILTINS["printf"] = b_echo, b_printf
from kubelab.cluster.runtime import shell_jobs  # noqa: E402,F401  (wait, kill, trap register themselves)

__all__ = ["BUILTINS", "SPECIAL_BUILTINS", "unescape"]
