"""How minikube writes to a terminal: emoji-prefixed steps, fatal exits, tables, durations.

minikube prefixes every message with a style's emoji and two spaces (`😄  `, `🔥  `, sub-steps
`    ▪ `), sends steps to stdout and warnings/failures to stderr, ends a fatal error with
`❌  Exiting due to REASON: message` and an exit code from its reason table, and draws its
tables with tablewriter v1's box characters (headers centred, cells left-aligned). The
strings here are the ones the emulator must reproduce verbatim.

Read by: every kubelab.minikube command module. Reads: nothing.
"""

from __future__ import annotations

import unicodedata
from typing import TextIO

VERSION = "v1.37.0"
COMMIT = "65318f4cfff9c12cc87ec9eb8f4cdd57b25047f3"
KIC_VERSION = "v0.0.48"
DEFAULT_PROFILE = "minikube"

# minikube's style table (pkg/minikube/style): the prefix each kind of message carries.
PREFIX = {
    "happy": "😄  ", "sparkle": "✨  ", "thumbs_up": "👍  ", "pulling": "🚜  ", "starting_vm": "🔥  ",
    "docker": "🐳  ", "sub_step": "    ▪ ", "cni": "🔗  ", "health_check": "🔎  ", "addon_enable": "🌟  ",
    "addon_disable": "🌑  ", "ready": "🏄  ", "running": "🏃  ", "restarting": "🔄  ", "stopping": "✋  ",
    "stopped": "🛑  ", "shutdown": "🛑  ", "deleting_host": "🔥  ", "deleted": "💀  ", "shrug": "🤷  ",
    "workaround": "👉  ", "failure": "❌  ", "warning": "❗  ", "meh": "🙄  ", "tip": "💡  ",
    "celebrate": "🎉  ", "enabling": "🔌  ", "verifying": "🤔  ", "launch": "🚀  ", "sad": "😿  ",
    "internet": "🌐  ", "check": "✅  ", "kubectl": "💗  ", "notice": "📌  ", "empty": "",
}

# Exit codes from minikube's reason table (pkg/minikube/reason/exitcodes.go).
EX_PROGRAM_ERROR = 10
EX_PROGRAM_USAGE = 14
EX_GUEST_CONFLICT = 81
EX_GUEST_NOT_RUNNING = 83
EX_GUEST_NOT_FOUND = 85
EX_HOST_ERROR = 30
EX_SVC_TIMEOUT = 112
EX_SVC_NOT_FOUND = 115
EX_SVC_UNSUPPORTED = 116


class Exit(Exception):
    """A minikube command ended with `code` (its messages are already written)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def say(stream: TextIO, style: str, message: str) -> None:
    """One styled line, as `out.Step`/`out.Styled` (stdout) or `out.ErrT` (stderr) write it."""
    stream.write(f"{PREFIX[style]}{message}\n")


def fatal(err: TextIO, reason: str, message: str, code: int, advice: str = "") -> Exit:
    """`exit.Message`: the ❌ line (and a suggestion), returned as an `Exit` to raise. minikube also
    writes a blank line to stdout around it; in a notebook that only pads the cell, so it is left out."""
    err.write(f"{PREFIX['failure']}Exiting due to {reason}: {message}\n")
    if advice:
        err.write(f"{PREFIX['tip']}Suggestion: {advice}\n")
    return Exit(code)


def width(text: str) -> int:
    """Terminal cells a string takes: East Asian wide characters and emoji take two."""
    cells = 0
    for ch in text:
        if unicodedata.combining(ch) or ch == "\ufe0f":
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return cells


def table(headers: list[str], rows: list[list[str]], upper: bool = True) -> str:
    """tablewriter v1's default rendering: light box lines, centred headers, left-aligned cells; a cell
    with newlines spans several lines of its row."""
    heads = [h.upper() if upper else h for h in headers]
    split = [[cell.split("\n") for cell in row] for row in rows]
    widths = [width(h) for h in heads]
    for row in split:
        for i, lines in enumerate(row):
            widths[i] = max([widths[i], *(width(line) for line in lines)])

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    def centre(text: str, w: int) -> str:
        extra = w - width(text)
        return " " * (extra // 2) + text + " " * (extra - extra // 2)

    header = "│".join(f" {centre(h, w)} " for h, w in zip(heads, widths, strict=True))
    lines = [rule("┌", "┬", "┐"), f"│{header}│", rule("├", "┼", "┤")]
    for row in split:
        for k in range(max(len(cell) for cell in row)):
            cells = [cell[k] if k < len(cell) else "" for cell in row]
            body = "│".join(f" {c}{' ' * (w - width(c))} " for c, w in zip(cells, widths, strict=True))
            lines.append(f"│{body}│")
    lines.append(rule("└", "┴", "┘"))
    return "\n".join(lines) + "\n"


def human_duration(seconds: float) -> str:
    """Docker's go-units HumanDuration, for `docker ps`'s CREATED and STATUS columns."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"
