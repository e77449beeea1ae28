"""Pod and pod-template validation (ValidatePodSpec, ValidatePod, ValidatePodTemplateSpec, ValidatePodUpdate).

`validate_pod_spec` runs the checks in apiserver's order, so a template inside a Deployment
reports `spec.template.spec.containers[0].image: Required value` exactly like a real cluster.
Objects arrive defaulted: restartPolicy, dnsPolicy, imagePullPolicy, terminationMessagePolicy,
protocol and terminationGracePeriodSeconds are expected to be set, as they are in apiserver.

Read by: api.validation, api.rules_workloads, api.rules_batch, api.rules_core.
Reads: api.rules, api.rules_containers, api.rules_resources, api.rules_volumes, api.names.
"""

from __future__ import annotations

import json
from typing import Any

from kubelab.api import names
from kubelab.api.rules import (
    Errors,
    dns_label,
    duplicate,
    forbidden,
    invalid,
    name_is_subdomain,
    not_supported,
    required,
    validate_annotations,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from kubelab.api.rules_containers import validate_containers, validate_init_containers
from kubelab.api.rules_resources import validate_resources
from kubelab.api.rules_volumes import validate_volumes

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
MAX_INT32 = 2**31 - 1
UPDATABLE_POD_FIELDS = ("`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
                        "`spec.tolerations` (only additions to existing tolerations)",
                        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


def validate_tolerations(tolerations: list[dict[str, Any]], path: str, errs: Errors) -> None:
    for i, t in enumerate(tolerations):
        here = f"{path}[{i}]"
        key, operator, value = t.get("key", ""), t.get("operator", ""), t.get("value", "")
        effect = t.get("effect", "")
        if key:
            errs.extend(invalid(f"{here}.key", key, m) for m in names.qualified_name(key))
        if not key and operator != "Exists":
            errs.append(invalid(f"{here}.operator", operator,
                                'operator must be Exists when `key` is empty, which means "match all values and all '
                                'keys"'))
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(invalid(f"{here}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            msgs = names.label_value(value)
            if msgs:
                errs.append(invalid(f"{here}.operator", value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                errs.append(invalid(f"{here}.operator", t, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(not_supported(f"{here}.operator", operator, ("Equal", "Exists")))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{here}.effect", effect, TAINT_EFFECTS))


def _dns_config(config: dict[str, Any] | None, policy: str, path: str, errs: Errors) -> None:
    if policy == "None":
        if config is None:
            errs.append(required(path, "must provide `dnsConfig` when `dnsPolicy` is None"))
            return
        if not config.get("nameservers"):
            errs.append(required(f"{path}.nameservers", "must provide at least one DNS nameserver when `dnsPolicy` "
                                                         "is None"))
            return
    if config is None:
        return
    servers = config.get("nameservers") or []
    if len(servers) > 3:
        errs.append(invalid(f"{path}.nameservers", servers, "must not have more than 3 nameservers"))
    for i, option in enumerate(config.get("options") or ()):
        if not option.get("name"):
            errs.append(required(f"{path}.options[{i}]", "must not be empty"))


def validate_pod_spec(spec: dict[str, Any], path: str, is_pod: bool, errs: Errors) -> None:
    """ValidatePodSpec, in apiserver's order."""
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is None:
        errs.append(required(f"{path}.terminationGracePeriodSeconds"))
    volumes = validate_volumes(spec.get("volumes"), f"{path}.volumes", is_pod, errs)
    claims: set[str] = set()
    for i, claim in enumerate(spec.get("resourceClaims") or ()):
        name = claim.get("name", "")
        if not name:
            errs.append(required(f"{path}.resourceClaims[{i}].name"))
        elif name in claims:
            errs.append(duplicate(f"{path}.resourceClaims[{i}].name", name))
        else:
            errs.extend(invalid(f"{path}.resourceClaims[{i}].name", name, m) for m in dns_label(name))
            claims.add(name)
    containers = spec.get("containers")
    validate_containers(containers, volumes, grace, f"{path}.containers", errs)
    if spec.get("initContainers"):
        validate_init_containers(spec["initContainers"], containers, volumes, grace, f"{path}.initContainers", errs)
    if spec.get("resources"):
        validate_resources(spec["resources"], f"{path}.resources", errs)
    if spec.get("hostNetwork"):
        for ci, c in enumerate(containers or ()):
            for pi, port in enumerate(c.get("ports") or ()):
                host, number = port.get("hostPort", 0), port.get("containerPort", 0)
                if (is_pod or host) and host != number:
                    errs.append(invalid(f"{path}.containers[{ci}].ports[{pi}].hostPort", host,
                                        "must match `containerPort` when `hostNetwork` is true"))
    restart = spec.get("restartPolicy", "")
    if not restart:
        errs.append(required(f"{path}.restartPolicy"))
    elif restart not in RESTART_POLICIES:
        errs.append(not_supported(f"{path}.restartPolicy", restart, RESTART_POLICIES))
    dns_policy = spec.get("dnsPolicy", "")
    if not dns_policy:
        errs.append(required(f"{path}.dnsPolicy"))
    elif dns_policy not in DNS_POLICIES:
        errs.append(not_supported(f"{path}.dnsPolicy", dns_policy, DNS_POLICIES))
    validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector", errs)
    if "dnsConfig" in spec or dns_policy == "None":
        _dns_config(spec.get("dnsConfig"), dns_policy, f"{path}.dnsConfig", errs)
    for i, gate in enumerate(spec.get("readinessGates") or ()):
        condition = gate.get("conditionType", "")
        errs.extend(invalid(f"{path}.readinessGates[{i}].conditionType", condition, m)
                    for m in names.qualified_name(condition))
    seen_gates: set[str] = set()
    for i, gate in enumerate(spec.get("schedulingGates") or ()):
        name = gate.get("name", "")
        errs.extend(invalid(f"{path}.schedulingGates[{i}]", name, m) for m in names.qualified_name(name))
        if name in seen_gates:
            errs.append(duplicate(f"{path}.schedulingGates[{i}]", name))
        seen_gates.add(name)
    for key in ("serviceAccountName", "nodeName"):
        value = spec.get(key)
        if value:
            errs.extend(invalid(f"{path}.{key}", value, m) for m in name_is_subdomain(value, False))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(invalid(f"{path}.activeDeadlineSeconds", deadline,
                            f"must be between 1 and {MAX_INT32}, inclusive"))
    for key in ("hostname", "subdomain"):
        value = spec.get(key)
        if value:
            errs.extend(invalid(f"{path}.{key}", value, m) for m in dns_label(value))
    if spec.get("tolerations"):
        validate_tolerations(spec["tolerations"], f"{path}.tolerations", errs)
    for key in ("priorityClassName", "runtimeClassName"):
        value = spec.get(key)
        if value:
            errs.extend(invalid(f"{path}.{key}", value, m) for m in name_is_subdomain(value, False))
    preemption = spec.get("preemptionPolicy")
    if preemption is not None and preemption not in ("PreemptLowerPriority", "Never"):
        errs.append(not_supported(f"{path}.preemptionPolicy", preemption, ("PreemptLowerPriority", "Never")))
    os_name = (spec.get("os") or {}).get("name") if "os" in spec else None
    if os_name is not None and os_name not in ("linux", "windows"):
        errs.append(not_supported(f"{path}.os.name", os_name, ("linux", "windows")))


def _image_whitespace(containers: list[dict[str, Any]] | None, path: str, errs: Errors) -> None:
    for i, c in enumerate(containers or ()):
        image = c.get("image", "")
        if image != image.strip():
            errs.append(invalid(f"{path}[{i}].image", image, "must not have leading or trailing whitespace"))


def _validate_pod_metadata_and_spec(pod: dict[str, Any], errs: Errors) -> None:
    validate_object_meta(pod.get("metadata") or {}, True, name_is_subdomain, errs)
    spec = pod.get("spec") or {}
    validate_pod_spec(spec, "spec", True, errs)
    _image_whitespace(spec.get("containers"), "spec.containers", errs)
    _image_whitespace(spec.get("initContainers"), "spec.initContainers", errs)


def validate_pod(pod: dict[str, Any], errs: Errors) -> None:
    """ValidatePodCreate."""
    _validate_pod_metadata_and_spec(pod, errs)
    spec = pod.get("spec") or {}
    if spec.get("ephemeralContainers"):
        errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if spec.get("nodeName") and spec.get("schedulingGates"):
        errs.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))


def validate_pod_template(template: dict[str, Any] | None, path: str, errs: Errors) -> None:
    """ValidatePodTemplateSpec (labels are reported at `<path>.labels`, as apiserver does)."""
    template = template or {}
    meta = template.get("metadata") or {}
    validate_labels(meta.get("labels"), f"{path}.labels", errs)
    validate_annotations(meta.get("annotations"), f"{path}.annotations", errs)
    spec = template.get("spec") or {}
    validate_pod_spec(spec, f"{path}.spec", False, errs)
    if spec.get("ephemeralContainers"):
        errs.append(forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))


def _same_toleration(old: dict[str, Any], new: dict[str, Any]) -> bool:
    strip = lambda t: {k: v for k, v in t.items() if k != "tolerationSeconds"}  # noqa: E731
    return strip(old) == strip(new)


def _with_image(container: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    munged = {k: v for k, v in container.items() if k != "image"}
    if "image" in old:
        munged["image"] = old["image"]
    return munged


def validate_pod_update(pod: dict[str, Any], old: dict[str, Any], errs: Errors) -> None:
    """ValidatePodUpdate: only images, activeDeadlineSeconds and added tolerations may change."""
    validate_object_meta_update(pod.get("metadata") or {}, old.get("metadata") or {}, errs)
    _validate_pod_metadata_and_spec(pod, errs)
    spec, old_spec = pod.get("spec") or {}, old.get("spec") or {}
    for key in ("containers", "initContainers"):
        new_list, old_list = spec.get(key) or [], old_spec.get(key) or []
        if len(new_list) != len(old_list):
            errs.append(forbidden(f"spec.{key}", "pod updates may not add or remove containers"))
            return
        for i, c in enumerate(new_list):
            if not c.get("image"):
                errs.append(required(f"spec.{key}[{i}].image"))
    deadline, old_deadline = spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    if deadline is not None:
        if not 0 <= deadline <= MAX_INT32:
            errs.append(invalid("spec.activeDeadlineSeconds", deadline,
                                f"must be between 0 and {MAX_INT32}, inclusive"))
            return
        if old_deadline is not None and old_deadline < deadline:
            errs.append(invalid("spec.activeDeadlineSeconds", deadline, "must be less than or equal to previous value"))
            return
    elif old_deadline is not None:
        errs.append(invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"))
    new_tolerations = spec.get("tolerations") or []
    for old_toleration in old_spec.get("tolerations") or ():
        if not any(_same_toleration(old_toleration, t) for t in new_tolerations):
            errs.append(forbidden("spec.tolerations", "existing toleration can not be modified except its "
                                                      "tolerationSeconds"))
            break
    if spec == old_spec:
        return
    munged = dict(spec)
    for key in ("containers", "initContainers"):
        if key in spec:
            munged[key] = [_with_image(c, o) for c, o in zip(spec[key], old_spec.get(key) or (), strict=True)]
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged.pop(key, None)
        if key in old_spec:
            munged[key] = old_spec[key]
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if munged != old_spec:
        errs.append(forbidden("spec", "pod updates may not change fields other than "
                              f"{','.join(UPDATABLE_POD_FIELDS)}\n{spec_diff('core.PodSpec', old_spec, munged)}"))


def spec_diff(type_name: str, old: Any, new: Any) -> str:
    """A short diff in the spirit of go-cmp's (`-` old, `+` new), listing each changed field."""
    lines: list[str] = []
    _diff_into(lines, "", old, new)
    body = "\n".join(lines[:20])
    return f"  {type_name}{{\n{body}\n  }}\n"


def _diff_into(lines: list[str], path: str, old: Any, new: Any) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if path else key
            _diff_into(lines, child, old.get(key), new.get(key))
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff_into(lines, f"{path}[{i}]", a, b)
        return
    if old != new:
        lines.append(f"- \t{path}: {json.dumps(old, sort_keys=True)},")
        lines.append(f"+ \t{path}: {json.dumps(new, sort_keys=True)},")
