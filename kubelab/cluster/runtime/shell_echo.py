"""`echo` and `printf`, as the shells and coreutils print: dash's echo interprets backslashes
and knows only -n; ash, bash and /bin/echo take -e/-E; printf reuses its format for extra arguments.

Read by: shell_builtins (registers them as builtins), commands (as /bin/echo, /usr/bin/printf).
Reads: session.
"""

from __future__ import annotations

import re

from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.session import Call

_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def unescape(text: str, *, stop_at_c: bool = True) -> tuple[str, bool]:
    """Interpret echo -e / printf %b escapes; returns (text, whether \\c cut the output)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "c" and stop_at_c:
                return "".join(out), True
            if nxt == "0" or nxt.isdigit():
                m = re.match(r"0?([0-7]{1,3})", text[i + 1 :])
                if m:
                    out.append(chr(int(m.group(1), 8)))
                    i += 1 + m.end()
                    continue
            if nxt == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2 :])
                if m:
                    out.append(chr(int(m.group(0), 16)))
                    i += 2 + m.end()
                    continue
        out.append(ch)
        i += 1
    return "".join(out), False


@utility("echo")
def b_echo(c: Call) -> int:
    args = c.args
    newline, escapes = True, c.sh.dialect == "dash"
    # dash's echo knows only -n and always interprets backslashes; ash/bash/coreutils take -e/-E.
    while args and re.fullmatch(r"-[neE]+", args[0]) and (c.sh.dialect != "dash" or args[0] == "-n"):
        for flag in args[0][1:]:
            if flag == "n":
                newline = False
            elif flag == "e":
                escapes = True
            elif flag == "E":
                escapes = False
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, cut = unescape(text)
        if cut:
            newline = False
    c.out(text + ("\n" if newline else ""))
    return 0


@utility("printf")
def b_printf(c: Call) -> int:
    if not c.args:
        return c.fail("usage: printf FORMAT [ARGUMENT...]" if c.busybox else "missing operand", 1 if c.busybox else 2)
    fmt, args = c.args[0], c.args[1:]
    status = 0
    spec = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([diouxXeEfgGcsb%])")
    out: list[str] = []
    first = True
    while first or args:
        first = False
        consumed = False
        pos = 0
        for m in spec.finditer(fmt):
            out.append(unescape(fmt[pos : m.start()], stop_at_c=False)[0])
            pos = m.end()
            flags, width, prec, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = args.pop(0) if args else "0"
            if prec == "*":
                prec = args.pop(0) if args else "0"
            arg = args.pop(0) if args else None
            consumed = consumed or arg is not None
            pyflags = flags.replace("#", "#") + (width or "") + (f".{prec}" if prec is not None else "")
            if conv in "diouxX":
                try:
                    n = _printf_int(arg or "0")
                except ValueError:
                    c.err(
                        f"{c.name}: invalid number '{arg}'\n"
                        if c.busybox
                        else f"{c.name}: '{arg}': expected a numeric value\n"
                    )
                    status, n = 1, 0
                pc = {"i": "d", "u": "d"}.get(conv, conv)
                out.append(("%" + pyflags + pc) % n)
            elif conv in "eEfgG":
                try:
                    x = float(arg or "0")
                except ValueError:
                    c.err(f"{c.name}: invalid number '{arg}'\n")
                    status, x = 1, 0.0
                out.append(("%" + pyflags + conv) % x)
            elif conv == "c":
                out.append(("%" + pyflags + "s") % (arg or "")[:1])
            elif conv == "b":
                text, cut = unescape(arg or "")
                out.append(("%" + pyflags + "s") % text)
                if cut:
                    c.out("".join(out))
                    return status
            else:
                out.append(("%" + pyflags + "s") % (arg or ""))
        text, cut = unescape(fmt[pos:], stop_at_c=True)
        out.append(text)
        if cut or not consumed:
            break
    c.out("".join(out)[: 1 << 20])
    return status


def _printf_int(arg: str) -> int:
    if arg[:1] in "'\"" and len(arg) > 1:
        return ord(arg[1])
    return int(arg, 0) if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", arg) else int(arg)
