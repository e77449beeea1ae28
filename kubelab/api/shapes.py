"""A compiled view of the OpenAPI definitions, shaped like the Go types the apiserver decodes into.

Each `Shape` says what JSON a field accepts (struct, map, list, string, int32, quantity…) and
the names Go prints in a decoding error: the struct name (`DeploymentSpec`) and the type as
reflect shows it (`int32`, `[]v1.Container`, `map[string]string`, `v1.RestartPolicy`).
Definitions compile once, lazily, and are shared; `root(kind)` is a kind's top-level struct.

Read by: api.decoding (the structural decoder), api.hints (where a field really belongs).
Reads: api.schemas, api.kinds.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from kubelab.api import schemas
from kubelab.api.kinds import Kind

# Shape codes, compared with `is`/`==` on the decoder's hot path.
STRUCT, MAP, LIST, STRING, INT, FLOAT, BOOL, BYTES, INT_OR_STRING, QUANTITY, TIME, ANY = range(12)
CODE_NAMES = ("struct", "map", "list", "string", "int", "float", "bool", "bytes", "intorstring", "quantity",
              "time", "any")

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
# Definitions whose Go types unmarshal themselves: their own rules, not their schema's.
_SPECIAL: dict[str, tuple[int, str]] = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": (INT_OR_STRING, "intstr.IntOrString"),
    "io.k8s.apimachinery.pkg.api.resource.Quantity": (QUANTITY, "resource.Quantity"),
    _META + "Time": (TIME, "v1.Time"),
    _META + "MicroTime": (TIME, "v1.MicroTime"),
    _META + "FieldsV1": (ANY, "v1.FieldsV1"),
    "io.k8s.apimachinery.pkg.runtime.RawExtension": (ANY, "runtime.RawExtension"),
}


class Shape:
    """What one place in an object accepts. `props` for structs, `item` for lists and maps."""

    __slots__ = ("code", "go", "struct", "definition", "props", "item", "bits")

    def __init__(self, code: int, go: str, *, struct: str = "", definition: str = "",
                 props: dict[str, Shape] | None = None, item: Shape | None = None, bits: int = 64) -> None:
        self.code = code
        self.go = go  # the type name Go's reflect prints, e.g. "[]v1.Container"
        self.struct = struct  # for structs: the name in "Go struct field DeploymentSpec.spec.replicas"
        self.definition = definition
        self.props = props
        self.item = item
        self.bits = bits

    def renamed(self, go: str) -> Shape:
        """The same shape under a Go named type (`v1.ResourceList` for a map of quantities)."""
        item = self.item
        if self.code == LIST and go.startswith("[]") and item is not None:
            item = item.renamed(go[2:]) if item.code != STRUCT else item
        return Shape(self.code, go, struct=self.struct, definition=self.definition, props=self.props,
                     item=item, bits=self.bits)

    def __repr__(self) -> str:
        return f"<Shape {CODE_NAMES[self.code]} {self.go}>"


_defs_cache: dict[str, Shape] = {}
# A struct is cached before its properties are filled (definitions nest): compile under one lock,
# so no other thread ever sees a half-built shape.
_compiling = threading.RLock()


def _go_package(definition: str) -> str:
    # io.k8s.api.apps.v1.DeploymentSpec → package "v1"; …pkg.util.intstr.IntOrString → "intstr".
    return definition.rsplit(".", 2)[-2]


def definition_shape(definition: str) -> Shape:
    """The shape of a named definition, compiled once (cycles resolve through the cache)."""
    with _compiling:
        return _compile_definition(definition)


def _compile_definition(definition: str) -> Shape:
    shape = _defs_cache.get(definition)
    if shape is not None:
        return shape
    if definition in _SPECIAL:
        code, go = _SPECIAL[definition]
        shape = Shape(code, go, definition=definition)
        _defs_cache[definition] = shape
        return shape
    schema = schemas.definitions()[definition]
    types = _types(schema)
    if "properties" in schema or types == "object":
        if "properties" not in schema and "additionalProperties" not in schema and "type" not in schema:
            shape = Shape(ANY, definition.rsplit(".", 1)[-1], definition=definition)
            _defs_cache[definition] = shape
            return shape
        last = definition.rsplit(".", 1)[-1]
        shape = Shape(STRUCT, f"{_go_package(definition)}.{last}", struct=last, definition=definition, props={})
        _defs_cache[definition] = shape  # before the properties: definitions can nest themselves
        overrides = schemas.go_type_overrides()
        props = shape.props
        assert props is not None
        for name, prop in schema.get("properties", {}).items():
            sub = compile_schema(prop)
            named = overrides.get(f"{definition}.{name}")
            props[name] = sub.renamed(named) if named and named != sub.go else sub
        return shape
    shape = compile_schema(schema)
    _defs_cache[definition] = shape
    return shape


def _types(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t


def compile_schema(schema: dict[str, Any]) -> Shape:
    """The shape of an inline schema (a property, an array's items, a map's values)."""
    name = schemas.ref_name(schema)
    if name is not None:
        return definition_shape(name)
    t = _types(schema)
    fmt = schema.get("format")
    if t == "string":
        return Shape(BYTES, "[]uint8") if fmt == "byte" else Shape(STRING, "string")
    if t == "integer":
        if fmt == "int32":
            return Shape(INT, "int32", bits=32)
        return Shape(INT, "int64" if fmt == "int64" else "int", bits=64)
    if t == "number":
        return Shape(FLOAT, "float64")
    if t == "boolean":
        return Shape(BOOL, "bool")
    if t == "array":
        item = compile_schema(schema.get("items") or {})
        return Shape(LIST, f"[]{item.go}", item=item)
    if t == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            item = compile_schema(extra)
            return Shape(MAP, f"map[string]{item.go}", item=item)
    return Shape(ANY, "interface {}")


@cache
def root(kind: Kind) -> Shape:
    """The top-level struct of a kind: `Deployment`, whose props are apiVersion, kind, metadata…"""
    return definition_shape(schemas.definition_name(kind))


def zero(shape: Shape) -> Any:
    """The JSON a Go zero value of this shape serialises to, for a null inside a list or map."""
    code = shape.code
    if code == STRING or code == BYTES:
        return ""
    if code == INT or code == FLOAT or code == INT_OR_STRING:
        return 0
    if code == BOOL:
        return False
    if code == QUANTITY:
        return "0"
    if code == STRUCT:
        return {}
    return None
