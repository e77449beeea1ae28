"""API discovery documents and `/version`, generated from the kinds registry.

The legacy documents (`/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`) and aggregated
discovery (apidiscovery.k8s.io/v2, served when the client asks for it, with the exact
Content-Type kubectl requires) carry what kubectl resolves names with: short names (`po`,
`deploy`), categories (`all`), verbs, and subresource entries — `deployments/scale` as an
autoscaling/v1 Scale, which `kubectl autoscale` looks for.

Read by: server.app. Reads: api.kinds, server.routes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kubelab import __version__
from kubelab.api import kinds
from kubelab.api.kinds import Kind
from kubelab.server.routes import GROUP_VERSIONS

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
VERSION = {
    "major": "1", "minor": "37", "emulationMajor": "1", "emulationMinor": "37",
    "minCompatibilityMajor": "1", "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.1", "gitCommit": f"kubelab-{__version__}", "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25.0", "compiler": "gc", "platform": "linux/amd64",
}

# subresource → (group, version, kind or "" for the parent's kind, verbs); "" group/version: the parent's.
_SUBRESOURCES: dict[str, tuple[str | None, str | None, str, tuple[str, ...]]] = {
    "status": (None, None, "", ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "log": (None, None, "Pod", ("get",)),
    "exec": (None, None, "PodExecOptions", ("create", "get")),
    "attach": (None, None, "PodAttachOptions", ("create", "get")),
    "portforward": (None, None, "PodPortForwardOptions", ("create", "get")),
    "binding": (None, None, "Binding", ("create",)),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "ephemeralcontainers": (None, None, "", ("get", "patch", "update")),
    "proxy": (None, None, "", ("create", "delete", "get", "patch", "update")),
    "finalize": (None, None, "", ("update",)),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", ("create",)),
}
_PROXY_KINDS = {"Node": "NodeProxyOptions", "Service": "ServiceProxyOptions", "Pod": "PodProxyOptions"}


def wants_aggregated(accept: str) -> bool:
    return "as=APIGroupDiscoveryList" in accept.replace(" ", "")


def _subresource(kind: Kind, sub: str) -> tuple[str, str, str, tuple[str, ...]]:
    group, version, sub_kind, verbs = _SUBRESOURCES.get(sub, (None, None, "", ("get",)))
    if sub == "proxy":
        sub_kind = _PROXY_KINDS.get(kind.kind, "")
    return (kind.group if group is None else group, kind.version if version is None else version,
            sub_kind or kind.kind, verbs)


def _kinds_in(group: str, version: str) -> list[Kind]:
    return [k for k in kinds.all_kinds() if k.group == group and k.version == version]


def api_versions(address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for group, version in GROUP_VERSIONS:
        if group:
            groups.setdefault(group, []).append(version)
    return groups


@cache
def api_group_list() -> dict[str, Any]:
    items = []
    for group, versions in _groups().items():
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        items.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": items}


@cache
def resource_list(group: str, version: str) -> dict[str, Any]:
    """The APIResourceList of one group-version (`/api/v1`, `/apis/apps/v1`)."""
    resources: list[dict[str, Any]] = []
    for k in _kinds_in(group, version):
        entry: dict[str, Any] = {"name": k.plural, "singularName": k.singular, "namespaced": k.namespaced,
                                 "kind": k.kind, "verbs": sorted(k.verbs)}
        if k.short_names:
            entry["shortNames"] = list(k.short_names)
        if k.categories:
            entry["categories"] = list(k.categories)
        resources.append(entry)
        for sub in k.subresources:
            sub_group, sub_version, sub_kind, verbs = _subresource(k, sub)
            sub_entry: dict[str, Any] = {"name": f"{k.plural}/{sub}", "singularName": "", "namespaced": k.namespaced,
                                         "kind": sub_kind, "verbs": list(verbs)}
            if (sub_group, sub_version) != (k.group, k.version):
                sub_entry["group"], sub_entry["version"] = sub_group, sub_version
            resources.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _aggregated_group(group: str, versions: list[str]) -> dict[str, Any]:
    out = []
    for version in versions:
        resources = []
        for k in _kinds_in(group, version):
            entry: dict[str, Any] = {
                "resource": k.plural, "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
                "scope": "Namespaced" if k.namespaced else "Cluster", "singularResource": k.singular,
                "verbs": sorted(k.verbs),
            }
            if k.short_names:
                entry["shortNames"] = list(k.short_names)
            if k.categories:
                entry["categories"] = list(k.categories)
            subs = []
            for sub in k.subresources:
                sub_group, sub_version, sub_kind, verbs = _subresource(k, sub)
                subs.append({"subresource": sub, "verbs": list(verbs),
                             "responseKind": {"group": sub_group, "version": sub_version, "kind": sub_kind}})
            if subs:
                entry["subresources"] = subs
            resources.append(entry)
        out.append({"version": version, "resources": resources, "freshness": "Current"})
    return {"metadata": {"name": group, "creationTimestamp": None}, "versions": out}


@cache
def aggregated(core: bool) -> dict[str, Any]:
    """APIGroupDiscoveryList for `/api` (core=True) or `/apis`."""
    if core:
        items = [_aggregated_group("", ["v1"])]
    else:
        items = [_aggregated_group(g, vs) for g, vs in _groups().items()]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}
