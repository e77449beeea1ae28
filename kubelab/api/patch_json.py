"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902) as kube-apiserver applies them.

apiserver uses evanphx/json-patch v4 for both, and this module keeps that library's
leniencies where users can see them: `replace` on a missing object key adds it, negative
array indices count from the end, a `test` for null passes on a missing key. A failing
JSON patch operation is a 422 whose message is apiserver's generic one; kubelab puts the
library's own explanation (`testing value /spec/replicas failed: test failed`) in the hint.

Read by: api.patch (the facade), api.patch_strategic (json_equal). Reads: api.errors, api.gojson.
"""

from __future__ import annotations

from typing import Any

from kubelab.api.errors import ApiError
from kubelab.api.gojson import json_kind
from kubelab.api.jsoncopy import copy_json

# apiserver wraps every JSON patch application failure in NewGenericServerResponse(422, …),
# which replaces the library's text with this one.
REJECTED = "the server rejected our request due to an error in our request"
MAX_JSON_PATCH_OPERATIONS = 10000


def merge_patch(target: dict, patch: dict) -> dict:
    """Apply an application/merge-patch+json body; returns a new dict, inputs are untouched."""
    if not isinstance(patch, dict):
        raise ApiError("BadRequest", "Invalid JSON Patch")
    result = copy_json(target)
    _merge_into(result, copy_json(patch))
    return result


def _merge_into(doc: dict, patch: dict) -> None:
    for key, value in patch.items():
        current = doc.get(key)
        if value is None:
            doc.pop(key, None)
        elif isinstance(current, dict) and isinstance(value, dict):
            _merge_into(current, value)
        elif isinstance(current, dict):
            doc[key] = value
        else:
            # A value that merges into nothing arrives whole, minus the nulls inside its
            # objects: there they can only mean "absent".
            _prune_nulls(value)
            doc[key] = value


def _prune_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _prune_nulls(item)
    elif isinstance(value, list):
        # Nulls inside arrays are values, not deletions: keep them, clean the objects.
        for item in value:
            _prune_nulls(item)


def json_patch(target: dict, ops: list) -> dict:
    """Apply an application/json-patch+json body (a list of operations); returns a new dict."""
    if ops is None:  # Go decodes `null` as a patch with no operations
        return copy_json(target)
    if not isinstance(ops, list):
        raise ApiError("BadRequest", f"json: cannot unmarshal {json_kind(ops)} into Go value of type jsonpatch.Patch")
    for op in ops:
        if op is not None and not isinstance(op, dict):
            raise ApiError(
                "BadRequest", f"json: cannot unmarshal {json_kind(op)} into Go value of type jsonpatch.Operation")
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise ApiError(
            "RequestEntityTooLarge",
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
            code=413,
        )
    doc: Any = copy_json(target)
    for op in ops:
        try:
            doc = _apply(doc, copy_json(op or {}))
        except _OpFailed as failure:
            raise ApiError("Invalid", REJECTED, hint=str(failure)) from None
    if not isinstance(doc, dict):
        raise ApiError("Invalid", REJECTED, hint="the patched document is not an object")
    return doc


class _OpFailed(Exception):
    """One operation could not apply; the text is what evanphx/json-patch would say."""


_MISSING = "missing value"
_BAD_INDEX = "invalid index referenced"


def _apply(doc: Any, op: dict) -> Any:
    name = op.get("op")
    name = name if isinstance(name, str) else "unknown"
    if name not in ("add", "remove", "replace", "move", "copy", "test"):
        raise _OpFailed(f"Unexpected kind: {name}")
    path = op.get("path")
    if not isinstance(path, str):
        raise _OpFailed(f"{name} operation failed to decode path: {_MISSING}")
    value = op.get("value")
    if name == "add":
        parent, key = _find(doc, path)
        if parent is None:
            raise _OpFailed(f'add operation does not apply: doc is missing path: "{path}": {_MISSING}')
        _add(parent, key, value, f"error in add for path: '{path}'")
    elif name == "remove":
        parent, key = _find(doc, path)
        if parent is None:
            raise _OpFailed(f'remove operation does not apply: doc is missing path: "{path}": {_MISSING}')
        _remove(parent, key, f"error in remove for path: '{path}'")
    elif name == "replace":
        if path == "":
            if not isinstance(value, (dict, list)):
                raise _OpFailed("replace operation value must be object or array")
            return value
        parent, key = _find(doc, path)
        if parent is None:
            raise _OpFailed(f"replace operation does not apply: doc is missing path: {path}: {_MISSING}")
        if isinstance(parent, list):
            index = _index(parent, key, len(parent) - 1)
            if index is None:
                raise _OpFailed(f"replace operation does not apply: doc is missing key: {path}: {_MISSING}")
            parent[index] = value
        else:
            parent[key] = value  # v4 does not require the key to exist: replace acts as add
    elif name == "test":
        _test(doc, path, op)
    else:
        _move_or_copy(doc, name, path, op)
    return doc


def _move_or_copy(doc: Any, name: str, path: str, op: dict) -> None:
    source = op.get("from")
    if not isinstance(source, str):
        raise _OpFailed(f"{name} operation failed to decode from: {_MISSING}")
    parent, key = _find(doc, source)
    if parent is None:
        raise _OpFailed(f"{name} operation does not apply: doc is missing from path: {source}: {_MISSING}")
    value = _get(parent, key, f"error in move for path: '{key}'" if name == "move"
                 else f"error in copy for from: '{source}'")
    if name == "move":
        _remove(parent, key, f"error in move for path: '{key}'")
    else:
        value = copy_json(value)
    parent, key = _find(doc, path)
    if parent is None:
        raise _OpFailed(f"{name} operation does not apply: doc is missing destination path: {path}: {_MISSING}")
    _add(parent, key, value, f"error in move for path: '{path}'" if name == "move"
         else "error while adding value during copy")


def _test(doc: Any, path: str, op: dict) -> None:
    expected = op.get("value")
    if path == "":
        if not json_equal(doc, expected):
            raise _OpFailed(f"testing value {path} failed: test failed")
        return
    parent, key = _find(doc, path)
    if parent is None:
        raise _OpFailed(f"test operation does not apply: is missing path: {path}: {_MISSING}")
    actual = _get(parent, key, f"error in test for path: '{path}'")
    # A missing key and a null both equal a null (or absent) value.
    if json_equal(actual, expected):
        return
    raise _OpFailed(f"testing value {path} failed: test failed")


def _find(doc: Any, path: str) -> tuple[Any, str]:
    """The container holding the pointer's last token, and that token (None if unreachable)."""
    tokens = path.split("/")
    if len(tokens) < 2:
        return None, ""
    node = doc
    for raw in tokens[1:-1]:
        token = _unescape(raw)
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list):
            index = _index(node, token, len(node) - 1)
            node = None if index is None else node[index]
        else:
            return None, ""
        if not isinstance(node, (dict, list)):
            return None, ""
    return node, _unescape(tokens[-1])


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _index(items: list, token: str, highest: int) -> int | None:
    """An array index in [-(highest+1), highest], negatives counting from the end (v4 allows them)."""
    try:
        index = int(token)
    except ValueError:
        return None
    if index > highest or index < -(highest + 1):
        return None
    return index + highest + 1 if index < 0 else index


def _get(parent: Any, key: str, context: str) -> Any:
    if isinstance(parent, dict):
        return parent.get(key)
    index = _index(parent, key, len(parent) - 1)
    if index is None:
        raise _OpFailed(f"{context}: Unable to access invalid index: {key}: {_BAD_INDEX}")
    return parent[index]


def _add(parent: Any, key: str, value: Any, context: str) -> None:
    if isinstance(parent, dict):
        parent[key] = value
        return
    if key == "-":
        parent.append(value)
        return
    try:
        int(key)
    except ValueError:
        raise _OpFailed(f"{context}: value was not a proper array index: '{key}'") from None
    index = _index(parent, key, len(parent))
    if index is None:
        raise _OpFailed(f"{context}: Unable to access invalid index: {key}: {_BAD_INDEX}")
    parent.insert(index, value)


def _remove(parent: Any, key: str, context: str) -> None:
    if isinstance(parent, dict):
        if key not in parent:
            raise _OpFailed(f"{context}: Unable to remove nonexistent key: {key}: {_MISSING}")
        del parent[key]
        return
    index = _index(parent, key, len(parent) - 1)
    if index is None:
        raise _OpFailed(f"{context}: Unable to access invalid index: {key}: {_BAD_INDEX}")
    del parent[index]


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: unlike Python's ==, true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b

