"""Word expansion, in POSIX order: parameters, command substitution, arithmetic, field
splitting on IFS, then pathname globbing against the container's in-memory filesystem.

Expansion is a generator like everything else, because `$(sleep 5; date)` takes simulated time.

Read by: shell_state, shell, shell_builtins. Reads: shell_ast, shell_arith (the shell is passed in).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Generator
from typing import TYPE_CHECKING

from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.shell_arith import ArithError, evaluate
from kubelab.cluster.runtime.shell_ast import Arith, CmdSub, Lit, Param, Word

if TYPE_CHECKING:
    from kubelab.cluster.runtime.shell_state import ShellState as Shell

Gen = Generator[Sleep, None, "object"]
_BREAK = object()  # a field boundary inside "$@"
MAX_VALUE = 1 << 20  # a variable or word larger than 1 MiB means a runaway script


class ExpansionError(Exception):
    """An expansion failure that ends the command (`${x:?}`, bad arithmetic); message is shell text."""


def _chunks(sh: Shell, parts: list, *, assign: bool = False) -> Generator[Sleep, None, list]:
    out: list = []
    for i, part in enumerate(parts):
        if isinstance(part, Lit):
            text = part.text
            if i == 0 and not part.quoted and text.startswith("~"):
                head, sep, tail = text.partition("/")
                if head == "~":
                    text = sh.get("HOME") or "/root"
                    text += sep + tail
            out.append((text, part.quoted, False))
        elif isinstance(part, Param):
            value = yield from _param(sh, part)
            if isinstance(value, list):  # $@ / $*
                if part.quoted and part.name == "@":
                    for k, item in enumerate(value):
                        if k:
                            out.append(_BREAK)
                        out.append((item, True, True))
                    if not value:
                        out.append(("", False, True))  # "$@" with no args vanishes
                elif part.quoted:
                    ifs = sh.get("IFS", " \t\n")
                    out.append(((ifs[:1]).join(value), True, True))
                else:
                    for k, item in enumerate(value):
                        if k:
                            out.append((" ", False, True))
                        out.append((item, False, True))
            else:
                out.append((value, part.quoted, True))
        elif isinstance(part, CmdSub):
            text = yield from sh.capture(part.body)
            out.append((text.rstrip("\n"), part.quoted, True))
        elif isinstance(part, Arith):
            expr = yield from expand_string(sh, part.expr)
            try:
                value = str(evaluate(expr, sh.get, sh.assign))
            except ArithError as e:
                raise ExpansionError(_arith_message(sh, str(e), expr))
            out.append((value, part.quoted, True))
    return out


def _arith_message(sh: Shell, problem: str, expr: str) -> str:
    if sh.dialect == "dash":
        return f'arithmetic expression: {"division by zero" if "zero" in problem else "expecting primary"}: "{expr}"'
    if sh.dialect == "bash":
        return f"{expr}: {'division by 0' if 'zero' in problem else 'syntax error: operand expected'}"
    return problem


def expand_string(sh: Shell, word: Word) -> Generator[Sleep, None, str]:
    """Expand without splitting or globbing (assignments, redirection targets, here-documents)."""
    chunks = yield from _chunks(sh, word.parts)
    return "".join(" " if c is _BREAK else c[0] for c in chunks)


def expand_pattern(sh: Shell, word: Word) -> Generator[Sleep, None, str]:
    """Expand into a glob pattern: quoted characters are escaped so they match literally."""
    chunks = yield from _chunks(sh, word.parts)
    return "".join("" if c is _BREAK else (_escape(c[0]) if c[1] else c[0]) for c in chunks)


def expand_fields(sh: Shell, word: Word) -> Generator[Sleep, None, list[str]]:
    chunks = yield from _chunks(sh, word.parts)
    ifs = sh.get("IFS", " \t\n") if sh.is_set("IFS") else " \t\n"
    fields: list[list[tuple[str, bool]]] = []
    current: list[tuple[str, bool]] = []
    keep = False

    def close() -> None:
        nonlocal current, keep
        if current and (keep or any(t for t, _ in current)):
            fields.append(current)
        elif keep:
            fields.append([("", True)])
        current, keep = [], False

    for c in chunks:
        if c is _BREAK:
            keep = True
            close()
            keep = True
            continue
        text, quoted, from_exp = c
        if quoted:
            keep = True
            current.append((text, True))
            continue
        if not from_exp or not ifs:
            current.append((text, False))
            continue
        pieces = _split(text, ifs)
        if not pieces:
            if text and current:  # only separators: ends the field
                close()
            continue
        if text[:1] in ifs and current:
            close()
        for k, piece in enumerate(pieces):
            if k:
                close()
            current.append((piece, False))
            if piece == "":
                keep = True
        if text[-1:] in ifs and text[-1:].isspace():
            close()
    close()
    result: list[str] = []
    for f in fields:
        if any(not q and any(ch in t for ch in "*?[") for t, q in f):
            pattern = "".join(t if not q else _escape(t) for t, q in f)
            matches = glob(sh, pattern)
            if matches:
                result.extend(matches)
                continue
        result.append("".join(t for t, _ in f))
    return result


def _split(text: str, ifs: str) -> list[str]:
    """Split on IFS: whitespace runs collapse, each other IFS character delimits one field."""
    white = "".join(ch for ch in ifs if ch.isspace())
    other = "".join(ch for ch in ifs if not ch.isspace())
    stripped = text.strip(white) if white else text
    if not stripped:
        return []
    w, o = re.escape(white), re.escape(other)
    if not other:
        return re.split(f"[{w}]+", stripped)
    rx = f"[{w}]*[{o}][{w}]*|[{w}]+" if white else f"[{o}]"
    pieces = re.split(rx, stripped)
    if pieces and pieces[-1] == "" and stripped[-1] in other:
        pieces.pop()
    return pieces


def _escape(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def pattern_regex(pattern: str, *, path_component: bool = False) -> str:
    """Translate a shell glob (with backslash escapes) into a regex body."""
    out: list[str] = []
    i = 0
    star = "[^/]*" if path_component else ".*"
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append(star)
        elif c == "?":
            out.append("." if not path_component else "[^/]")
        elif c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] in "!^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            while j < len(pattern) and pattern[j] != "]":
                j += 1
            if j >= len(pattern):
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body[:1] in "!^":
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern_regex(pattern), text, re.S) is not None


def unescape(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern)


def glob(sh: Shell, pattern: str) -> list[str]:
    absolute = pattern.startswith("/")
    parts = [p for p in pattern.split("/") if p]
    bases = ["/"] if absolute else [""]
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        nxt: list[str] = []
        magic = re.search(r"(?<!\\)[*?\[]", part) is not None
        for base in bases:
            here = sh.path(base or ".")
            if not magic:
                cand = posixpath.join(base, unescape(part)) if base else unescape(part)
                if last or sh.fs.isdir(sh.path(cand)):
                    nxt.append(cand)
                continue
            try:
                names = sh.fs.listdir(here)
            except OSError:
                continue
            rx = re.compile(pattern_regex(part, path_component=True) + r"\Z")
            for name in names:
                if name.startswith(".") and not part.startswith("."):
                    continue
                if rx.match(name):
                    cand = posixpath.join(base, name) if base else name
                    if last or sh.fs.isdir(sh.path(cand)):
                        nxt.append(cand)
        bases = nxt
    found = [b for b in bases if b and sh.fs.exists(sh.path(b))]
    return sorted(found) if re.search(r"(?<!\\)[*?\[]", pattern) else []


def _param(sh: Shell, p: Param) -> Generator[Sleep, None, str | list[str]]:
    name, op = p.name, p.op
    if name in ("@", "*") and op == "":
        return list(sh.args)
    value = sh.special(name) if not (name[0].isalpha() or name[0] == "_") else sh.vars.get(name)
    if op == "":
        if value is None and "u" in sh.options and name not in ("@", "*"):
            raise ExpansionError(f"{name}: parameter not set")
        return value if isinstance(value, str) else ""
    if op == "len":
        return str(len(value or ""))
    null_counts = op.startswith(":") and op != "substr"
    missing = value is None or (null_counts and value == "")
    base = op.lstrip(":")
    if base == "-":
        return (yield from expand_string(sh, p.arg)) if missing else (value or "")  # type: ignore[arg-type]
    if base == "=":
        if missing:
            value = yield from expand_string(sh, p.arg)  # type: ignore[arg-type]
            sh.assign(name, value)
        return value or ""
    if base == "+":
        return "" if missing else (yield from expand_string(sh, p.arg))  # type: ignore[arg-type]
    if base == "?":
        if missing:
            msg = yield from expand_string(sh, p.arg)  # type: ignore[arg-type]
            raise ExpansionError(
                f"{name}: {msg or ('parameter null or not set' if sh.dialect == 'bash' else 'parameter not set')}"
            )
        return value or ""
    value = value or ""
    if op in ("#", "##", "%", "%%"):
        pat = pattern_regex((yield from expand_pattern(sh, p.arg)))  # type: ignore[arg-type]
        cands = range(len(value) + 1)
        if op in ("#", "##"):
            order = cands if op == "#" else reversed(cands)
            for n in order:
                if re.fullmatch(pat, value[:n], re.S):
                    return value[n:]
        else:
            order = reversed(cands) if op == "%" else cands
            for n in order:
                if re.fullmatch(pat, value[n:], re.S):
                    return value[:n]
        return value
    if op in ("/", "//"):
        pat = pattern_regex((yield from expand_pattern(sh, p.arg)))  # type: ignore[arg-type]
        rep = (yield from expand_string(sh, p.arg2)) if p.arg2 else ""
        if not pat:
            return value
        return re.sub(pat, lambda m: rep, value, count=0 if op == "//" else 1, flags=re.S)
    if op == "substr":
        try:
            start = evaluate((yield from expand_string(sh, p.arg)), sh.get, sh.assign)  # type: ignore[arg-type]
            length = evaluate((yield from expand_string(sh, p.arg2)), sh.get, sh.assign) if p.arg2 else None
        except ArithError as e:
            raise ExpansionError(str(e))
        if start < 0:
            start = max(0, len(value) + start)
        end = None if length is None else (start + length if length >= 0 else len(value) + length)
        return value[start:end]
    raise ExpansionError("bad substitution")
