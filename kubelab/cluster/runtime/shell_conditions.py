"""`test` / `[ … ]`: POSIX's argument-count rules, then -a/-o/!/( ) for longer expressions.

File tests look at the container's filesystem with the caller's uid, so `[ -w /etc/config ]`
is false on a read-only ConfigMap mount and `[ -x script.sh ]` reflects its mode.

Read by: shell_builtins. Reads: session (Call).
"""

from __future__ import annotations

from kubelab.cluster.runtime.session import Call

UNARY = set("-b -c -d -e -f -g -h -k -L -n -p -r -s -S -t -u -w -x -z -O -G".split())
BINARY = set("= == != < > -eq -ne -lt -le -gt -ge -nt -ot -ef".split())


class ConditionError(Exception):
    pass


def evaluate_test(c: Call) -> int:
    args = list(c.args)
    sh = c.sh
    if c.name == "[":
        if not args or args[-1] != "]":
            sh.error(c.io, {"ash": "[: missing ]", "dash": "[: missing ]"}.get(sh.dialect, "[: missing `]'"))
            return 2
        args = args[:-1]
    try:
        return 0 if _Cond(c, args).run() else 1
    except ConditionError as e:
        sh.error(c.io, f"{c.name}: {e}" if sh.dialect != "ash" else str(e))
        return 2


class _Cond:
    def __init__(self, c: Call, args: list[str]) -> None:
        self.c, self.a, self.i = c, args, 0

    def run(self) -> bool:
        a = self.a
        n = len(a)
        if n == 0:
            return False
        if n == 1:
            return a[0] != ""
        if n == 2:
            if a[0] == "!":
                return a[1] == ""
            if a[0] in UNARY:
                return self.unary(a[0], a[1])
            raise ConditionError(self._unexpected(a[0]))
        if n == 3:
            if a[1] in BINARY:
                return self.binary(a[0], a[1], a[2])
            if a[0] == "!":
                return not _Cond(self.c, a[1:]).run()
            if a[0] == "(" and a[2] == ")":
                return a[1] != ""
        if n == 4 and a[0] == "!":
            return not _Cond(self.c, a[1:]).run()
        value = self.or_expr()
        if self.i < n:
            raise ConditionError(self._unexpected(a[self.i]))
        return value

    def _unexpected(self, tok: str) -> str:
        d = self.c.sh.dialect
        if d == "bash":
            return f"{tok}: unary operator expected" if tok.startswith("-") else "too many arguments"
        return f"{tok}: unexpected operator" if d == "dash" else f"{tok}: unknown operand"

    def take(self) -> str:
        if self.i >= len(self.a):
            raise ConditionError("argument expected")
        tok = self.a[self.i]
        self.i += 1
        return tok

    def peek(self) -> str | None:
        return self.a[self.i] if self.i < len(self.a) else None

    def or_expr(self) -> bool:
        value = self.and_expr()
        while self.peek() == "-o":
            self.take()
            value = self.and_expr() or value
        return value

    def and_expr(self) -> bool:
        value = self.not_expr()
        while self.peek() == "-a":
            self.take()
            value = self.not_expr() and value
        return value

    def not_expr(self) -> bool:
        if self.peek() == "!":
            self.take()
            return not self.not_expr()
        return self.primary()

    def primary(self) -> bool:
        tok = self.take()
        if tok == "(":
            value = self.or_expr()
            if self.take() != ")":
                raise ConditionError("missing )")
            return value
        if tok in UNARY and self.i < len(self.a):
            return self.unary(tok, self.take())
        if self.peek() in BINARY:
            op = self.take()
            return self.binary(tok, op, self.take())
        return tok != ""

    def number(self, s: str) -> int:
        try:
            return int(s.strip())
        except ValueError:
            d = self.c.sh.dialect
            raise ConditionError(
                f"Illegal number: {s}"
                if d == "dash"
                else f"{s}: integer expression expected"
                if d == "bash"
                else f"{s}: bad number"
            )

    def binary(self, x: str, op: str, y: str) -> bool:
        if op in ("=", "=="):
            return x == y
        if op == "!=":
            return x != y
        if op == "<":
            return x < y
        if op == ">":
            return x > y
        if op in ("-nt", "-ot", "-ef"):
            fs = self.c.fs
            try:
                mx, my = fs.stat(self.c.path(x)).mtime, fs.stat(self.c.path(y)).mtime
            except OSError:
                return False
            return {"-nt": mx > my, "-ot": mx < my, "-ef": self.c.path(x) == self.c.path(y)}[op]
        a, b = self.number(x), self.number(y)
        return {"-eq": a == b, "-ne": a != b, "-lt": a < b, "-le": a <= b, "-gt": a > b, "-ge": a >= b}[op]

    def unary(self, op: str, arg: str) -> bool:
        if op == "-z":
            return arg == ""
        if op == "-n":
            return arg != ""
        if op == "-t":
            return False  # no terminal: kubelet logs are not a tty
        fs, path = self.c.fs, self.c.path(arg)
        if not arg:
            return False
        try:
            node = fs.stat(path, follow=op not in ("-h", "-L"))
        except OSError:
            return False
        cred = self.c.session.cred
        if op == "-e":
            return True
        if op == "-f":
            return node.kind == "file"
        if op == "-d":
            return node.kind == "dir"
        if op in ("-h", "-L"):
            return node.kind == "link"
        if op == "-s":
            return node.kind != "file" or len(node.data) > 0
        if op in ("-r", "-w", "-x"):
            bit = {"-r": 4, "-w": 2, "-x": 1}[op]
            if op == "-w" and fs.is_read_only(path):
                return False
            if cred.uid == 0:
                return bit != 1 or bool(node.mode & 0o111) or node.kind == "dir"
            shift = 6 if node.uid == cred.uid else 3 if node.gid in cred.gids else 0
            return bool((node.mode >> shift) & bit)
        if op == "-O":
            return node.uid == cred.uid
        if op == "-G":
            return node.gid in cred.gids
        return False  # -b -c -p -S -g -u -k: no devices, fifos, sockets or setuid bits here
