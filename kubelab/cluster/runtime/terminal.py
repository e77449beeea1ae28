"""The pseudo-terminal of `kubectl exec -it`: a line discipline between raw keystrokes and the shell.

kubectl puts the learner's terminal in raw mode and sends every key as typed; the container's pty
does what a terminal driver does: echo the keys, erase with Backspace, ^U kills the line, Enter
hands the line to the shell, ^C interrupts, ^D on an empty line is end of input. Escape sequences
(arrow keys) are swallowed: there is no history to move through. Output goes out with `\\n` as
`\\r\\n` (ONLCR), or the learner's screen would staircase.

Read by: cluster.podops (ExecStream). Reads: session (LiveInput).
"""

from __future__ import annotations

from collections.abc import Callable

from kubelab.cluster.runtime.session import LiveInput

ERASE = ("\x7f", "\x08")
INTERRUPT, END, KILL_LINE, ESCAPE = "\x03", "\x04", "\x15", "\x1b"


def onlcr(text: str) -> str:
    """Output as a terminal shows it: every newline a carriage return too."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class Terminal:
    """Keys in (`receive`), lines to `stdin`, echo to `echo`."""

    def __init__(self, stdin: LiveInput, echo: Callable[[str], None]) -> None:
        self.stdin = stdin
        self.echo = echo
        self.line = ""
        self._escape = ""  # an escape sequence being swallowed

    def receive(self, keys: str) -> None:
        for key in keys:
            if self._escape:
                self._escape += key
                # CSI sequences end with a letter or ~; a lone ESC + one key is a two-key sequence
                if (self._escape[1:2] != "[" and len(self._escape) >= 2) or (len(self._escape) > 2 and
                                                                              (key.isalpha() or key == "~")):
                    self._escape = ""
                continue
            if key == ESCAPE:
                self._escape = key
            elif key in "\r\n":
                self.echo("\r\n")
                self.stdin.feed(self.line + "\n")
                self.line = ""
            elif key in ERASE:
                if self.line:
                    self.line = self.line[:-1]
                    self.echo("\b \b")
            elif key == KILL_LINE:
                self.echo("\b \b" * len(self.line))
                self.line = ""
            elif key == INTERRUPT:
                self.echo("^C")
                self.line = ""
                self.stdin.interrupt()
            elif key == END:
                if self.line:  # ^D after some text hands that text over without a newline
                    self.stdin.feed(self.line)
                    self.line = ""
                else:
                    self.stdin.close()
            elif key == "\t" or key >= " ":
                self.line += key
                self.echo(key)
