"""Patch metadata from the schemas, and apimachinery's wording for strategic patch errors.

For a field of a kind's schema, `field_meta` answers how it patches: its strategy
(`x-kubernetes-patch-strategy`: merge, replace, retainKeys), its merge key
(`x-kubernetes-patch-merge-key`) and the schemas of its value and items. Answers are cached
per (definition, field), since strategic patches run on every apply. The error helpers
give apiserver's status (BadRequest, 422, or a reason-less 500) and Go's `%v` text.

Read by: api.patch_strategic, api.patch_threeway. Reads: api.schemas, api.kinds, api.errors, api.gojson.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubelab.api import schemas
from kubelab.api.errors import ApiError
from kubelab.api.gojson import number_text
from kubelab.api.kinds import Kind
from kubelab.api.patch_json import REJECTED

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder"
DELETE_FROM_LIST = "$deleteFromPrimitiveList"


# --- patch metadata from the schemas ---------------------------------------------------


@dataclass(frozen=True)
class FieldMeta:
    """How one field patches: its strategy ("merge", "replace" or ""), retainKeys, merge key,
    and the schema nodes of its value and (for lists) of its items."""

    strategy: str = ""
    retain_keys: bool = False
    merge_key: str = ""
    value: Node | None = None
    items: Node | None = None


_UNKNOWN = FieldMeta()


class Node:
    """One schema (a definition or an inline schema), with its fields' metadata cached:
    patches run on every apply, the schema walk should happen once per field."""

    __slots__ = ("name", "schema", "_fields")

    def __init__(self, name: str, schema: dict) -> None:
        self.name = name
        self.schema = schema
        self._fields: dict[str, FieldMeta] = {}

    def field(self, key: str) -> FieldMeta:
        meta = self._fields.get(key)
        if meta is None:
            meta = self._fields[key] = self._lookup(key)
        return meta

    def _lookup(self, key: str) -> FieldMeta:
        properties = self.schema.get("properties") or {}
        if key in properties:
            sub, name = properties[key], f"{self.name}.{key}"
        elif isinstance(self.schema.get("additionalProperties"), dict):
            sub, name = self.schema["additionalProperties"], f"{self.name}.*"
        else:
            # Fields the schema does not know patch like plain JSON (maps merge, lists are
            # replaced); strict validation rejects them afterwards with the apiserver's message.
            return _UNKNOWN
        strategies = [s for s in str(sub.get("x-kubernetes-patch-strategy", "")).split(",") if s]
        others = [s for s in strategies if s != "retainKeys"]
        items = sub.get("items")
        value = node_for(name, sub)
        return FieldMeta(
            strategy=others[0] if others else "",
            retain_keys="retainKeys" in strategies,
            merge_key=str(sub.get("x-kubernetes-patch-merge-key", "")),
            value=value,
            # A list declared without `items` (a $ref to its element type) merges items of that type.
            items=node_for(f"{name}[]", items) if isinstance(items, dict) else value,
        )


_NODES: dict[str, Node] = {}
_ROOTS: dict[Kind, Node] = {}


def node_for(name: str, schema: dict) -> Node:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]  # the definition's name: shared by every field using it
    node = _NODES.get(name)
    if node is None:
        node = _NODES[name] = Node(name, schemas.resolve(schema) if isinstance(ref, str) else schema)
    return node


def root(kind: Kind) -> Node:
    """The schema node of a kind's objects."""
    node = _ROOTS.get(kind)
    if node is None:
        try:
            name = schemas.definition_name(kind)
        except KeyError:
            # apiserver has no patch metadata for custom resources and refuses, the same way.
            raise bad_request("strategic merge patch format is not supported",
                              hint="patch this resource with a merge patch or a JSON patch "
                                   "(kubectl patch --type merge / --type json)") from None
        node = _ROOTS[kind] = node_for(name, schemas.schema_for(kind))
    return node


def field_meta(node: Node | None, key: str) -> FieldMeta:
    return _UNKNOWN if node is None else node.field(key)


# --- errors, as apiserver reports them --------------------------------------------------


def bad_request(message: str, hint: str | None = None) -> ApiError:
    return ApiError("BadRequest", message, hint=hint)


def server_error(message: str, hint: str | None = None) -> ApiError:
    """An error apiserver does not classify: 500 with an empty reason, printed by kubectl as
    `Error from server: <message>`."""
    return ApiError("", message, code=500, hint=hint)


def no_merge_key(item: dict, key: str) -> ApiError:
    return server_error(
        f"map: {go_value(item)} does not contain declared merge key: {key}",
        hint=f"items of this list are merged by `{key}`: give every item its `{key}`",
    )


def bad_arg_type(expected: str, actual: Any) -> ApiError:
    return server_error(f"expected a {expected}, but received a {go_type(actual)}")


def no_list_of_lists() -> ApiError:
    return ApiError("Invalid", REJECTED, hint="lists of lists are not supported")


MAP_TYPE = "map[string]interface {}"
LIST_TYPE = "[]interface {}"


def go_value(value: Any) -> str:
    """A JSON value as Go's fmt prints it with %v (the form apimachinery's messages use)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def go_type(value: Any) -> str:
    if isinstance(value, dict):
        return MAP_TYPE
    if isinstance(value, list):
        return LIST_TYPE
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "%!s(<nil>)"
