"""Container validation as kube-apiserver does it: names, images, ports, env, mounts, resources, probes.

`validate_containers` is validateContainers (plus validateContainerCommon for each entry;
resources are checked in api.rules_resources);
`validate_init_containers` is its init-container twin. Error order and texts follow
pkg/apis/core/validation so a learner sees the same list a real cluster prints.

Read by: api.rules_pod, api.rules_service. Reads: api.rules, api.rules_resources.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kubelab.api.rules import (
    Errors,
    dns_label,
    duplicate,
    forbidden,
    invalid,
    name_is_subdomain,
    nonnegative,
    not_found,
    not_supported,
    required,
)
from kubelab.api.rules_resources import validate_resources

PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
RANGE_PORT = "must be between 1 and 65535, inclusive"


@lru_cache(maxsize=2048)
def port_name_errors(name: str) -> tuple[str, ...]:
    """IsValidPortName (IANA_SVC_NAME)."""
    errors = []
    if len(name) > 15:
        errors.append("must be no more than 15 characters")
    if not name or any(not (c.islower() or c.isdigit() or c == "-") or not c.isascii() for c in name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not any("a" <= c <= "z" for c in name):
        errors.append("must contain at least one letter (a-z)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return tuple(errors)


def port_num_or_name(port: Any, path: str, errs: Errors) -> None:
    """ValidatePortNumOrName for an IntOrString port."""
    if isinstance(port, str):
        errs.extend(invalid(path, port, msg) for msg in port_name_errors(port))
    elif not isinstance(port, int) or not 1 <= port <= 65535:
        errs.append(invalid(path, port if isinstance(port, int) else 0, RANGE_PORT))


def env_name_errors(name: str) -> list[str]:
    """IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on in 1.37)."""
    if any(not " " <= c <= "~" or c == "=" for c in name):
        return ["a valid environment variable name must consist only of printable ASCII characters other than '='"]
    return []


def _ports(ports: list[dict[str, Any]], path: str, errs: Errors) -> None:
    seen: set[str] = set()
    for i, port in enumerate(ports):
        here = f"{path}[{i}]"
        name = port.get("name")
        if name:
            msgs = port_name_errors(name)
            if msgs:
                errs.extend(invalid(f"{here}.name", name, m) for m in msgs)
            elif name in seen:
                errs.append(duplicate(f"{here}.name", name))
            else:
                seen.add(name)
        number = port.get("containerPort", 0)
        if not number:
            errs.append(required(f"{here}.containerPort"))
        elif not 1 <= number <= 65535:
            errs.append(invalid(f"{here}.containerPort", number, RANGE_PORT))
        host = port.get("hostPort", 0)
        if host and not 1 <= host <= 65535:
            errs.append(invalid(f"{here}.hostPort", host, RANGE_PORT))
        protocol = port.get("protocol", "")
        if not protocol:
            errs.append(required(f"{here}.protocol"))
        elif protocol not in PROTOCOLS:
            errs.append(not_supported(f"{here}.protocol", protocol, PROTOCOLS))


_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
                "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")


def _key_selector(ref: dict[str, Any], path: str, errs: Errors) -> None:
    for msg in name_is_subdomain(ref.get("name", ""), False):
        errs.append(invalid(f"{path}.name", ref.get("name", ""), msg))
    key = ref.get("key", "")
    if not key:
        errs.append(required(f"{path}.key"))
    else:
        errs.extend(invalid(f"{path}.key", key, m) for m in config_key_errors(key))


def config_key_errors(key: str) -> list[str]:
    """IsConfigMapKey: ConfigMap/Secret data keys and the keys that refer to them."""
    errors = []
    if len(key) > 253:
        errors.append("must be no more than 253 characters")
    if not key or any(not (c.isascii() and (c.isalnum() or c in "-._")) for c in key):
        errors.append("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
                      "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
    if key == ".":
        errors.append("must not be '.'")
    elif key == "..":
        errors.append("must not be '..'")
    elif key.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _env(env: list[dict[str, Any]], path: str, errs: Errors) -> None:
    for i, var in enumerate(env):
        here = f"{path}[{i}]"
        name = var.get("name", "")
        if not name:
            errs.append(required(f"{here}.name"))
        else:
            errs.extend(invalid(f"{here}.name", name, m) for m in env_name_errors(name))
        source = var.get("valueFrom")
        if source is None:
            continue
        from_path = f"{here}.valueFrom"
        count = 0
        if "fieldRef" in source:
            count += 1
            ref = source["fieldRef"]
            if not ref.get("apiVersion"):
                errs.append(required(f"{from_path}.fieldRef.apiVersion"))
            elif not ref.get("fieldPath"):
                errs.append(required(f"{from_path}.fieldRef.fieldPath"))
            else:
                field_path = ref["fieldPath"]
                if "[" not in field_path and field_path not in _FIELD_PATHS:
                    errs.append(not_supported(f"{from_path}.fieldRef.fieldPath", field_path, _FIELD_PATHS))
        if "resourceFieldRef" in source:
            count += 1
            if not source["resourceFieldRef"].get("resource"):
                errs.append(required(f"{from_path}.resourceFieldRef.resource"))
        if "configMapKeyRef" in source:
            count += 1
            _key_selector(source["configMapKeyRef"], f"{from_path}.configMapKeyRef", errs)
        if "secretKeyRef" in source:
            count += 1
            _key_selector(source["secretKeyRef"], f"{from_path}.secretKeyRef", errs)
        if count == 0:
            errs.append(invalid(from_path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                               "`configMapKeyRef` or `secretKeyRef`"))
        elif var.get("value"):
            errs.append(invalid(from_path, "", "may not be specified when `value` is not empty"))
        elif count > 1:
            errs.append(invalid(from_path, "", "may not have more than one field specified at a time"))


def _env_from(sources: list[dict[str, Any]], path: str, errs: Errors) -> None:
    for i, source in enumerate(sources):
        here = f"{path}[{i}]"
        prefix = source.get("prefix")
        if prefix:
            errs.extend(invalid(f"{here}.prefix", prefix, m) for m in env_name_errors(prefix))
        count = 0
        for key in ("configMapRef", "secretRef"):
            if key in source:
                count += 1
                name = source[key].get("name", "")
                if not name:
                    errs.append(required(f"{here}.{key}.name"))
                else:
                    errs.extend(invalid(f"{here}.{key}.name", name, m) for m in name_is_subdomain(name, True))
        if count == 0:
            errs.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(path, "", "may not have more than one field specified at a time"))


def local_descending_path_errors(target: str) -> list[str]:
    """validateLocalDescendingPath: relative, and never stepping out with '..'."""
    errors = []
    if target.startswith("/"):
        errors.append("must be a relative path")
    if ".." in target.replace("\\", "/").split("/"):
        errors.append("must not contain '..'")
    return errors


def _mounts(mounts: list[dict[str, Any]], volumes: dict[str, Any], path: str, errs: Errors) -> None:
    mount_points: set[str] = set()
    for i, mount in enumerate(mounts):
        here = f"{path}[{i}]"
        name = mount.get("name", "")
        if not name:
            errs.append(required(f"{here}.name"))
        if name not in volumes:
            errs.append(not_found(f"{here}.name", name))
        mount_path = mount.get("mountPath", "")
        if not mount_path:
            errs.append(required(f"{here}.mountPath"))
        if mount_path in mount_points:
            errs.append(invalid(f"{here}.mountPath", mount_path, "must be unique"))
        mount_points.add(mount_path)
        for key in ("subPath", "subPathExpr"):
            if mount.get(key):
                # apiserver names the list here, not the item (a quirk kept for identical messages).
                errs.extend(invalid(f"{path}.{key}", mount[key], m) for m in local_descending_path_errors(mount[key]))
        if mount.get("subPath") and mount.get("subPathExpr"):
            errs.append(invalid(f"{here}.subPathExpr", mount["subPathExpr"], "subPathExpr and subPath are "
                                                                                "mutually exclusive"))



def _handler(handler: dict[str, Any], grace: Any, path: str, errs: Errors, kinds: tuple[str, ...]) -> None:
    count = 0
    for key in kinds:
        if key not in handler:
            continue
        here = f"{path}.{key}"
        if count:
            errs.append(forbidden(here, "may not specify more than 1 handler type"))
            continue
        count += 1
        action = handler[key]
        if key == "exec":
            if not action.get("command"):
                errs.append(required(f"{here}.command"))
        elif key == "httpGet":
            if not action.get("path"):
                errs.append(required(f"{here}.path"))
            port_num_or_name(action.get("port", 0), f"{here}.port", errs)
            scheme = action.get("scheme", "")
            if scheme not in ("HTTP", "HTTPS"):
                errs.append(not_supported(f"{here}.scheme", scheme, ("HTTP", "HTTPS")))
            for header in action.get("httpHeaders") or ():
                header_name = header.get("name", "")
                if not header_name or any(not (c.isascii() and (c.isalnum() or c == "-")) for c in header_name):
                    errs.append(invalid(f"{here}.httpHeaders", header_name, "a valid HTTP header must consist of "
                                        "alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for "
                                        "validation is '[-A-Za-z0-9]+')"))
        elif key == "tcpSocket":
            port_num_or_name(action.get("port", 0), f"{here}.port", errs)
        elif key == "grpc":
            port_num_or_name(action.get("port", 0), f"{here}.port", errs)
        elif key == "sleep":
            seconds = action.get("seconds", 0)
            if isinstance(grace, int) and (seconds < 0 or seconds > grace):
                errs.append(invalid(here, seconds, "must be non-negative and less than terminationGracePeriodSeconds "
                                                   f"({grace})"))
    if count == 0:
        errs.append(required(path, "must specify a handler type"))


_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")


def _probe(probe: dict[str, Any] | None, grace: Any, path: str, kind: str, errs: Errors) -> None:
    if probe is None:
        return
    _handler(probe, grace, path, errs, _PROBE_HANDLERS)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        nonnegative(probe.get(key, 0), f"{path}.{key}", errs)
    tgps = probe.get("terminationGracePeriodSeconds")
    if tgps is not None and tgps <= 0:
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", tgps, "must be greater than 0"))
    if kind in ("liveness", "startup") and probe.get("successThreshold", 0) != 1:
        errs.append(invalid(f"{path}.successThreshold", probe.get("successThreshold", 0), "must be 1"))
    if kind == "readiness" and tgps is not None:
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", tgps, "must not be set for readinessProbes"))


def _common(c: dict[str, Any], volumes: dict[str, Any], path: str, errs: Errors) -> None:
    """validateContainerCommon."""
    name = c.get("name", "")
    if not name:
        errs.append(required(f"{path}.name"))
    else:
        errs.extend(invalid(f"{path}.name", name, m) for m in dns_label(name))
    if not c.get("image"):
        errs.append(required(f"{path}.image"))
    policy = c.get("terminationMessagePolicy", "")
    if not policy:
        errs.append(required(f"{path}.terminationMessagePolicy"))
    elif policy not in TERMINATION_MESSAGE_POLICIES:
        errs.append(not_supported(f"{path}.terminationMessagePolicy", policy, TERMINATION_MESSAGE_POLICIES))
    if c.get("ports"):
        _ports(c["ports"], f"{path}.ports", errs)
    if c.get("env"):
        _env(c["env"], f"{path}.env", errs)
    if c.get("envFrom"):
        _env_from(c["envFrom"], f"{path}.envFrom", errs)
    if c.get("volumeMounts"):
        _mounts(c["volumeMounts"], volumes, f"{path}.volumeMounts", errs)
    pull = c.get("imagePullPolicy", "")
    if not pull:
        errs.append(required(f"{path}.imagePullPolicy"))
    elif pull not in PULL_POLICIES:
        errs.append(not_supported(f"{path}.imagePullPolicy", pull, PULL_POLICIES))
    if c.get("resources"):
        validate_resources(c["resources"], f"{path}.resources", errs)


def _host_port_conflicts(containers: list[dict[str, Any]], path: str, errs: Errors) -> None:
    seen: set[str] = set()
    for ci, c in enumerate(containers):
        for pi, port in enumerate(c.get("ports") or ()):
            host = port.get("hostPort", 0)
            if not host:
                continue
            key = f"{port.get('protocol', '')}/{port.get('hostIP', '')}/{host}"
            if key in seen:
                errs.append(duplicate(f"{path}[{ci}].ports[{pi}].hostPort", key))
            seen.add(key)


def validate_containers(containers: list[dict[str, Any]] | None, volumes: dict[str, Any], grace: Any,
                        path: str, errs: Errors) -> None:
    if not containers:
        errs.append(required(path))
        return
    seen: set[str] = set()
    for i, c in enumerate(containers):
        here = f"{path}[{i}]"
        _common(c, volumes, here, errs)
        name = c.get("name", "")
        if name in seen:
            errs.append(duplicate(f"{here}.name", name))
        seen.add(name)
        lifecycle = c.get("lifecycle")
        if lifecycle:
            for hook in ("postStart", "preStop"):
                if hook in lifecycle:
                    _handler(lifecycle[hook], grace, f"{here}.lifecycle.{hook}", errs, _LIFECYCLE_HANDLERS)
        _probe(c.get("livenessProbe"), grace, f"{here}.livenessProbe", "liveness", errs)
        _probe(c.get("readinessProbe"), grace, f"{here}.readinessProbe", "readiness", errs)
        _probe(c.get("startupProbe"), grace, f"{here}.startupProbe", "startup", errs)
        if "restartPolicy" in c:
            errs.append(forbidden(f"{here}.restartPolicy", "may not be set for non-init containers"))
    _host_port_conflicts(containers, path, errs)


def validate_init_containers(containers: list[dict[str, Any]], regular: list[dict[str, Any]] | None,
                             volumes: dict[str, Any], grace: Any, path: str, errs: Errors) -> None:
    seen = {c.get("name", "") for c in regular or ()}
    for i, c in enumerate(containers):
        here = f"{path}[{i}]"
        _common(c, volumes, here, errs)
        restart = c.get("restartPolicy")
        if restart is not None and restart != "Always":
            errs.append(not_supported(f"{here}.restartPolicy", restart, ("Always",)))
        name = c.get("name", "")
        if name in seen:
            errs.append(duplicate(f"{here}.name", name))
        elif name:
            seen.add(name)
        _host_port_conflicts([c], path, errs)
        if restart == "Always":
            lifecycle = c.get("lifecycle")
            for hook in ("postStart", "preStop"):
                if lifecycle and hook in lifecycle:
                    _handler(lifecycle[hook], grace, f"{here}.lifecycle.{hook}", errs, _LIFECYCLE_HANDLERS)
            _probe(c.get("livenessProbe"), grace, f"{here}.livenessProbe", "liveness", errs)
            _probe(c.get("readinessProbe"), grace, f"{here}.readinessProbe", "readiness", errs)
            _probe(c.get("startupProbe"), grace, f"{here}.startupProbe", "startup", errs)
        else:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if key in c:
                    errs.append(forbidden(f"{here}.{key}", "may not be set for init containers without "
                                                           "restartPolicy=Always"))
