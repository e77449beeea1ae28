"""Kubernetes API errors as `Status` objects.

Every failure the local cluster reports — from validation, the store, the selectors or the
server — is an `ApiError` carrying a `metav1.Status` dict with kube-apiserver's code,
reason, message and details, so kubectl prints its usual `Error from server (NotFound): …`.
kubelab's teaching hints ride along as the message's last line (`hint: …`).

Read by: every layer. Reads: nothing (bottom of the import graph).
"""

from __future__ import annotations

from typing import Any

# HTTP code for each StatusReason, as k8s.io/apimachinery/pkg/api/errors uses them.
REASON_CODES = {
    "BadRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "MethodNotAllowed": 405,
    "NotAcceptable": 406,
    "AlreadyExists": 409,
    "Conflict": 409,
    "Gone": 410,
    "UnsupportedMediaType": 415,
    "Invalid": 422,
    "TooManyRequests": 429,
    "InternalError": 500,
    "ServiceUnavailable": 503,
    "Timeout": 504,
}


class ApiError(Exception):
    """A failed API call; `.status` is the Status object a real apiserver would send."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        code: int | None = None,
        details: dict[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        if hint:
            message = f"{message}\nhint: {hint}"
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.code = code if code is not None else REASON_CODES.get(reason, 500)
        self.details = details or {}
        self.hint = hint

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:  # Go omits an empty StatusReason
            del status["reason"]
        if self.details:
            status["details"] = self.details
        return status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ApiError({self.reason}, {self.code}, {self.message!r})"


def resource_id(group: str, plural: str) -> str:
    """`pods` for the core group, `deployments.apps` otherwise (apiserver's qualified resource)."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        "NotFound",
        f'{resource_id(group, plural)} "{name}" not found',
        details={"name": name, "group": group, "kind": plural} if group else {"name": name, "kind": plural},
    )


def already_exists(group: str, plural: str, name: str) -> ApiError:
    details = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return ApiError("AlreadyExists", f'{resource_id(group, plural)} "{name}" already exists', details=details)


def conflict(group: str, plural: str, name: str) -> ApiError:
    details = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return ApiError(
        "Conflict",
        f'Operation cannot be fulfilled on {resource_id(group, plural)} "{name}": '
        "the object has been modified; please apply your changes to the latest version and try again",
        details=details,
    )


def bad_request(message: str, hint: str | None = None) -> ApiError:
    return ApiError("BadRequest", message, hint=hint)


def gone(message: str) -> ApiError:
    return ApiError("Gone", message)


def forbidden(message: str, hint: str | None = None) -> ApiError:
    return ApiError("Forbidden", message, hint=hint)


class FieldError:
    """One entry of an Invalid error, like apimachinery's field.Error."""

    __slots__ = ("type", "field", "value", "detail")

    # field.ErrorType → the string apimachinery prints and the reason in `details.causes`.
    TYPES = {
        "Required": ("Required value", "FieldValueRequired"),
        "Invalid": ("Invalid value", "FieldValueInvalid"),
        "Forbidden": ("Forbidden", "FieldValueForbidden"),
        "NotSupported": ("Unsupported value", "FieldValueNotSupported"),
        "Duplicate": ("Duplicate value", "FieldValueDuplicate"),
        "TooLong": ("Too long", "FieldValueTooLong"),
        "TooMany": ("Too many", "FieldValueTooMany"),
    }
    _MISSING = object()

    def __init__(self, type: str, field: str, value: Any = _MISSING, detail: str = "") -> None:
        self.type = type
        self.field = field
        self.value = value
        self.detail = detail

    def __str__(self) -> str:
        label = self.TYPES[self.type][0]
        if self.type in ("Required", "Forbidden", "TooLong", "TooMany") or self.value is self._MISSING:
            text = f"{self.field}: {label}"
        elif self.type == "NotSupported":
            text = f"{self.field}: {label}: {_go_quote(self.value)}"
        else:
            text = f"{self.field}: {label}: {_go_quote(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def cause(self) -> dict[str, str]:
        message = str(self)[len(self.field) + 2 :]
        return {"reason": self.TYPES[self.type][1], "message": message, "field": self.field}


def _go_quote(value: Any) -> str:
    """Format a value like apimachinery's field errors (strings quoted, numbers bare)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def invalid(kind: str, group: str, name: str, errors: list[FieldError], hint: str | None = None) -> ApiError:
    """`Deployment.apps "web" is invalid: spec.selector: Required value` (422)."""
    qualified = f"{kind}.{group}" if group else kind
    if len(errors) == 1:
        summary = str(errors[0])
    else:
        summary = "[" + ", ".join(str(e) for e in errors) + "]"
    details = {"name": name, "kind": kind, "causes": [e.cause() for e in errors]}
    if group:
        details["group"] = group
    return ApiError("Invalid", f'{qualified} "{name}" is invalid: {summary}', details=details, hint=hint)
