"""The local apiserver's structural decoder: `decode` checks a manifest against the real 1.37 OpenAPI
definitions (compiled in api.shapes) the way apiserver's JSON decoder does.

It rejects wrong JSON types with Go's own message (`json: cannot unmarshal string into Go struct
field DeploymentSpec.spec.replicas of type int32`), lists every unknown field under
fieldValidation=Strict (Warn turns them into warnings), and returns a fresh object the way Go
re-encodes it (nulls dropped, quantities canonical, Secret stringData folded into data), already
in the store's compact form. Semantic rules come after, in api.validation. An object that is only its
type, plain string metadata and an empty spec (a Pod whose spec api.podspecs prepared) takes a fast
path that gives the same result, and leaves anything else to the full walk.

Read by: cluster.apiserver, server.resources. Reads: api.shapes, api.gojson, api._quantity, api.hints.
"""

from __future__ import annotations

import base64
import datetime as _dt
import sys
from typing import Any, cast

from kubelab.api import _quantity, gojson, hints, shapes
from kubelab.api.errors import ApiError
from kubelab.api.jsoncopy import INTERN_MAX, interned_copy
from kubelab.api.kinds import Kind
from kubelab.api.shapes import (
    BOOL,
    BYTES,
    FLOAT,
    INT,
    INT_OR_STRING,
    LIST,
    MAP,
    QUANTITY,
    STRING,
    STRUCT,
    TIME,
    Shape,
)

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")
MAX_STRICT_ERRORS = 100  # sigs.k8s.io/json stops collecting there
_INT_RANGE = {32: (-(2**31), 2**31 - 1), 64: (-(2**63), 2**63 - 1)}
_DATES = (_dt.date, _dt.datetime)


class _State:
    """What one decode found: unknown fields, and type errors (Go keeps the first; some abort decoding)."""

    __slots__ = ("unknown", "problems", "shared")

    def __init__(self) -> None:
        self.shared = False  # the result holds a free-form value of the manifest (not yet copied)
        self.unknown: list[tuple[Any, str]] = []
        self.problems: list[tuple[bool, tuple, str, Any]] = []  # (aborts, document order, message, hint info)

    def type_error(self, value: Any, shape: Shape, path: Any, owner: str, *, aborts: bool = False,
                   word: str | None = None, go: str | None = None) -> None:
        comps = _components(path)
        fields = ".".join(c for c in comps if type(c) is str)
        word = word or gojson.json_kind(value)
        go = go or shape.go
        if fields:
            message = f"json: cannot unmarshal {word} into Go struct field {owner}.{fields} of type {go}"
        else:
            message = f"json: cannot unmarshal {word} into Go value of type {go}"
        self.problems.append((aborts, _order(comps), message, (comps, value, shape)))

    def other_error(self, path: Any, message: str, value: Any, shape: Shape, *, aborts: bool) -> None:
        comps = _components(path)
        self.problems.append((aborts, _order(comps), message, (comps, value, shape)))


def _components(path: Any) -> list[Any]:
    comps = []
    while path is not None:
        path, comp = path
        comps.append(comp)
    comps.reverse()
    return comps


def _order(comps: list[Any]) -> tuple:
    return tuple(c[0] if type(c) is tuple else c for c in comps)


def strict_path(comps: list[Any]) -> str:
    """The path sigs.k8s.io/json prints in `unknown field "…"`: indexes in brackets, map keys dotted."""
    out = ""
    for c in comps:
        if type(c) is int:
            out += f"[{c}]"
        else:
            name = c[0] if type(c) is tuple else c
            out = f"{out}.{name}" if out else name
    return out


def _key(key: Any) -> str:
    # YAML may hand over keys JSON could not hold (80, true): kubectl would have sent them as text.
    if type(key) is str:
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


# The decoded object is the API server's private copy, already in the store's compact form
# (store.memory.freeze): keys and short strings interned, nothing shared with the manifest. Doing it
# here saves a second walk over every object created or replaced (~10 µs of a pod's ~70 µs).
_intern = sys.intern
_SHORT = INTERN_MAX  # strings up to this length are interned, as the store does


def _struct(obj: dict, shape: Shape, path: Any, st: _State) -> dict:
    props = shape.props
    owner = shape.struct
    out = {}
    for key, value in obj.items():
        if type(key) is not str:
            key = _key(key)
        sub = props.get(key)  # type: ignore[union-attr]
        if sub is None:
            st.unknown.append((path, key))
            continue
        if value is None:
            continue  # JSON null leaves the Go field at its zero value: omitted
        key = _intern(key)
        code = sub.code
        t = type(value)
        if code == STRING and t is str:
            out[key] = _intern(value) if len(value) <= _SHORT else value
        elif code == STRUCT and t is dict:
            out[key] = _struct(value, sub, (path, key), st)
        elif code == INT and t is int and _INT_RANGE[sub.bits][0] <= value <= _INT_RANGE[sub.bits][1]:
            out[key] = value
        elif code == BOOL and t is bool:
            out[key] = value
        else:
            out[key] = _value(value, sub, (path, key), owner, st)
    return out


def _value(value: Any, shape: Shape, path: Any, owner: str, st: _State) -> Any:
    """Decode any value against its shape; a mismatch records Go's error and yields None."""
    decoded = _decoded(value, shape, path, owner, st)
    if type(decoded) is str and len(decoded) <= _SHORT:
        return _intern(decoded)
    return decoded


def _decoded(value: Any, shape: Shape, path: Any, owner: str, st: _State) -> Any:
    code = shape.code
    t = type(value)
    if code == STRUCT:
        if t is dict:
            return _struct(value, shape, path, st)
    elif code == LIST:
        if t is list or t is tuple:
            item = cast(Shape, shape.item)
            out = []
            for i, v in enumerate(value):
                out.append(shapes.zero(item) if v is None else _value(v, item, (path, i), owner, st))
            return out
    elif code == MAP:
        if t is dict:
            item = cast(Shape, shape.item)
            strings = item.code == STRING  # labels, annotations, selectors: every create has some
            out_map = {}
            for k, v in value.items():
                k = _intern(k if type(k) is str else _key(k))
                if strings and type(v) is str:
                    out_map[k] = _intern(v) if len(v) <= _SHORT else v
                else:
                    out_map[k] = shapes.zero(item) if v is None else _value(v, item, (path, (k,)), owner, st)
            return out_map
    elif code == STRING:
        if t is str:
            return value
        if isinstance(value, _DATES):
            return gojson.time_text(value)
    elif code == INT:
        number = value
        if t is float and value.is_integer():
            number = int(value)
        if type(number) is int:
            low, high = _INT_RANGE[shape.bits]
            if low <= number <= high:
                return number
            st.type_error(value, shape, path, owner, word=f"number {gojson.number_text(value)}")
            return None
        if t is float:
            st.type_error(value, shape, path, owner, word=f"number {gojson.number_text(value)}")
            return None
    elif code == BOOL:
        if t is bool:
            return value
    elif code == FLOAT:
        if (t is int or t is float) and t is not bool:
            return value
    elif code == INT_OR_STRING:
        return _int_or_string(value, shape, path, owner, st)
    elif code == QUANTITY:
        try:
            return _quantity.canonical(_quantity.parse_json(value))
        except _quantity.QuantityError as e:
            st.other_error(path, str(e), value, shape, aborts=True)  # Quantity.UnmarshalJSON's error
            return None
    elif code == BYTES:
        if t is str:
            problem = gojson.base64_error(value)
            if problem:
                st.other_error(path, problem, value, shape, aborts=False)
            return value
    elif code == TIME:
        if isinstance(value, _DATES):
            return gojson.time_text(value)
        if t is str:
            problem = gojson.time_error(value)
            if problem:
                st.other_error(path, problem, value, shape, aborts=True)
            return value
        st.type_error(value, shape, path, owner, aborts=True, go="string")  # metav1.Time reads a string first
        return None
    else:  # ANY: RawExtension, FieldsV1 and friends take any JSON
        st.shared = True  # decode copies the whole result once it passed (rare: these are not in specs)
        return value
    st.type_error(value, shape, path, owner)
    return None


def _int_or_string(value: Any, shape: Shape, path: Any, owner: str, st: _State) -> Any:
    # IntOrString.UnmarshalJSON: a string, or else json.Unmarshal into an int32 (whose errors abort decoding).
    t = type(value)
    if t is str:
        return value
    if t is float and value.is_integer():
        value = int(value)
        t = int
    if t is int and _INT_RANGE[32][0] <= value <= _INT_RANGE[32][1]:
        return value
    word = f"number {gojson.number_text(value)}" if t in (int, float) else None
    st.type_error(value, shape, path, owner, aborts=True, word=word, go="int32")
    return None


def _secret_string_data(out: dict[str, Any]) -> None:
    # Secret conversion to the internal version folds stringData into data (base64), then forgets it.
    string_data = out.pop("stringData", None)
    if string_data:
        data = out.setdefault("data", {})
        for key, text in string_data.items():
            encoded = base64.b64encode(text.encode()).decode()
            data[key] = _intern(encoded) if len(encoded) <= _SHORT else encoded


# The fast path for an object that is only its type, plain metadata and at most an empty spec: what a Pod
# create sends once its spec came from api.podspecs (py-spy: the full walk was ~2.5 % of pods.py; callgrind:
# ~9k fewer instructions per pod, 0.5 %). Each known key maps to its interned literal, the very key `_struct`
# would store; anything else (another field, a null, a non-string, a non-empty spec) returns None and the
# full walk decides, errors and warnings included.
_HEAD_STRINGS = {"apiVersion": "apiVersion", "kind": "kind"}
_META_STRINGS = {"name": "name", "namespace": "namespace", "generateName": "generateName"}
_META_MAPS = {"labels": "labels", "annotations": "annotations"}


def _plain_head(obj: dict, root: Shape) -> dict | None:
    if obj.get("spec"):
        return None  # a spec to decode: the common case of any other create, told apart before any work
    out: dict = {}
    for key, value in obj.items():
        t = type(value)
        if t is str:
            name = _HEAD_STRINGS.get(key) if type(key) is str else None
            if name is None:
                return None
            out[name] = _intern(value) if len(value) <= _SHORT else value
        elif t is not dict or type(key) is not str:
            return None
        elif key == "metadata":
            meta = _plain_meta(value)
            if meta is None:
                return None
            out["metadata"] = meta
        elif key == "spec" and getattr(root.props.get("spec"), "code", None) == STRUCT:  # type: ignore[union-attr]
            out["spec"] = {}  # empty, as checked first
        else:
            return None
    return out


def _plain_meta(meta: dict) -> dict | None:
    out: dict = {}
    for key, value in meta.items():
        if type(key) is not str:
            return None
        t = type(value)
        if t is str:
            name = _META_STRINGS.get(key)
            if name is None:
                return None
            out[name] = _intern(value) if len(value) <= _SHORT else value
        elif t is dict:
            name = _META_MAPS.get(key)
            if name is None:
                return None
            strings = {}
            for k, v in value.items():
                if type(k) is not str or type(v) is not str:
                    return None
                strings[_intern(k)] = _intern(v) if len(v) <= _SHORT else v
            out[name] = strings
        else:
            return None
    return out


def decode(obj: dict, kind: Kind, field_validation: str = "Strict") -> tuple[dict, list[str]]:
    """Check a manifest's structure like apiserver's decoder; return (pruned copy, warnings). The copy
    shares nothing with `obj` and is already in the store's compact form (keys and short strings interned).

    Raises ApiError BadRequest (400) for a value of the wrong JSON type, a malformed quantity or
    base64 text, and — under fieldValidation=Strict — for unknown fields, all of them listed."""
    if field_validation not in FIELD_VALIDATION:
        raise ValueError(f"fieldValidation must be one of {', '.join(FIELD_VALIDATION)}, not {field_validation!r}")
    root = shapes.root(kind)
    if type(obj) is dict:
        plain = _plain_head(obj, root)
        if plain is not None:
            return plain, []
    prefix = f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
    st = _State()
    if type(obj) is not dict:
        st.type_error(obj, root, None, root.struct)
        out: dict = {}
    else:
        out = _struct(obj, root, None, st)
    if st.problems:
        aborting = [p for p in st.problems if p[0]]
        first = min(aborting or st.problems, key=lambda p: p[1])
        raise ApiError("BadRequest", prefix + first[2], hint=hints.for_type_error(kind, *first[3]))
    warnings: list[str] = []
    if st.unknown:
        found = sorted(((_components(path), key) for path, key in st.unknown), key=lambda u: _order(u[0]) + (u[1],))
        found = found[:MAX_STRICT_ERRORS]
        texts = [f'unknown field "{strict_path([*comps, key])}"' for comps, key in found]
        if field_validation == "Strict":
            raise ApiError("BadRequest", prefix + "strict decoding error: " + ", ".join(texts),
                           hint=hints.for_unknown_fields(kind, found))
        if field_validation == "Warn":
            warnings = texts
    if kind.kind == "Secret" and not kind.group:
        _secret_string_data(out)
    if st.shared:
        out = interned_copy(out)
    return out, warnings
