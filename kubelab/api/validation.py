"""The local apiserver's validator: structural decoding (`decode`) and semantic validation (`validate`).

`decode` does what apiserver's JSON decoder does to a manifest: it walks the real 1.37 OpenAPI
definitions (compiled in api.shapes), rejects wrong JSON types with Go's own message
(`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type
int32`), lists every unknown field under fieldValidation=Strict, and returns a fresh object
the way Go re-encodes it (nulls dropped, quantities canonical, Secret stringData folded into data).
`validate` runs the per-kind rules of pkg/apis/*/validation and raises a 422 Invalid listing all
field errors. kubelab adds a one-line hint (api.hints) where a learner needs one.

Read by: store, server, cluster. Reads: api.shapes, api.gojson, api._quantity, api.rules*, api.hints.
"""

from __future__ import annotations

import base64
import datetime as _dt
import marshal
import re
import sys
from typing import Any, cast

from kubelab.api import _quantity, gojson, hints, shapes
from kubelab.api.errors import ApiError, FieldError, invalid
from kubelab.api.jsoncopy import interned_copy
from kubelab.api.kinds import Kind
from kubelab.api.rules import Errors, name_is_subdomain, validate_object_meta
from kubelab.api.rules_batch import validate_cron_job, validate_job
from kubelab.api.rules_core import (
    validate_config_map,
    validate_generic,
    validate_namespace,
    validate_node,
    validate_persistent_volume_claim,
    validate_secret,
)
from kubelab.api.rules_pod import validate_pod, validate_pod_update
from kubelab.api.rules_service import node_port_range_errors, validate_service
from kubelab.api.rules_workloads import (
    validate_daemon_set,
    validate_deployment,
    validate_replica_set,
    validate_replication_controller,
    validate_stateful_set,
)
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
_SHORT = 64  # strings up to this length are interned, as the store does


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


def decode(obj: dict, kind: Kind, field_validation: str = "Strict") -> tuple[dict, list[str]]:
    """Check a manifest's structure like apiserver's decoder; return (pruned copy, warnings). The copy
    shares nothing with `obj` and is already in the store's compact form (keys and short strings interned).

    Raises ApiError BadRequest (400) for a value of the wrong JSON type, a malformed quantity or
    base64 text, and — under fieldValidation=Strict — for unknown fields, all of them listed."""
    if field_validation not in FIELD_VALIDATION:
        raise ValueError(f"fieldValidation must be one of {', '.join(FIELD_VALIDATION)}, not {field_validation!r}")
    root = shapes.root(kind)
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


# kind → rule; each takes (object, errors, old object or None).
_RULES = {
    ("", "Pod"): None,  # pods have distinct create and update rules, see _validate_kind
    ("", "Service"): validate_service,
    ("", "ConfigMap"): validate_config_map,
    ("", "Secret"): validate_secret,
    ("", "Namespace"): validate_namespace,
    ("", "Node"): validate_node,
    ("", "PersistentVolumeClaim"): validate_persistent_volume_claim,
    ("", "ReplicationController"): validate_replication_controller,
    ("apps", "Deployment"): validate_deployment,
    ("apps", "ReplicaSet"): validate_replica_set,
    ("apps", "DaemonSet"): validate_daemon_set,
    ("apps", "StatefulSet"): validate_stateful_set,
    ("batch", "Job"): validate_job,
    ("batch", "CronJob"): validate_cron_job,
}


# Pod specs that passed every spec rule on create, by their exact content. Thousands of pods share
# one spec — a template's replicas, a density test — so once one passed, the next need only their
# metadata checked. Each pod's token volume has its own random name (kube-api-access-xxxxx): the key
# stands a placeholder in for it wherever it is a whole string, which changes no rule's verdict (the
# name is a valid DNS label either way, and it is renamed everywhere it is referenced).
_CLEAN_POD_SPECS: set[str | bytes] = set()
_CLEAN_POD_SPECS_MAX = 1024
_TOKEN_VOLUME = re.compile(r"kube-api-access-[a-z0-9]{5}")
# marshal's format 2 writes exact types (True, 1 and 1.0, lists and tuples stay apart), dicts in
# their order, and no back-references, so equal keys mean equal specs. It refuses any other type
# (a str or dict subclass): those take repr, slower (measured 20 µs against 6 µs for a pause pod).
_MARSHAL_FORMAT = 2
# A token name as format 2 writes a whole string: type, 4-byte length, UTF-8 text; its placeholder
# cannot occur in an encoding otherwise (UTF-8 never has 0xFF; numbers hold fewer than 21 in a row).
_TOKEN_LEN = len("kube-api-access-xxxxx")
_STRING_HEAD = b"u" + _TOKEN_LEN.to_bytes(4, "little")
_TOKEN_PLACEHOLDER = _STRING_HEAD + b"\xff" * _TOKEN_LEN


def _pod_spec_key(spec: dict) -> str | bytes:
    tokens: list[str] = []
    for volume in spec.get("volumes") or ():
        name = volume.get("name") if type(volume) is dict and "projected" in volume else None
        if type(name) is str and _TOKEN_VOLUME.fullmatch(name):
            tokens.append(name)
    try:
        data = marshal.dumps(spec, _MARSHAL_FORMAT)
    except ValueError:
        text = repr(spec)  # repr escapes a NUL in a string, so the NUL placeholder cannot occur otherwise
        return text.replace(tokens[0], "\0") if len(tokens) == 1 else text
    return data.replace(_STRING_HEAD + tokens[0].encode(), _TOKEN_PLACEHOLDER) if len(tokens) == 1 else data


def _validate_pod_create(obj: dict, errs: Errors) -> None:
    """ValidatePodCreate, skipping the spec rules for a spec seen clean before (they read only the spec)."""
    meta = obj.get("metadata") or {}
    key = _pod_spec_key(obj.get("spec") or {})
    if key in _CLEAN_POD_SPECS:
        validate_object_meta(meta, True, name_is_subdomain, errs)
        return
    validate_pod(obj, errs)
    meta_errs: Errors = []
    validate_object_meta(meta, True, name_is_subdomain, meta_errs)
    if len(errs) == len(meta_errs):  # every error (if any) was the metadata's: the spec is clean
        if len(_CLEAN_POD_SPECS) >= _CLEAN_POD_SPECS_MAX:
            _CLEAN_POD_SPECS.clear()
        _CLEAN_POD_SPECS.add(key)


def field_errors(obj: dict, kind: Kind, old: dict | None = None) -> list[FieldError]:
    """Every semantic field error of `obj` (as created, or as an update of `old`), in apiserver's order."""
    errs: Errors = []
    key = (kind.group, kind.kind)
    if key == ("", "Pod"):
        if old is None:
            _validate_pod_create(obj, errs)
        else:
            validate_pod_update(obj, old, errs)
    elif key in _RULES:
        _RULES[key](obj, errs, old)  # type: ignore[misc]
    else:
        validate_generic(obj, errs, old, kind.namespaced)
    if not errs and key == ("", "Service"):
        errs = node_port_range_errors(obj)
    return errs


def validate(obj: dict, kind: Kind, old: dict | None = None) -> None:
    """Semantic validation as kube-apiserver does it; raises 422 Invalid with all field errors.

    `obj` is the decoded, defaulted object; `old` the stored one on update (immutable fields)."""
    errs = field_errors(obj, kind, old)
    if errs:
        _raise_invalid(obj, kind, errs)


def validate_pod_metadata(obj: dict, kind: Kind) -> None:
    """`validate` of a created Pod whose spec passed every rule before (api.podspecs built it from
    one that did): only its metadata's rules run, as for any spec seen clean (`_validate_pod_create`)."""
    errs: Errors = []
    validate_object_meta(obj.get("metadata") or {}, True, name_is_subdomain, errs)
    if errs:
        _raise_invalid(obj, kind, errs)


def _raise_invalid(obj: dict, kind: Kind, errs: Errors) -> None:
    unique: list[FieldError] = []
    seen: set[str] = set()
    for e in errs:  # field.ErrorList.ToAggregate drops repeated messages
        text = str(e)
        if text not in seen:
            seen.add(text)
            unique.append(e)
    name = (obj.get("metadata") or {}).get("name") or ""
    raise invalid(kind.kind, kind.group, name, unique, hint=hints.for_invalid(kind, unique))
