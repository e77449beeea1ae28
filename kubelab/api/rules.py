"""Building blocks of kube-apiserver's semantic validation: field errors, names, metadata.

Field errors print like apimachinery's field.Error (`spec.replicas: Invalid value: -1: must be
greater than or equal to 0`); values that Go renders as JSON (maps, selectors, lists) keep Go's
field order through `raw()`. `validate_object_meta` is ValidateObjectMeta with the name rule of
each kind; labels, annotations, finalizers and owner references follow apimachinery's texts.

Read by: api.rules_* modules, api.validation.
Reads: api.errors, api.names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from kubelab.api import names
from kubelab.api.errors import FieldError

NEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"
ANNOTATIONS_LIMIT = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})

Errors = list[FieldError]
NameFn = Callable[[str, bool], list[str]]


class Error(FieldError):
    """field.Error with the NotFound type and, for Go values printed as JSON, a pre-rendered value."""

    __slots__ = ("raw",)
    TYPES = {**FieldError.TYPES, "NotFound": ("Not found", "FieldValueNotFound")}

    def __init__(self, type: str, field: str, value: Any = FieldError._MISSING, detail: str = "",
                 raw: str | None = None) -> None:
        super().__init__(type, field, value, detail)
        self.raw = raw

    def __str__(self) -> str:
        if self.raw is None:
            return super().__str__()
        text = f"{self.field}: {self.TYPES[self.type][0]}: {self.raw}"
        return f"{text}: {self.detail}" if self.detail else text


def required(path: str, detail: str = "") -> Error:
    return Error("Required", path, detail=detail)


def invalid(path: str, value: Any, detail: str = "") -> Error:
    return Error("Invalid", path, value, detail)


def raw(path: str, rendered: str, detail: str = "", type: str = "Invalid") -> Error:
    """An error whose value Go prints as JSON in struct-field order (already rendered)."""
    return Error(type, path, None, detail, raw=rendered)


def forbidden(path: str, detail: str) -> Error:
    return Error("Forbidden", path, detail=detail)


def duplicate(path: str, value: Any) -> Error:
    return Error("Duplicate", path, value)


def not_found(path: str, value: Any) -> Error:
    return Error("NotFound", path, value)


def not_supported(path: str, value: Any, supported: list[str] | tuple[str, ...]) -> Error:
    quoted = ", ".join(json.dumps(v) for v in supported)
    return Error("NotSupported", path, value, f"supported values: {quoted}" if supported else "")


def too_long(path: str, limit: int) -> Error:
    return Error("TooLong", path, detail=f"may not be more than {limit} bytes")


def go_json(value: Any) -> str:
    """encoding/json's output for maps and lists (maps sorted by key, no spaces)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def selector_json(selector: dict[str, Any] | None) -> str:
    """A metav1.LabelSelector as Go marshals it: matchLabels before matchExpressions, empties left out."""
    if selector is None:
        return "null"
    parts = []
    if selector.get("matchLabels"):
        parts.append('"matchLabels":' + go_json(selector["matchLabels"]))
    if selector.get("matchExpressions"):
        exprs = []
        for e in selector["matchExpressions"]:
            fields = [f'"key":{go_json(e.get("key", ""))}', f'"operator":{go_json(e.get("operator", ""))}']
            if e.get("values"):
                fields.append(f'"values":{go_json(e["values"])}')
            exprs.append("{" + ",".join(fields) + "}")
        parts.append('"matchExpressions":[' + ",".join(exprs) + "]")
    return "{" + ",".join(parts) + "}"


def nonnegative(value: Any, path: str, errs: Errors) -> None:
    if isinstance(value, int) and value < 0:
        errs.append(invalid(path, value, NEGATIVE))


# --- names -----------------------------------------------------------------------------------

_SUBDOMAIN_RE = re.compile("^" + names.DNS1123_SUBDOMAIN_FMT + "$")
_LABEL_RE = re.compile("^" + names.DNS1123_LABEL_FMT + "$")
DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_RE = re.compile("^" + DNS1035_FMT + "$")


def _mask_trailing_dash(name: str) -> str:
    # apimachinery's maskTrailingDash: a generateName may end in "-"; it replaces the last two bytes.
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def dns_label(value: str) -> list[str]:
    """IsDNS1123Label, with its `must not contain dots` for valid subdomains."""
    if _LABEL_RE.match(value) and len(value) <= 63:
        return []
    errors = names.dns1123_label(value)
    if not _LABEL_RE.match(value) and _SUBDOMAIN_RE.match(value):
        errors = [e for e in errors if not e.startswith("a lowercase RFC 1123 label")] + ["must not contain dots"]
    return errors


def dns_subdomain(value: str) -> list[str]:
    if len(value) <= 253 and _SUBDOMAIN_RE.match(value):
        return []
    return names.dns1123_subdomain(value)


def dns1035_label(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _DNS1035_RE.match(value):
        errors.append("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                      "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                      f"regex used for validation is '{DNS1035_FMT}')")
    return errors


def name_is_subdomain(name: str, prefix: bool) -> list[str]:
    return dns_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_label(name: str, prefix: bool) -> list[str]:
    return dns_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035(name: str, prefix: bool) -> list[str]:
    return dns1035_label(_mask_trailing_dash(name) if prefix else name)


# --- labels, annotations, metadata -----------------------------------------------------------

# Objects repeat the same few label keys and values: remember each verdict (the hot path of validate).
@lru_cache(maxsize=8192)
def label_key_errors(key: str) -> tuple[str, ...]:
    return tuple(names.qualified_name(key))


@lru_cache(maxsize=8192)
def label_value_errors(value: str) -> tuple[str, ...]:
    return tuple(names.label_value(value))


# Label keys and values seen valid. Every object has labels, nearly always valid and seen before: two set
# look-ups over the whole map (in C) answer them, where a sort and two cached calls per label cost ~5.6k
# instructions for a pod's one label (callgrind). Only strings go in, so anything else takes the full walk.
_VALID_KEYS: set[str] = set()
_VALID_VALUES: set[str] = set()


def validate_labels(labels: dict[str, str] | None, path: str, errs: Errors) -> None:
    """ValidateLabels; Go walks the map in random order, sorted keys keep messages stable."""
    if not labels:
        return
    try:
        if _VALID_KEYS.issuperset(labels) and _VALID_VALUES.issuperset(labels.values()):
            return
    except TypeError:  # an unhashable value: the walk below says what it says
        pass
    for key in sorted(labels):
        value = labels[key]
        bad = False
        for msg in label_key_errors(key):
            errs.append(invalid(path, key, msg))
            bad = True
        if not bad and type(key) is str:
            _remember(_VALID_KEYS, key)
        if isinstance(value, str):
            bad = False
            for msg in label_value_errors(value):
                errs.append(invalid(path, value, msg))
                bad = True
            if not bad and type(value) is str:
                _remember(_VALID_VALUES, value)


def _remember(valid: set[str], text: str) -> None:
    if len(valid) >= 8192:  # bounded, as the verdict caches
        valid.clear()
    valid.add(text)


def validate_annotations(annotations: dict[str, str] | None, path: str, errs: Errors) -> None:
    if not annotations:
        return
    size = 0
    for key in sorted(annotations):
        for msg in label_key_errors(key.lower()):
            errs.append(invalid(path, key, msg))
        value = annotations[key]
        size += len(key.encode()) + len(value.encode() if isinstance(value, str) else b"")
    if size > ANNOTATIONS_LIMIT:
        errs.append(too_long(path, ANNOTATIONS_LIMIT))


def _validate_owner_references(refs: list[dict[str, Any]], path: str, errs: Errors) -> None:
    controller = ""
    for i, ref in enumerate(refs):
        here = f"{path}[{i}]"
        api_version = ref.get("apiVersion") or ""
        if not api_version:
            errs.append(required(f"{here}.apiVersion", "must not be empty"))
        elif api_version.count("/") > 1 or api_version.endswith("/"):
            errs.append(invalid(f"{here}.apiVersion", api_version, "must be <group>/<version> or <version>"))
        for key in ("kind", "name", "uid"):
            if not ref.get(key):
                errs.append(required(f"{here}.{key}", "must not be empty"))
        if api_version == "v1" and ref.get("kind") == "Event":
            errs.append(raw(here, go_json(ref), "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller") is True:
            this = f"{ref.get('kind', '')}/{ref.get('name', '')}"
            if controller:
                errs.append(raw(path, go_json(refs), "Only one reference can have Controller set to true. "
                                f'Found "true" in references for {controller} and {this}'))
            else:
                controller = this


def _validate_finalizers(finalizers: list[str], path: str, errs: Errors) -> None:
    for name in finalizers:
        for msg in names.qualified_name(name):
            errs.append(invalid(path, name, msg))
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(raw(path, go_json(finalizers), "finalizer orphan and foregroundDeletion cannot be both set"))


def _validate_kube_finalizers(finalizers: list[str], path: str, errs: Errors) -> None:
    for i, name in enumerate(finalizers):
        if "/" not in name and name not in STANDARD_FINALIZERS:
            errs.append(invalid(f"{path}[{i}]", name, "name is neither a standard finalizer name nor is it fully "
                                                      "qualified"))


# Every create and update checks its namespace's name, and a cluster has few: remember each verdict
# (callgrind: ~4k instructions per pod created, a regular expression and two calls).
@lru_cache(maxsize=1024)
def namespace_errors(namespace: str) -> tuple[str, ...]:
    return tuple(name_is_label(namespace, False))


def _validate_meta_common(meta: dict[str, Any], errs: Errors) -> None:
    generation = meta.get("generation")
    if generation is not None:
        nonnegative(generation, "metadata.generation", errs)
    # Called only when present (a pod's annotations rarely are): the call is most of the cost of a no-op.
    labels, annotations = meta.get("labels"), meta.get("annotations")
    if labels:
        validate_labels(labels, "metadata.labels", errs)
    if annotations:
        validate_annotations(annotations, "metadata.annotations", errs)
    if meta.get("ownerReferences"):
        _validate_owner_references(meta["ownerReferences"], "metadata.ownerReferences", errs)


def validate_object_meta(meta: dict[str, Any], namespaced: bool, name_fn: NameFn, errs: Errors) -> None:
    """ValidateObjectMeta on create (core's wrapper, with its finalizer-name rule)."""
    generate_name = meta.get("generateName")
    if generate_name:
        for msg in name_fn(generate_name, True):
            errs.append(invalid("metadata.generateName", generate_name, msg))
    name = meta.get("name")
    if not name:
        errs.append(required("metadata.name", "name or generateName is required"))
    else:
        for msg in name_fn(name, False):
            errs.append(invalid("metadata.name", name, msg))
    # Cluster-scoped objects: apiserver clears metadata.namespace before validating, so no check.
    if namespaced:
        namespace = meta.get("namespace")
        if not namespace:
            errs.append(required("metadata.namespace"))
        else:
            for msg in namespace_errors(namespace):
                errs.append(invalid("metadata.namespace", namespace, msg))
    _validate_meta_common(meta, errs)
    finalizers = meta.get("finalizers")
    if finalizers:
        _validate_finalizers(finalizers, "metadata.finalizers", errs)
        _validate_kube_finalizers(finalizers, "metadata.finalizers", errs)


def validate_object_meta_update(meta: dict[str, Any], old_meta: dict[str, Any], errs: Errors) -> None:
    """ValidateObjectMetaUpdate without the store's part (name, namespace, uid, creationTimestamp)."""
    if old_meta.get("deletionTimestamp"):
        added = sorted(set(meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ()))
        if added:
            errs.append(forbidden("metadata.finalizers", "no new finalizers can be added if the object is being "
                                  f"deleted, found new finalizers {_go_string_slice(added)}"))
    generation = meta.get("generation", 0)
    nonnegative(generation, "metadata.generation", errs)
    if isinstance(generation, int) and generation < (old_meta.get("generation") or 0):
        errs.append(invalid("metadata.generation", generation, "must not be decremented"))
    validate_labels(meta.get("labels"), "metadata.labels", errs)
    validate_annotations(meta.get("annotations"), "metadata.annotations", errs)
    if meta.get("ownerReferences"):
        _validate_owner_references(meta["ownerReferences"], "metadata.ownerReferences", errs)
    if meta.get("finalizers"):
        _validate_kube_finalizers(meta["finalizers"], "metadata.finalizers", errs)



def validate_meta(obj: dict[str, Any], old: dict[str, Any] | None, namespaced: bool, name_fn: NameFn,
                  errs: Errors) -> None:
    """ObjectMeta on create (name syntax, labels, annotations), or on update (what may not change)."""
    meta = obj.get("metadata") or {}
    if old is None:
        validate_object_meta(meta, namespaced, name_fn, errs)
    else:
        validate_object_meta_update(meta, old.get("metadata") or {}, errs)

def _go_string_slice(values: list[str]) -> str:
    return "[]string{" + ", ".join(json.dumps(v) for v in values) + "}"
