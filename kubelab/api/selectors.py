"""Label selectors, parsed, matched, printed and validated the way kube-apiserver does it.

`LabelSelector.parse("app=web,tier notin (db)")` reads the string form kubectl sends as
`labelSelector=`; `LabelSelector.from_spec(spec.selector)` reads a metav1.LabelSelector
(matchLabels / matchExpressions). Both give one compiled object whose requirements are sorted
by key: `str()` is the canonical text labels.Selector.String() prints (what `kubectl describe`
shows and Scale.status.selector carries), and `matches(labels)` is cheap enough to run on
every object of every list and watch. Bad selectors raise BadRequest `ApiError`s with
apimachinery's texts; `validate_label_selector_spec` returns metav1 validation's field errors.
Field selectors live in api.field_selectors and are re-exported here.

Read by: store and cluster (list/watch filtering), controllers, server.
Reads: api.errors, api.names, api.label_parser (the string form), api.field_selectors.
"""

from __future__ import annotations

from typing import Any

from kubelab.api.errors import FieldError, bad_request

# Field selectors are the other half of a list's filter; callers find both here.
from kubelab.api.field_selectors import FieldSelector, go_quote
from kubelab.api.label_parser import (
    DOES_NOT_EXIST,
    DOUBLE_EQUALS,
    EQUALS,
    EXISTS,
    GREATER_THAN,
    IN,
    NOT_EQUALS,
    NOT_IN,
    Requirement,
    SelectorSyntaxError,
    int64,
    new_requirement,
    parse_requirements,
)
from kubelab.api.names import label_value, qualified_name

# metav1.LabelSelectorOperator → selection.Operator (LabelSelectorAsSelector).
SPEC_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}

_ABSENT = object()  # a missing label: never equal to any value, unlike ""
_NO_LABELS: dict[str, str] = {}

# matches() dispatch codes, chosen once per requirement at compile time.
_C_EQ, _C_IN, _C_NE, _C_NOTIN, _C_EXISTS, _C_DNE, _C_GT, _C_LT = range(8)


class LabelSelector:
    """A parsed label selector: an AND of requirements, or the special Nothing selector."""

    __slots__ = ("_requirements", "_nothing", "_compiled", "_text")

    def __init__(self, requirements: tuple[Requirement, ...] | list[Requirement] = (), *, nothing: bool = False):
        # sorted() is stable, like Go's insertion sort on the short lists selectors are.
        self._requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing
        self._compiled = tuple(_compile(r) for r in self._requirements)
        self._text = ",".join(str(r) for r in self._requirements)

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(nothing=True)

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        """labels.Parse: `app=web,tier!=db`, `env in (a,b)`, `env notin (x)`, `app`, `!app`, `n>3`."""
        if not text:
            return cls()
        try:
            return cls(parse_requirements(text))
        except SelectorSyntaxError as e:
            raise bad_request(str(e))

    @classmethod
    def from_spec(cls, spec: dict[str, Any] | None) -> LabelSelector:
        """metav1.LabelSelectorAsSelector: None selects nothing, `{}` selects everything."""
        if spec is None:
            return cls(nothing=True)
        match_labels = spec.get("matchLabels") or {}
        expressions = spec.get("matchExpressions") or []
        requirements = []
        try:
            for key, value in match_labels.items():
                # A JSON null decodes to "" in Go's map[string]string.
                requirements.append(new_requirement(key, EQUALS, ("" if value is None else value,)))
            for expr in expressions:
                op = SPEC_OPERATORS.get(expr.get("operator"))
                if op is None:
                    operator = go_quote(expr.get("operator") or "")
                    raise SelectorSyntaxError(f"{operator} is not a valid label selector operator")
                requirements.append(new_requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
        except SelectorSyntaxError as e:
            raise bad_request(str(e))
        return cls(requirements)

    @classmethod
    def from_set(cls, labels: dict[str, str] | None) -> LabelSelector:
        """labels.SelectorFromSet: a Service's or ReplicationController's plain map; empty selects everything."""
        return cls([Requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items()])

    def matches(self, labels: dict[str, str] | None) -> bool:
        compiled = self._compiled
        if not compiled:  # Everything, or Nothing
            return not self._nothing
        get = (labels or _NO_LABELS).get
        for key, code, arg in compiled:
            value = get(key, _ABSENT)
            if code == _C_EQ:
                if value != arg:
                    return False
            elif code == _C_IN:
                if value not in arg:
                    return False
            elif code == _C_NE:
                if value == arg:
                    return False
            elif code == _C_NOTIN:
                if value in arg:
                    return False
            elif code == _C_EXISTS:
                if value is _ABSENT:
                    return False
            elif code == _C_DNE:
                if value is not _ABSENT:
                    return False
            else:
                number = int64(value) if value is not _ABSENT else None
                if number is None or (number <= arg if code == _C_GT else number >= arg):
                    return False
        return True

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (Nothing is not empty)."""
        return not self._requirements and not self._nothing

    @property
    def matches_nothing(self) -> bool:
        return self._nothing

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self._requirements

    def requires_exact_match(self, key: str) -> str | None:
        """The one value `key` must have (labels.Selector.RequiresExactMatch), or None."""
        for r in self._requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return "LabelSelector(<nothing>)" if self._nothing else f"LabelSelector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return (self._nothing, self._requirements) == (other._nothing, other._requirements)

    def __hash__(self) -> int:
        return hash((self._nothing, self._requirements))


def parse_label_selector(text: str | None) -> LabelSelector:
    return LabelSelector.parse(text)


def label_selector_from_spec(spec: dict[str, Any] | None) -> LabelSelector:
    return LabelSelector.from_spec(spec)


def validate_label_selector_spec(spec: dict[str, Any] | None, path: str) -> list[FieldError]:
    """metav1 validation.ValidateLabelSelector, with its field paths and details."""
    errors: list[FieldError] = []
    if not spec:
        return errors
    labels_path = f"{path}.matchLabels"
    # Go walks the map in random order; sorted keys keep our messages stable.
    for key, value in sorted((spec.get("matchLabels") or {}).items()):
        value = "" if value is None else value
        errors.extend(FieldError("Invalid", labels_path, key, msg) for msg in qualified_name(key))
        errors.extend(FieldError("Invalid", labels_path, value, msg) for msg in label_value(value))
    for i, expr in enumerate(spec.get("matchExpressions") or []):
        here = f"{path}.matchExpressions[{i}]"
        op, values, key = expr.get("operator", ""), expr.get("values") or [], expr.get("key", "")
        if op in ("In", "NotIn"):
            if not values:
                errors.append(FieldError("Required", f"{here}.values",
                                         detail="must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errors.append(FieldError("Forbidden", f"{here}.values",
                                         detail="may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errors.append(FieldError("Invalid", f"{here}.operator", op, "not a valid selector operator"))
        errors.extend(FieldError("Invalid", f"{here}.key", key, msg) for msg in qualified_name(key))
        for j, value in enumerate(values):
            errors.extend(FieldError("Invalid", f"{here}.values[{j}]", value, msg) for msg in label_value(value))
    return errors


def _compile(r: Requirement) -> tuple[str, int, Any]:
    op, values = r.operator, r.values
    if op in (EQUALS, DOUBLE_EQUALS, IN):
        return (r.key, _C_EQ, values[0]) if len(values) == 1 else (r.key, _C_IN, frozenset(values))
    if op in (NOT_EQUALS, NOT_IN):
        return (r.key, _C_NE, values[0]) if len(values) == 1 else (r.key, _C_NOTIN, frozenset(values))
    if op == EXISTS:
        return r.key, _C_EXISTS, None
    if op == DOES_NOT_EXIST:
        return r.key, _C_DNE, None
    return r.key, _C_GT if op == GREATER_THAN else _C_LT, int64(values[0])


__all__ = [
    "FieldSelector", "LabelSelector", "Requirement", "label_selector_from_spec", "parse_label_selector",
    "validate_label_selector_spec",
]
