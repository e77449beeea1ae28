"""The kinds registry: every API resource the local cluster serves, as one table.

A kind is data (group, version, kind, plural, singular, short names, scope, categories,
subresources). Everything that needs to know about resources — name resolution for the
Python API (`po`, `pods`, `Pod`, `deploy`, `deployment.apps`), the store's keys, discovery
documents, Table columns, validation schemas — looks them up here.

Read by: api.validation, api.defaults, store, cluster, server. Reads: api.errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubelab.api.errors import ApiError


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
    served_only: bool = False  # deprecated kinds served read-only (ComponentStatus)
    deprecation: str = ""  # the `Warning:` apiserver sends with every answer about a deprecated kind
    singular: str = field(default="")
    # The store's key (group, plural), one tuple per Kind: the store's watch log keeps the key of every
    # write (its last 100,000), so a fresh tuple per write would cost 72 B per object written.
    store_key: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.singular:
            object.__setattr__(self, "singular", self.kind.lower())
        object.__setattr__(self, "store_key", (self.group, self.plural))

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def resource(self) -> str:
        """The qualified resource apiserver names in messages: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def __repr__(self) -> str:
        return f"<Kind {self.api_version} {self.kind}>"


_ALL = ("all",)
_WORKLOAD_SUBS = ("status", "scale")
_READ = ("get", "list")

KINDS: tuple[Kind, ...] = (
    # core/v1
    Kind("", "v1", "Pod", "pods", short_names=("po",), categories=_ALL,
         subresources=("status", "log", "exec", "attach", "portforward", "binding", "eviction", "ephemeralcontainers")),
    Kind("", "v1", "Service", "services", short_names=("svc",), categories=_ALL, subresources=("status", "proxy")),
    Kind("", "v1", "Endpoints", "endpoints", short_names=("ep",), singular="endpoints"),
    Kind("", "v1", "Namespace", "namespaces", namespaced=False, short_names=("ns",),
         subresources=("status", "finalize"), verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    Kind("", "v1", "Node", "nodes", namespaced=False, short_names=("no",), subresources=("status", "proxy")),
    Kind("", "v1", "ConfigMap", "configmaps", short_names=("cm",)),
    Kind("", "v1", "Secret", "secrets"),
    Kind("", "v1", "ServiceAccount", "serviceaccounts", short_names=("sa",), subresources=("token",)),
    Kind("", "v1", "Event", "events", short_names=("ev",)),
    Kind("", "v1", "ReplicationController", "replicationcontrollers", short_names=("rc",), categories=_ALL,
         subresources=_WORKLOAD_SUBS),
    Kind("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), subresources=("status",)),
    Kind("", "v1", "PersistentVolume", "persistentvolumes", namespaced=False, short_names=("pv",),
         subresources=("status",)),
    Kind("", "v1", "ComponentStatus", "componentstatuses", namespaced=False, short_names=("cs",), verbs=_READ,
         served_only=True, deprecation="v1 ComponentStatus is deprecated in v1.19+"),
    # apps/v1
    Kind("apps", "v1", "Deployment", "deployments", short_names=("deploy",), categories=_ALL,
         subresources=_WORKLOAD_SUBS),
    Kind("apps", "v1", "ReplicaSet", "replicasets", short_names=("rs",), categories=_ALL, subresources=_WORKLOAD_SUBS),
    Kind("apps", "v1", "DaemonSet", "daemonsets", short_names=("ds",), categories=_ALL, subresources=("status",)),
    Kind("apps", "v1", "StatefulSet", "statefulsets", short_names=("sts",), categories=_ALL,
         subresources=_WORKLOAD_SUBS),
    Kind("apps", "v1", "ControllerRevision", "controllerrevisions"),
    # batch/v1
    Kind("batch", "v1", "Job", "jobs", categories=_ALL, subresources=("status",)),
    Kind("batch", "v1", "CronJob", "cronjobs", short_names=("cj",), categories=_ALL, subresources=("status",)),
    # networking.k8s.io/v1
    Kind("networking.k8s.io", "v1", "Ingress", "ingresses", short_names=("ing",), subresources=("status",)),
    Kind("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    # autoscaling
    Kind("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short_names=("hpa",),
         categories=_ALL, subresources=("status",)),
    Kind("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short_names=("hpa",),
         categories=_ALL, subresources=("status",)),
    # discovery.k8s.io/v1
    Kind("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    # coordination.k8s.io/v1
    Kind("coordination.k8s.io", "v1", "Lease", "leases"),
    # events.k8s.io/v1 is not served: core/v1 Events are what kubectl describe reads.
)

# Versions that Kubernetes removed: apiVersion → the version learners should use instead.
REMOVED_VERSIONS: dict[tuple[str, str], str] = {
    ("batch/v1beta1", "CronJob"): "batch/v1",
    ("extensions/v1beta1", "Deployment"): "apps/v1",
    ("extensions/v1beta1", "DaemonSet"): "apps/v1",
    ("extensions/v1beta1", "ReplicaSet"): "apps/v1",
    ("extensions/v1beta1", "Ingress"): "networking.k8s.io/v1",
    ("networking.k8s.io/v1beta1", "Ingress"): "networking.k8s.io/v1",
    ("apps/v1beta1", "Deployment"): "apps/v1",
    ("apps/v1beta2", "Deployment"): "apps/v1",
    ("apps/v1beta1", "StatefulSet"): "apps/v1",
    ("apps/v1beta2", "StatefulSet"): "apps/v1",
    ("apps/v1beta2", "DaemonSet"): "apps/v1",
    ("apps/v1beta2", "ReplicaSet"): "apps/v1",
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): "autoscaling/v2",
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): "autoscaling/v2",
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): "discovery.k8s.io/v1",
    ("policy/v1beta1", "PodDisruptionBudget"): "policy/v1",
}

# The version each (group, kind) is stored at; the first one listed in KINDS wins.
_PREFERRED: dict[tuple[str, str], Kind] = {}
_BY_GVK: dict[tuple[str, str, str], Kind] = {}
_BY_NAME: dict[str, list[Kind]] = {}
# (apiVersion, kind) as manifests spell them: every write looks its kind up, most in this form.
_BY_API_VERSION: dict[tuple[str, str], Kind] = {}

for _k in KINDS:
    _PREFERRED.setdefault((_k.group, _k.kind), _k)
    _BY_GVK[(_k.group, _k.version, _k.kind)] = _k
    _BY_API_VERSION[(f"{_k.group}/{_k.version}" if _k.group else _k.version, _k.kind)] = _k
for _k in _PREFERRED.values():
    for _name in (_k.plural, _k.singular, _k.kind.lower(), *_k.short_names):
        _BY_NAME.setdefault(_name, []).append(_k)


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def for_object(api_version: str, kind: str) -> Kind:
    """The Kind for a manifest's apiVersion/kind, or the apiserver's `no matches for kind` error."""
    if type(api_version) is str:  # (other types fail below, as they always did)
        found = _BY_API_VERSION.get((api_version, kind))
        if found is not None:
            return found
    group, version = split_api_version(api_version or "")  # also odd spellings: "/v1", None
    found = _BY_GVK.get((group, version, kind))
    if found is not None:
        return found
    hint = None
    replacement = REMOVED_VERSIONS.get((api_version, kind))
    if replacement:
        hint = f"use apiVersion {replacement} ({api_version} was removed from Kubernetes)"
    else:
        same_kind = [k for k in KINDS if k.kind == kind]
        if same_kind:
            hint = f"use apiVersion {same_kind[0].api_version}"
        else:
            near = [k for k in KINDS if k.kind.lower() == (kind or "").lower()]
            if near:
                hint = f'kinds are case-sensitive: did you mean "{near[0].kind}"?'
    return _raise_no_match(kind, api_version, hint)


def _raise_no_match(kind: str, api_version: str, hint: str | None) -> Kind:
    raise ApiError(
        "NotFound",
        f'no matches for kind "{kind}" in version "{api_version}"',
        details={"kind": kind, "group": split_api_version(api_version)[0]},
        hint=hint,
    )


def resolve(name: str) -> Kind:
    """Find a kind by any name kubectl accepts: `po`, `pod`, `pods`, `Pod`, `deploy`, `deployment.apps`,
    `deployments.v1.apps`, `horizontalpodautoscalers.v1.autoscaling`."""
    if isinstance(name, Kind):
        return name
    text = name.strip()
    lower = text.lower()
    if "." in lower:
        head, _, rest = lower.partition(".")
        version = None
        group = rest
        first, _, remainder = rest.partition(".")
        if remainder and first.startswith("v") and first[1:2].isdigit():
            version, group = first, remainder
        if first.startswith("v") and first[1:2].isdigit() and not remainder:
            version, group = first, ""
        candidates = [k for k in _BY_NAME.get(head, []) if k.group == group]
        if version:
            exact = [k for k in KINDS if k.group == group and k.version == version
                     and head in (k.plural, k.singular, *k.short_names)]
            candidates = exact
        if candidates:
            return candidates[0]
    else:
        candidates = _BY_NAME.get(lower, [])
        if candidates:
            return candidates[0]
    raise ApiError(
        "NotFound",
        f'the server doesn\'t have a resource type "{text}"',
        details={"kind": text},
    )


def all_kinds() -> tuple[Kind, ...]:
    return KINDS


def preferred(group: str, kind: str) -> Kind | None:
    return _PREFERRED.get((group, kind))


def in_category(category: str) -> list[Kind]:
    return [k for k in _PREFERRED.values() if category in k.categories]
