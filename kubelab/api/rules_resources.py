"""Container (and pod-level) resource requirements, as validateResourceRequirements checks them.

Resource names must be standard (`cpu`, `memory`, `ephemeral-storage`, `hugepages-*`) or
fully-qualified extended resources; quantities must not be negative; requests must not exceed
limits (`must be less than or equal to cpu limit of 1`), and extended resources need equal ones.

Read by: api.rules_containers, api.rules_pod. Reads: api.rules, api.names, api._quantity.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kubelab.api import _quantity, names
from kubelab.api.rules import Errors, forbidden, invalid, required

_STANDARD_CONTAINER = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD = _STANDARD_CONTAINER | frozenset({
    "storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers", "requests.cpu", "requests.memory",
    "requests.ephemeral-storage", "requests.storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage"})



def _native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


@lru_cache(maxsize=1024)
def resource_name_errors(name: str) -> tuple[str, ...]:
    """validateContainerResourceName's messages for one resource name."""
    msgs = list(names.qualified_name(name))
    if not msgs and "/" not in name and name not in _STANDARD and not name.startswith("hugepages-"):
        msgs.append("must be a standard resource type or fully qualified")
    if "/" not in name:
        if name not in _STANDARD_CONTAINER and not name.startswith("hugepages-"):
            msgs.append("must be a standard resource for containers")
    elif not _native(name) and (name.startswith("requests.") or names.qualified_name("requests." + name)):
        msgs.append("doesn't follow extended resource name standard")
    return tuple(msgs)


def _resource_name(name: str, path: str, errs: Errors) -> None:
    for msg in resource_name_errors(name):
        errs.append(invalid(path, name, msg))


def _quantity_value(name: str, text: Any, path: str, errs: Errors) -> Any:
    try:
        q = _quantity.parse_json(text)
    except _quantity.QuantityError:
        return None  # the decoder reports malformed quantities before validation runs
    if q.value < 0:
        errs.append(invalid(path, _quantity.canonical(q), "must be greater than or equal to 0"))
    elif not _native(name) and q.value.denominator != 1:
        errs.append(invalid(path, _quantity.canonical(q), "must be an integer"))
    return q


def validate_resources(resources: dict[str, Any], path: str, errs: Errors) -> None:
    """validateResourceRequirements for a container (limits, then requests against limits)."""
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    limit_values = {}
    cpu_or_memory = huge_pages = False
    for name in sorted(limits):
        here = f"{path}.limits[{name}]"
        _resource_name(name, here, errs)
        limit_values[name] = _quantity_value(name, limits[name], here, errs)
        huge_pages |= name.startswith("hugepages-")
        cpu_or_memory |= name in ("cpu", "memory")
    for name in sorted(requests):
        here = f"{path}.requests[{name}]"
        _resource_name(name, here, errs)
        q = _quantity_value(name, requests[name], here, errs)
        overcommit = _native(name) and not name.startswith("hugepages-")
        limit = limit_values.get(name)
        if name in limits:
            if q is not None and limit is not None:
                if not overcommit and q.value != limit.value:
                    errs.append(invalid(f"{path}.requests", _quantity.canonical(q),
                                        f"must be equal to {name} limit of {_quantity.canonical(limit)}"))
                elif q.value > limit.value:
                    errs.append(invalid(f"{path}.requests", _quantity.canonical(q),
                                        f"must be less than or equal to {name} limit of {_quantity.canonical(limit)}"))
        elif not overcommit:
            errs.append(required(f"{path}.limits", "Limit must be set for non overcommitable resources"))
        huge_pages |= name.startswith("hugepages-")
        cpu_or_memory |= name in ("cpu", "memory")
    if huge_pages and not cpu_or_memory:
        errs.append(forbidden(path, "HugePages require cpu or memory"))
