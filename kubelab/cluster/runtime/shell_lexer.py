"""The shell's lexer: script text → tokens and words, with quoting kept as word parts.

Shell tokens depend on where they appear, so the parser pulls them one at a time; a word may
nest a whole script (`$(…)`, backticks), which the lexer hands back to the parser to read.
Syntax errors carry the offending token, so each shell's own wording can be printed.

Read by: shell_parser (Parser extends Lexer). Reads: shell_ast.
"""

from __future__ import annotations

from kubelab.cluster.runtime.shell_ast import Arith, CmdSub, Lit, Node, Param, Part, Redir, Word

RESERVED = {
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "do",
    "done",
    "case",
    "esac",
    "while",
    "until",
    "for",
    "in",
    "{",
    "}",
    "!",
}
OPERATORS = ["&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", "&", "|", ";", "<", ">", "(", ")"]
META = set(" \t\n;&|()<>")
NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
NAME_CHARS = NAME_START | set("0123456789")
SPECIAL_PARAMS = set("@*#?$!-0123456789")


class ShellSyntaxError(Exception):
    """`kind` is unexpected | unterminated | bad_substitution; `token` the text found (None at EOF)."""

    def __init__(self, kind: str, token: str | None = None, expecting: str | None = None, line: int = 1) -> None:
        super().__init__(kind, token, expecting)
        self.kind, self.token, self.expecting, self.line = kind, token, expecting, line

    def message(self, dialect: str) -> str:
        tok = self.token
        if self.kind == "bad_substitution":
            return {"ash": "syntax error: bad substitution", "dash": "Bad substitution"}.get(
                dialect, "bad substitution"
            )
        if self.kind == "unterminated":
            if dialect == "bash":
                return f"unexpected EOF while looking for matching `{tok}'"
            return (
                "Syntax error: Unterminated quoted string"
                if dialect == "dash"
                else "syntax error: unterminated quoted string"
            )
        if dialect == "bash":
            if tok is None:
                return "syntax error: unexpected end of file"
            return f"syntax error near unexpected token `{'newline' if tok == chr(10) else tok}'"
        desc = "end of file" if tok is None else "newline" if tok == "\n" else f'"{tok}"'
        expect = f' (expecting "{self.expecting}")' if self.expecting else ""
        if dialect == "dash":
            return f"Syntax error: {desc} unexpected{expect}"
        return f"syntax error: unexpected {desc}{expect}"


class Token:
    __slots__ = ("kind", "value", "word")

    def __init__(self, kind: str, value: str = "", word: Word | None = None) -> None:
        self.kind, self.value, self.word = kind, value, word  # kind: WORD OP NEWLINE EOF IO

    def keyword(self) -> str | None:
        if self.kind == "WORD" and self.word is not None:
            lit = self.word.literal()
            if lit in RESERVED:
                return lit
        return None

    def text(self) -> str | None:
        if self.kind == "EOF":
            return None
        if self.kind == "NEWLINE":
            return "\n"
        return self.word.raw if self.word is not None else self.value


class Lexer:
    """On-demand tokenizer; `_nested_script` and `_parse_text` are supplied by the Parser."""

    def __init__(self, src: str, pos: int = 0) -> None:
        self.src = src
        self.pos = pos
        self._peeked: Token | None = None
        self._heredocs: list[tuple[Redir, str, bool, bool]] = []

    # ---- errors ------------------------------------------------------------------------
    def line(self) -> int:
        return self.src.count("\n", 0, self.pos) + 1

    def fail(self, tok: Token, expecting: str | None = None) -> None:
        raise ShellSyntaxError("unexpected", tok.text(), expecting, self.line())

    # ---- lexer -------------------------------------------------------------------------
    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def take(self) -> Token:
        tok = self.peek()
        self._peeked = None
        return tok

    def _lex(self) -> Token:
        src = self.src
        while True:
            while self.pos < len(src) and src[self.pos] in " \t":
                self.pos += 1
            if src.startswith("\\\n", self.pos):
                self.pos += 2
                continue
            if self.pos < len(src) and src[self.pos] == "#":
                while self.pos < len(src) and src[self.pos] != "\n":
                    self.pos += 1
            break
        if self.pos >= len(src):
            if self._heredocs:
                self._read_heredocs()
            return Token("EOF")
        c = src[self.pos]
        if c == "\n":
            self.pos += 1
            if self._heredocs:
                self._read_heredocs()
            return Token("NEWLINE")
        for op in OPERATORS:
            if src.startswith(op, self.pos):
                self.pos += len(op)
                return Token("OP", op)
        if c.isdigit():
            j = self.pos
            while j < len(src) and src[j].isdigit():
                j += 1
            if j < len(src) and src[j] in "<>":
                value = src[self.pos : j]
                self.pos = j
                return Token("IO", value)
        start = self.pos
        parts = self._read_parts(stop=META)
        return Token("WORD", word=Word(parts, src[start : self.pos]))

    def _read_parts(self, stop: set[str] | str, dquote: bool = False, heredoc: bool = False) -> list[Part]:
        """Read word parts until an unquoted char in `stop` (not consumed) or end of input."""
        src = self.src
        parts: list[Part] = []
        buf: list[str] = []
        quoted = dquote or heredoc

        def flush() -> None:
            if buf:
                parts.append(Lit("".join(buf), quoted))
                buf.clear()

        while self.pos < len(src):
            c = src[self.pos]
            if c in stop:
                break
            if c == "\\":
                nxt = src[self.pos + 1 : self.pos + 2]
                if nxt == "\n":
                    self.pos += 2
                    continue
                if not quoted:
                    flush()
                    parts.append(Lit(nxt, True))
                    self.pos += 2
                    continue
                if nxt in ("$", "`", "\\") or (dquote and nxt == '"'):
                    buf.append(nxt)
                    self.pos += 2
                    continue
                buf.append(c)
                self.pos += 1
                continue
            if c == "'" and not quoted:
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated", "'", line=self.line())
                flush()
                parts.append(Lit(src[self.pos + 1 : end], True))
                self.pos = end + 1
                continue
            if c == '"' and not quoted:
                flush()
                self.pos += 1
                inner = self._read_parts('"', dquote=True)
                if self.pos >= len(src):
                    raise ShellSyntaxError("unterminated", '"', line=self.line())
                self.pos += 1
                parts.extend(inner or [Lit("", True)])
                continue
            if c == "$":
                part = self._dollar(quoted)
                if part is not None:
                    flush()
                    parts.append(part)
                    continue
                buf.append("$")
                self.pos += 1
                continue
            if c == "`":
                flush()
                parts.append(self._backtick(quoted))
                continue
            buf.append(c)
            self.pos += 1
        flush()
        return parts

    def _dollar(self, quoted: bool) -> Part | None:
        src, i = self.src, self.pos + 1
        if src.startswith("((", i):
            depth, j = 0, i + 2
            while j < len(src):
                if src[j] == "(":
                    depth += 1
                elif src[j] == ")":
                    if depth == 0 and src.startswith("))", j):
                        sub = type(self)(src[i + 2 : j])
                        expr = Word(sub._read_parts(set(), heredoc=True), src[i + 2 : j])
                        self.pos = j + 2
                        return Arith(expr, quoted)
                    depth -= 1
                j += 1
            raise ShellSyntaxError("unterminated", "(", line=self.line())
        if src.startswith("(", i):
            body, self.pos = self._nested_script(i + 1)
            return CmdSub(body, quoted)
        if src.startswith("{", i):
            return self._braced(i + 1, quoted)
        if i < len(src) and src[i] in NAME_START:
            j = i
            while j < len(src) and src[j] in NAME_CHARS:
                j += 1
            self.pos = j
            return Param(src[i:j], quoted=quoted)
        if i < len(src) and src[i] in SPECIAL_PARAMS:
            self.pos = i + 1
            return Param(src[i], quoted=quoted)
        return None

    def _braced(self, i: int, quoted: bool) -> Part:
        src = self.src
        length = False
        if src.startswith("#", i) and i + 1 < len(src) and src[i + 1] != "}":
            length, i = True, i + 1
        j = i
        if j < len(src) and src[j] in NAME_START:
            while j < len(src) and src[j] in NAME_CHARS:
                j += 1
        elif j < len(src) and src[j].isdigit():
            while j < len(src) and src[j].isdigit():
                j += 1
        elif j < len(src) and src[j] in SPECIAL_PARAMS:
            j += 1
        name = src[i:j]
        if not name:
            raise ShellSyntaxError("bad_substitution", line=self.line())
        self.pos = j
        if length:
            if not src.startswith("}", j):
                raise ShellSyntaxError("bad_substitution", line=self.line())
            self.pos = j + 1
            return Param(name, "len", quoted=quoted)
        if src.startswith("}", j):
            self.pos = j + 1
            return Param(name, quoted=quoted)
        for op in (":-", ":=", ":+", ":?", "##", "%%", "//", "-", "=", "+", "?", "#", "%", "/", ":"):
            if src.startswith(op, j):
                self.pos = j + len(op)
                break
        else:
            raise ShellSyntaxError("bad_substitution", line=self.line())
        arg2 = None
        if op in ("/", "//"):
            arg = Word(self._read_parts("/}", heredoc=quoted))
            if src.startswith("/", self.pos):
                self.pos += 1
                arg2 = Word(self._read_parts("}", heredoc=quoted))
        elif op == ":":
            op = "substr"
            arg = Word(self._read_parts(":}", heredoc=True))
            if src.startswith(":", self.pos):
                self.pos += 1
                arg2 = Word(self._read_parts("}", heredoc=True))
        else:
            arg = Word(self._read_parts("}", heredoc=quoted))
        if not src.startswith("}", self.pos):
            raise ShellSyntaxError("bad_substitution", line=self.line())
        self.pos += 1
        return Param(name, op, arg, arg2, quoted)

    def _backtick(self, quoted: bool) -> Part:
        src, j = self.src, self.pos + 1
        inner: list[str] = []
        while j < len(src) and src[j] != "`":
            if src[j] == "\\" and j + 1 < len(src) and src[j + 1] in "$`\\":
                inner.append(src[j + 1])
                j += 2
                continue
            inner.append(src[j])
            j += 1
        if j >= len(src):
            raise ShellSyntaxError("unterminated", "`", line=self.line())
        self.pos = j + 1
        return CmdSub(self._parse_text("".join(inner)), quoted)

    def _read_heredocs(self) -> None:
        pending, self._heredocs = self._heredocs, []
        for redir, delim, quoted, strip in pending:
            lines: list[str] = []
            while self.pos < len(self.src):
                end = self.src.find("\n", self.pos)
                line = self.src[self.pos :] if end < 0 else self.src[self.pos : end]
                self.pos = len(self.src) if end < 0 else end + 1
                if strip:
                    line = line.lstrip("\t")
                if line == delim:
                    break
                lines.append(line + "\n")
            body = "".join(lines)
            redir.heredoc = (
                Word([Lit(body, True)]) if quoted else Word(type(self)(body)._read_parts(set(), heredoc=True))
            )

    def _nested_script(self, pos: int) -> tuple[Node, int]:
        raise NotImplementedError

    def _parse_text(self, text: str) -> Node:
        raise NotImplementedError
