"""Defaulting of pod specs — the part of kube-apiserver's defaulting that every workload shares.

Mirrors `SetDefaults_PodSpec`, `SetDefaults_Container`, `SetDefaults_Probe`, `SetDefaults_Volume`…
(pkg/apis/core/v1/defaults.go) as the generated defaulters apply them to a Pod and to every pod
template. Pod-only rules (`SetDefaults_Pod`: enableServiceLinks, requests from limits, host ports on
hostNetwork) run only when `is_pod` is true, as upstream keeps them out of templates. Also here: the
imagePullPolicy rule and the image-reference parser it needs.

Read by: api.defaults. Reads: nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Obj = dict[str, Any]

# docker/distribution reference grammar, enough to tell a tag from a registry port.
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
_HEX64 = re.compile(r"^[a-f0-9]{64}$")

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_MODE_420_SOURCES = ("secret", "configMap", "downwardAPI", "projected")


# ---------------------------------------------------------------- small helpers (Go's zero values)
def as_map(parent: Any, key: str, *, create: bool = False) -> Obj | None:
    """parent[key] when it is a mapping; an empty one created in its place when missing and `create`."""
    if not isinstance(parent, dict):
        return None
    value = parent.get(key)
    if isinstance(value, dict):
        return value
    if value is None and create:
        parent[key] = {}
        return parent[key]
    return None


def maps(parent: Any, key: str) -> list[Obj]:
    """The mappings in the list parent[key] (anything malformed is left for validation to report)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def fill(obj: Obj, key: str, value: Any) -> None:
    """Default a pointer field: only a missing or null value counts as unset."""
    if obj.get(key) is None:
        obj[key] = value


def fill_str(obj: Obj, key: str, value: str) -> None:
    """Default a Go string field: "" is its zero value, so it counts as unset too."""
    if obj.get(key) in (None, ""):
        obj[key] = value


def fill_int(obj: Obj, key: str, value: int) -> None:
    """Default a non-pointer Go int field: 0 is its zero value, so it counts as unset too."""
    current = obj.get(key)
    if current is None or (type(current) is int and current == 0):
        obj[key] = value


# ---------------------------------------------------------------- images
def parse_image(image: str) -> tuple[str, str, str] | None:
    """(repository, tag, digest) as kubelet's ParseImageName sees them; tag is "latest" when neither a
    tag nor a digest is given. None when the reference is malformed (e.g. upper-case repository)."""
    if not isinstance(image, str) or len(image) > 255 or _HEX64.match(image):
        return None
    match = _REFERENCE.match(image)
    if not match:
        return None
    name, tag, digest = match.group("name"), match.group("tag") or "", match.group("digest") or ""
    first, _, rest = name.partition("/")
    # The first component is a registry only when it looks like a host; otherwise it is a path part.
    if rest and not ("." in first or ":" in first or first == "localhost") and first != first.lower():
        return None
    if not tag and not digest:
        tag = "latest"
    return name, tag, digest


def image_pull_policy(image: Any) -> str:
    """`Always` for `:latest` or an untagged image, `IfNotPresent` otherwise (a digest pins it)."""
    if type(image) is str:
        return _pull_policy(image)
    parsed = parse_image(image)
    return "Always" if parsed is not None and parsed[1] == "latest" else "IfNotPresent"


@lru_cache(maxsize=1024)
def _pull_policy(image: str) -> str:
    # Every container created is defaulted, mostly from a handful of images: parse each once.
    parsed = parse_image(image)
    return "Always" if parsed is not None and parsed[1] == "latest" else "IfNotPresent"


# ---------------------------------------------------------------- pod specs
def default_pod_template(template: Any) -> None:
    """A PodTemplateSpec: its spec gets the PodSpec defaults (not the Pod-only ones)."""
    if not isinstance(template, dict):
        return
    # ObjectMeta is a struct in Go: an absent template metadata is written back as `{}`.
    fill(template, "metadata", {})
    spec = as_map(template, "spec")
    if spec is not None:
        default_pod_spec(spec, is_pod=False)


def default_pod_spec(spec: Obj, *, is_pod: bool) -> None:
    fill_str(spec, "dnsPolicy", "ClusterFirst")
    fill_str(spec, "restartPolicy", "Always")
    fill(spec, "securityContext", {})
    fill(spec, "terminationGracePeriodSeconds", 30)
    fill_str(spec, "schedulerName", "default-scheduler")
    # `serviceAccount` is the deprecated alias; conversion keeps the two equal, the new name winning.
    if not spec.get("serviceAccountName") and spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    for volume in maps(spec, "volumes"):
        _volume(volume)
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in maps(spec, field):
            _container(container)
    if is_pod:
        fill(spec, "enableServiceLinks", True)
        for field in ("initContainers", "containers"):
            for container in maps(spec, field):
                _requests_from_limits(container)
                if spec.get("hostNetwork") is True:
                    for port in maps(container, "ports"):
                        if not port.get("hostPort"):
                            port["hostPort"] = port.get("containerPort")


def _requests_from_limits(container: Obj) -> None:
    resources = as_map(container, "resources")
    limits = as_map(resources, "limits")
    if not limits:
        return
    requests = as_map(resources, "requests", create=True)
    if requests is None:
        return
    for name, quantity in limits.items():
        requests.setdefault(name, quantity)


def _container(container: Obj) -> None:
    if container.get("imagePullPolicy") in (None, ""):
        container["imagePullPolicy"] = image_pull_policy(container.get("image"))
    fill_str(container, "terminationMessagePath", "/dev/termination-log")
    fill_str(container, "terminationMessagePolicy", "File")
    for port in maps(container, "ports"):
        fill_str(port, "protocol", "TCP")
    for env in maps(container, "env"):
        field_ref = as_map(as_map(env, "valueFrom"), "fieldRef")
        if field_ref is not None:
            fill_str(field_ref, "apiVersion", "v1")
    # ResourceRequirements is a struct in Go, so it always comes back, if only as `{}`.
    fill(container, "resources", {})
    for name in _PROBES:
        probe = as_map(container, name)
        if probe is not None:
            for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1),
                               ("failureThreshold", 3)):
                fill_int(probe, key, value)
            _handler(probe)
            grpc = as_map(probe, "grpc")
            if grpc is not None:
                fill(grpc, "service", "")
    lifecycle = as_map(container, "lifecycle")
    for hook in ("postStart", "preStop"):
        handler = as_map(lifecycle, hook)
        if handler is not None:
            _handler(handler)


def _handler(handler: Obj) -> None:
    http_get = as_map(handler, "httpGet")
    if http_get is not None:
        fill_str(http_get, "path", "/")
        fill_str(http_get, "scheme", "HTTP")


def _field_refs(items: list[Obj]) -> None:
    for item in items:
        field_ref = as_map(item, "fieldRef")
        if field_ref is not None:
            fill_str(field_ref, "apiVersion", "v1")


def _volume(volume: Obj) -> None:
    # A volume naming no source is an emptyDir (`emptyDir:` with no value counts as none).
    if not any(value is not None for key, value in volume.items() if key != "name"):
        volume["emptyDir"] = {}
    for source in _MODE_420_SOURCES:
        body = as_map(volume, source)
        if body is not None:
            fill(body, "defaultMode", 420)  # 0644
    host_path = as_map(volume, "hostPath")
    if host_path is not None:
        fill(host_path, "type", "")
    _field_refs(maps(as_map(volume, "downwardAPI"), "items"))
    for projection in maps(as_map(volume, "projected"), "sources"):
        _field_refs(maps(as_map(projection, "downwardAPI"), "items"))
        token = as_map(projection, "serviceAccountToken")
        if token is not None:
            fill(token, "expirationSeconds", 3600)
    claim = as_map(as_map(as_map(volume, "ephemeral"), "volumeClaimTemplate"), "spec")
    if claim is not None:
        fill(claim, "volumeMode", "Filesystem")
    image = as_map(volume, "image")
    if image is not None and image.get("pullPolicy") in (None, ""):
        image["pullPolicy"] = image_pull_policy(image.get("reference"))
