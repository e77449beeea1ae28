"""One-line hints for the errors learners meet most, added under apiserver's own message.

`for_unknown_fields` finds where a misplaced field really belongs in the kind's schema, close to
where it was written (`"matchLabels" belongs under "spec.selector" — check the indentation`) or
spots a typo among its siblings (`did you mean "image"?`); `for_type_error` explains YAML
shapes (`"containers" must be a list: start each item with "- "`); `for_invalid` turns the
common 422s into the next step to take. Each returns None when it has nothing useful to say.

Read by: api.decoding, api.validation. Reads: api.shapes, api.kinds, api.errors.
"""

from __future__ import annotations

import difflib
from collections import deque
from functools import lru_cache
from typing import Any

from kubelab.api import shapes
from kubelab.api.errors import FieldError
from kubelab.api.kinds import Kind
from kubelab.api.shapes import (
    BOOL,
    BYTES,
    FLOAT,
    INT,
    INT_OR_STRING,
    LIST,
    MAP,
    QUANTITY,
    STRING,
    STRUCT,
    TIME,
    Shape,
)

_MAX_DEPTH = 9


def _field_names(comps: list[Any]) -> tuple[str, ...]:
    return tuple(c for c in comps if type(c) is str)


def _shape_at(kind: Kind, comps: list[Any]) -> Shape | None:
    shape: Shape | None = shapes.root(kind)
    for c in comps:
        if shape is None:
            return None
        if type(c) is str:
            shape = (shape.props or {}).get(c) if shape.code == STRUCT else None
        else:
            shape = shape.item if shape.code in (LIST, MAP) else None
    return shape


@lru_cache(maxsize=64)
def _homes(kind: Kind) -> dict[str, list[tuple[str, ...]]]:
    """field name → every struct path (field names only) where it is a real property, shallow first."""
    homes: dict[str, list[tuple[str, ...]]] = {}
    queue: deque[tuple[Shape, tuple[str, ...], frozenset[str]]] = deque([(shapes.root(kind), (), frozenset())])
    while queue:
        shape, path, seen = queue.popleft()
        while shape.code in (LIST, MAP) and shape.item is not None:
            shape = shape.item
        if shape.code != STRUCT or shape.definition in seen or len(path) > _MAX_DEPTH:
            continue
        seen = seen | {shape.definition}
        for name, sub in (shape.props or {}).items():
            homes.setdefault(name, []).append(path)
            queue.append((sub, (*path, name), seen))
    return homes


def _nearest_home(kind: Kind, written: tuple[str, ...], name: str) -> tuple[str, ...] | None:
    best: tuple[tuple[int, int, int], tuple[str, ...]] | None = None
    for home in _homes(kind).get(name, ()):
        if home == written:
            continue
        common = 0
        for a, b in zip(home, written, strict=False):
            if a != b:
                break
            common += 1
        distance = len(home) + len(written) - 2 * common
        # Ties go to a place below the one written: unindented children are the usual slip.
        below = 0 if home[:len(written)] == written else 1
        rank = (distance, below, len(home))
        if best is None or rank < best[0]:
            best = (rank, home)
    return best[1] if best else None


def _typo(kind: Kind, comps: list[Any], name: str) -> str | None:
    parent = _shape_at(kind, comps)
    if parent is None or parent.code != STRUCT or not parent.props:
        return None
    siblings = list(parent.props)
    for sibling in siblings:
        if sibling.lower() == name.lower():
            return sibling
    close = difflib.get_close_matches(name, siblings, n=1, cutoff=0.8)
    return close[0] if close else None


def _place(path: tuple[str, ...]) -> str:
    return f'under "{".".join(path)}"' if path else "at the top level"


def for_unknown_fields(kind: Kind, unknown: list[tuple[list[Any], str]]) -> str | None:
    """A hint for `strict decoding error: unknown field …`; `unknown` is (parent path, field name) pairs."""
    typos: list[tuple[str, str]] = []
    moves: dict[tuple[str, ...], list[str]] = {}
    lost: list[tuple[str, tuple[str, ...]]] = []
    for comps, name in unknown:
        typo = _typo(kind, comps, name)
        if typo:
            typos.append((name, typo))
            continue
        home = _nearest_home(kind, _field_names(comps), name)
        if home is None:
            lost.append((name, _field_names(comps)))
        else:
            moves.setdefault(home, []).append(name)
    if len(unknown) == 1 and typos:
        return f'did you mean "{typos[0][1]}"?'
    parts = [f'"{name}": did you mean "{typo}"?' for name, typo in typos]
    for home, moved in moves.items():
        quoted = [f'"{n}"' for n in moved]
        names = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
        verb = "belongs" if len(moved) == 1 else "belong"
        parts.append(f"{names} {verb} {_place(home)}")
    if moves:
        parts[-1] += " — check the indentation"
    if not parts and lost:
        name, where = lost[0]
        topic = ".".join((kind.singular, *where))
        return f'"{name}" is not a field here: `kubectl explain {topic}` lists the fields you can use'
    return "; ".join(parts) if parts else None


def _label(comps: list[Any]) -> str:
    for c in reversed(comps):
        if type(c) is str:
            return c
        if type(c) is tuple:
            return c[0]
    return "value"


def for_type_error(kind: Kind, comps: list[Any], value: Any, shape: Shape) -> str | None:
    """A hint for `json: cannot unmarshal … into Go struct field …` and its cousins."""
    name = _label(comps)
    is_item = bool(comps) and type(comps[-1]) is int
    code = shape.code
    if code == LIST and isinstance(value, dict):
        return f'"{name}" must be a list: start each item with "- "'
    if code == LIST:
        return f'"{name}" must be a list: put each item on its own line starting with "- " (or write [a, b])'
    subject = f'each item of "{name}"' if is_item else f'"{name}"'
    if code in (STRUCT, MAP) and isinstance(value, list):
        return f'"{name}" must be a mapping (key: value lines), not a list: remove the "- "'
    if code in (STRUCT, MAP):
        if is_item:
            return f'each item of "{name}" must be a mapping of fields (e.g. "- name: …"), not a single value'
        return f'"{name}" must be a mapping with its fields indented under it, not a single value'
    if code in (INT, FLOAT):
        if isinstance(value, str):
            if value.strip().lstrip("-").isdigit():
                return f'{subject} must be a number: remove the quotes around "{value}"'
            return f'{subject} must be a number, not the text "{value}"'
        if isinstance(value, float):
            return f"{subject} must be a whole number"
        if isinstance(value, int) and not isinstance(value, bool):
            limit = 2**31 - 1 if shape.go == "int32" else 2**63 - 1
            return f"{subject} is too large: the largest {shape.go} is {limit}"
    if code == STRING:
        if isinstance(value, bool):
            return (f"{subject} must be a string: YAML read yes/no/on/off/true/false as a boolean, so put quotes "
                    "around the value")
        if isinstance(value, (int, float)):
            return f'{subject} must be a string: put quotes around it ("{value}")'
    if code == INT_OR_STRING:
        return f'{subject} must be a number (like 8080) or a name (like "http")'
    if code == QUANTITY:
        return f"{subject} must be a quantity such as 500m, 2, 128Mi or 1Gi"
    if code == BYTES:
        return 'values under "data" must be base64-encoded: put plain text under "stringData" instead'
    if code == TIME:
        return f"{subject} must be an RFC 3339 time such as 2024-01-31T12:00:00Z"
    if code == BOOL:
        return f"{subject} must be true or false"
    return None


def _hint_for(kind: Kind, e: FieldError) -> str | None:
    field, detail, type_ = e.field, e.detail, e.type
    if detail == "`selector` does not match template `labels`":
        return "every label in spec.selector must also be set in spec.template.metadata.labels"
    if field == "spec.selector" and type_ == "Required":
        return "add spec.selector.matchLabels with the same labels as spec.template.metadata.labels"
    if field == "spec.selector" and detail == "field is immutable":
        return f"a {kind.kind}'s selector cannot change: delete it and create it again (kubectl replace --force)"
    if field.endswith("template.spec.restartPolicy"):
        if kind.kind in ("Job", "CronJob"):
            return "a Job's pods must not restart forever: set restartPolicy: OnFailure or Never in the pod template"
        return f"a {kind.kind} keeps its pods running, so restartPolicy must be Always; use a Job for one-off work"
    if field == "metadata.name" and type_ == "Invalid":
        return "names use lowercase letters, digits and '-' (and '.' for most kinds), starting with a letter or digit"
    if field.endswith(".nodePort") and "valid range" in detail:
        return "nodePort must be between 30000 and 32767 — or leave it out and one is picked for you"
    if field.endswith("containers") and type_ == "Required":
        return "a pod needs at least one container under spec.containers"
    if field.endswith(".image") and type_ == "Required":
        return "every container needs an image, e.g. image: nginx"
    if field.endswith(".name") and ".volumeMounts[" in field and type_ == "NotFound":
        return "a volumeMount's name must match the name of a volume in the pod's spec.volumes"
    if field == "spec" and "pod updates may not change" in detail:
        return "a pod's spec is mostly fixed: delete and re-create the pod, or let a Deployment replace it"
    if field == "spec.schedule":
        return 'a schedule has 5 fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"'
    return None


def for_invalid(kind: Kind, errors: list[FieldError]) -> str | None:
    """A hint for a 422 Invalid: the first error a hint is known for."""
    for e in errors:
        hint = _hint_for(kind, e)
        if hint:
            return hint
    return None
