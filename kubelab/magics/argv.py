"""Reading a `%kube` line: kubelab's own options, durations, and which commands stream.

The line is split like a POSIX shell would (shlex; IPython has already expanded `{var}` and
`$var`). kubelab's options are taken out before kubectl sees the rest: `--no-raise-error`, and
`--for SECONDS` when its value is a duration (so `kubectl wait --for=condition=Ready` passes
through untouched). Streaming commands (`get -w`, `logs -f`, `rollout status`, `wait`,
`port-forward`, …) print into the cell as they run instead of returning a result.

Read by: magics.kube, magics.commands, magics.minikube. Reads: nothing.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float | None:
    """Seconds in `90`, `90s`, `2m`, `1h`, `1m30s`, `500ms`; None if `text` is not a duration."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and pos > 0 else None


def format_duration(seconds: float) -> str:
    """`1m30s`, `2h0m0s`, `45s`, `0.5s` — Go's time.Duration style, as kubectl prints durations."""
    if seconds < 60:
        return f"{seconds:g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes}m{secs}s" if hours else f"{minutes}m{secs}s"


@dataclass
class KubeArgs:
    args: list[str]  # what kubectl gets
    raise_error: bool | None = None  # False with --no-raise-error; None: the configured default
    for_seconds: float | None = None
    quiet: bool = False  # the line ended with `;`: run, show nothing of the result


def split(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as err:  # an unclosed quote: say so in kubectl's terms rather than a traceback
        raise ValueError(f"cannot read the arguments ({err}): check the quotes") from None


def parse(line: str) -> KubeArgs:
    """Split the line and take kubelab's options out of it. A trailing `;` is IPython's "show
    nothing" mark for the cell, not an argument."""
    line = line.rstrip()
    quiet = line.endswith(";")
    words = split(line[:-1] if quiet else line)
    parsed = KubeArgs([], quiet=quiet)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--no-raise-error":
            parsed.raise_error = False
        elif word == "--raise-error":
            parsed.raise_error = True
        elif word == "--for" and i + 1 < len(words) and parse_duration(words[i + 1]) is not None:
            parsed.for_seconds = parse_duration(words[i + 1])
            i += 1
        elif word.startswith("--for=") and parse_duration(word[6:]) is not None:
            parsed.for_seconds = parse_duration(word[6:])
        else:
            parsed.args.append(word)
        i += 1
    return parsed


def verb_of(args: list[str]) -> list[str]:
    """The command words (`["rollout", "status"]`), skipping flags."""
    return [a for a in args if not a.startswith("-")][:2]


def streams(args: list[str]) -> bool:
    """Does this kubectl command keep running and print as it goes?"""
    words = verb_of(args)
    verb = words[0] if words else ""
    if verb in ("get", "events"):
        return any(a in ("-w", "--watch", "--watch-only") or a.startswith(("--watch=true", "--watch-only=true"))
                   for a in args)
    if verb == "logs":
        return any(a in ("-f", "--follow") or a == "--follow=true" for a in args)
    if verb == "rollout":
        return len(words) > 1 and words[1] == "status" and "--watch=false" not in args
    return verb in ("wait", "port-forward", "proxy", "attach")


def cell_args(args: list[str]) -> list[str]:
    """`%%kube ARGS`: the cell is the `-f -` input; no ARGS means `apply`."""
    args = args or ["apply"]
    if not any(a in ("-f", "--filename") or a.startswith(("--filename=", "-f=")) for a in args):
        args = [*args, "-f", "-"]
    return args
