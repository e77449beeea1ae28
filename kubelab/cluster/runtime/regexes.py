"""POSIX regular expressions (basic and extended, as grep/sed/expr take them) → Python `re`.

BRE treats `( ) { } | + ?` as literals and their backslashed forms as operators (with GNU's
extensions); both forms know bracket classes like `[[:digit:]]`, which Python lacks.

Read by: textutils, sed. Reads: nothing.
"""

from __future__ import annotations

import re

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
    "cntrl": r"\x00-\x1f\x7f",
}


def _bracket(p: str, i: int) -> tuple[str, int]:
    """Translate the bracket expression starting at p[i] == '['; returns (python, next index)."""
    j = i + 1
    out = ["["]
    if j < len(p) and p[j] == "^":
        out.append("^")
        j += 1
    first = True
    while j < len(p):
        ch = p[j]
        if ch == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        if ch == "[" and p.startswith("[:", j):
            end = p.find(":]", j)
            if end > 0:
                out.append(_CLASSES.get(p[j + 2 : end], ""))
                j = end + 2
                first = False
                continue
        out.append("\\" + ch if ch in "\\[]^" and not (ch == "^" and not first) else ch)
        first = False
        j += 1
    return re.escape(p[i:]), len(p)


def translate(pattern: str, *, extended: bool) -> str:
    out: list[str] = []
    i = 0
    at_start = True
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            text, i = _bracket(pattern, i)
            out.append(text)
            at_start = False
            continue
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            i += 2
            if nxt in "<>":
                out.append(r"\b")
            elif not extended and nxt in "(){}|+?":
                out.append(nxt)
                at_start = nxt in "(|"
                continue
            elif nxt.isdigit() or nxt in "wWsSbB":
                out.append("\\" + nxt)
            elif nxt == "n":
                out.append("\n")
            elif nxt == "t":
                out.append("\t")
            else:
                out.append(re.escape(nxt))
            at_start = False
            continue
        if not extended and ch in "(){}|+?":
            out.append("\\" + ch)
        elif ch == "*" and at_start:
            out.append(r"\*")
        elif extended and ch == "{" and not re.match(r"\{\d*(,\d*)?\}", pattern[i:]):
            out.append(r"\{")
        else:
            out.append(ch)
        at_start = ch in "^(|" if (extended or ch == "^") else False
        i += 1
    return "".join(out)


def compile_regex(
    pattern: str, *, extended: bool = False, fixed: bool = False, icase: bool = False, word: bool = False
) -> re.Pattern[str]:
    body = re.escape(pattern) if fixed else translate(pattern, extended=extended)
    if word:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    return re.compile(body, re.I if icase else 0)
