"""PATCH: the four patch types kube-apiserver accepts, then an update through the ApiServer.

    application/merge-patch+json           label, annotate, scale (kubectl)
    application/json-patch+json            rollout undo, the client-side → server-side upgrade
    application/strategic-merge-patch+json apply (client-side), set image, rollout restart, cordon
    application/apply-patch+yaml           apply --server-side (creates a missing object)

The patch applies to the object as the client sees it (times shifted to its clock), the result
is shifted back and written with `ApiServer.update` — whose errors (strict field validation,
422 Invalid, 409 Conflict on a stale resourceVersion in the patch) are the apiserver's. A patch
that changes nothing writes nothing, so the resourceVersion stays.

Read by: server.app, server.subresources. Reads: api.patch, server.managed, server.resources,
server.present.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubelab.api import patch as engines
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.cluster.clock import rfc3339
from kubelab.server import managed
from kubelab.server.messages import Request, Response, json_response
from kubelab.server.resources import dry_run, field_manager, field_validation, locked, warnings_for
from kubelab.server.routes import Target
from kubelab.store.memory import Obj, thaw

if TYPE_CHECKING:
    from kubelab.server.app import ApiApp

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH, STRATEGIC_PATCH)


def engine(content_type: str, kind: Kind) -> Callable[[dict, Any], dict]:
    """The function applying a patch body of `content_type` to an object of `kind`."""
    if content_type == JSON_PATCH:
        return engines.json_patch
    if content_type == MERGE_PATCH:
        return engines.merge_patch
    if content_type == STRATEGIC_PATCH:
        return lambda target, body: engines.strategic_merge_patch(target, body, kind)
    raise ApiError("UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types "
                                           "include: " + ", ".join(PATCH_TYPES))


def patch(app: ApiApp, req: Request, target: Target) -> Response:
    if req.content_type == APPLY_PATCH:
        return server_side_apply(app, req, target)
    kind = target.kind
    apply_patch = engine(req.content_type, kind)
    body = req.json()
    mode, dry, manager = field_validation(req), dry_run(req), field_manager(req)
    sub = target.subresource
    warnings: list[tuple[str, str]] = []

    def run() -> Obj:
        seconds = app.presenter.offset()
        live = app.cluster.api.get(kind, target.namespace or "", target.name or "")
        patched = apply_patch(thaw(app.presenter.object(kind, live, seconds)), body)
        obj = app.presenter.incoming(kind, patched, seconds)
        _check_identity(obj, kind, target)
        if obj == live:
            return live  # nothing changed: no write, no new resourceVersion
        warnings.extend(warnings_for(obj, kind, mode))
        with managed.updating(kind, manager, subresource=sub):
            return app.cluster.api.update(obj, target.namespace, subresource=sub, field_validation=mode,
                                          dry_run=dry)

    stored = locked(app, run)
    return json_response(app.presenter.object(kind, stored, app.presenter.offset()), 200, warnings)


def _check_identity(obj: Any, kind: Kind, target: Target) -> None:
    if not isinstance(obj, dict):
        raise ApiError("BadRequest", "the patched object is not a JSON object")
    meta = obj.get("metadata") or {}
    if meta.get("name") != target.name:
        raise ApiError("BadRequest", f"the name of the object ({meta.get('name')}) does not match the name on the "
                                     f"URL ({target.name})")
    if kind.namespaced and meta.get("namespace") not in (None, target.namespace):
        raise ApiError("BadRequest", "the namespace of the provided object does not match the namespace sent on "
                                     "the request")
    if obj.get("apiVersion") != kind.api_version or obj.get("kind") != kind.kind:
        raise ApiError("BadRequest", f"the API version in the data ({obj.get('apiVersion')}) does not match the "
                                     f"expected API version ({kind.api_version})")


def server_side_apply(app: ApiApp, req: Request, target: Target) -> Response:
    kind = target.kind
    config = req.json()
    if not isinstance(config, dict):
        raise ApiError("BadRequest", "error decoding YAML: the apply configuration must be an object")
    manager = req.param("fieldManager")
    if not manager:
        raise ApiError("BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                                     "is required for apply patch")
    if not config.get("apiVersion") or not config.get("kind"):
        raise ApiError("BadRequest", "apiVersion and kind must be set in an apply configuration")
    mode, dry, force = field_validation(req), dry_run(req), req.flag("force")
    created = False

    def run() -> Obj:
        nonlocal created
        api = app.cluster.api
        seconds = app.presenter.offset()
        cfg = app.presenter.incoming(kind, config, seconds)
        meta = cfg.setdefault("metadata", {})
        meta.setdefault("name", target.name)
        if kind.namespaced:
            meta.setdefault("namespace", target.namespace)
        _check_identity(cfg, kind, target)
        now = rfc3339(app.cluster.clock.now())
        live = api.store.get((kind.group, kind.plural), target.namespace or "", target.name or "")
        if live is None:
            created = True
            _, entries = managed.apply(kind, None, cfg, thaw(cfg), manager, force, now)
            with managed.stamping(kind, entries):
                return api.create(cfg, target.namespace, field_validation=mode, dry_run=dry)
        current = thaw(live)
        merged = engines.strategic_merge_patch(current, cfg, kind)
        if "resourceVersion" not in meta:
            merged["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        merged, entries = managed.apply(kind, current, cfg, merged, manager, force, now)
        old_entries = current["metadata"].get("managedFields") or []
        if managed.same_owners(entries, old_entries):
            entries = old_entries  # same ownership: keep the old times
        merged["metadata"]["managedFields"] = entries
        if merged == current:
            return live
        with managed.stamping(kind, entries):
            return api.update(merged, target.namespace, field_validation=mode, dry_run=dry)

    stored = locked(app, run)
    return json_response(app.presenter.object(kind, stored, app.presenter.offset()), 201 if created else 200)
