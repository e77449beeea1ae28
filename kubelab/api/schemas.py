"""The real Kubernetes 1.37 OpenAPI schemas, as kubernetes-validate ships them (JSON Schema form).

`definitions()` loads the `$defs` table once (about 20 ms) and keeps it; `schema_for(kind)` finds
a kind's top-level definition by its `x-kubernetes-group-version-kind`; `resolve()` follows a
`$ref`. `go_type_overrides()` lists the struct fields whose Go type is a named type the schema
cannot show (`v1.RestartPolicy`, `v1.ResourceList`, `types.UID`), taken from k8s.io/api's types.

Read by: api.shapes (the decoder's compiled view), api.patch_meta, later the server's OpenAPI v3
documents and strategic-merge metadata. Reads: api.kinds, kubernetes_validate's data files.
"""

from __future__ import annotations

import importlib.util
import json
import os
from functools import lru_cache
from typing import Any

from kubelab.api.kinds import Kind

SCHEMA_VERSION = "v1.37.0-local-strict"
_REF_PREFIX = "#/$defs/"


def _schema_dir() -> str:
    # Only the package's data files are read: find its directory without running its __init__, which
    # imports jsonschema — with JupyterLab's jsonschema extras that builds a URI grammar (measured
    # 1.9 s), paid by every kernel's first %kube command.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("kubelab needs the kubernetes-validate package (its schema files)")
    return os.path.join(spec.submodule_search_locations[0], "kubernetes-json-schema", SCHEMA_VERSION)


@lru_cache(maxsize=1)
def definitions() -> dict[str, Any]:
    """Every definition, keyed like `io.k8s.api.apps.v1.DeploymentSpec` (loaded once, then cached)."""
    with open(os.path.join(_schema_dir(), "_definitions.json"), encoding="utf-8") as f:
        return json.load(f)["$defs"]


@lru_cache(maxsize=1)
def _by_gvk() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            # DeleteOptions, WatchEvent… claim every group; a kind's own definition claims one.
            index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return index


def definition_name(kind: Kind) -> str:
    """`io.k8s.api.apps.v1.Deployment` for the apps/v1 Deployment kind."""
    try:
        return _by_gvk()[(kind.group, kind.version, kind.kind)]
    except KeyError:
        raise KeyError(f"no OpenAPI definition for {kind.api_version} {kind.kind}") from None


def schema_for(kind: Kind) -> dict[str, Any]:
    """The top-level object schema of a kind (its `properties` are apiVersion, kind, metadata, spec…)."""
    return definitions()[definition_name(kind)]


def ref_name(schema: dict[str, Any]) -> str | None:
    """The definition a `{"$ref": "#/$defs/…"}` schema points at, or None."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        return ref[len(_REF_PREFIX):]
    return None


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s until a schema with its own content; other schemas come back unchanged."""
    seen = 0
    while "$ref" in schema and seen < 16:
        name = ref_name(schema)
        if name is None:
            break
        schema = definitions()[name]
        seen += 1
    return schema


@lru_cache(maxsize=1)
def go_type_overrides() -> dict[str, str]:
    """`io.k8s.api.core.v1.PodSpec.restartPolicy` → `v1.RestartPolicy`: Go named types of fields."""
    path = os.path.join(os.path.dirname(__file__), "gotypes.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)
