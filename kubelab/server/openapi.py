"""OpenAPI v3 documents, generated from the kinds registry and the real 1.37 schemas.

`/openapi/v3` lists one document per group-version; each document has, for every kind, the
collection and item paths with their operations — the PATCH carrying
`x-kubernetes-group-version-kind` and a `fieldValidation` parameter is what makes kubectl's
default `--validate=strict` hand validation to the server — and `components.schemas` with the
definitions those kinds reach (descriptions, `required`, patch merge keys; what `kubectl
explain` prints and client-side apply computes its patches with). The schemas come from
kubernetes-validate's JSON Schema form, put back into OpenAPI 3.0 shape: `$ref`s point into
`#/components/schemas`, nullable type lists become one type, the strict-mode
`additionalProperties: false` goes. Documents are static, so they are built once, cached as
bytes and served with an immutable hash URL.

Read by: server.app. Reads: api.schemas, api.kinds, server.routes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cache
from typing import Any

from kubelab import __version__
from kubelab.api import kinds, schemas
from kubelab.api.kinds import Kind
from kubelab.server.messages import Request, Response, not_found_path
from kubelab.server.routes import GROUP_VERSIONS

_REF = "#/$defs/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_REPLACED = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": "IntOrString is a type that can hold an int32 or a string.",
        "type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": "Quantity is a fixed-point representation of a number, e.g. 100m, 1Gi or 2.5.",
        "type": "string"},
}
_build_lock = threading.Lock()


def encoded(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def doc_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


@cache
def _hash(group: str, version: str) -> str:
    # The documents are a function of kubelab's version and the schema set, nothing else.
    seed = f"{__version__}/{schemas.SCHEMA_VERSION}/{group}/{version}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32].upper()


@cache
def root() -> bytes:
    paths = {doc_path(g, v): {"serverRelativeURL": f"/openapi/v3/{doc_path(g, v)}?hash={_hash(g, v)}"}
             for g, v in GROUP_VERSIONS}
    return encoded({"paths": paths})


# ---------------------------------------------------------------- schemas
def _convert(schema: Any, top_level: bool = False) -> Any:
    if isinstance(schema, list):
        return [_convert(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
            out[key] = "#/components/schemas/" + value[len(_REF):]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out[key] = types[0] if len(types) == 1 else types
        elif key == "additionalProperties" and value is False:
            continue
        elif key == "properties" and isinstance(value, dict):
            props = {}
            for name, sub in value.items():
                sub = _convert(sub)
                if top_level and name in ("apiVersion", "kind"):
                    sub.pop("enum", None)  # the strict schema pins them; apiserver's documents do not
                props[name] = sub
            out[key] = props
        else:
            out[key] = _convert(value)
    if "$ref" in out and len(out) > 1:  # OpenAPI 3.0 ignores a $ref's siblings: wrap it, as apiserver does
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _refs(schema: Any, found: set[str]) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            found.add(ref[len(_REF):])
        for value in schema.values():
            _refs(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _refs(value, found)


def _closure(names: list[str]) -> list[str]:
    defs = schemas.definitions()
    seen: list[str] = []
    todo = [n for n in names if n in defs]
    known = set(todo)
    while todo:
        name = todo.pop()
        seen.append(name)
        found: set[str] = set()
        _refs(defs[name], found)
        for ref in sorted(found - known):
            if ref in defs:
                known.add(ref)
                todo.append(ref)
    return sorted(seen)


# ------------------------------------------------------------------ paths
def _op(action: str, kind: Kind, definition: str, params: list[str]) -> dict[str, Any]:
    gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    ref = {"$ref": f"#/components/schemas/{definition}"}
    op: dict[str, Any] = {
        "operationId": f"{action}{kind.kind}",
        "parameters": [{"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for p in params],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }
    if action in ("post", "put", "patch"):
        types = ["application/json"] if action != "patch" else [
            "application/json-patch+json", "application/merge-patch+json",
            "application/strategic-merge-patch+json", "application/apply-patch+yaml"]
        schema = ref if action != "patch" else {"$ref": f"#/components/schemas/{_META}Patch"}
        op["requestBody"] = {"content": {t: {"schema": schema} for t in types}, "required": True}
    return op


_WRITE = ["dryRun", "fieldManager", "fieldValidation"]


def _paths(kind: Kind, definition: str, prefix: str) -> dict[str, Any]:
    base = f"{prefix}/namespaces/{{namespace}}/{kind.plural}" if kind.namespaced else f"{prefix}/{kind.plural}"
    item = base + "/{name}"
    list_def = definition + "List" if definition + "List" in schemas.definitions() else definition
    paths: dict[str, Any] = {
        base: {"get": _op("list", kind, list_def, ["labelSelector", "fieldSelector", "limit", "continue", "watch"]),
               "post": _op("post", kind, definition, _WRITE)},
        item: {"get": _op("get", kind, definition, []),
               "put": _op("put", kind, definition, _WRITE),
               "patch": _op("patch", kind, definition, [*_WRITE, "force"]),
               "delete": _op("delete", kind, f"{_META}Status", ["dryRun", "gracePeriodSeconds",
                                                                  "propagationPolicy"])},
    }
    if kind.namespaced:
        paths[f"{prefix}/{kind.plural}"] = {"get": _op("list", kind, list_def, ["labelSelector", "fieldSelector"])}
    if "status" in kind.subresources:
        paths[item + "/status"] = {"get": _op("get", kind, definition, []),
                                   "put": _op("put", kind, definition, _WRITE),
                                   "patch": _op("patch", kind, definition, [*_WRITE, "force"])}
    if "scale" in kind.subresources:
        scale = Kind("autoscaling", "v1", "Scale", "scale")
        paths[item + "/scale"] = {"get": _op("get", scale, "io.k8s.api.autoscaling.v1.Scale", []),
                                  "patch": _op("patch", scale, "io.k8s.api.autoscaling.v1.Scale", _WRITE)}
    return paths


def _build(group: str, version: str) -> bytes:
    prefix = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    paths: dict[str, Any] = {}
    roots = [f"{_META}Status", f"{_META}DeleteOptions", f"{_META}Patch"]
    for kind in kinds.all_kinds():
        if (kind.group, kind.version) != (group, version):
            continue
        try:
            definition = schemas.definition_name(kind)
        except KeyError:
            continue
        paths.update(_paths(kind, definition, prefix))
        roots.append(definition)
        if definition + "List" in schemas.definitions():
            roots.append(definition + "List")
        if "scale" in kind.subresources:
            roots.append("io.k8s.api.autoscaling.v1.Scale")
    defs = schemas.definitions()
    components = {}
    for name in _closure(roots):
        schema = _REPLACED.get(name) or _convert(defs[name], top_level="x-kubernetes-group-version-kind" in defs[name])
        if name == f"{_META}Patch":
            schema = {"description": defs[name].get("description", ""), "type": "object"}
        components[name] = schema
    doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.37.1"}, "paths": paths,
           "components": {"schemas": components}}
    return encoded(doc)


_documents: dict[tuple[str, str], bytes] = {}


def document(group: str, version: str) -> bytes:
    """The encoded OpenAPI v3 document of one group-version (built on first use, then cached)."""
    doc = _documents.get((group, version))
    if doc is None:
        with _build_lock:
            doc = _documents.get((group, version))
            if doc is None:
                doc = _documents[(group, version)] = _build(group, version)
    return doc


def serve(req: Request, path: str) -> Response:
    if req.method not in ("GET", "HEAD"):
        raise not_found_path()
    if path == "/openapi/v3":
        return Response(200, root())
    if path == "/openapi/v2":
        # Empty: kubectl falls back to v2 for a kind v3 lacks (a removed apiVersion); finding no schema there,
        # it goes on to print the real cluster's "no matches for kind … ensure CRDs are installed first".
        return Response(200, b"", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
    rest = path[len("/openapi/v3/"):] if path.startswith("/openapi/v3/") else ""
    for group, version in GROUP_VERSIONS:
        if rest == doc_path(group, version):
            etag = f'"{_hash(group, version)}"'
            headers = [("ETag", etag)]
            if req.param("hash"):
                headers.append(("Cache-Control", "public, immutable"))
            if req.headers.get("If-None-Match") == etag:
                return Response(304, b"", headers=headers)
            return Response(200, document(group, version), headers=headers)
    raise not_found_path()  # unknown documents
