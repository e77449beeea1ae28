"""Workload validation: Deployment, ReplicaSet, DaemonSet, StatefulSet, ReplicationController.

Mirrors pkg/apis/apps/validation and core's ReplicationController rules (plus the registry's
"selector is immutable" rule for apps/v1): selectors must be present, valid and match the
template's labels, templates must restart as their controller expects, strategies must make
sense. Each `validate_*` appends apimachinery-style field errors to `errs`.

Read by: api.validation, api.rules_batch. Reads: api.rules, api.rules_pod, api.selectors.
"""

from __future__ import annotations

import re
from typing import Any

from kubelab.api.errors import ApiError
from kubelab.api.rules import (
    IMMUTABLE,
    Errors,
    forbidden,
    go_json,
    invalid,
    name_is_label,
    name_is_subdomain,
    nonnegative,
    not_supported,
    raw,
    required,
    selector_json,
    validate_annotations,
    validate_labels,
    validate_meta,
)
from kubelab.api.rules_pod import validate_pod_template
from kubelab.api.selectors import LabelSelector, validate_label_selector_spec

MISMATCH = "`selector` does not match template `labels`"
_PERCENT = re.compile(r"^[0-9]+%$")
PERCENT_ERROR = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
                 "regex used for validation is '[0-9]+%')")


def as_selector(spec: dict[str, Any] | None) -> LabelSelector | None:
    """metav1.LabelSelectorAsSelector; None when it fails (nil selects nothing)."""
    try:
        return LabelSelector.from_spec(spec)
    except ApiError:
        return None


def template_labels(template: dict[str, Any] | None) -> dict[str, str] | None:
    return ((template or {}).get("metadata") or {}).get("labels")


def _mismatch(path: str, template: dict[str, Any] | None) -> Any:
    return invalid(path, template_labels(template), MISMATCH)


def _required_selector(spec: dict[str, Any], what: str, errs: Errors) -> None:
    selector = spec.get("selector")
    if selector is None:
        errs.append(required("spec.selector"))
        return
    errs.extend(validate_label_selector_spec(selector, "spec.selector"))
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errs.append(raw("spec.selector", selector_json(selector), f"empty selector is invalid for {what}"))


def _template_for_controller(spec: dict[str, Any], owner: str, errs: Errors) -> None:
    """ValidatePodTemplateSpecForReplicaSet/ForRC: labels match, restartPolicy Always, no deadline."""
    template = spec.get("template") or {}
    selector = as_selector(spec.get("selector"))
    if selector is None:
        errs.append(raw("spec.selector", selector_json(spec.get("selector")), "invalid label selector"))
        return
    if not selector.empty and not selector.matches(template_labels(template)):
        errs.append(_mismatch("spec.template.metadata.labels", template))
    validate_pod_template(template, "spec.template", errs)
    pod = template.get("spec") or {}
    restart = pod.get("restartPolicy", "")
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ("Always",)))
    if pod.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {owner} is not "
                                                                          "Supported"))


def _percent(value: Any) -> int | None:
    return int(value[:-1]) if isinstance(value, str) and _PERCENT.match(value) else None


def _int_or_percent_value(value: Any) -> int:
    """getIntOrPercentValue: a percentage's number, an int, or a string's Atoi (0 when it is not one)."""
    if isinstance(value, int):
        return value
    percent = _percent(value)
    if percent is not None:
        return percent
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else 0


def _positive_int_or_percent(value: Any, path: str, errs: Errors) -> None:
    if isinstance(value, str):
        if not _PERCENT.match(value):
            errs.append(invalid(path, value, PERCENT_ERROR))
    else:
        nonnegative(value, path, errs)


def _not_over_100(value: Any, path: str, errs: Errors) -> None:
    percent = _percent(value)
    if percent is not None and percent > 100:
        errs.append(invalid(path, value, "must not be greater than 100%"))


def _deployment_strategy(strategy: dict[str, Any], errs: Errors) -> None:
    kind = strategy.get("type", "")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.append(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is "
                                                                 "'Recreate'"))
    elif kind == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if rolling is None:
            errs.append(required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"))
            return
        path = "spec.strategy.rollingUpdate"
        unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
        _positive_int_or_percent(unavailable, f"{path}.maxUnavailable", errs)
        _positive_int_or_percent(surge, f"{path}.maxSurge", errs)
        if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
            errs.append(invalid(f"{path}.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0"))
        _not_over_100(unavailable, f"{path}.maxUnavailable", errs)
    else:
        errs.append(raw("spec.strategy", go_json(strategy), 'supported values: "Recreate", "RollingUpdate"',
                        type="NotSupported"))


def validate_deployment(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    validate_meta(obj, old, True, name_is_subdomain, errs)
    spec = obj.get("spec") or {}
    nonnegative(spec.get("replicas", 0), "spec.replicas", errs)
    _required_selector(spec, "deployment", errs)
    _template_for_controller(spec, "ReplicaSet", errs)
    _deployment_strategy(spec.get("strategy") or {}, errs)
    min_ready = spec.get("minReadySeconds", 0)
    nonnegative(min_ready, "spec.minReadySeconds", errs)
    if spec.get("revisionHistoryLimit") is not None:
        nonnegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit", errs)
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        nonnegative(deadline, "spec.progressDeadlineSeconds", errs)
        if deadline <= min_ready:
            errs.append(invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    if old is not None:
        _immutable_selector(obj, old, errs)


def _immutable_selector(obj: dict[str, Any], old: dict[str, Any], errs: Errors) -> None:
    selector = (obj.get("spec") or {}).get("selector")
    if selector != (old.get("spec") or {}).get("selector"):
        errs.append(raw("spec.selector", selector_json(selector), IMMUTABLE))


def validate_replica_set(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    validate_meta(obj, old, True, name_is_subdomain, errs)
    spec = obj.get("spec") or {}
    nonnegative(spec.get("replicas", 0), "spec.replicas", errs)
    nonnegative(spec.get("minReadySeconds", 0), "spec.minReadySeconds", errs)
    # apiserver words a ReplicaSet's empty selector like a Deployment's.
    _required_selector(spec, "deployment", errs)
    _template_for_controller(spec, "ReplicaSet", errs)
    if old is not None:
        _immutable_selector(obj, old, errs)


def _daemon_set_strategy(strategy: dict[str, Any], errs: Errors) -> None:
    path = "spec.updateStrategy"
    kind = strategy.get("type", "")
    if kind == "OnDelete":
        return
    if kind != "RollingUpdate":
        errs.append(raw(path, go_json(strategy), 'supported values: "RollingUpdate", "OnDelete"', type="NotSupported"))
        return
    rolling = strategy.get("rollingUpdate")
    if rolling is None:
        errs.append(required(f"{path}.rollingUpdate"))
        return
    path += ".rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
    _positive_int_or_percent(unavailable, f"{path}.maxUnavailable", errs)
    _positive_int_or_percent(surge, f"{path}.maxSurge", errs)
    _not_over_100(unavailable, f"{path}.maxUnavailable", errs)
    _not_over_100(surge, f"{path}.maxSurge", errs)
    has_unavailable, has_surge = _int_or_percent_value(unavailable) != 0, _int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        errs.append(invalid(f"{path}.maxSurge", surge, "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        errs.append(required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))


def validate_daemon_set(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    validate_meta(obj, old, True, name_is_subdomain, errs)
    spec = obj.get("spec") or {}
    selector_spec = spec.get("selector")
    errs.extend(validate_label_selector_spec(selector_spec, "spec.selector"))
    template = spec.get("template") or {}
    selector = as_selector(selector_spec)
    if selector is not None and not selector.matches(template_labels(template)):
        errs.append(_mismatch("spec.template.metadata.labels", template))
    if selector_spec is not None and not selector_spec.get("matchLabels") and not selector_spec.get("matchExpressions"):
        errs.append(raw("spec.selector", selector_json(selector_spec), "empty selector is invalid for daemonset"))
    validate_pod_template(template, "spec.template", errs)
    pod = template.get("spec") or {}
    if pod.get("restartPolicy", "") != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", pod.get("restartPolicy", ""), ("Always",)))
    if pod.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in DaemonSet is not "
                                                                          "Supported"))
    nonnegative(spec.get("minReadySeconds", 0), "spec.minReadySeconds", errs)
    _daemon_set_strategy(spec.get("updateStrategy") or {}, errs)
    if spec.get("revisionHistoryLimit") is not None:
        nonnegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit", errs)
    if old is not None:
        _immutable_selector(obj, old, errs)


_STS_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds")


def validate_stateful_set(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    validate_meta(obj, old, True, name_is_label, errs)
    spec = obj.get("spec") or {}
    policy = spec.get("podManagementPolicy", "")
    if not policy:
        errs.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
    strategy = spec.get("updateStrategy") or {}
    kind = strategy.get("type", "")
    rolling = strategy.get("rollingUpdate")
    path = "spec.updateStrategy"
    if not kind:
        errs.append(required(path))
    elif kind == "OnDelete":
        if rolling is not None:
            errs.append(raw(f"{path}.rollingUpdate", go_json(rolling), "only allowed for updateStrategy "
                                                                       "'RollingUpdate'"))
    elif kind == "RollingUpdate":
        if rolling is not None:
            nonnegative(rolling.get("partition", 0), f"{path}.rollingUpdate.partition", errs)
            unavailable = rolling.get("maxUnavailable")
            if unavailable is not None:
                here = f"{path}.rollingUpdate.maxUnavailable"
                _positive_int_or_percent(unavailable, here, errs)
                if _int_or_percent_value(unavailable) == 0:
                    errs.append(invalid(here, unavailable, "cannot be 0"))
                _not_over_100(unavailable, here, errs)
    else:
        errs.append(raw(path, go_json(strategy), "must be 'RollingUpdate' or 'OnDelete'"))
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        for key in ("whenDeleted", "whenScaled"):
            value = retention.get(key, "")
            if value not in ("Retain", "Delete"):
                errs.append(not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{key}", value,
                                          ("Retain", "Delete")))
    nonnegative(spec.get("replicas", 0), "spec.replicas", errs)
    nonnegative(spec.get("minReadySeconds", 0), "spec.minReadySeconds", errs)
    if spec.get("ordinals") is not None:
        nonnegative(spec["ordinals"].get("start", 0), "spec.ordinals.start", errs)
    _required_selector(spec, "statefulset", errs)
    selector = as_selector(spec.get("selector"))
    template = spec.get("template") or {}
    if selector is None:
        errs.append(raw("spec.selector", selector_json(spec.get("selector"))))
    else:
        if not selector.empty and not selector.matches(template_labels(template)):
            errs.append(_mismatch("spec.template.metadata.labels", template))
        # apiserver leaves a StatefulSet's pod spec to the pods it creates: only labels and annotations here.
        meta = template.get("metadata") or {}
        validate_labels(meta.get("labels"), "spec.template.labels", errs)
        validate_annotations(meta.get("annotations"), "spec.template.annotations", errs)
    pod = template.get("spec") or {}
    if pod.get("restartPolicy", "") != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", pod.get("restartPolicy", ""), ("Always",)))
    if pod.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in StatefulSet is "
                                                                          "not Supported"))
    if old is not None:
        old_spec = old.get("spec") or {}
        strip = lambda s: {k: v for k, v in s.items() if k not in _STS_MUTABLE}  # noqa: E731
        if strip(spec) != strip(old_spec):
            errs.append(forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                                  "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                                  "'minReadySeconds' are forbidden"))


def validate_replication_controller(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    validate_meta(obj, old, True, name_is_subdomain, errs)
    spec = obj.get("spec") or {}
    nonnegative(spec.get("minReadySeconds", 0), "spec.minReadySeconds", errs)
    selector = spec.get("selector") or {}
    if not selector:
        errs.append(required("spec.selector"))
    nonnegative(spec.get("replicas", 0), "spec.replicas", errs)
    template = spec.get("template")
    if template is None:
        errs.append(required("spec.template"))
        return
    if selector and not LabelSelector.from_set(selector).matches(template_labels(template)):
        errs.append(_mismatch("spec.template.metadata.labels", template))
    validate_pod_template(template, "spec.template", errs)
    pod = template.get("spec") or {}
    if pod.get("restartPolicy", "") != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", pod.get("restartPolicy", ""), ("Always",)))
    if pod.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in "
                                                                          "ReplicationController is not Supported"))

