"""The local apiserver's semantic validation: `validate` runs the per-kind rules of
pkg/apis/*/validation on a decoded, defaulted object and raises a 422 Invalid listing all field
errors, with a one-line hint (api.hints) where a learner needs one. Structural decoding comes
first, in api.decoding.

Pod specs that passed every rule once are remembered by their exact content, so the next pods of
one template only have their metadata checked.

Read by: cluster.apiserver, server. Reads: api.rules*, api.hints, api.jsoncopy.
"""

from __future__ import annotations

import marshal
import re

from kubelab.api import hints
from kubelab.api.errors import FieldError, invalid
from kubelab.api.jsoncopy import EXACT_FORMAT
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
# The key is the spec's marshal bytes (api.jsoncopy.EXACT_FORMAT); a spec marshal refuses takes repr,
# slower (measured 20 µs against 6 µs for a pause pod). A token name as format 2 writes a whole string:
# type, 4-byte length, UTF-8 text; its placeholder cannot occur in an encoding otherwise (UTF-8 never
# has 0xFF; numbers hold fewer than 21 in a row).
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
        data = marshal.dumps(spec, EXACT_FORMAT)
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
