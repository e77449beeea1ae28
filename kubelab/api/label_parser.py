"""The string form of label selectors: labels.Parse and labels.NewRequirement, token for token.

`parse_requirements("app=web,env in (a,b)")` returns the requirements kube-apiserver would read
from a `labelSelector=` query, or raises `SelectorSyntaxError` carrying apimachinery's message
(`unable to parse requirement: …`, `found ',', expected: identifier after ','`). The lexer and
the recursive-descent parser follow apimachinery's closely because each error names the token
the real parser stopped at. `new_requirement` is NewRequirement's checks, shared by the
metav1.LabelSelector path in api.selectors.

Read by: api.selectors. Reads: api.errors (FieldError texts), api.names (key and value syntax).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from kubelab.api.errors import FieldError
from kubelab.api.names import label_value, qualified_name

# selection.Operator values, spelled as apimachinery spells them.
IN, NOT_IN, EXISTS, DOES_NOT_EXIST = "in", "notin", "exists", "!"
EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN = "=", "==", "!=", "gt", "lt"

_INT64 = re.compile(r"[+-]?[0-9]+")


class Requirement(NamedTuple):
    """One `key op values` term; `values` keep the order they were given in (String() sorts)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{self.key} {op} ({values})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        return f"{self.key}{symbol}{values}"


class SelectorSyntaxError(Exception):
    """A selector apimachinery would refuse; the text is its error message."""


def new_requirement(key: str, op: str, values: tuple[str, ...]) -> Requirement:
    """NewRequirement's checks; selectors are parsed without a field path, so paths start at `key`/`values`."""
    errors: list[FieldError] = []
    problems = qualified_name(key)
    if problems:
        errors.append(FieldError("Invalid", "key", key, "; ".join(problems)))
    if op in (IN, NOT_IN):
        if not values:
            errors.append(FieldError("Invalid", "values", list(values),
                                     "for 'in', 'notin' operators, values set can't be empty"))
    elif op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errors.append(FieldError("Invalid", "values", list(values),
                                     "exact-match compatibility requires one single value"))
    elif op in (EXISTS, DOES_NOT_EXIST):
        if values:
            errors.append(FieldError("Invalid", "values", list(values),
                                     "values set must be empty for exists and does not exist"))
    elif op in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errors.append(FieldError("Invalid", "values", list(values),
                                     "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, value in enumerate(values):
            if int64(value) is None:
                errors.append(FieldError("Invalid", f"values[{i}]", value,
                                         "for 'Gt', 'Lt' operators, the value must be an integer"))
    for i, value in enumerate(values):
        problems = label_value(value)
        if problems:
            errors.append(FieldError("Invalid", f"values[{i}][{key}]", value, "; ".join(problems)))
    if errors:
        raise SelectorSyntaxError(_aggregate(errors))
    return Requirement(key, op, tuple(values))


def _aggregate(errors: list[FieldError]) -> str:
    """utilerrors.Aggregate's text: one message alone, several as `[a, b]`, duplicates dropped."""
    messages = list(dict.fromkeys(str(e) for e in errors))
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


def int64(text: Any) -> int | None:
    """strconv.ParseInt(text, 10, 64), or None where Go would fail."""
    if not isinstance(text, str) or not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def parse_requirements(text: str) -> list[Requirement]:
    """labels.Parse's requirements in the order written (the selector sorts them by key)."""
    return _Parser(text).parse()


_WHITESPACE = frozenset(" \t\r\n")
_SPECIAL = frozenset("=!(),><")
_SYMBOLS = frozenset({")", ",", "!", "==", "=", ">", "<", "!=", "("})
_ID, _EOS = "identifier", "end"
_BINARY = {IN: IN, "=": EQUALS, "==": DOUBLE_EQUALS, ">": GREATER_THAN, "<": LESS_THAN,
           NOT_IN: NOT_IN, "!=": NOT_EQUALS}


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens as (kind, literal); `in`/`notin` keep their own kind until the parser decides."""
    items: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        # Go's lexer reads a NUL byte as the end of input.
        if pos >= end or text[pos] == "\x00":
            items.append((_EOS, ""))
            return items
        if text[pos] in _SPECIAL:
            # Longest run of special characters that still spells an operator ("!=" but "!(" is "!").
            buffer, last = "", ""
            while pos < end and text[pos] in _SPECIAL:
                buffer += text[pos]
                if buffer in _SYMBOLS:
                    last = buffer
                elif last:
                    break
                pos += 1
            items.append((last, last))
            continue
        start = pos
        while pos < end and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE and text[pos] != "\x00":
            pos += 1
        word = text[start:pos]
        if pos < end and text[pos] == "\x00":
            pos += 1
        items.append((word if word in (IN, NOT_IN) else _ID, word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.position = 0

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        tok, lit = self.items[self.position]
        # Where a value may stand, `in` and `notin` are plain words (`x in (in)`).
        if values and tok in (IN, NOT_IN):
            tok = _ID
        return tok, lit

    def consume(self, values: bool = True) -> tuple[str, str]:
        item = self.lookahead(values)
        self.position += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok == _EOS:
                return requirements
            if tok not in (_ID, "!"):
                raise SelectorSyntaxError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except SelectorSyntaxError as e:
                raise SelectorSyntaxError(f"unable to parse requirement: {e}")
            tok, lit = self.consume()
            if tok == _EOS:
                return requirements
            if tok != ",":
                raise SelectorSyntaxError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.lookahead()
            if tok not in (_ID, "!"):
                raise SelectorSyntaxError(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        key, op = self.key_and_inferred_operator()
        if op in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, op, ())
        op = self.operator()
        values = self.value_set() if op in (IN, NOT_IN) else self.exact_value()
        return new_requirement(key, op, tuple(sorted(values)))

    def key_and_inferred_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.consume()
        if tok == "!":
            op = DOES_NOT_EXIST
            tok, lit = self.consume()
        if tok != _ID:
            raise SelectorSyntaxError(f"found '{lit}', expected: identifier")
        problems = qualified_name(lit)
        if problems:
            # The parser validates keys with a nil field path, which Go prints as "<nil>".
            raise SelectorSyntaxError(str(FieldError("Invalid", "<nil>", lit, "; ".join(problems))))
        if op != DOES_NOT_EXIST and self.lookahead()[0] in (_EOS, ","):
            op = EXISTS
        return lit, op

    def operator(self) -> str:
        tok, lit = self.consume(values=False)
        if tok not in _BINARY:
            raise SelectorSyntaxError(f"found '{lit}', expected: in, notin, =, ==, !=, gt, lt")
        return _BINARY[tok]

    def value_set(self) -> set[str]:
        tok, lit = self.consume()
        if tok != "(":
            raise SelectorSyntaxError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok == ")":  # "()" is the set holding the empty string
            self.consume()
            return {""}
        if tok not in (_ID, ","):
            raise SelectorSyntaxError(f"found '{lit}', expected: ',', ')' or identifier")
        values = self.identifiers()
        self.consume()  # the ")" identifiers() stopped at
        return values

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume()
            if tok == _ID:
                values.add(lit)
                tok, lit = self.lookahead()
                if tok == ")":
                    return values
                if tok != ",":
                    raise SelectorSyntaxError(f"found '{lit}', expected: ',' or ')'")
            elif tok == ",":
                # Empty slots — "(,a", "a,,b", "a,)" — stand for the empty string.
                if not values:
                    values.add("")
                tok, _ = self.lookahead()
                if tok == ")":
                    values.add("")
                    return values
                if tok == ",":
                    values.add("")
            else:
                raise SelectorSyntaxError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_EOS, ","):
            return {""}
        tok, lit = self.consume()
        if tok != _ID:
            raise SelectorSyntaxError(f"found '{lit}', expected: identifier")
        return {lit}
