"""Small computing utilities: basename dirname seq expr xargs.

`seq` charges the step budget for what it prints, so `seq 1 100000000` cannot stall the kernel;
`xargs` runs its command as a child process per batch.

Read by: commands (registered utilities). Reads: session, regexes, textutils (option parsing).
"""

from __future__ import annotations

import re
from collections.abc import Generator

from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.process import Sleep
from kubelab.cluster.runtime.regexes import compile_regex
from kubelab.cluster.runtime.session import Call
from kubelab.cluster.runtime.textutils import split_options


@utility("basename")
def basename(c: Call) -> int:
    if not c.args:
        return c.fail("missing operand")
    name = c.args[0].rstrip("/").rsplit("/", 1)[-1] or "/"
    if len(c.args) > 1 and name.endswith(c.args[1]) and name != c.args[1]:
        name = name[: -len(c.args[1])]
    c.out(name + "\n")
    return 0


@utility("dirname")
def dirname(c: Call) -> int:
    if not c.args:
        return c.fail("missing operand")
    path = c.args[0].rstrip("/")
    head = path.rsplit("/", 1)[0] if "/" in path else "."
    c.out((head or "/") + "\n")
    return 0


@utility("seq")
def seq(c: Call) -> int:
    opts, nums = split_options(c.args, "s")
    try:
        values = [float(x) if "." in x else int(x) for x in nums]
    except ValueError:
        return c.fail(f"invalid number '{nums}'" if c.busybox else f"invalid floating point argument: '{nums[0]}'")
    if not values or len(values) > 3:
        return c.fail("missing operand")
    first, step, last = (
        (1, 1, values[0])
        if len(values) == 1
        else ((values[0], 1, values[1]) if len(values) == 2 else (values[0], values[1], values[2]))
    )
    if step == 0:
        return c.fail("invalid Zero increment value: '0'")
    count = int((last - first) / step) + 1 if (last - first) * step >= 0 else 0
    c.session.budget.tick(max(count // 10, 1))  # a million numbers costs like a long loop
    out = []
    x = first
    for _ in range(count):
        out.append(str(x) if not isinstance(x, float) else f"{x:g}")
        x += step
    c.out(opts.get("s", "\n").join(out) + ("\n" if out else ""))
    return 0


@utility("expr")
def expr(c: Call) -> int:
    try:
        value = _Expr(c.args).run()
    except ZeroDivisionError:
        return c.fail("division by zero", 2)
    except (ValueError, IndexError):
        return c.fail("syntax error" if c.busybox else "syntax error: unexpected argument", 2)
    c.out(f"{value}\n")
    return 1 if value in ("", "0", 0) else 0


class _Expr:
    def __init__(self, args: list[str]) -> None:
        self.a, self.i = args, 0

    def run(self) -> int | str:
        v = self.or_()
        if self.i != len(self.a):
            raise ValueError
        return v

    def peek(self) -> str | None:
        return self.a[self.i] if self.i < len(self.a) else None

    def take(self) -> str:
        tok = self.a[self.i]
        self.i += 1
        return tok

    def or_(self) -> int | str:
        v = self.and_()
        while self.peek() == "|":
            self.take()
            r = self.and_()
            v = v if v not in ("", 0, "0") else (r if r not in ("", 0, "0") else 0)
        return v

    def and_(self) -> int | str:
        v = self.cmp()
        while self.peek() == "&":
            self.take()
            r = self.cmp()
            v = v if v not in ("", 0, "0") and r not in ("", 0, "0") else 0
        return v

    def cmp(self) -> int | str:
        v = self.add()
        while self.peek() in ("=", "!=", "<", "<=", ">", ">="):
            op = self.take()
            r = self.add()
            try:
                a, b = int(v), int(r)  # type: ignore[assignment]
            except ValueError:
                a, b = str(v), str(r)  # type: ignore[assignment]
            v = int({"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
        return v

    def add(self) -> int | str:
        v = self.mul()
        while self.peek() in ("+", "-"):
            op = self.take()
            r = self.mul()
            v = int(v) + int(r) if op == "+" else int(v) - int(r)
        return v

    def mul(self) -> int | str:
        v = self.match()
        while self.peek() in ("*", "/", "%"):
            op = self.take()
            a, b = int(v), int(self.match())
            if op != "*" and b == 0:
                raise ZeroDivisionError
            v = a * b if op == "*" else (int(a / b) if op == "/" else a - b * int(a / b))
        return v

    def match(self) -> int | str:
        v = self.primary()
        while self.peek() == ":":
            self.take()
            m = re.match(compile_regex(self.primary_str(), extended=False).pattern, str(v))
            if m is None:
                v = "" if re.search(r"\\\(", self.a[self.i - 1]) else 0
            else:
                v = m.group(1) if m.groups() else len(m.group(0))
        return v

    def primary_str(self) -> str:
        return str(self.primary())

    def primary(self) -> int | str:
        tok = self.take()
        if tok == "(":
            v = self.or_()
            if self.take() != ")":
                raise ValueError
            return v
        if tok == "length":
            return len(self.take())
        if tok == "substr":
            s, pos, n = self.take(), int(self.take()), int(self.take())
            return s[pos - 1 : pos - 1 + n]
        if tok == "index":
            s, chars = self.take(), self.take()
            return next((i for i, ch in enumerate(s, 1) if ch in chars), 0)
        return int(tok) if re.fullmatch(r"-?\d+", tok) else tok


@utility("xargs")
def xargs(c: Call) -> Generator[Sleep, None, int]:
    opts, cmd = split_options(c.args, "nI")
    cmd = cmd or ["echo"]
    words = c.io.stdin.read().split() if "I" not in opts else c.io.stdin.read().splitlines()
    status = 0
    if "I" in opts:
        batches = [[a.replace(opts["I"], w) for a in cmd] for w in words]
    else:
        n = int(opts["n"]) if opts.get("n", "").isdigit() else max(len(words), 1)
        batches = [cmd + words[i : i + n] for i in range(0, max(len(words), 1), n)]
    for argv in batches:
        st = yield from c.sh.exec_argv(argv, c.io, c.env)
        status = status or (123 if st else 0)
    return status
