"""A container's environment, as the kubelet builds it before CreateContainer.

In upstream's order: the Service variables of the pod's namespace (`enableServiceLinks`, plus the
`kubernetes` Service), then `envFrom` ConfigMaps and Secrets, then `env` — values with `$(VAR)`
expanded against what came before, `valueFrom` read from the pod (`fieldRef`), its resources
(`resourceFieldRef`), ConfigMaps and Secrets. A missing ConfigMap, Secret or key that is not
optional is a `ConfigError` carrying the kubelet's message (`couldn't find key X in ConfigMap
default/y`), which the pod shows as CreateContainerConfigError.

Read by: kubelet.startup (create step), kubelet.volumes (downward API). Reads: cluster.runtime, api._quantity.
"""

from __future__ import annotations

import base64
import math
import re
from typing import Any

from kubelab.api._quantity import QuantityError, parse_json
from kubelab.cluster.runtime import expand_k8s_vars

Obj = dict[str, Any]
_KEYED = re.compile(r"^metadata\.(labels|annotations)\['(.*)'\]$")


class ConfigError(Exception):
    """The container cannot be configured; the message is the kubelet's."""


def _store_get(store: Any, resource: tuple[str, str], namespace: str, name: str) -> Obj | None:
    return store.get(resource, namespace, name)


def config_map(store: Any, namespace: str, name: str) -> Obj | None:
    return _store_get(store, ("", "configmaps"), namespace, name)


def secret(store: Any, namespace: str, name: str) -> Obj | None:
    return _store_get(store, ("", "secrets"), namespace, name)


def secret_data(obj: Obj) -> dict[str, str]:
    """A Secret's values, decoded (stringData too, for objects stored before the apiserver merged it)."""
    values: dict[str, str] = {}
    for key, value in (obj.get("data") or {}).items():
        try:
            values[key] = base64.b64decode(value).decode("utf-8", errors="replace")
        except (ValueError, TypeError):
            values[key] = str(value)
    values.update(obj.get("stringData") or {})
    return values


def config_data(obj: Obj) -> dict[str, str]:
    values = dict(obj.get("data") or {})
    for key, value in (obj.get("binaryData") or {}).items():
        values.setdefault(key, base64.b64decode(value).decode("utf-8", errors="replace"))
    return values


# ----------------------------------------------------------------------------- Services
# Every container of a namespace gets the same Service variables until a Service changes: build them
# once per set of Service objects. Keyed by the objects' identity and resourceVersion; each entry keeps
# its Service objects alive, so an id is never reused while its entry exists.
_SERVICE_ENVS: dict[tuple, tuple[list[Obj], dict[str, str]]] = {}


def service_env(services: list[Obj]) -> dict[str, str]:
    """`DB_SERVICE_HOST`, `DB_PORT_27017_TCP_ADDR`…: docker-links style variables for each Service
    (a shared dict: read it, copy it, never change it)."""
    key = tuple((id(svc), (svc.get("metadata") or {}).get("resourceVersion")) for svc in services)
    found = _SERVICE_ENVS.get(key)
    if found is None:
        if len(_SERVICE_ENVS) >= 1024:
            _SERVICE_ENVS.clear()
        found = _SERVICE_ENVS[key] = (list(services), _service_env(services))
    return found[1]


def _service_env(services: list[Obj]) -> dict[str, str]:
    env: dict[str, str] = {}
    for svc in services:
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        if not ip or ip == "None" or not spec.get("ports"):
            continue
        name = svc["metadata"]["name"].upper().replace("-", "_")
        host = f"[{ip}]" if ":" in ip else ip
        first = spec["ports"][0]
        env[f"{name}_SERVICE_HOST"] = ip
        env[f"{name}_SERVICE_PORT"] = str(first["port"])
        for port in spec["ports"]:
            if port.get("name"):
                env[f"{name}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
        env[f"{name}_PORT"] = f"{(first.get('protocol') or 'TCP').lower()}://{host}:{first['port']}"
        for port in spec["ports"]:
            proto = (port.get("protocol") or "TCP")
            prefix = f"{name}_PORT_{port['port']}_{proto.upper()}"
            env[prefix] = f"{proto.lower()}://{host}:{port['port']}"
            env[f"{prefix}_PROTO"] = proto.lower()
            env[f"{prefix}_PORT"] = str(port["port"])
            env[f"{prefix}_ADDR"] = ip
    return env


# ------------------------------------------------------------------------- the pod's own facts
def field_value(pod: Obj, path: str, pod_ip: str = "", host_ip: str = "") -> str:
    """A downward-API fieldRef, read from the pod."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    if path == "metadata.namespace":  # what every pod's token volume asks: answered before the regex
        return str(meta.get("namespace", ""))
    keyed = _KEYED.match(path)
    if keyed:
        return str((meta.get(keyed.group(1)) or {}).get(keyed.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        values = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{_escape(v)}"' for k, v in sorted(values.items()))
    simple = {
        "metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""), "status.hostIP": host_ip,
        "status.hostIPs": host_ip, "status.podIP": pod_ip, "status.podIPs": pod_ip,
    }
    return str(simple.get(path, ""))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def resource_value(pod: Obj, ref: Obj, default_container: str, allocatable: dict[str, str]) -> str:
    """A resourceFieldRef: the container's limit (node allocatable when unset) or request, ÷ divisor, rounded up."""
    name = ref.get("containerName") or default_container
    container: Obj = next((c for c in (pod.get("spec") or {}).get("containers") or () if c["name"] == name), {})
    kind, _, resource = (ref.get("resource") or "").partition(".")
    values = ((container.get("resources") or {}).get(kind) or {})
    raw = values.get(resource)
    if raw is None:
        raw = allocatable.get(resource, "0") if kind == "limits" else "0"
    try:
        value = parse_json(raw).value
        divisor = parse_json(ref.get("divisor") or "1").value or 1
    except QuantityError:
        return "0"
    return str(math.ceil(value / divisor))


# ------------------------------------------------------------------------------------ env
def container_env(store: Any, pod: Obj, container: Obj, *, services: list[Obj], pod_ip: str, host_ip: str,
                  allocatable: dict[str, str]) -> dict[str, str]:
    """The environment of `container`; raises ConfigError with the kubelet's message."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    namespace = meta.get("namespace", "default")
    env: dict[str, str] = {}
    if spec.get("enableServiceLinks", True) is not False:
        env.update(service_env(services))
    for source in container.get("envFrom") or ():
        prefix = source.get("prefix") or ""
        if "configMapRef" in source:
            ref = source["configMapRef"]
            obj = config_map(store, namespace, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'configmap "{ref.get("name", "")}" not found')
            values = config_data(obj)
        else:
            ref = source.get("secretRef") or {}
            obj = secret(store, namespace, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'secret "{ref.get("name", "")}" not found')
            values = secret_data(obj)
        for key, value in values.items():
            env[prefix + key] = value
    for var in container.get("env") or ():
        name = var["name"]
        if "valueFrom" not in var:
            env[name] = expand_k8s_vars(var.get("value") or "", env)
            continue
        source = var["valueFrom"]
        if "fieldRef" in source:
            env[name] = field_value(pod, source["fieldRef"].get("fieldPath", ""), pod_ip, host_ip)
        elif "resourceFieldRef" in source:
            env[name] = resource_value(pod, source["resourceFieldRef"], container["name"], allocatable)
        elif "configMapKeyRef" in source or "secretKeyRef" in source:
            kind = "ConfigMap" if "configMapKeyRef" in source else "Secret"
            found = _keyed(store, namespace, source["configMapKeyRef" if kind == "ConfigMap" else "secretKeyRef"],
                           kind)
            if found is not None:
                env[name] = found
    return env


def _keyed(store: Any, namespace: str, ref: Obj, kind: str) -> str | None:
    name, key = ref.get("name", ""), ref.get("key", "")
    if kind == "ConfigMap":
        obj = config_map(store, namespace, name)
        values = config_data(obj) if obj is not None else None
    else:
        obj = secret(store, namespace, name)
        values = secret_data(obj) if obj is not None else None
    if values is None:
        if ref.get("optional"):
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found')
    if key not in values:
        if ref.get("optional"):
            return None
        raise ConfigError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return values[key]


def command_line(container: Obj, image_entrypoint: list[str], image_cmd: list[str], env: dict[str, str]) -> list[str]:
    """What runs: `command` replaces the image's ENTRYPOINT (and drops its CMD), `args` replace CMD;
    both with `$(VAR)` expanded."""
    command = container.get("command")
    args = container.get("args")
    own = [expand_k8s_vars(a, env) for a in (args or [])]
    if command:
        return [expand_k8s_vars(a, env) for a in command] + own
    if args:
        return list(image_entrypoint) + own
    return list(image_entrypoint) + list(image_cmd)
