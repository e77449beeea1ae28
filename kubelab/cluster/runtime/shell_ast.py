"""The syntax tree of a POSIX shell script, as `shell_parser` builds it and `shell` runs it.

Words keep their quoting as parts, so expansion can tell `"$x"` from `$x` (no field splitting
inside quotes) exactly as POSIX describes.

Read by: shell_parser, shell, shell_expand. Reads: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Lit:
    text: str
    quoted: bool = False


@dataclass
class Param:
    name: str
    op: str = ""  # "", "-", ":-", "=", ":=", "+", ":+", "?", ":?", "#", "##", "%", "%%", "len", "/", "//", "substr"
    arg: Word | None = None
    arg2: Word | None = None  # replacement of ${x/a/b}, length of ${x:o:l}
    quoted: bool = False


@dataclass
class CmdSub:
    body: Node
    quoted: bool = False


@dataclass
class Arith:
    expr: Word
    quoted: bool = False


Part = Lit | Param | CmdSub | Arith


@dataclass
class Word:
    parts: list[Part]
    raw: str = ""

    def literal(self) -> str | None:
        """The text if the word is one unquoted literal (reserved words, names)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None

    def constant(self) -> str | None:
        """The word's value when expansion cannot change it (no $, globs or ~): the common case."""
        cached = self.__dict__.get("_constant", False)
        if cached is not False:
            return cached
        value: str | None = None
        if all(isinstance(p, Lit) for p in self.parts):
            text = "".join(p.text for p in self.parts)  # type: ignore[union-attr]
            special = any(
                not p.quoted and (set(p.text) & set("*?[") or p.text.startswith("~"))  # type: ignore[union-attr]
                for p in self.parts
            )
            if text and not special:
                value = text
        self.__dict__["_constant"] = value
        return value


@dataclass
class Redir:
    fd: int
    op: str  # ">", ">>", ">|", "<", "<>", ">&", "<&", "<<", "<<-"
    target: Word
    heredoc: Word | None = None


@dataclass
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirs: list[Redir]
    line: int = 1


@dataclass
class Pipeline:
    cmds: list[Node]
    negate: bool = False


@dataclass
class AndOr:
    first: Node
    rest: list[tuple[str, Node]] = field(default_factory=list)


@dataclass
class Sequence:
    items: list[tuple[Node, bool]]  # (and-or list, runs in background)


@dataclass
class If:
    clauses: list[tuple[Sequence, Sequence]]
    else_: Sequence | None = None
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Loop:
    cond: Sequence
    body: Sequence
    until: bool = False
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class For:
    var: str
    words: list[Word] | None
    body: Sequence
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Case:
    word: Word
    items: list[tuple[list[Word], Sequence | None]]
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class Group:
    body: Sequence
    subshell: bool = False
    redirs: list[Redir] = field(default_factory=list)


@dataclass
class FuncDef:
    name: str
    body: Node


Node = Simple | Pipeline | AndOr | Sequence | If | Loop | For | Case | Group | FuncDef
