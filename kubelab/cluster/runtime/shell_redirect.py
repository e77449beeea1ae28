"""Redirections: `>`, `>>`, `<`, `2>&1`, here-documents, and the special paths /dev/null,
/dev/stdout, /dev/stderr and /proc/1/fd/1 (a line written there lands in the container log).

Read by: shell (Shell extends Redirecting). Reads: shell_state, filesystem, session.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from kubelab.cluster.runtime.filesystem import FsError
from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.session import IO, Input, discard
from kubelab.cluster.runtime.shell_ast import Redir
from kubelab.cluster.runtime.shell_state import ShellState


class Redirecting(ShellState):
    def redirect(self, redirs: list[Redir], io: IO) -> Generator[Sleep, None, IO]:
        if not redirs:
            return io
        fds = {1: io.out, 2: io.err}
        stdin = io.stdin
        for r in redirs:
            if r.op in ("<<", "<<-"):
                body = (yield from self.expand(r.heredoc, io)) if r.heredoc else ""
                stdin = Input(body)
                continue
            target = yield from self.expand(r.target, io)
            if r.op in (">&", "<&"):
                if target == "-":
                    fds[r.fd] = discard
                elif target.isdigit():
                    if r.fd != 0 and int(target) in fds:
                        fds[r.fd] = fds[int(target)]
                else:
                    writer = self.open_write(target, False, io, fds)
                    fds[1] = fds[2] = writer
                continue
            if r.op in (">", ">|", ">>"):
                fds[r.fd] = self.open_write(target, r.op == ">>", io, fds)
                continue
            try:
                data = self.fs.read_text(self.path(target), self.session.cred)
            except FsError as e:
                self._redirect_error(io, target, e, reading=True)
                raise
            if r.fd == 0:
                stdin = Input(data)
        return IO(fds.get(1, discard), fds.get(2, discard), stdin)

    def open_write(self, target: str, append: bool, io: IO, fds: dict) -> Callable[[str], None]:
        path = self.path(target)
        if path == "/dev/null":
            return discard
        special = {
            "/dev/stdout": fds.get(1),
            "/dev/stderr": fds.get(2),
            "/proc/self/fd/1": fds.get(1),
            "/proc/self/fd/2": fds.get(2),
            "/proc/1/fd/1": self.session.ctx.stdout,
            "/proc/1/fd/2": self.session.ctx.stderr,
        }
        chosen = special.get(path)
        if chosen is not None:
            return chosen
        cred = self.session.cred
        try:
            if append:
                self.fs.write(path, "", append=True, cred=cred)
            else:
                self.fs.write(path, "", cred=cred)
        except FsError as e:
            self._redirect_error(io, target, e, reading=False)
            raise

        def write(text: str, _path: str = path) -> None:
            try:
                self.fs.write(_path, text, append=True, cred=cred)
            except FsError:
                pass

        return write

    def _redirect_error(self, io: IO, target: str, e: FsError, *, reading: bool) -> None:
        missing = e.errno == 2
        if self.dialect == "ash":
            reason = ("no such file" if reading else "nonexistent directory") if missing else e.strerror
            self.error(io, f"can't {'open' if reading else 'create'} {target}: {reason}")
        elif self.dialect == "dash":
            reason = ("No such file" if reading else "Directory nonexistent") if missing else e.strerror
            self.error(io, f"cannot {'open' if reading else 'create'} {target}: {reason}")
        else:
            self.error(io, f"{target}: {e.strerror}")
