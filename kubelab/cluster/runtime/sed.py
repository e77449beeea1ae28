"""`sed`: the stream-editor subset scripts use — s///[gpiN], p, d, q, y, =, line/regex/$ addresses
and ranges, -n, -e, -E/-r and -i (in-place, which fails on a read-only ConfigMap mount).

Read by: commands (registered utility). Reads: regexes, session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.regexes import compile_regex
from kubelab.cluster.runtime.session import Call


class SedError(Exception):
    pass


@dataclass
class _Cmd:
    addr1: object = None
    addr2: object = None
    negate: bool = False
    op: str = ""
    rx: re.Pattern[str] | None = None
    repl: str = ""
    flags: str = ""
    text: str = ""
    active: bool = False


def _read_delimited(s: str, i: int, delim: str) -> tuple[str, int]:
    out = []
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            out.append(s[i + 1] if s[i + 1] == delim else s[i : i + 2])
            i += 2
            continue
        if ch == delim:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise SedError("unterminated `s' command")


def _address(s: str, i: int, extended: bool) -> tuple[object, int]:
    if i < len(s) and s[i].isdigit():
        m = re.match(r"\d+", s[i:])
        return int(m.group(0)), i + m.end()  # type: ignore[union-attr]
    if i < len(s) and s[i] == "$":
        return "$", i + 1
    if i < len(s) and s[i] in "/\\":
        delim = s[i] if s[i] == "/" else s[i + 1]
        start = i + 1 if s[i] == "/" else i + 2
        pat, j = _read_delimited(s, start, delim)
        return compile_regex(pat, extended=extended), j
    return None, i


def parse_script(script: str, extended: bool) -> list[_Cmd]:
    cmds: list[_Cmd] = []
    i = 0
    s = script
    while i < len(s):
        while i < len(s) and s[i] in " \t\n;":
            i += 1
        if i >= len(s):
            break
        cmd = _Cmd()
        cmd.addr1, i = _address(s, i, extended)
        if cmd.addr1 is not None and i < len(s) and s[i] == ",":
            cmd.addr2, i = _address(s, i + 1, extended)
        while i < len(s) and s[i] == " ":
            i += 1
        if i < len(s) and s[i] == "!":
            cmd.negate, i = True, i + 1
        if i >= len(s):
            raise SedError("missing command")
        cmd.op = s[i]
        i += 1
        if cmd.op == "s":
            delim = s[i]
            pat, i = _read_delimited(s, i + 1, delim)
            cmd.repl, i = _read_delimited(s, i, delim)
            m = re.match(r"[gpiI0-9]*", s[i:])
            cmd.flags = m.group(0) if m else ""
            i += len(cmd.flags)
            cmd.rx = compile_regex(pat, extended=extended, icase="i" in cmd.flags.lower())
        elif cmd.op == "y":
            delim = s[i]
            src, i = _read_delimited(s, i + 1, delim)
            dst, i = _read_delimited(s, i, delim)
            cmd.text = src + "\0" + dst
        elif cmd.op in "aic":
            rest = s[i:].split("\n", 1)
            cmd.text = rest[0].lstrip("\\").lstrip()
            i += len(rest[0])
        elif cmd.op not in "pdq=":
            raise SedError(f"unknown command: `{cmd.op}'")
        cmds.append(cmd)
    return cmds


def _expand_repl(repl: str, m: re.Match[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(repl):
        ch = repl[i]
        if ch == "\\" and i + 1 < len(repl):
            nxt = repl[i + 1]
            out.append(
                m.group(int(nxt)) or "" if nxt.isdigit() else "\n" if nxt == "n" else "\t" if nxt == "t" else nxt
            )
            i += 2
            continue
        out.append(m.group(0) if ch == "&" else ch)
        i += 1
    return "".join(out)


def _replace_nth(cmd: _Cmd, line: str, nth: int) -> str:
    """`s/a/b/2`: replace only the nth match."""
    seen = 0

    def pick(m: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return _expand_repl(cmd.repl, m) if seen == nth else m.group(0)

    return cmd.rx.sub(pick, line)  # type: ignore[union-attr]


def _matches(addr: object, num: int, last: bool, line: str) -> bool:
    if addr == "$":
        return last
    if isinstance(addr, int):
        return num == addr
    return isinstance(addr, re.Pattern) and addr.search(line) is not None


def run_sed(cmds: list[_Cmd], text: str, quiet: bool) -> str:
    lines = text.split("\n")
    trailing = text.endswith("\n")
    if trailing:
        lines.pop()
    out: list[str] = []
    for num, line in enumerate(lines, 1):
        last = num == len(lines)
        deleted = False
        quit_now = False
        appended: list[str] = []
        for cmd in cmds:
            if cmd.addr1 is None:
                selected = True
            elif cmd.addr2 is None:
                selected = _matches(cmd.addr1, num, last, line)
            elif cmd.active:
                selected = True
                end = cmd.addr2
                if (isinstance(end, int) and num >= end) or _matches(end, num, last, line) and not isinstance(end, int):
                    cmd.active = False
            else:
                selected = _matches(cmd.addr1, num, last, line)
                if selected:
                    cmd.active = not (isinstance(cmd.addr2, int) and cmd.addr2 <= num)
            if selected == cmd.negate:
                continue
            if cmd.op == "s" and cmd.rx is not None:
                count = 0 if "g" in cmd.flags else 1
                nth = int(re.sub(r"\D", "", cmd.flags) or 0)
                if nth:
                    new = _replace_nth(cmd, line, nth)
                else:
                    new = cmd.rx.sub(lambda m: _expand_repl(cmd.repl, m), line, count=count)  # noqa: B023
                if new != line or cmd.rx.search(line):
                    line = new
                    if "p" in cmd.flags:
                        out.append(line)
            elif cmd.op == "p":
                out.append(line)
            elif cmd.op == "d":
                deleted = True
                break
            elif cmd.op == "q":
                quit_now = True
                break
            elif cmd.op == "=":
                out.append(str(num))
            elif cmd.op == "y":
                src, dst = cmd.text.split("\0")
                line = line.translate(str.maketrans(src, dst[: len(src)]))
            elif cmd.op == "a":
                appended.append(cmd.text)
            elif cmd.op == "i":
                out.append(cmd.text)
            elif cmd.op == "c":
                out.append(cmd.text)
                deleted = True
                break
        if not deleted and not quiet:
            out.append(line)
        out.extend(appended)
        if quit_now:
            break
    return "\n".join(out) + ("\n" if out and (trailing or len(out) > len(lines)) else "")


@utility("sed")
def sed(c: Call) -> int:
    args = list(c.args)
    scripts: list[str] = []
    files: list[str] = []
    quiet = extended = in_place = False
    while args:
        a = args.pop(0)
        if a == "-e" and args:
            scripts.append(args.pop(0))
        elif a in ("-n", "--quiet", "--silent"):
            quiet = True
        elif a in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif a.startswith("-i"):
            in_place = True
        elif a.startswith("-") and len(a) > 1:
            for flag in a[1:]:
                quiet |= flag == "n"
                extended |= flag in "Er"
                in_place |= flag == "i"
        elif not scripts and not files:
            scripts.append(a)
        else:
            files.append(a)
    try:
        cmds = parse_script("\n".join(scripts), extended)
    except (SedError, re.error, IndexError) as e:
        return c.fail(f"-e expression #1, char 0: {e}" if not c.busybox else f"bad command: {e}")
    if in_place:
        status = 0
        for name in files:
            try:
                text = c.fs.read_text(c.path(name), c.session.cred)
                c.fs.write(
                    c.path(name), run_sed(parse_script("\n".join(scripts), extended), text, quiet), cred=c.session.cred
                )
            except OSError as e:
                status = c.fail(
                    f"couldn't open temporary file {name}: {e.strerror}"
                    if not c.busybox
                    else f"can't create '{name}': {e.strerror}"
                    if e.errno != 2
                    else f"can't open '{name}': {e.strerror}",
                    4 if not c.busybox else 1,
                )
        return status
    text, status = c.read_input(files)
    c.out(run_sed(cmds, text, quiet))
    return status
