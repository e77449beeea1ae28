"""Reading YAML and JSON text the way kubectl does, with errors that say where.

kubectl splits a file on `---` lines, converts each YAML document to JSON with go-yaml v2
semantics and decodes JSON streams with Go's encoding/json. This module reproduces what that
yields — `yes`/`y`/`on` are booleans, `0777` is octal, `12:30` and `2024-01-01` stay strings,
`1.0` becomes `1` — and turns parse failures into `TextError`s carrying go-yaml's / encoding/json's
wording and a line and column counted from the start of the file (kubectl counts from the start of
the document), plus a hint for the usual beginner mistakes.

Read by: api.manifests. Reads: nothing (PyYAML, using libyaml when present: its messages are
go-yaml's, as go-yaml is a port of libyaml).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?\r?$")


class TextError(Exception):
    """A parse failure: `message` in the parser's words, 1-based `line`/`column` in the file."""

    def __init__(self, syntax: str, message: str, line: int, column: int, *, document: int,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.syntax, self.message, self.line, self.column = syntax, message, line, column
        self.document, self.hint = document, hint

    def __str__(self) -> str:
        return f"{self.syntax}: line {self.line}, column {self.column}: {self.message}"


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """go-yaml v2's scalar resolution instead of PyYAML's YAML 1.1 one (no base-60 integers, no
    timestamps, `y`/`n` booleans, `0o` octal and `1e3` floats)."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


def _resolver(tag: str, pattern: str, first: str) -> None:
    _Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))


_resolver("tag:yaml.org,2002:bool", r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
          r"|on|On|ON|off|Off|OFF)$", "yYnNtTfFoO")
_resolver("tag:yaml.org,2002:int", r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$",
          "-+0123456789")
_resolver("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
          r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_bool(loader: Any, node: Any) -> bool:
    return loader.construct_scalar(node) in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")


def _construct_int(loader: Any, node: Any) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)  # Go's ParseInt(s, 0, 64): a leading 0 means octal
    return sign * int(digits)


def _construct_float(loader: Any, node: Any) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float("nan") if text == ".nan" else float(text)


_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def plain(value: Any) -> Any:
    """The value as it comes out of kubectl's YAML→JSON conversion: string keys, lists, integral
    floats as integers (JSON has one number type), bytes as base64, dates as RFC 3339 text."""
    if isinstance(value, dict):
        return {key if isinstance(key, str) else json.dumps(plain(key)).strip('"'): plain(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


# ---------------------------------------------------------------- YAML
def yaml_documents(text: str) -> Iterator[tuple[int, int, Any]]:
    """(document index, line of its first node, value) for each non-empty document, splitting on
    `---` lines as kubectl does (an empty document still counts). Raises TextError."""
    # Only \n ends a line here, as in YAML (str.splitlines would also split on \x0c, \u2028…).
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    start, index = 0, 1
    bounds: list[tuple[int, int, int]] = []
    for number, line in enumerate(lines):
        if _SEPARATOR.match(line):
            # A `---` opening the file (after comments at most) starts document 1, not document 2.
            opening = start == 0 and not _has_content(lines[:number])
            if not opening:
                bounds.append((index, start, number))
                index += 1
            start = number + 1
    bounds.append((index, start, len(lines)))
    for index, first, end in bounds:
        chunk = "".join(lines[first:end])
        if not chunk.strip():
            continue
        for first_line, value in _parse_chunk(chunk, first, index):
            yield index, first_line, value


def _has_content(lines: list[str]) -> bool:
    return any(line.strip() and not line.lstrip().startswith(("#", "%")) for line in lines)


def _parse_chunk(chunk: str, offset: int, index: int) -> Iterator[tuple[int, Any]]:
    loader = _Loader(chunk)
    try:
        while loader.check_node():
            node = loader.get_node()
            value = loader.construct_document(node)
            yield offset + node.start_mark.line + 1, plain(value)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = offset + mark.line + 1, mark.column + 1
        message = _go_yaml_message(exc.problem or exc.context or "invalid YAML", exc.context)
        if message == "found undefined alias":  # libyaml leaves out the name go-yaml gives
            alias = re.match(r"\*([^\s,\[\]{}]+)", chunk[mark.index:]) if mark.index is not None else None
            message = f"unknown anchor '{alias.group(1) if alias else ''}' referenced"
        raise TextError("yaml", message, line, column, document=index,
                        hint=_yaml_hint(message, chunk, mark.line)) from None
    except yaml.reader.ReaderError as exc:
        line, column = _line_column(chunk, exc.position)
        raise TextError("yaml", "control characters are not allowed", offset + line, column,
                        document=index) from None
    except RecursionError:
        raise TextError("yaml", "document is too deeply nested (or refers to itself through an alias)",
                        offset + 1, 1, document=index) from None
    finally:
        loader.dispose()


# PyYAML's pure-Python parser words some errors differently from libyaml/go-yaml.
_PY_TO_GO = (
    (re.compile(r"^mapping values are not allowed here"), "mapping values are not allowed in this context"),
    (re.compile(r"^sequence entries are not allowed here"), "block sequence entries are not allowed in this context"),
    (re.compile(r"^found character .* that cannot start any token"), "found character that cannot start any token"),
    (re.compile(r"^expected ',' or '\]'"), "did not find expected ',' or ']'"),
    (re.compile(r"^expected ',' or '\}'"), "did not find expected ',' or '}'"),
    (re.compile(r"^expected the node content"), "did not find expected node content"),
    (re.compile(r"^found undefined alias (?P<name>'.*')"), "unknown anchor {name} referenced"),
)


def _go_yaml_message(problem: str, context: str | None) -> str:
    if problem.startswith("expected <block end>"):
        return "did not find expected '-' indicator" if context and "collection" in context \
            else "did not find expected key"
    for pattern, go in _PY_TO_GO:
        match = pattern.match(problem)
        if match:
            return go.format(**match.groupdict())
    return problem


_YAML_HINTS = (
    ("cannot start any token", None),  # decided by looking for a tab below
    ("mapping values are not allowed", "a value that contains ': ' must be quoted, and each key needs its own "
                                       "line — check this line and the indentation of the line above"),
    ("did not find expected key", "this line is indented differently from the keys above it: keys of one "
                                  "mapping must start in the same column"),
    ("could not find expected ':'", "a line inside a mapping has no ':' — write it as 'key: value', or indent it "
                                    "further to continue the value above"),
    ("did not find expected '-' indicator", "items of one list must start in the same column, each with '- '"),
    ("block sequence entries are not allowed", "a '- ' list item cannot follow 'key: value' at the same "
                                               "indentation — put the list under its own key"),
    ("found unexpected end of stream", "a quoted string is not closed"),
)


def _yaml_hint(message: str, chunk: str, line_index: int) -> str | None:
    lines = chunk.split("\n")
    nearby = lines[max(0, line_index - 1): line_index + 1]
    if any("\t" in line[: len(line) - len(line.lstrip())] for line in nearby):
        return "YAML does not allow tabs for indentation — use spaces"
    for needle, hint in _YAML_HINTS:
        if needle in message:
            return hint
    return None


# ---------------------------------------------------------------- JSON
def json_documents(text: str) -> Iterator[tuple[int, int, Any]]:
    """(index, line, value) for each value of a JSON stream (`{…}{…}` as kubectl accepts)."""
    decoder = json.JSONDecoder()
    position, index = 0, 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position >= len(text):
            return
        index += 1
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            line, column = _line_column(text, exc.pos)
            raise TextError("json", _go_json_message(text, exc.pos, exc.msg), line, column,
                            document=index) from None
        yield index, _line_column(text, position)[0], plain(value)
        position = end


def _line_column(text: str, position: int) -> tuple[int, int]:
    return text.count("\n", 0, position) + 1, position - (text.rfind("\n", 0, position) + 1) + 1


def _go_json_message(text: str, position: int, message: str) -> str:
    """encoding/json's wording for what Python's json module reports."""
    if message.startswith("Invalid \\") and position + 1 < len(text):
        return f"invalid character {_go_char(text[position + 1])} in string escape code"
    if position >= len(text) or message.startswith("Unterminated string"):
        return "unexpected EOF"
    char = _go_char(text[position])
    if message.startswith("Expecting property name"):
        return f"invalid character {char} looking for beginning of object key string"
    if message.startswith("Expecting value"):
        return f"invalid character {char} looking for beginning of value"
    if message.startswith("Expecting ':'"):
        return f"invalid character {char} after object key"
    if message.startswith("Expecting ','"):
        inside = "object key:value pair" if _innermost(text, position) == "{" else "array element"
        return f"invalid character {char} after {inside}"
    if message.startswith("Invalid control character"):
        return f"invalid character {char} in string literal"
    return message


def _go_char(char: str) -> str:
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    return "'" + json.dumps(char, ensure_ascii=False)[1:-1] + "'"


def _innermost(text: str, position: int) -> str:
    """The bracket ('{' or '[') enclosing `position`, skipping strings."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text[:position]:
        if in_string:
            escaped, in_string = (not escaped and char == "\\"), in_string and (escaped or char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""
