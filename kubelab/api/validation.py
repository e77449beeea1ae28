"""The local apiserver's semantic validation: `validate` runs the per-kind rules of
pkg/apis/*/validation on a decoded, defaulted object and raises a 422 Invalid listing all field
errors, with a one-line hint (api.hints) where a learner needs one. Structural decoding comes
first, in api.decoding.

A Pod built from a spec that passed every rule before (api.podspecs) only has its metadata
checked (`validate_pod_metadata`).

Read by: cluster.apiserver, server. Reads: api.rules*, api.hints.
"""

from __future__ import annotations

from kubelab.api import hints
from kubelab.api.errors import FieldError, invalid
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


def field_errors(obj: dict, kind: Kind, old: dict | None = None) -> list[FieldError]:
    """Every semantic field error of `obj` (as created, or as an update of `old`), in apiserver's order."""
    errs: Errors = []
    key = (kind.group, kind.kind)
    if key == ("", "Pod"):
        if old is None:
            validate_pod(obj, errs)
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
    one that did): only its metadata's rules run — the spec rules read only the spec."""
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
