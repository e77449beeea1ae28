"""Core kinds besides pods and Services: ConfigMap, Secret, Namespace, Node, PersistentVolumeClaim.

Each `validate_*(obj, errs, old=None)` appends the field errors kube-apiserver's
pkg/apis/core/validation reports on create (`old is None`) or update, in its order: data keys,
the 1 MiB size limit, `immutable` ConfigMaps and Secrets, node taints, a claim's access modes,
storage request and (mostly) immutable spec. Kinds without rules of their own get metadata checks.

Read by: api.validation. Reads: api.rules, api.rules_containers, api.rules_pod, api.selectors, api._quantity.
"""

from __future__ import annotations

import base64
from typing import Any

from kubelab.api import _quantity, names
from kubelab.api.rules import (
    IMMUTABLE,
    Errors,
    duplicate,
    forbidden,
    invalid,
    name_is_label,
    name_is_subdomain,
    not_supported,
    required,
    too_long,
    validate_object_meta,
    validate_object_meta_update,
)
from kubelab.api.rules_containers import config_key_errors
from kubelab.api.rules_pod import spec_diff
from kubelab.api.selectors import validate_label_selector_spec

MAX_SECRET_SIZE = 1024 * 1024
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _data_keys(data: dict[str, Any], path: str, errs: Errors, other: dict[str, Any] | None = None) -> None:
    for key in sorted(data):
        errs.extend(invalid(f"{path}[{key}]", key, m) for m in config_key_errors(key))
        if other is not None and key in other:
            errs.append(invalid(f"{path}[{key}]", key, "duplicate of key present in binaryData"))


def _decoded_size(value: Any) -> int:
    try:
        return len(base64.b64decode(value or ""))
    except ValueError:
        return len(value or "")


def validate_config_map(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    meta = obj.get("metadata") or {}
    if old is not None:
        validate_object_meta_update(meta, old.get("metadata") or {}, errs)
        if old.get("immutable") is True:
            if obj.get("immutable") is not True:
                errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
            for key in ("data", "binaryData"):
                if (obj.get(key) or {}) != (old.get(key) or {}):
                    errs.append(forbidden(key, "field is immutable when `immutable` is set"))
    validate_object_meta(meta, True, name_is_subdomain, errs)
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    _data_keys(data, "data", errs, binary)
    _data_keys(binary, "binaryData", errs)
    size = sum(len(v.encode()) for v in data.values() if isinstance(v, str)) + sum(map(_decoded_size, binary.values()))
    if size > MAX_SECRET_SIZE:
        errs.append(too_long("", MAX_SECRET_SIZE))


_SECRET_REQUIRED = {"kubernetes.io/dockercfg": (".dockercfg",),
                    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
                    "kubernetes.io/tls": ("tls.crt", "tls.key"), "kubernetes.io/ssh-auth": ("ssh-privatekey",)}


def validate_secret(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    meta = obj.get("metadata") or {}
    if old is not None:
        validate_object_meta_update(meta, old.get("metadata") or {}, errs)
        if obj.get("type") != old.get("type"):
            errs.append(invalid("type", obj.get("type", ""), IMMUTABLE))
        if old.get("immutable") is True:
            if obj.get("immutable") is not True:
                errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
            if (obj.get("data") or {}) != (old.get("data") or {}):
                errs.append(forbidden("data", "field is immutable when `immutable` is set"))
    validate_object_meta(meta, True, name_is_subdomain, errs)
    data = obj.get("data") or {}
    _data_keys(data, "data", errs)
    if sum(map(_decoded_size, data.values())) > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    kind = obj.get("type", "")
    if kind == "kubernetes.io/service-account-token":
        if not (meta.get("annotations") or {}).get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.extend([required("data[username]"), required("data[password]")])
    elif kind in _SECRET_REQUIRED:
        for key in _SECRET_REQUIRED[kind]:
            if key not in data or (kind == "kubernetes.io/ssh-auth" and not data[key]):
                errs.append(required(f"data[{key}]"))
                if kind != "kubernetes.io/tls":
                    break


def validate_namespace(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    meta = obj.get("metadata") or {}
    if old is not None:
        validate_object_meta_update(meta, old.get("metadata") or {}, errs)
        return
    validate_object_meta(meta, False, name_is_label, errs)
    for name in (obj.get("spec") or {}).get("finalizers") or ():
        errs.extend(invalid("spec.finalizers", name, m) for m in names.qualified_name(name))
        if "/" not in name and name != "kubernetes":
            errs.append(invalid("spec.finalizers", name, "name is neither a standard finalizer name nor is it fully "
                                                         "qualified"))


def validate_node(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    if old is None:
        validate_object_meta(meta, False, name_is_subdomain, errs)
    else:
        validate_object_meta_update(meta, old.get("metadata") or {}, errs)
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(spec.get("taints") or ()):
        here = f"metadata.taints[{i}]"  # apiserver reports node taints under metadata, not spec
        key, value, effect = taint.get("key", ""), taint.get("value", ""), taint.get("effect", "")
        errs.extend(invalid(f"{here}.key", key, m) for m in names.qualified_name(key))
        messages = names.label_value(value)
        if messages:
            errs.append(invalid(f"{here}.value", value, ";".join(messages)))
        if not effect:
            errs.append(required(f"{here}.effect"))
        elif effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{here}.effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            error = duplicate(here, taint)
            error.detail = "taints must be unique by key and effect pair"
            errs.append(error)
        seen.add((key, effect))
    status = obj.get("status") or {}
    for section in ("capacity", "allocatable"):
        for name in sorted(status.get(section) or {}):
            try:
                q = _quantity.parse_json(status[section][name])
            except _quantity.QuantityError:
                continue
            if q.value < 0:
                errs.append(invalid(f"status.{section}.{name}", _quantity.canonical(q), "must be greater than or "
                                                                                        "equal to 0"))
    if old is not None:
        old_cidrs = (old.get("spec") or {}).get("podCIDRs") or []
        if old_cidrs and old_cidrs != (spec.get("podCIDRs") or []):
            errs.append(forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'))
        old_provider = (old.get("spec") or {}).get("providerID")
        if old_provider and old_provider != spec.get("providerID"):
            errs.append(forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'))


def _pvc(obj: dict[str, Any], errs: Errors) -> None:
    validate_object_meta(obj.get("metadata") or {}, True, name_is_subdomain, errs)
    spec = obj.get("spec") or {}
    modes = spec.get("accessModes") or []
    if not modes:
        errs.append(required("spec.accessModes", "at least 1 access mode is required"))
    if spec.get("selector") is not None:
        errs.extend(validate_label_selector_spec(spec["selector"], "spec.selector"))
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.append(not_supported("spec.accessModes", mode, ACCESS_MODES))
    if "ReadWriteOncePod" in modes and any(m != "ReadWriteOncePod" and m in ACCESS_MODES for m in modes):
        errs.append(forbidden("spec.accessModes", "may not use ReadWriteOncePod with other access modes"))
    requests = (spec.get("resources") or {}).get("requests") or {}
    if "storage" not in requests:
        errs.append(required("spec.resources[storage]"))
    else:
        try:
            q = _quantity.parse_json(requests["storage"])
        except _quantity.QuantityError:
            q = None
        if q is not None and q.value <= 0:
            errs.append(invalid("spec.resources[storage]", _quantity.canonical(q), "must be greater than zero"))
    storage_class = spec.get("storageClassName")
    if storage_class:
        errs.extend(invalid("spec.storageClassName", storage_class, m) for m in name_is_subdomain(storage_class, False))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        errs.append(not_supported("spec.volumeMode", mode, ("Block", "Filesystem")))


def validate_persistent_volume_claim(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    if old is None:
        _pvc(obj, errs)
        return
    validate_object_meta_update(obj.get("metadata") or {}, old.get("metadata") or {}, errs)
    _pvc(obj, errs)
    spec, old_spec = dict(obj.get("spec") or {}), dict(old.get("spec") or {})
    if not old_spec.get("volumeName"):
        old_spec["volumeName"] = spec.get("volumeName")
    bound = (obj.get("status") or {}).get("phase") == "Bound"
    if bound:
        for key in ("resources", "volumeAttributesClassName"):
            spec.pop(key, None)
            old_spec.pop(key, None)
    clean = lambda s: {k: v for k, v in s.items() if v is not None}  # noqa: E731
    if clean(spec) != clean(old_spec):
        diff = spec_diff("core.PersistentVolumeClaimSpec", clean(old_spec), clean(spec))
        errs.append(forbidden("spec", "spec is immutable after creation except resources.requests and "
                                      f"volumeAttributesClassName for bound claims\n{diff}"))
    new_size = _storage(obj)
    old_size = _storage(old)
    if new_size is not None and old_size is not None and new_size.value < old_size.value:
        capacity = ((old.get("status") or {}).get("capacity") or {}).get("storage")
        status_size = _quantity.parse_json(capacity).value if capacity is not None else 0
        if new_size.value <= status_size:
            errs.append(forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"))
    if (obj.get("spec") or {}).get("volumeMode") != (old.get("spec") or {}).get("volumeMode"):
        errs.append(invalid("volumeMode", (obj.get("spec") or {}).get("volumeMode"), IMMUTABLE))


def _storage(obj: dict[str, Any]) -> _quantity.Quantity | None:
    text = (((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return _quantity.parse_json(text) if text is not None else None
    except _quantity.QuantityError:
        return None


def validate_generic(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None, namespaced: bool) -> None:
    """Kinds without rules of their own here: metadata only (DNS-subdomain names)."""
    meta = obj.get("metadata") or {}
    if old is None:
        validate_object_meta(meta, namespaced, name_is_subdomain, errs)
    else:
        validate_object_meta_update(meta, old.get("metadata") or {}, errs)

