"""URL → API resource: which kind, namespace, name and subresource a request path names.

kube-apiserver's paths: `/api/v1/...` for the core group, `/apis/{group}/{version}/...` for the
others; then `namespaces/{ns}/{plural}[/{name}[/{subresource}]]` for namespaced kinds (or all
namespaces with just `{plural}`), `{plural}[/{name}[/{subresource}]]` for cluster-scoped ones,
and the legacy `watch/` prefix. A path naming nothing served gives the apiserver's 404.

Read by: server.app. Reads: api.kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelab.api import kinds
from kubelab.api.kinds import Kind
from kubelab.server.messages import not_found_path

# Subresources of a Namespace, which would otherwise read as `namespaces/{ns}/{plural}`.
_NAMESPACE_SUBRESOURCES = {"status", "finalize"}
_BY_GVR: dict[tuple[str, str, str], Kind] = {(k.group, k.version, k.plural): k for k in kinds.all_kinds()}
GROUP_VERSIONS: tuple[tuple[str, str], ...] = tuple(dict.fromkeys((k.group, k.version) for k in kinds.all_kinds()))


@dataclass(frozen=True)
class Target:
    kind: Kind
    namespace: str | None  # None: every namespace (lists, watches) or a cluster-scoped kind
    name: str | None
    subresource: str | None
    watch_prefix: bool = False


def group_version(path: str) -> tuple[str, str, list[str]] | None:
    """`/apis/apps/v1/namespaces/x/deployments` → ("apps", "v1", ["namespaces", "x", "deployments"])."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if (group, version) not in GROUP_VERSIONS:
        return None
    return group, version, rest


def resolve(group: str, version: str, rest: list[str]) -> Target:
    """The resource a path below a group-version names, or the 404 Status."""
    watch = bool(rest) and rest[0] == "watch"
    if watch:
        rest = rest[1:]
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and not (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise not_found_path()
    kind = _BY_GVR.get((group, version, rest[0]))
    if kind is None or (namespace is not None and not kind.namespaced):
        raise not_found_path()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if kind.namespaced and name is not None and namespace is None:
        raise not_found_path()  # /api/v1/pods/x names nothing: pods live in namespaces
    if sub is not None and sub not in kind.subresources:
        raise not_found_path()
    return Target(kind, namespace, name, sub, watch)
