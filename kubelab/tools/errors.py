"""What a failed tool command raises: short, like `%%bash`'s error, without a Python traceback.

`ToolError` carries the argv, exit status and the tool's own message; IPython shows the lines
from `_render_traceback_` instead of a traceback, so a learner sees kubectl's words (and
kubelab's hint) and nothing else. `KubectlError` is the one for kubectl, exported as
`kubelab.KubectlError`; `MinikubeError` the one for `%minikube`.

Read by: tools.result, magics, kubelab (export). Reads: nothing.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class ToolError(Exception):
    """A command exited with a non-zero status. `message` is what it printed on stderr (plus hints)."""

    tool = "command"

    def __init__(self, args: Sequence[str], returncode: int, message: str, *, stdout: str = "",
                 shown: bool = False) -> None:
        self.argv = list(args)
        self.returncode = returncode
        self.message = message.rstrip("\n")
        self.stdout = stdout
        self.shown = shown  # the message already went to the cell (a streamed command)
        super().__init__(self.message or self._status_line())

    def _status_line(self) -> str:
        return f"{shlex.join([self.tool, *self.argv[1:]])} exited with status {self.returncode}"

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting a traceback; the lines are the whole error display.
        if self.shown or not self.message:
            return [f"{type(self).__name__}: {self._status_line()}"]
        return self.message.splitlines()


class KubectlError(ToolError):
    tool = "kubectl"


class MinikubeError(ToolError):
    tool = "minikube"
