"""Loading manifests: YAML or JSON text, dicts, lists, `kind: List` objects, files and directories.

`load(source)` returns the objects a `kubectl apply -f` of the same input would send, in order:
multi-document YAML split on `---`, JSON streams, `List`s (and typed lists such as `PodList`)
expanded to their items, a directory's *.json/*.yaml/*.yml files in sorted order, empty documents
skipped. Failures are `ApiError`s (BadRequest) with kubectl's wording, naming the file, the document
and the line, plus a hint when a beginner needs one.

Read by: cluster.core (apply/create), magics. Reads: api.yaml_text, api.errors.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from kubelab.api.errors import ApiError
from kubelab.api.yaml_text import TextError, json_documents, plain, yaml_documents

Obj = dict[str, Any]

EXTENSIONS = (".json", ".yaml", ".yml")  # what kubectl reads from a directory
STOP_VALIDATE = "if you choose to ignore these errors, turn validation off with --validate=false"
_LOOKS_LIKE_FILE = re.compile(r"\.(?:ya?ml|json)$", re.I)


def load(source: Any, *, filename: str | None = None, validate: bool = True) -> list[Obj]:
    """Every object in `source`, as fresh dicts the caller may change.

    `source` is YAML or JSON text (str or bytes), a dict, a list of dicts, or a `pathlib.Path` / path
    string naming a file or a directory. `filename` is the name messages use for text and objects
    (`<stdin>` for piped text; `<string>` by default). `validate=False` reports a document without
    apiVersion/kind as kubectl's `--validate=false` does (`Object 'Kind' is missing in '…'`).
    """
    if isinstance(source, Path) or (isinstance(source, str) and _is_path(source)):
        return _load_path(Path(source), str(source), validate)
    if isinstance(source, (bytes, bytearray)):
        source = _decode(bytes(source))
    if isinstance(source, str):
        return _load_text(source, filename or "<string>", validate)
    if isinstance(source, dict):
        return _objects(plain(source), _Where(filename or "<object>", 1, None), validate)
    if isinstance(source, (list, tuple)):
        objects: list[Obj] = []
        for number, item in enumerate(source, start=1):
            if item is None:
                continue
            objects.extend(_objects(plain(item), _Where(filename or "<object>", number, None), validate))
        return objects
    raise ApiError("BadRequest", f"cannot read manifests from a {type(source).__name__}: pass YAML or JSON text, "
                                 "a dict, a list of dicts or a path")


def _is_path(text: str) -> bool:
    """A one-line string that names an existing path, or looks like a file name (so a typo in the
    name says 'does not exist' rather than 'kind not set')."""
    candidate = text.strip()
    if not candidate or "\n" in candidate:
        return False
    if os.path.exists(candidate):
        return True
    return bool(_LOOKS_LIKE_FILE.search(candidate)) and not re.search(r":\s|^[{\[]", candidate)


def _decode(data: bytes) -> str:
    # kubectl accepts UTF-16 files that carry a byte-order mark (editors on Windows write them).
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig", errors="replace")


def _load_path(path: Path, shown: str, validate: bool) -> list[Obj]:
    if not path.exists():
        raise ApiError("BadRequest", f'the path "{shown}" does not exist')
    if path.is_dir():
        objects: list[Obj] = []
        for child in sorted(p for p in path.iterdir() if p.is_file() and p.suffix in EXTENSIONS):
            objects.extend(_load_text(_decode(child.read_bytes()), os.path.join(shown, child.name), validate))
        return objects
    return _load_text(_decode(path.read_bytes()), shown, validate)


def _load_text(text: str, name: str, validate: bool) -> list[Obj]:
    text = text.lstrip("\ufeff")
    # kubectl's decoder sniffs the stream: a leading '{' means JSON, anything else YAML.
    documents = json_documents(text) if text.lstrip().startswith("{") else yaml_documents(text)
    objects: list[Obj] = []
    try:
        for index, line, value in documents:
            if value is None:
                continue  # `null` / `~` documents are skipped like empty ones
            objects.extend(_objects(value, _Where(name, index, line), validate))
    except TextError as exc:
        hint = exc.hint
        if exc.syntax == "json" and "object key string" in exc.message and _is_yaml(text):
            hint = ("text that starts with '{' is read as JSON, where keys need double quotes — quote them, "
                    "or drop the outer braces and write YAML")
        raise ApiError("BadRequest", f"error parsing {name} (document {exc.document}): {exc}", hint=hint)
    return objects


def _is_yaml(text: str) -> bool:
    try:
        return any(isinstance(value, dict) for _, _, value in yaml_documents(text))
    except TextError:
        return False


class _Where:
    """Where a document came from, for messages: file, document index, line, List item."""

    def __init__(self, name: str, document: int, line: int | None, item: int | None = None) -> None:
        self.name, self.document, self.line, self.item = name, document, line, item

    def __str__(self) -> str:
        where = f"document {self.document}" + (f" (line {self.line})" if self.line else "")
        return f"item {self.item} of the List in {where}" if self.item else where

    def in_list(self, item: int) -> _Where:
        return _Where(self.name, self.document, self.line, item)


def _objects(value: Any, where: _Where, validate: bool) -> list[Obj]:
    """The object(s) a document holds: itself, or the items of a List."""
    _check(value, where, validate)
    kind = value["kind"]
    items = value.get("items")
    if kind == "List" or (kind.endswith("List") and isinstance(items, list)):
        objects: list[Obj] = []
        item_kind = kind[: -len("List")]
        for number, item in enumerate(items or [], start=1):
            # A typed list (PodList, as the API returns it) does not repeat its items' type.
            if item_kind and isinstance(item, dict):
                item.setdefault("apiVersion", value.get("apiVersion"))
                item.setdefault("kind", item_kind)
            objects.extend(_objects(item, where.in_list(number), validate))
        return objects
    return [value]  # already a fresh copy: plain() or the YAML loader built it


def _check(value: Any, where: _Where, validate: bool) -> None:
    """kubectl's client-side checks: the document is an object with a string apiVersion and kind."""
    if not isinstance(value, dict):
        if validate:
            advice = ("put each object in its own document, separated by a line '---'" if isinstance(value, list)
                      else "is a ':' or the indentation missing?")
            _fail(where, "invalid object to validate", f"{where} is {_shape(value)}, not an object — {advice}")
        raise ApiError("BadRequest", f'unable to decode "{where.name}": json: cannot unmarshal {_go_type(value)} '
                                     "into Go value of type unstructured.detector",
                       hint=f"{where} is {_shape(value)}, not an object")
    api_version, kind = value.get("apiVersion"), value.get("kind")
    missing = [field for field, given in (("apiVersion", api_version), ("kind", kind)) if given is None]
    hint = (f"{where} has no {' and no '.join(missing)}: every object starts with both, e.g. "
            "'apiVersion: apps/v1' and 'kind: Deployment'" if missing
            else f"{where}: apiVersion and kind are strings, e.g. 'apiVersion: v1' and 'kind: Pod'")
    if validate:
        problems = []
        if api_version is None:
            problems.append("apiVersion not set")
        elif not isinstance(api_version, str):
            problems.append("apiVersion isn't string type")
        elif api_version.count("/") > 1:
            problems.append(f"unexpected GroupVersion string: {api_version}")
        if kind is None:
            problems.append("kind not set")
        elif not isinstance(kind, str):
            problems.append("kind isn't string type")
        if problems:
            _fail(where, problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]", hint)
        return
    # --validate=false: the API machinery's decoder reports instead, one problem at a time.
    for field, given in (("apiVersion", api_version), ("kind", kind)):
        if given is not None and not isinstance(given, str):
            raise ApiError("BadRequest", f'unable to decode "{where.name}": json: cannot unmarshal '
                                         f"{_go_type(given)} into Go struct field metadataOnlyObject.{field} of "
                                         "type string", hint=hint)
    for field, given in (("Kind", kind), ("apiVersion", api_version)):
        if not given:
            raise ApiError("BadRequest", f"unable to decode \"{where.name}\": Object '{field}' is missing in "
                                         f"'{_go_json(value)}'", hint=hint)


def _fail(where: _Where, problem: str, hint: str) -> None:
    raise ApiError("BadRequest", f'error validating "{where.name}": error validating data: {problem}; '
                                 f"{STOP_VALIDATE}", hint=hint)


def _go_type(value: Any) -> str:
    """How encoding/json names a JSON value's type in `cannot unmarshal` errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, ensure_ascii=False)
    return f"a plain value ({text if len(text) <= 40 else text[:37] + '...'})"


def _go_json(value: Obj) -> str:
    """The compact JSON kubectl quotes (Go sorts map keys and escapes <, > and &)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
