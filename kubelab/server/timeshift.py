"""Shifting an object's timestamps between simulated time and the time kubectl lives in.

kubectl computes AGE from its own wall clock, while the cluster's timestamps are simulated
(a stepped cluster starts at 2026-01-01). So the server presents every `Time`/`MicroTime`
field shifted by (wall now − simulated now) and shifts incoming ones back (DESIGN decision 4):
ages then read as simulated ages in both clock modes. Which fields are times comes from the
schema (api.shapes), compiled once per kind into a plan that visits only the subtrees holding
a time, so shifting a 10,000-pod list copies only those few paths. resourceVersion and uid are
never touched.

Read by: server.present. Reads: api.shapes, api.kinds.
"""

from __future__ import annotations

import calendar
import threading
import time
from functools import lru_cache
from typing import Any

from kubelab.api import shapes
from kubelab.api.kinds import Kind

# A plan is True (this value is a time), ("struct", {key: plan}), ("list", plan) or ("map", plan).
Plan = Any
_plans: dict[int, Plan] = {}
_BUILDING = object()


def _plan(shape: shapes.Shape) -> Plan:
    key = id(shape)
    if key in _plans:
        found = _plans[key]
        return None if found is _BUILDING else found
    _plans[key] = _BUILDING  # recursive definitions (JSONSchemaProps) hold no times worth shifting
    plan: Plan = None
    if shape.code == shapes.TIME:
        plan = True
    elif shape.code == shapes.STRUCT and shape.props:
        fields = {name: p for name, sub in shape.props.items() if (p := _plan(sub)) is not None}
        plan = ("struct", fields) if fields else None
    elif shape.code in (shapes.LIST, shapes.MAP) and shape.item is not None:
        inner = _plan(shape.item)
        plan = None if inner is None else ("list" if shape.code == shapes.LIST else "map", inner)
    _plans[key] = plan
    return plan


_kind_plans: dict[Kind, Plan] = {}
# One builder at a time: a half-built plan (marked _BUILDING) must never be read as "no times".
_building = threading.Lock()


def plan_for(kind: Kind) -> Plan:
    plan = _kind_plans.get(kind, _BUILDING)
    if plan is _BUILDING:
        with _building:
            try:
                plan = _plan(shapes.root(kind))
            except KeyError:
                plan = meta_plan()
            _kind_plans[kind] = plan
    return plan


@lru_cache(maxsize=1)
def meta_plan() -> Plan:
    """The plan of an object that is only metadata (PartialObjectMetadata, Scale, Eviction)."""
    with _building:
        meta = shapes.definition_shape("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        return ("struct", {"metadata": _plan(meta)})


@lru_cache(maxsize=65536)
def shift_text(text: str, seconds: int) -> str:
    """`2026-01-01T00:00:00Z` moved by `seconds`, keeping any fractional part (MicroTime)."""
    if len(text) < 20 or text[10] != "T" or not text.endswith("Z"):
        return text
    try:
        stamp = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return text
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp + seconds)) + text[19:]


def shift(value: Any, plan: Plan, seconds: int) -> Any:
    """`value` with every time the plan names moved by `seconds`; untouched parts are shared."""
    if plan is None or seconds == 0 or value is None:
        return value
    if plan is True:
        return shift_text(value, seconds) if isinstance(value, str) else value
    how, inner = plan
    if how == "struct":
        if not isinstance(value, dict):
            return value
        out = None
        for key, sub in inner.items():
            if key in value:
                moved = shift(value[key], sub, seconds)
                if moved is not value[key]:
                    if out is None:
                        out = dict(value)
                    out[key] = moved
        return value if out is None else out
    if how == "list" and isinstance(value, list):
        return [shift(v, inner, seconds) for v in value]
    if how == "map" and isinstance(value, dict):
        return {k: shift(v, inner, seconds) for k, v in value.items()}
    return value


def shift_object(obj: Any, kind: Kind, seconds: int) -> Any:
    return shift(obj, plan_for(kind), seconds)
