"""What the HTTP layer hands to the API handlers and gets back from them.

A `Request` is one parsed HTTP request (method, path, query, headers, body); handlers answer
with a `Response` (status, JSON or text body, extra headers such as `Warning`), a `Stream`
(chunks produced while the client listens: watches, followed logs) or an `Upgrade` (a WebSocket
session: exec, attach, port-forward). `status_response` turns an
`ApiError` into the Status body kube-apiserver sends, so kubectl prints its usual
`Error from server (NotFound): …`.

Read by: server.transport (writes them), every handler module. Reads: api.errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from kubelab.api.errors import ApiError

JSON = "application/json"
TRUE_VALUES = ("true", "1", "True", "TRUE", "t", "T")


class Request:
    __slots__ = ("method", "path", "query", "headers", "body")

    def __init__(self, method: str, path: str, query: dict[str, list[str]], headers: Message, body: bytes) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str) -> bool:
        return self.param(name) in TRUE_VALUES

    def int_param(self, name: str) -> int | None:
        text = self.param(name)
        if text in (None, ""):
            return None
        try:
            return int(text)
        except ValueError:
            raise ApiError("BadRequest", f'invalid value "{text}" for {name}: must be an integer') from None

    @property
    def accept(self) -> str:
        return self.headers.get("Accept") or ""

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()

    @property
    def user_agent(self) -> str:
        return self.headers.get("User-Agent") or ""

    def json(self) -> Any:
        """The body as JSON (YAML for `application/yaml`); a 400 Status when it is not."""
        if not self.body:
            raise ApiError("BadRequest", "the body of the request was empty")
        if self.content_type in ("application/yaml", "application/apply-patch+yaml"):
            import yaml

            try:
                return yaml.load(self.body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            except yaml.YAMLError as err:
                raise ApiError("BadRequest", f"error converting YAML to JSON: {err}") from None
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise ApiError("BadRequest", f"couldn't get version/kind; json parse error: {err}") from None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(eq=False)
class Stream:
    """A chunked answer: `chunks` yields bytes to send, or None to let the transport check that
    the client is still there; `cancel` (from another thread) makes `chunks` end soon."""

    chunks: Iterator[bytes | None]
    cancel: Callable[[], None]
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(eq=False)
class Upgrade:
    """A WebSocket answer (exec, attach, port-forward): the transport sends 101 with `protocol`, then runs
    `session` with the open connection; `cancel` (from another thread) makes `session` end soon."""

    protocol: str
    session: Callable[[Any], None]
    cancel: Callable[[], None]


def encode(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, encode(obj), JSON, headers or [])


def status_response(err: ApiError) -> Response:
    return json_response(err.status, err.code)


def success_status(details: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def not_found_path() -> ApiError:
    return ApiError("NotFound", "the server could not find the requested resource", details={})


def warning_header(text: str) -> tuple[str, str]:
    """A `Warning: 299 - "…"` header as apiserver sends it (kubectl prints `Warning: …`)."""
    return "Warning", "299 - " + json.dumps(text, ensure_ascii=False)
