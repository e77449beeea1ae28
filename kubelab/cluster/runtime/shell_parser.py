"""A POSIX sh parser: tokens from `shell_lexer` → the `shell_ast` tree, by recursive descent.

Keywords count only where a command starts (`echo done` is fine, `done` alone is not), and
errors name the token ash/dash/bash would name ("unexpected "done"", "expecting "fi"").

Read by: shell (parse before running), shell_builtins (eval). Reads: shell_lexer, shell_ast.
"""

from __future__ import annotations

from kubelab.cluster.runtime.shell_ast import (
    AndOr,
    Case,
    For,
    FuncDef,
    Group,
    If,
    Lit,
    Loop,
    Node,
    Part,
    Pipeline,
    Redir,
    Sequence,
    Simple,
    Word,
)
from kubelab.cluster.runtime.shell_lexer import NAME_CHARS, NAME_START, Lexer, ShellSyntaxError

__all__ = ["Parser", "ShellSyntaxError", "parse"]


def parse(src: str) -> Sequence:
    """Parse a whole script; raises ShellSyntaxError."""
    p = Parser(src)
    seq = p.compound_list(set())
    tok = p.peek()
    if tok.kind != "EOF":
        p.fail(tok)
    return seq


class Parser(Lexer):
    def _nested_script(self, pos: int) -> tuple[Node, int]:
        sub = Parser(self.src, pos)
        body = sub.compound_list(set())
        tok = sub.take()
        if not (tok.kind == "OP" and tok.value == ")"):
            sub.fail(tok, ")")
        return body, sub.pos

    def _parse_text(self, text: str) -> Node:
        return parse(text)

    # ---- grammar -----------------------------------------------------------------------
    def _skip_newlines(self) -> None:
        while self.peek().kind == "NEWLINE":
            self.take()

    def compound_list(self, stop: set[str]) -> Sequence:
        items: list[tuple[Node, bool]] = []
        while True:
            self._skip_newlines()
            tok = self.peek()
            if tok.kind == "EOF" or (tok.kind == "OP" and tok.value in (")", ";;")) or tok.keyword() in stop:
                break
            node = self.and_or()
            tok = self.peek()
            if tok.kind == "OP" and tok.value in (";", "&"):
                self.take()
                items.append((node, tok.value == "&"))
            elif tok.kind == "NEWLINE":
                items.append((node, False))
            else:
                items.append((node, False))
                break
        return Sequence(items)

    def _body(self, stop: set[str], opener: str) -> Sequence:
        seq = self.compound_list(stop)
        if not seq.items:
            self.fail(self.peek())
        return seq

    def and_or(self) -> Node:
        first = self.pipeline()
        rest: list[tuple[str, Node]] = []
        while self.peek().kind == "OP" and self.peek().value in ("&&", "||"):
            op = self.take().value
            self._skip_newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest) if rest else first

    def pipeline(self) -> Node:
        negate = False
        if self.peek().keyword() == "!":
            self.take()
            negate = True
        cmds = [self.command()]
        while self.peek().kind == "OP" and self.peek().value == "|":
            self.take()
            self._skip_newlines()
            cmds.append(self.command())
        if len(cmds) == 1 and not negate:
            return cmds[0]
        return Pipeline(cmds, negate)

    def _expect_kw(self, word: str) -> None:
        tok = self.take()
        if tok.keyword() != word:
            self.fail(tok, word)

    def command(self) -> Node:
        tok = self.peek()
        kw = tok.keyword()
        node: Node
        if kw == "if":
            self.take()
            clauses = []
            cond = self._body({"then"}, "if")
            self._expect_kw("then")
            body = self._body({"elif", "else", "fi"}, "then")
            clauses.append((cond, body))
            else_ = None
            while True:
                nxt = self.take()
                k = nxt.keyword()
                if k == "elif":
                    cond = self._body({"then"}, "elif")
                    self._expect_kw("then")
                    clauses.append((cond, self._body({"elif", "else", "fi"}, "then")))
                elif k == "else":
                    else_ = self._body({"fi"}, "else")
                    self._expect_kw("fi")
                    break
                elif k == "fi":
                    break
                else:
                    self.fail(nxt, "fi")
            node = If(clauses, else_)
        elif kw in ("while", "until"):
            self.take()
            cond = self._body({"do"}, kw)
            self._expect_kw("do")
            body = self._body({"done"}, "do")
            self._expect_kw("done")
            node = Loop(cond, body, until=kw == "until")
        elif kw == "for":
            self.take()
            name_tok = self.take()
            var = name_tok.word.literal() if name_tok.kind == "WORD" and name_tok.word else None
            if not var or not all(ch in NAME_CHARS for ch in var) or var[0].isdigit():
                self.fail(name_tok)
            words: list[Word] | None = None
            self._skip_newlines()
            if self.peek().keyword() == "in":
                self.take()
                words = []
                while self.peek().kind == "WORD":
                    words.append(self.take().word)  # type: ignore[arg-type]
                if self.peek().kind == "OP" and self.peek().value == ";":
                    self.take()
            elif self.peek().kind == "OP" and self.peek().value == ";":
                self.take()
            self._skip_newlines()
            self._expect_kw("do")
            body = self._body({"done"}, "do")
            self._expect_kw("done")
            node = For(var or "", words, body)
        elif kw == "case":
            node = self._case()
        elif kw == "{":
            self.take()
            body = self._body({"}"}, "{")
            self._expect_kw("}")
            node = Group(body)
        elif tok.kind == "OP" and tok.value == "(":
            self.take()
            body = self.compound_list(set())
            close = self.take()
            if not (close.kind == "OP" and close.value == ")"):
                self.fail(close, ")")
            node = Group(body, subshell=True)
        elif kw is not None and kw != "!":
            self.fail(tok)
            raise AssertionError
        else:
            if tok.kind == "WORD" and tok.word is not None:
                name = tok.word.literal()
                rest = self.src[self.pos :].lstrip(" \t")
                if name and rest.startswith("(") and rest[1:].lstrip(" \t").startswith(")"):
                    self.take()
                    self.pos = self.src.index(")", self.pos) + 1
                    self._skip_newlines()
                    return FuncDef(name, self.command())
            return self.simple()
        node.redirs.extend(self._redirs())  # type: ignore[union-attr]
        return node

    def _case(self) -> Node:
        self.take()
        wtok = self.take()
        if wtok.kind != "WORD":
            self.fail(wtok)
        self._skip_newlines()
        self._expect_kw("in")
        items: list[tuple[list[Word], Sequence | None]] = []
        while True:
            self._skip_newlines()
            tok = self.peek()
            if tok.keyword() == "esac":
                self.take()
                break
            if tok.kind == "OP" and tok.value == "(":
                self.take()
            patterns: list[Word] = []
            while True:
                p = self.take()
                if p.kind != "WORD":
                    self.fail(p)
                patterns.append(p.word)  # type: ignore[arg-type]
                sep = self.take()
                if sep.kind == "OP" and sep.value == "|":
                    continue
                if sep.kind == "OP" and sep.value == ")":
                    break
                self.fail(sep, ")")
            body = self.compound_list({"esac"})
            items.append((patterns, body if body.items else None))
            tok = self.peek()
            if tok.kind == "OP" and tok.value == ";;":
                self.take()
                continue
            self._skip_newlines()
            if self.peek().keyword() == "esac":
                self.take()
                break
            self.fail(self.peek(), "esac")
        return Case(wtok.word, items)  # type: ignore[arg-type]

    def _redirs(self) -> list[Redir]:
        out: list[Redir] = []
        while True:
            r = self._redir()
            if r is None:
                return out
            out.append(r)

    def _redir(self) -> Redir | None:
        tok = self.peek()
        fd: int | None = None
        if tok.kind == "IO":
            self.take()
            fd = int(tok.value)
            tok = self.peek()
        if not (tok.kind == "OP" and tok.value in ("<", ">", ">>", ">|", "<>", ">&", "<&", "<<", "<<-")):
            if fd is not None:
                self.fail(tok)
            return None
        op = self.take().value
        target = self.take()
        if target.kind != "WORD" or target.word is None:
            self.fail(target)
            raise AssertionError
        if fd is None:
            fd = 0 if op in ("<", "<>", "<&", "<<", "<<-") else 1
        redir = Redir(fd, op, target.word)
        if op in ("<<", "<<-"):
            raw = target.word.raw
            quoted = any(q in raw for q in "'\"\\")
            delim = "".join(p.text for p in target.word.parts if isinstance(p, Lit))
            self._heredocs.append((redir, delim, quoted, op == "<<-"))
        return redir

    def simple(self) -> Node:
        line = self.line()
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirs: list[Redir] = []
        while True:
            r = self._redir()
            if r is not None:
                redirs.append(r)
                continue
            tok = self.peek()
            if tok.kind != "WORD" or tok.word is None:
                break
            self.take()
            if not words:
                eq = _assignment(tok.word)
                if eq is not None:
                    assigns.append(eq)
                    continue
            words.append(tok.word)
        if not (assigns or words or redirs):
            self.fail(self.peek())
        return Simple(assigns, words, redirs, line)


def _assignment(word: Word) -> tuple[str, Word] | None:
    first = word.parts[0] if word.parts else None
    if not isinstance(first, Lit) or first.quoted or "=" not in first.text:
        return None
    name, _, rest = first.text.partition("=")
    if not name or name[0] not in NAME_START or not all(c in NAME_CHARS for c in name):
        return None
    parts: list[Part] = ([Lit(rest)] if rest else []) + word.parts[1:]
    return name, Word(parts, word.raw[len(name) + 1 :])
