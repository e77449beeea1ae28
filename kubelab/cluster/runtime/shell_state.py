"""A shell's state: variables, positional parameters, options, traps, working directory.

Kept apart from execution (`shell.Shell`) so the builtins and expansions read one small
surface: `get`, `assign`, `special`, `environ`, `path`, `error`, `fork`.

Read by: shell (Shell extends ShellState), shell_expand, shell_builtins. Reads: session.
"""

from __future__ import annotations

import posixpath
from collections.abc import Generator
from typing import Any, TypeVar

from kubelab.cluster.runtime.filesystem import FileSystem
from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.session import IO, ExitShell, Runaway, Session
from kubelab.cluster.runtime.shell_ast import Node, Simple, Word
from kubelab.cluster.runtime.shell_expand import MAX_VALUE, ExpansionError, expand_fields, expand_string

S = TypeVar("S", bound="ShellState")


class ShellState:
    """One shell process (or subshell). Variables live here; the session is the process tree."""

    def __init__(
        self,
        session: Session,
        *,
        argv0: str = "sh",
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        dialect: str | None = None,
        pid: int = 1,
        cwd: str = "/",
    ) -> None:
        self.session = session
        self.argv0 = argv0
        self.args = list(args or [])
        self.vars: dict[str, str] = dict(env or {})
        self.exported: set[str] = set(self.vars)
        self.readonly: set[str] = set()
        self.funcs: dict[str, Node] = {}
        self.traps: dict[int, str] = {}
        self.options: set[str] = set()
        self.dialect = dialect or session.dialect
        self.pid = pid
        self.status = 0
        self.cmdsub_status = 0
        self.last_bg: int | None = None
        self.cwd = cwd
        self.line = 1
        self.cond_depth = 0
        self.exec_last: Simple | None = None
        self.loop_depth = 0  # `break` outside a loop is ignored, as ash does
        self.func_depth = 0  # `return` outside a function ends the script, as dash does
        self.dollar_pid = pid  # $$ stays the shell's PID inside subshells
        self.vars.setdefault("PWD", cwd)
        self.vars.setdefault("IFS", " \t\n")
        self.vars.setdefault("PS1", "# " if session.cred.uid == 0 else "$ ")

    # ---- variables -----------------------------------------------------------------------
    @property
    def fs(self) -> FileSystem:
        return self.session.fs

    def get(self, name: str, default: str = "") -> str:
        value = self.special(name) if not (name[:1].isalpha() or name[:1] == "_") else self.vars.get(name)
        return default if value is None else value

    def is_set(self, name: str) -> bool:
        return name in self.vars

    def special(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.session_root_pid())
        if name == "#":
            return str(len(self.args))
        if name == "!":
            return None if self.last_bg is None else str(self.last_bg)
        if name == "-":
            return "".join(sorted(self.options))
        if name == "0":
            return self.argv0
        if name in ("@", "*"):
            return " ".join(self.args)
        if name.isdigit():
            i = int(name)
            return self.args[i - 1] if 0 < i <= len(self.args) else None
        return self.vars.get(name)

    def session_root_pid(self) -> int:
        return self.dollar_pid

    def assign(self, name: str, value: str) -> None:
        if name in self.readonly:
            raise ExpansionError(f"{name}: is read only" if self.dialect != "bash" else f"{name}: readonly variable")
        if len(value) > MAX_VALUE:
            raise Runaway("kubelab stopped this process: a shell variable grew past 1 MiB (out of memory)")
        self.vars[name] = value
        if "a" in self.options:
            self.exported.add(name)

    def unset(self, name: str) -> None:
        self.vars.pop(name, None)
        self.exported.discard(name)
        self.funcs.pop(name, None)

    def environ(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in self.vars.items() if k in self.exported}
        env.update(extra or {})
        return env

    def path(self, p: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, p)) if p else self.cwd

    # ---- messages ------------------------------------------------------------------------
    def error(self, io: IO, message: str) -> None:
        """Print a shell diagnostic the way this shell formats it."""
        if self.dialect == "dash":
            io.err(f"{self.argv0}: {self.line}: {message}\n")
        elif self.dialect == "bash":
            io.err(f"{self.argv0}: line {self.line}: {message}\n")
        else:
            io.err(f"{self.argv0}: {message}\n")

    # ---- subshells ----------------------------------------------------------------------
    def fork(self: S) -> S:
        child = type(self).__new__(type(self))
        child.__dict__.update(self.__dict__)
        child.vars, child.exported, child.funcs = dict(self.vars), set(self.exported), dict(self.funcs)
        child.readonly, child.traps, child.args = set(self.readonly), {}, list(self.args)
        child.options = set(self.options)
        child.dollar_pid = self.dollar_pid
        return child

    def capture(self, body: Node) -> Generator[Sleep, None, str]:
        """`$( … )`: the output of running `body` in a subshell (implemented by shell.Shell)."""
        raise NotImplementedError

    # ---- expansion -----------------------------------------------------------------------
    def expand(self, word: Word, io: IO, *, fields: bool = False) -> Generator[Sleep, None, Any]:
        """Expand one word; expansion errors print and end the command with status 1 (2 for ${x?})."""
        constant = word.constant()
        if constant is not None:
            return [constant] if fields else constant
        try:
            if fields:
                return (yield from expand_fields(self, word))
            return (yield from expand_string(self, word))
        except ExpansionError as e:
            self.error(io, str(e))
            raise ExitShell(1 if "read only" in str(e) or "readonly" in str(e) else 2)
