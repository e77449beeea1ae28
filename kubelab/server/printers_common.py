"""What every server-side Table printer shares: ages, column definitions and kube-apiserver's cell formats.

`human_age(seconds)` is apimachinery's duration.HumanDuration (`45s`, `119s`, `2m5s`, `10m`, `3h10m`, `2d3h`),
`since(ts, now)` the AGE cell of a timestamp; `column()` builds a TableColumnDefinition whose description is
the OpenAPI (swagger) doc of the field it shows, as apiserver fills it; `format_labels`, `format_selector`,
`layout_containers` print maps, selectors and containers the way the printers do.

Read by: server.tables and the server.printers_* modules. Reads: api.schemas, api.selectors.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from kubelab.api import schemas
from kubelab.api.errors import ApiError
from kubelab.api.selectors import LabelSelector
from kubelab.cluster import clock

Obj = dict[str, Any]

CORE, APPS, BATCH = "io.k8s.api.core.v1.", "io.k8s.api.apps.v1.", "io.k8s.api.batch.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."



def human_age(seconds: float) -> str:
    """duration.HumanDuration, with any negative skew shown as `0s` (never `<invalid>`)."""
    whole = int(seconds)
    if whole < 0 or seconds < 0:
        return "0s"
    if whole < 60 * 2:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        s = whole % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp (`2026-11-25T19:16:15Z`, with or without fractions), else None."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_time(value)


@lru_cache(maxsize=65536)
def _parse_time(value: str) -> float | None:
    # Objects made together share their stamps (second precision): a 10,000-pod Table parses a few hundred.
    try:
        return clock.parse_time(value)
    except ValueError:
        return None


def since(value: Any, now: float) -> str:
    """translateTimestampSince: the age of a timestamp, `<unknown>` when it is unset."""
    moment = parse_time(value)
    if moment is None:
        return "<unknown>"
    return human_age(now - moment)


def age(obj: Obj, now: float) -> str:
    return since((obj.get("metadata") or {}).get("creationTimestamp"), now)


def rfc3339(value: Any) -> str:
    """The generic printer's Created At cell: the timestamp again in UTC RFC 3339 (Go's zero time if unset)."""
    moment = parse_time(value)
    return "0001-01-01T00:00:00Z" if moment is None else clock.rfc3339(moment)


@cache
def doc(definition: str, field: str) -> str:
    """The swagger description of `definition.field` (what SwaggerDoc() gives the Go printers), or ""."""
    try:
        schema = schemas.definitions().get(definition, {})
    except (OSError, ImportError):
        return ""
    prop = (schema.get("properties") or {}).get(field) or {}
    return prop.get("description") or ""


def column(name: str, type_: str = "string", description: str = "", *, priority: int = 0, fmt: str = "") -> Obj:
    """A metav1.TableColumnDefinition; Go prints all five fields, empty or not."""
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


def name_column() -> Obj:
    return column("Name", description=doc(META, "name"), fmt="name")


def age_column() -> Obj:
    return column("Age", description=doc(META, "creationTimestamp"))


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def name(obj: Obj) -> str:
    return meta(obj).get("name") or ""


def dig(obj: Any, *path: str) -> Any:
    """obj[a][b]… or None when any step is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def format_labels(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: `a=1,b=2` in key order, `<none>` when empty."""
    text = ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))
    return text or "<none>"


def selector_text(selector: Obj | None, *, invalid: str = "<invalid>") -> str:
    """metav1.LabelSelectorAsSelector(selector).String(): "" for none or empty."""
    try:
        return str(LabelSelector.from_spec(selector))
    except ApiError:
        return invalid


def format_selector(selector: Obj | None) -> str:
    """metav1.FormatLabelSelector: the selector's text, `<none>` when it selects by nothing."""
    return selector_text(selector, invalid="<error>") or "<none>"


def layout_containers(containers: list[Obj] | None) -> tuple[str, str]:
    """The wide CONTAINERS and IMAGES cells: names and images joined by commas."""
    containers = containers or []
    return ",".join(c.get("name") or "" for c in containers), ",".join(c.get("image") or "" for c in containers)


def condition_true(conditions: list[Obj] | None, type_: str) -> bool:
    """The first condition of this type says True (how the Job and Pod printers read conditions)."""
    for cond in conditions or []:
        if cond.get("type") == type_:
            return cond.get("status") == "True"
    return False


def bool_text(value: Any) -> str:
    """printBoolPtr: `True`, `False`, or `<unset>` for a nil pointer."""
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def list_with_more(items: list[str], count: int, limit: int = 3, *, empty: str = "<unset>") -> str:
    """`a,b,c + 2 more...` when more than `limit` entries were seen."""
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or empty
