"""Shell arithmetic `$(( … ))`: 64-bit integers, C operators, variables by name, assignments.

A small Pratt parser over the already parameter-expanded text; values wrap like the shells'
signed 64-bit integers so no script can build an enormous number.

Read by: shell_expand (`$((…))` and `${x:offset:length}`). Reads: nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(
    r"\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_]*|\+\+|--|<<=|>>=|\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%()<>!~?:=&|^,])"
)
_BINARY = {
    ",": 1,
    "||": 3,
    "&&": 4,
    "|": 5,
    "^": 6,
    "&": 7,
    "==": 8,
    "!=": 8,
    "<": 9,
    ">": 9,
    "<=": 9,
    ">=": 9,
    "<<": 10,
    ">>": 10,
    "+": 11,
    "-": 11,
    "*": 12,
    "/": 12,
    "%": 12,
}
_ASSIGN = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="}


class ArithError(Exception):
    pass


def wrap(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >= 1 << 63 else n


def evaluate(text: str, get: Callable[[str], str], set_: Callable[[str, str], None]) -> int:
    tokens = _tokenize(text)
    if not tokens:
        return 0
    ev = _Eval(tokens, get, set_)
    value = ev.expr(0)
    if ev.i < len(tokens):
        raise ArithError("arithmetic syntax error")
    return value


def _tokenize(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ArithError("arithmetic syntax error")
        out.append(m.group(1))
        pos = m.end()
    return out


def _number(tok: str) -> int:
    if tok[:2].lower() == "0x":
        return int(tok, 16)
    if len(tok) > 1 and tok.startswith("0"):
        try:
            return int(tok, 8)
        except ValueError:
            raise ArithError("arithmetic syntax error")
    return int(tok)


class _Eval:
    def __init__(self, tokens: list[str], get: Callable[[str], str], set_: Callable[[str, str], None]) -> None:
        self.t, self.i, self.get, self.set = tokens, 0, get, set_

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str:
        if self.i >= len(self.t):
            raise ArithError("arithmetic syntax error")
        tok = self.t[self.i]
        self.i += 1
        return tok

    def var(self, name: str) -> int:
        raw = self.get(name).strip()
        if not raw:
            return 0
        try:
            return wrap(_number(raw) if raw.lstrip("-").isalnum() else int(raw))
        except (ValueError, ArithError):
            return evaluate(raw, self.get, self.set)

    def expr(self, min_prec: int) -> int:
        left = self.unary()
        while True:
            op = self.peek()
            if op == "?" and min_prec <= 2:
                self.take()
                a = self.expr(0)
                if self.take() != ":":
                    raise ArithError("arithmetic syntax error")
                b = self.expr(2)
                left = a if left else b
                continue
            prec = _BINARY.get(op or "")
            if prec is None or prec < min_prec:
                return left
            self.take()
            if op == "&&":
                right = self.expr(prec + 1)
                left = int(bool(left) and bool(right))
            elif op == "||":
                right = self.expr(prec + 1)
                left = int(bool(left) or bool(right))
            else:
                left = self.apply(op, left, self.expr(prec + 1))  # type: ignore[arg-type]

    @staticmethod
    def apply(op: str, a: int, b: int) -> int:
        if op in ("/", "%") and b == 0:
            raise ArithError("divide by zero")
        result = {
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "/": lambda: int(a / b) if (a < 0) != (b < 0) else a // b,
            "%": lambda: a - b * (int(a / b) if (a < 0) != (b < 0) else a // b),
            "<<": lambda: a << (b & 63),
            ">>": lambda: a >> (b & 63),
            "&": lambda: a & b,
            "|": lambda: a | b,
            "^": lambda: a ^ b,
            "<": lambda: int(a < b),
            ">": lambda: int(a > b),
            "<=": lambda: int(a <= b),
            ">=": lambda: int(a >= b),
            "==": lambda: int(a == b),
            "!=": lambda: int(a != b),
            ",": lambda: b,
        }[op]()
        return wrap(result)

    def unary(self) -> int:
        tok = self.take()
        if tok in ("+", "-", "!", "~"):
            v = self.unary()
            return wrap({"+": v, "-": -v, "!": int(not v), "~": ~v}[tok])
        if tok in ("++", "--"):
            name = self.take()
            v = wrap(self.var(name) + (1 if tok == "++" else -1))
            self.set(name, str(v))
            return v
        if tok == "(":
            v = self.expr(0)
            if self.take() != ")":
                raise ArithError("arithmetic syntax error")
            return v
        if tok[0].isdigit():
            try:
                return wrap(_number(tok))
            except ValueError:
                raise ArithError("arithmetic syntax error")
        if tok[0].isalpha() or tok[0] == "_":
            nxt = self.peek()
            if nxt in _ASSIGN:
                self.take()
                rhs = self.expr(2)
                v = rhs if nxt == "=" else self.apply(nxt[:-1], self.var(tok), rhs)
                self.set(tok, str(v))
                return v
            if nxt in ("++", "--"):
                self.take()
                v = self.var(tok)
                self.set(tok, str(wrap(v + (1 if nxt == "++" else -1))))
                return v
            return self.var(tok)
        raise ArithError("arithmetic syntax error")
