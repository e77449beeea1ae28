"""Text filters: cat grep head tail wc sort uniq tr cut tee (and the option splitter they share).

Each reads its files from the container filesystem (or stdin) and prints what busybox or GNU
coreutils print, including their error texts (`cat: can't open 'x': No such file or directory`
on busybox, `cat: x: No such file or directory` on Debian). `sed` lives in `sed.py`.

Read by: commands (registered utilities), fileutils and miscutils (`split_options`). Reads:
session, commands, regexes.
"""

from __future__ import annotations

import re
from collections.abc import Generator

from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.regexes import compile_regex
from kubelab.cluster.runtime.session import Call


def split_options(args: list[str], with_value: str = "") -> tuple[dict[str, str], list[str]]:
    """Split `-abc -n 5 file` into ({a:'',b:'',c:'',n:'5'}, [file]) the getopt way."""
    opts: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1 :])
            break
        if a.startswith("-") and len(a) > 1 and not a[1:].isdigit():
            j = 1
            while j < len(a):
                ch = a[j]
                if ch in with_value:
                    value = a[j + 1 :] or (args[i + 1] if i + 1 < len(args) else "")
                    if not a[j + 1 :]:
                        i += 1
                    opts[ch] = value
                    break
                opts[ch] = ""
                j += 1
        elif a.startswith("-") and a[1:].isdigit():
            opts["n"] = a[1:]
        else:
            rest.append(a)
        i += 1
    return opts, rest


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


@utility("cat")
def cat(c: Call) -> int:
    opts, files = split_options(c.args)
    text, status = c.read_input(files)
    if "n" in opts:
        text = "".join(f"{i:6d}\t{line}" for i, line in enumerate(_lines(text), 1))
    c.out(text)
    return status


@utility("grep", "egrep", "fgrep")
def grep(c: Call) -> int:
    opts, rest = split_options(c.args, "emAB")
    patterns = [opts["e"]] if "e" in opts else rest[:1]
    files = rest if "e" in opts else rest[1:]
    if not patterns:
        c.err(
            "BusyBox v1.37.0 multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] "
            "{ PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n"
            if c.busybox
            else "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"
        )
        return 2
    extended = "E" in opts or c.name == "egrep"
    fixed = "F" in opts or c.name == "fgrep"
    try:
        rx = [compile_regex(p, extended=extended, fixed=fixed, icase="i" in opts, word="w" in opts) for p in patterns]
    except re.error:
        return c.fail(f"bad regex '{patterns[0]}'" if c.busybox else "Invalid regular expression", 2)
    invert, count, quiet = "v" in opts, "c" in opts, "q" in opts
    show_names = (len(files) > 1 or "H" in opts) and "h" not in opts
    found_any, status = False, 0
    sources = files or ["-"]
    for name in sources:
        text, st = c.read_input([name]) if name != "-" else (c.io.stdin.read(), 0)
        if st:
            status = 2
            continue
        n = 0
        for num, line in enumerate(text.splitlines(), 1):
            hit = any(r.search(line) for r in rx)
            if hit == invert:
                continue
            n += 1
            found_any = True
            if quiet:
                return 0
            if count or "l" in opts:
                continue
            prefix = (f"{name if name != '-' else '(standard input)'}:" if show_names else "") + (
                f"{num}:" if "n" in opts else ""
            )
            if "o" in opts and not invert:
                for r in rx:
                    for m in r.finditer(line):
                        c.out(prefix + m.group(0) + "\n")
            else:
                c.out(prefix + line + "\n")
        if count:
            c.out((f"{name}:" if show_names else "") + f"{n}\n")
        if "l" in opts and n:
            c.out(f"{name if name != '-' else '(standard input)'}\n")
    if status and not found_any:
        return 2
    return 0 if found_any else 1


def _count(value: str, c: Call) -> int | None:
    try:
        return int(value)
    except ValueError:
        c.fail(f"invalid number '{value}'" if c.busybox else f"invalid number of lines: '{value}'")
        return None


@utility("head")
def head(c: Call) -> int:
    opts, files = split_options(c.args, "nc")
    status = 0
    for k, name in enumerate(files or ["-"]):
        text, st = c.read_input([name] if files else [])
        status |= st
        if st:
            continue
        if len(files) > 1:
            c.out(("\n" if k else "") + f"==> {name} <==\n")
        if "c" in opts:
            n = _count(opts["c"], c)
            if n is None:
                return 1
            c.out(text[:n] if n >= 0 else text[:n])
            continue
        n = _count(opts.get("n", "10"), c)
        if n is None:
            return 1
        lines = _lines(text)
        c.out("".join(lines[:n] if n >= 0 else lines[:n]))
    return status


@utility("tail")
def tail(c: Call) -> int | Generator[Sleep, None, int]:
    opts, files = split_options(c.args, "nc")
    follow = "f" in opts or "F" in opts
    status = 0
    spec = opts.get("n", "10")
    for name in files or ["-"]:
        text, st = c.read_input([name] if files else [])
        status |= st
        if st:
            continue
        if "c" in opts:
            n = _count(opts["c"].lstrip("+"), c)
            if n is None:
                return 1
            c.out(text[-n:] if n else "")
            continue
        lines = _lines(text)
        n = _count(spec.lstrip("+"), c)
        if n is None:
            return 1
        c.out("".join(lines[n - 1 :] if spec.startswith("+") else (lines[-n:] if n else [])))
    if not follow:
        return status
    return _follow(c, files[-1] if files else None)


def _follow(c: Call, name: str | None) -> Generator[Sleep, None, int]:
    """`tail -f`: poll once a simulated second, print what was appended (a sidecar's log reader)."""
    if name is None:
        yield Sleep(float("inf"))
        return 0
    path = c.path(name)
    seen = len(c.fs.read(path)) if c.fs.exists(path) else 0
    while True:
        yield Sleep(1.0)
        try:
            data = c.fs.read(path)
        except OSError:
            continue
        if len(data) < seen:
            seen = 0
        if len(data) > seen:
            c.out(data[seen:].decode("utf-8", "replace"))
            seen = len(data)


@utility("wc")
def wc(c: Call) -> int:
    opts, files = split_options(c.args)
    wanted = [k for k in "lwcm" if k in opts] or ["l", "w", "c"]
    rows: list[tuple[list[int], str]] = []
    status = 0
    for name in files or ["-"]:
        text, st = c.read_input([name])
        if st:
            status = 1
            continue
        counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode()), "m": len(text)}
        rows.append(([counts[k] for k in wanted], name))
    if len(files) > 1:
        rows.append(([sum(r[0][i] for r in rows) for i in range(len(wanted))], "total"))
    if len(wanted) == 1 and len(rows) == 1:
        width = 0  # a single count is printed bare: `wc -l < file` gives "3"
    elif c.busybox:
        width = 9
    else:  # GNU: as wide as the largest number, or 7 when counting a pipe
        width = 7 if not files else max((len(str(v)) for r in rows for v in r[0]), default=1)
    for values, name in rows:
        cells = " ".join(str(v).rjust(width) for v in values)
        c.out(cells + ("" if name == "-" else f" {name}") + "\n")
    return status


@utility("sort")
def sort(c: Call) -> int:
    opts, files = split_options(c.args, "kt")
    text, status = c.read_input(files)
    lines = text.splitlines()
    sep = opts.get("t")

    def key(line: str):  # noqa: ANN202
        field = line
        if "k" in opts:
            start = int(re.match(r"\d+", opts["k"]).group(0)) - 1 if re.match(r"\d+", opts["k"]) else 0  # type: ignore[union-attr]
            parts = line.split(sep) if sep else line.split()
            field = (sep or " ").join(parts[start:])
        if "f" in opts:
            field = field.lower()
        if "n" in opts:
            m = re.match(r"\s*(-?\d+(?:\.\d+)?)", field)
            return (float(m.group(1)) if m else 0.0, line)
        return (field, line)

    lines.sort(key=key, reverse="r" in opts)
    if "u" in opts:
        unique: dict[object, str] = {}
        for line in lines:
            unique.setdefault(key(line)[0], line)
        lines = list(unique.values())
    c.out("".join(line + "\n" for line in lines))
    return status


@utility("uniq")
def uniq(c: Call) -> int:
    opts, files = split_options(c.args)
    text, status = c.read_input(files[:1])
    groups: list[list[str]] = []
    for line in text.splitlines():
        same = groups and (groups[-1][0].lower() == line.lower() if "i" in opts else groups[-1][0] == line)
        if same:
            groups[-1].append(line)
        else:
            groups.append([line])
    for g in groups:
        if ("d" in opts and len(g) < 2) or ("u" in opts and len(g) > 1):
            continue
        c.out((f"{len(g):7d} " if "c" in opts else "") + g[0] + "\n")
    return status


def _tr_set(spec: str) -> str:
    classes = {
        "[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "[:lower:]": "abcdefghijklmnopqrstuvwxyz",
        "[:digit:]": "0123456789",
        "[:space:]": " \t\n\r\f\v",
        "[:blank:]": " \t",
    }
    classes["[:alpha:]"] = classes["[:upper:]"] + classes["[:lower:]"]
    classes["[:alnum:]"] = classes["[:alpha:]"] + classes["[:digit:]"]
    for k, v in classes.items():
        spec = spec.replace(k, v)
    spec = spec.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r").replace("\\\\", "\\")
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.extend(chr(x) for x in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


@utility("tr")
def tr(c: Call) -> int:
    opts, sets = split_options(c.args)
    if not sets:
        return c.fail("missing operand")
    text = c.io.stdin.read()
    s1 = _tr_set(sets[0])
    if "d" in opts:
        text = "".join(ch for ch in text if ch not in s1)
    elif len(sets) > 1:
        s2 = _tr_set(sets[1])
        s2 = s2 + s2[-1:] * (len(s1) - len(s2))
        text = text.translate(str.maketrans(s1, s2[: len(s1)]))
    if "s" in opts:
        squeeze = _tr_set(sets[-1])
        text = re.sub("([" + re.escape(squeeze) + "])\\1+", r"\1", text) if squeeze else text
    c.out(text)
    return 0


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        a, dash, b = part.partition("-")
        lo = int(a) if a else 1
        hi = int(b) if b else (lo if not dash else 1 << 30)
        out.append((lo, hi))
    return out


@utility("cut")
def cut(c: Call) -> int:
    opts, files = split_options(c.args, "dfc")
    text, status = c.read_input(files)
    if "f" not in opts and "c" not in opts:
        return c.fail("you must specify a list of bytes, characters, or fields")
    sep = opts.get("d", "\t")
    for line in text.splitlines():
        if "c" in opts:
            picked = "".join(ch for i, ch in enumerate(line, 1) if any(lo <= i <= hi for lo, hi in _ranges(opts["c"])))
            c.out(picked + "\n")
            continue
        if sep not in line:
            if "s" not in opts:
                c.out(line + "\n")
            continue
        fields = line.split(sep)
        picked_fields = [f for i, f in enumerate(fields, 1) if any(lo <= i <= hi for lo, hi in _ranges(opts["f"]))]
        c.out(sep.join(picked_fields) + "\n")
    return status


@utility("tee")
def tee(c: Call) -> int:
    opts, files = split_options(c.args)
    text = c.io.stdin.read()
    status = 0
    for name in files:
        try:
            c.fs.write(c.path(name), text, append="a" in opts, cred=c.session.cred)
        except OSError as e:
            status = 1
            c.fail(f"{name}: {e.strerror}" if not c.busybox else f"can't open '{name}': {e.strerror}")
    c.out(text)
    return status
