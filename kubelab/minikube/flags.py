"""Command-line flags the way cobra/pflag read them for minikube.

`parse(call_args, spec, command)` accepts `--name=value`, `--name value`, `-n value`, `-nvalue`,
boolean `--name`/`--name=false`, and stops at `--` (everything after is positional, as for
`minikube kubectl -- get pods`). An unknown flag is cobra's error and minikube's usage exit (14).

Read by: kubelab.minikube.commands and the command modules. Reads: kubelab.minikube.text.
"""

from __future__ import annotations

from typing import TextIO

from kubelab.minikube.text import EX_PROGRAM_USAGE, Exit

# Flags every minikube command accepts (root persistent flags); the emulator reads only --profile.
GLOBAL = {"profile": "value", "p": "profile", "alsologtostderr": "bool", "logtostderr": "bool", "v": "value",
          "user": "value", "skip-audit": "bool", "rootless": "bool", "log_dir": "value", "log_file": "value",
          "interactive": "bool"}


def parse(args: list[str], spec: dict[str, str], command: str, err: TextIO) -> tuple[dict[str, str], list[str]]:
    """Flags (by long name) and positional arguments. `spec` maps a long name to "value" or "bool" and a
    short name to its long name; the global flags are always known."""
    known = {**GLOBAL, **spec}
    flags: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        long = arg.startswith("--")
        body = arg[2:] if long else arg[1:]
        name, eq, value = body.partition("=")
        if not long and len(name) > 1 and not eq:  # -n2 / -pminikube: a shorthand with its value attached
            name, value, eq = name[0], name[1:], "="
        kind = known.get(name)
        if kind not in (None, "value", "bool"):
            name, kind = kind, known[kind]
        if kind is None:
            text = f"unknown flag: --{name}" if long else f"unknown shorthand flag: '{name[0]}' in {arg}"
            err.write(f"Error: {text}\nSee 'minikube {command} --help' for usage.\n")
            raise Exit(EX_PROGRAM_USAGE)
        if kind == "bool":
            flags[name] = value if eq else "true"
        elif eq:
            flags[name] = value
        elif i < len(args):
            flags[name] = args[i]
            i += 1
        else:
            err.write(f"Error: flag needs an argument: {arg}\nSee 'minikube {command} --help' for usage.\n")
            raise Exit(EX_PROGRAM_USAGE)
    return flags, positional


def true(flags: dict[str, str], name: str) -> bool:
    return flags.get(name, "false").lower() in ("true", "1", "t", "yes")
