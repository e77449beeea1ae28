"""The sandboxed POSIX shell: runs `sh -c` scripts inside a simulated container.

It behaves like busybox ash, dash or bash (whichever /bin/sh the image has) for the scripts
people put in manifests: pipelines, redirections, quoting, expansions, loops, functions, traps.
Every command is looked up in the container's in-memory filesystem and runs as Python code;
nothing ever touches the host. Sleeping yields `Sleep` to the caller's simulated clock.

Read by: runner (start/exec_), commands (`sh` as a utility). Reads: shell_state and
shell_redirect (its bases), shell_parser, shell_expand, shell_builtins, commands, session.
"""

from __future__ import annotations

from collections.abc import Generator

from kubelab.cluster.runtime import commands
from kubelab.cluster.runtime.filesystem import FsError
from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.session import (
    IO,
    MAX_DEPTH,
    BreakLoop,
    Call,
    ExitShell,
    Input,
    ReturnFunc,
    Runaway,
    discard,
)
from kubelab.cluster.runtime.shell_ast import (
    AndOr,
    Case,
    For,
    FuncDef,
    Group,
    If,
    Loop,
    Node,
    Pipeline,
    Sequence,
    Simple,
)
from kubelab.cluster.runtime.shell_builtins import BUILTINS, SPECIAL_BUILTINS
from kubelab.cluster.runtime.shell_expand import expand_pattern, matches
from kubelab.cluster.runtime.shell_parser import ShellSyntaxError, parse
from kubelab.cluster.runtime.shell_redirect import Redirecting

Run = Generator[Sleep, None, int]


class Shell(Redirecting):
    """One shell process (or subshell): runs syntax trees; the session is the process tree."""

    def run_script(self, text: str, io: IO, *, exec_last: bool = False) -> Run:
        """Parse and run a whole script; a syntax error prints the shell's message and gives 2.

        With `exec_last` (`sh -c`), the script's last simple command replaces the shell, as
        ash and dash do (bash only for a one-command script): `sh -c 'sleep 9'` is PID 1 `sleep 9`.
        """
        try:
            tree = parse(text)
        except ShellSyntaxError as e:
            self.line = e.line
            if self.dialect == "bash":
                io.err(f"{self.argv0}: -c: line {e.line}: {e.message('bash')}\n")
            else:
                self.error(io, e.message(self.dialect))
            return 2
        if exec_last and tree.items and isinstance(tree.items[-1][0], Simple) and not tree.items[-1][1]:
            if self.dialect != "bash" or len(tree.items) == 1:
                self.exec_last = tree.items[-1][0]
        return (yield from self.exec_node(tree, io))  # `exit` propagates: eval, traps and `.` end the shell

    def run_guarded(self, node: Node, io: IO) -> Run:
        """Run in a subshell: `exit` ends only the subshell."""
        try:
            return (yield from self.exec_node(node, io))
        except ExitShell as e:
            return e.code
        except (BreakLoop, ReturnFunc):
            return self.status

    def capture(self, body: Node) -> Generator[Sleep, None, str]:
        """`$( … )`: run in a subshell and return its standard output."""
        buf: list[str] = []
        sub = self.fork()
        status = yield from sub.run_guarded(body, IO(buf.append, self._err_sink, Input()))
        self.cmdsub_status = status
        return "".join(buf)

    _err_sink = staticmethod(discard)

    # ---- execution -----------------------------------------------------------------------
    def exec_node(self, node: Node, io: IO) -> Run:
        if isinstance(node, Simple):
            status = yield from self.run_simple(node, io)
        elif isinstance(node, Sequence):
            status = yield from self.run_sequence(node, io)
        elif isinstance(node, Pipeline):
            status = yield from self.run_pipeline(node, io)
        elif isinstance(node, AndOr):
            status = yield from self.run_and_or(node, io)
        elif isinstance(node, FuncDef):
            self.funcs[node.name] = node.body
            status = 0
        else:
            status = yield from self.run_compound(node, io)
        self.status = status
        return status

    def run_sequence(self, node: Sequence, io: IO) -> Run:
        status = 0
        for item, background in node.items:
            if background:
                status = self.start_background(item, io)
            else:
                status = yield from self.exec_node(item, io)
                if "e" in self.options and status != 0 and not self.cond_depth and not isinstance(item, AndOr):
                    raise ExitShell(status)
            self.status = status
            if self.session.deferred or self.session.procs.pending:
                yield from self.handle_signals(io)
        return status

    def start_background(self, item: Node, io: IO) -> int:
        pid = self.session.procs.spawn(self.argv0, user=self.session.user_name, started=self.session.now()).pid
        child = self.fork()
        child.pid = pid
        child.exec_last = item if isinstance(item, Simple) else None  # `cmd &` forks and execs cmd
        bg_io = IO(io.out, io.err, Input())

        def job() -> Run:
            try:
                return (yield from child.run_guarded(item, bg_io))
            finally:
                self.session.procs.exit(pid)

        self.session.spawn_job(job(), pid, child)
        self.last_bg = pid
        return 0

    def handle_signals(self, io: IO) -> Generator[Sleep, None, None]:
        """Run traps for signals that arrived while the last command ran (that is when sh does)."""
        pending = self.session.deferred.pop(self.pid, []) + self.session.procs.take_signals(self.pid)
        for signum in pending:
            action = self.traps.get(signum)
            if action is None:
                if self.pid == 1 or signum in (17,):
                    continue  # PID 1 without a handler ignores signals; the kernel guarantees it
                raise ExitShell(128 + signum)
            if action:
                yield from self.run_script(action, io)

    def run_and_or(self, node: AndOr, io: IO) -> Run:
        self.cond_depth += 1
        try:
            status = yield from self.exec_node(node.first, io)
        finally:
            self.cond_depth -= 1
        for k, (op, nxt) in enumerate(node.rest):
            if (op == "&&") == (status == 0):
                last = k == len(node.rest) - 1
                self.cond_depth += 0 if last else 1
                try:
                    status = yield from self.exec_node(nxt, io)
                finally:
                    self.cond_depth -= 0 if last else 1
        return status

    def run_pipeline(self, node: Pipeline, io: IO) -> Run:
        # Stages run one after another, each fed the previous one's whole output: exact for
        # the filters people use (grep, head, wc…), though an endless first stage never hands over.
        data = io.stdin
        status = 0
        if node.negate:
            self.cond_depth += 1
        try:
            for i, cmd in enumerate(node.cmds):
                last = i == len(node.cmds) - 1
                buf: list[str] = []
                stage = IO(io.out if last else buf.append, io.err, data)
                if len(node.cmds) == 1:
                    status = yield from self.exec_node(cmd, stage)
                else:
                    status = yield from self.fork().run_guarded(cmd, stage)
                data = Input("".join(buf))
        finally:
            if node.negate:
                self.cond_depth -= 1
        return int(status == 0) if node.negate else status

    def run_compound(self, node: Node, io: IO) -> Run:
        try:
            io = yield from self.redirect(node.redirs, io)  # type: ignore[union-attr]
        except FsError:
            return 1
        if isinstance(node, Group):
            if node.subshell:
                return (yield from self.fork().run_guarded(node.body, io))
            return (yield from self.exec_node(node.body, io))
        if isinstance(node, If):
            for cond, body in node.clauses:
                self.cond_depth += 1
                try:
                    ok = (yield from self.exec_node(cond, io)) == 0
                finally:
                    self.cond_depth -= 1
                if ok:
                    return (yield from self.exec_node(body, io))
            if node.else_ is not None:
                return (yield from self.exec_node(node.else_, io))
            return 0
        if isinstance(node, Loop):
            return (yield from self.run_loop(node, io))
        if isinstance(node, For):
            words: list[str] = []
            if node.words is None:
                words = list(self.args)
            else:
                for w in node.words:
                    words += yield from self.expand(w, io, fields=True)
            self.loop_depth += 1
            try:
                return (yield from self._for_body(node, words, io))
            finally:
                self.loop_depth -= 1
        if isinstance(node, Case):
            word = yield from self.expand(node.word, io)
            for patterns, branch in node.items:
                for p in patterns:
                    pat = yield from expand_pattern(self, p)
                    if matches(pat, word):
                        return 0 if branch is None else (yield from self.exec_node(branch, io))
            return 0
        raise AssertionError(node)

    def _for_body(self, node: For, words: list[str], io: IO) -> Run:
        status = 0
        for value in words:
            self.session.budget.tick()
            self.assign(node.var, value)
            try:
                status = yield from self.exec_node(node.body, io)
            except BreakLoop as b:
                if b.levels > 1:
                    raise BreakLoop(b.levels - 1, b.cont)
                if not b.cont:
                    break
        return status

    def run_loop(self, node: Loop, io: IO) -> Run:
        self.loop_depth += 1
        try:
            return (yield from self._loop(node, io))
        finally:
            self.loop_depth -= 1

    def _loop(self, node: Loop, io: IO) -> Run:
        status = 0
        while True:
            self.session.budget.tick()
            self.cond_depth += 1
            try:
                ok = (yield from self.exec_node(node.cond, io)) == 0
            finally:
                self.cond_depth -= 1
            if ok == node.until:
                return status
            try:
                status = yield from self.exec_node(node.body, io)
            except BreakLoop as b:
                if b.levels > 1:
                    raise BreakLoop(b.levels - 1, b.cont)
                if not b.cont:
                    return 0

    # ---- simple commands -----------------------------------------------------------------
    def run_simple(self, node: Simple, io: IO) -> Run:
        self.session.budget.tick()
        self.line = node.line
        self.cmdsub_status = 0
        argv: list[str] = []
        for w in node.words:
            argv += yield from self.expand(w, io, fields=True)
        assigns: dict[str, str] = {}
        for name, w in node.assigns:
            assigns[name] = yield from self.expand(w, io)
        if "x" in self.options:
            shown = [f"{k}={v}" for k, v in assigns.items()] + argv
            io.err("+ " + " ".join(_quote(a) for a in shown) + "\n")
        try:
            cmd_io = yield from self.redirect(node.redirs, io)
        except FsError:
            return 1
        if not argv:
            for name, value in assigns.items():
                self.assign(name, value)
            return self.cmdsub_status
        if argv == ["exec"]:  # `exec >> /var/log/app.log 2>&1`: the rest of this shell writes there
            io.out, io.err, io.stdin = cmd_io.out, cmd_io.err, cmd_io.stdin
            return 0
        replace = node is self.exec_last and not self.traps
        return (yield from self.run_command(argv, assigns, cmd_io, replace=replace))

    def run_command(self, argv: list[str], assigns: dict[str, str], io: IO, *, replace: bool = False) -> Run:
        name = argv[0]
        if name in self.funcs:
            return (yield from self.call_function(name, argv, assigns, io))
        builtin = BUILTINS.get(name)
        if builtin is not None:
            if name in SPECIAL_BUILTINS:
                for k, v in assigns.items():
                    self.assign(k, v)
                saved = None
            else:
                saved = {k: self.vars.get(k) for k in assigns}
                for k, v in assigns.items():
                    self.vars[k] = v
            try:
                result = builtin(Call(self, argv, io))
                if not isinstance(result, int):
                    result = yield from result
                return result
            finally:
                if saved:
                    for k, old in saved.items():
                        if old is None:
                            self.vars.pop(k, None)
                        else:
                            self.vars[k] = old
        return (
            yield from commands.run_external(self, argv, self.environ(assigns), io, pid=self.pid if replace else None)
        )

    def call_function(self, name: str, argv: list[str], assigns: dict[str, str], io: IO) -> Run:
        if self.session.depth >= MAX_DEPTH:
            raise Runaway("kubelab stopped this process: functions nested too deep (endless recursion?)")
        saved_args, saved_vars = self.args, {k: self.vars.get(k) for k in assigns}
        saved_loops, self.loop_depth = self.loop_depth, 0
        self.vars.update(assigns)
        self.args = argv[1:]
        self.session.depth += 1
        self.func_depth += 1
        try:
            return (yield from self.exec_node(self.funcs[name], io))
        except ReturnFunc as r:
            return r.code
        finally:
            self.session.depth -= 1
            self.func_depth -= 1
            self.loop_depth = saved_loops
            self.args = saved_args
            for k, old in saved_vars.items():
                if old is None:
                    self.vars.pop(k, None)
                else:
                    self.vars[k] = old

    def exec_argv(self, argv: list[str], io: IO, env: dict[str, str] | None = None) -> Run:
        """Run argv as a new process (no functions or builtins): used by `exec`, `env`, programs."""
        return (yield from commands.run_external(self, argv, self.environ() if env is None else env, io))


def _quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_./=:,@%+" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"
