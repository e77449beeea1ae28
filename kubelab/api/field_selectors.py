"""Field selectors (`fieldSelector=`, `kubectl --field-selector`), as kube-apiserver reads and applies them.

A field selector is an AND of `field=value`, `field==value` and `field!=value` terms over a small,
per-kind set of fields. Parsing follows k8s.io/apimachinery/pkg/fields; which fields a kind
accepts, and the error for one it does not, follow the field label conversion funcs registered in
kubernetes/pkg/apis/*/v1 (kinds without one accept only metadata.name and metadata.namespace);
the value each object shows for a field follows its registry strategy's selectable field set,
where a missing field reads as "" and booleans and counters as Go prints them ("false", "0").

Read by: api.selectors (re-exported there), store and cluster (list/watch filtering).
Reads: api.errors, api.kinds (the Kind a selector is parsed for).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import bad_request

if TYPE_CHECKING:
    from kubelab.api.kinds import Kind

Getter = Callable[[dict[str, Any]], str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value if type(value) is str else str(value)


def _at(*path: str) -> Getter:
    """The value at a dotted path of a manifest dict, "" where any step is missing."""
    if len(path) == 1:
        (a,) = path
        return lambda obj: _text(obj.get(a))
    a, b = path
    def get(obj: dict[str, Any]) -> str:
        parent = obj.get(a)
        return _text(parent.get(b)) if isinstance(parent, dict) else ""
    return get


def _flag(a: str, b: str) -> Getter:
    """A bool the registry prints with strconv.FormatBool, so absent reads as "false"."""
    def get(obj: dict[str, Any]) -> str:
        parent = obj.get(a)
        return "true" if isinstance(parent, dict) and parent.get(b) is True else "false"
    return get


def _count(a: str, b: str) -> Getter:
    """An int32 counter the registry prints with strconv.Itoa, so absent reads as "0"."""
    def get(obj: dict[str, Any]) -> str:
        parent = obj.get(a)
        return str(parent.get(b) or 0) if isinstance(parent, dict) else "0"
    return get


def _pod_ip(obj: dict[str, Any]) -> str:
    # The registry reads status.podIPs[0]; v1 clients may have set only the older status.podIP.
    status = obj.get("status")
    if not isinstance(status, dict):
        return ""
    ips = status.get("podIPs")
    if ips and isinstance(ips[0], dict) and ips[0].get("ip"):
        return _text(ips[0]["ip"])
    return _text(status.get("podIP"))


def _event_source(obj: dict[str, Any]) -> str:
    source = obj.get("source")
    component = source.get("component") if isinstance(source, dict) else None
    return _text(component or obj.get("reportingComponent"))


_OBJECT_META: dict[str, Getter] = {"metadata.name": _at("metadata", "name"),
                                   "metadata.namespace": _at("metadata", "namespace")}


def _never_set(obj: dict[str, Any]) -> str:
    # Accepted by the conversion func but absent from the selectable field set (Pod status.podIPs).
    return ""


def _not_supported(label: str) -> str:
    return f"field label not supported: {label}"


class _Fields:
    """One kind's conversion func (accepted labels, renames, error text) and field values."""

    def __init__(self, getters: dict[str, Getter], *, meta: tuple[str, ...] = ("metadata.name", "metadata.namespace"),
                 error: Callable[[str], str] = _not_supported, renames: dict[str, str] | None = None) -> None:
        self.getters = {**{k: _OBJECT_META[k] for k in meta}, **getters}
        self.error = error
        self.renames = renames or {}


_EVENT_FIELDS = {f"involvedObject.{f}": _at("involvedObject", f)
                 for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}

# (group, kind) → fields, after kubernetes/pkg/apis/{core,batch}/v1/conversion.go. apps/v1 registers
# none, so ReplicaSet refuses status.replicas although its registry could answer (kubernetes#135136).
_BY_KIND: dict[tuple[str, str], _Fields] = {
    ("", "Pod"): _Fields({
        "spec.nodeName": _at("spec", "nodeName"),
        "spec.restartPolicy": _at("spec", "restartPolicy"),
        "spec.schedulerName": _at("spec", "schedulerName"),
        "spec.serviceAccountName": _at("spec", "serviceAccountName"),
        "spec.hostNetwork": _flag("spec", "hostNetwork"),
        "status.phase": _at("status", "phase"),
        "status.podIP": _pod_ip,
        "status.podIPs": _never_set,
        "status.nominatedNodeName": _at("status", "nominatedNodeName"),
    }, renames={"spec.host": "spec.nodeName"}),  # for v1 clients older than the rename
    ("", "Node"): _Fields({"spec.unschedulable": _flag("spec", "unschedulable")}, meta=("metadata.name",)),
    ("", "ReplicationController"): _Fields({"status.replicas": _count("status", "replicas")}),
    ("", "Event"): _Fields({
        **_EVENT_FIELDS,
        "reason": _at("reason"),
        "reportingComponent": _at("reportingComponent"),
        "source": _event_source,
        "type": _at("type"),
    }),
    ("", "Namespace"): _Fields({"status.phase": _at("status", "phase")}, meta=("metadata.name",)),
    ("", "Secret"): _Fields({"type": _at("type")}),
    ("", "Service"): _Fields({"spec.clusterIP": _at("spec", "clusterIP"), "spec.type": _at("spec", "type")}),
    ("batch", "Job"): _Fields({"status.successful": _count("status", "succeeded")},
                              error=lambda label: f"field label {go_quote(label)} not supported for batchv1.Job"),
}
_DEFAULT = _Fields({}, error=lambda label: (f"{go_quote(label)} is not a known field selector: "
                                            'only "metadata.name", "metadata.namespace"'))


def supported_fields(kind: Kind) -> list[str]:
    """The field labels a kind's field selectors accept, sorted."""
    return sorted(_BY_KIND.get((kind.group, kind.kind), _DEFAULT).getters)


class FieldSelector:
    """A parsed field selector for one kind; `matches(obj)` reads the manifest dict."""

    __slots__ = ("_terms", "_checks", "_text")

    def __init__(self, terms: list[tuple[str, str, bool]], fields: _Fields) -> None:
        self._terms = tuple(terms)  # (field, value, negated), in the apiserver's (sorted) order
        self._checks = tuple((fields.getters[f], v, neg) for f, v, neg in terms)
        self._text = ",".join(f"{f}{'!=' if neg else '='}{escape_value(v)}" for f, v, neg in terms)

    @classmethod
    def everything(cls) -> FieldSelector:
        return cls([], _DEFAULT)

    @classmethod
    def parse(cls, text: str | None, kind: Kind) -> FieldSelector:
        """fields.ParseSelector, then the kind's field label conversion (apiserver's Transform)."""
        fields = _BY_KIND.get((kind.group, kind.kind), _DEFAULT)
        terms: list[tuple[str, str, bool]] = []
        for part in sorted(_split_terms(text or "")):
            if not part:
                continue
            lhs, op, rhs = _split_term(part)
            if not op:
                raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'",
                                  hint="a field selector is a comma-separated list of field=value, field==value "
                                       "or field!=value terms (in/notin/exists are for label selectors, -l)")
            terms.append((lhs, _unescape(rhs), op == "!="))
        converted = []
        for field, value, negated in terms:
            field = fields.renames.get(field, field)
            if field not in fields.getters:
                hint = None
                if fields is not _DEFAULT:
                    hint = f"{kind.plural} can be selected by: {', '.join(sorted(fields.getters))}"
                raise bad_request(fields.error(field), hint=hint)
            converted.append((field, value, negated))
        return cls(converted, fields)

    def matches(self, obj: dict[str, Any]) -> bool:
        for get, value, negated in self._checks:
            if (get(obj) == value) is negated:
                return False
        return True

    @property
    def empty(self) -> bool:
        return not self._terms

    @property
    def terms(self) -> tuple[tuple[str, str, bool], ...]:
        """(field, value, negated) for each term."""
        return self._terms

    def requires_exact_match(self, field: str) -> str | None:
        """The one value `field` must have (fields.Selector.RequiresExactMatch), or None."""
        for f, value, negated in self._terms:
            if f == field and not negated:
                return value
        return None

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"FieldSelector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSelector) and self._terms == other._terms

    def __hash__(self) -> int:
        return hash(self._terms)


def escape_value(value: str) -> str:
    """fields.EscapeValue: backslash-escape `\\`, `,` and `=` in a value."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not backslash-escaped (the backslashes stay for _unescape)."""
    if not text:
        return []
    terms, start, in_slash = [], 0, False
    for i, c in enumerate(text):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str]:
    # The first operator wins; "==" is tried before "=" so it leaves no "=" on the value.
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return "", "", ""


def _unescape(value: str) -> str:
    if "\\" not in value and "," not in value and "=" not in value:
        return value
    out, in_slash = [], False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go formats the rune with %v, which prints its code point.
            raise bad_request(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise bad_request("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def go_quote(text: str) -> str:
    """Go's %q for the plain strings selectors carry."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for raw, esc in (("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        escaped = escaped.replace(raw, esc)
    return f'"{escaped}"'


__all__ = ["FieldSelector", "escape_value", "go_quote", "supported_fields"]
