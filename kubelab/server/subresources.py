"""Subresources: status, scale, binding, eviction, and the hooks for log and exec.

- `status` (GET/PUT/PATCH): the object, written with `ApiServer.update(..., subresource="status")`.
- `scale` (GET/PUT/PATCH) of deployments, replicasets, statefulsets and replicationcontrollers:
  an autoscaling/v1 Scale whose `spec.replicas` is the parent's and `status.selector` its
  selector as text; writing it sets the parent's `spec.replicas`.
- `binding` (POST a Binding): `ApiServer.bind`, as the scheduler does.
- `eviction` (POST a policy/v1 Eviction): a graceful delete with the Eviction's DeleteOptions.
- `log`: `cluster.logs(namespace, name, container=…, tail_lines=…, previous=…, timestamps=…,
  since_seconds=…, limit_bytes=…)`, or with `follow` `cluster.log_stream` streamed line by line;
  on a stepped clock the follower moves time (watching.Stepper with background timers, paced),
  so a looping container keeps writing until the client's timeout or its leaving.
- `exec`/`attach`: WebSocket sessions (server.remotecommand); `portforward`: SPDY tunnelled in a
  WebSocket (server.portforward).

Read by: server.app. Reads: server.resources, server.patching, server.managed, server.remotecommand,
server.portforward, server.watching, api.selectors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kubelab.api import selectors
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.server import managed, patching, portforward, remotecommand, resources, watching
from kubelab.server.messages import Request, Response, Stream, Upgrade, json_response, success_status
from kubelab.server.routes import Target
from kubelab.store.memory import Obj, thaw

if TYPE_CHECKING:
    from kubelab.server.app import ApiApp

SCALE_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"}
TEXT = "text/plain"


def _not_allowed() -> ApiError:
    return ApiError("MethodNotAllowed", "the server does not allow this method on the requested resource")


def serve(app: ApiApp, req: Request, target: Target) -> Response | Stream | Upgrade:
    sub, method = target.subresource, req.method
    if sub == "status":
        if method == "GET":
            return resources.get(app, req, target)
        if method == "PUT":
            return resources.update(app, req, target)
        if method == "PATCH":
            if req.content_type == patching.APPLY_PATCH:
                raise ApiError("BadRequest", "server-side apply of the status subresource is not supported by "
                                             "kubelab; use a merge or strategic merge patch")
            return patching.patch(app, req, target)
    elif sub == "scale" and target.kind.kind in SCALE_KINDS:
        if method == "GET":
            parent = resources.locked(app, lambda: _parent(app, target))
            return json_response(_scale(app, target.kind, parent))
        if method in ("PUT", "PATCH"):
            return _write_scale(app, req, target)
    elif sub == "binding" and method == "POST":
        return _bind(app, req, target)
    elif sub == "eviction" and method == "POST":
        return _evict(app, req, target)
    elif sub == "log" and method == "GET":
        return _log(app, req, target)
    elif sub in ("exec", "attach") and method in ("GET", "POST"):
        return remotecommand.serve(app, req, target)
    elif sub == "portforward" and method in ("GET", "POST"):
        return portforward.serve(app, req, target)
    raise _not_allowed()


def _parent(app: ApiApp, target: Target) -> Obj:
    return app.cluster.api.get(target.kind, target.namespace or "", target.name or "")


# -------------------------------------------------------------------- scale
def _selector_text(kind: Kind, obj: Obj) -> str:
    spec = obj.get("spec") or {}
    if kind.kind == "ReplicationController":
        return str(selectors.LabelSelector.from_set(spec.get("selector") or {}))
    return str(selectors.LabelSelector.from_spec(spec.get("selector")))


def _scale(app: ApiApp, kind: Kind, obj: Obj) -> dict[str, Any]:
    meta = obj["metadata"]
    seconds = app.presenter.offset()
    shown = app.presenter.partial(obj, seconds)["metadata"]
    scale_meta = {k: shown[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                  if k in meta}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": scale_meta,
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": _selector_text(kind, obj)}}


def _write_scale(app: ApiApp, req: Request, target: Target) -> Response:
    kind = target.kind
    body = req.json()
    manager = resources.field_manager(req)
    dry = resources.dry_run(req)

    def run() -> Obj:
        parent = _parent(app, target)
        current = _scale(app, kind, parent)
        if req.method == "PUT":
            wanted = body
        elif req.content_type == patching.JSON_PATCH:
            wanted = patching.engines.json_patch(current, body)
        elif req.content_type in (patching.MERGE_PATCH, patching.STRATEGIC_PATCH):
            wanted = patching.engines.merge_patch(current, body)  # a Scale has no lists: both are merges
        else:
            raise ApiError("UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                                                   "media types include: " + ", ".join(patching.PATCH_TYPES[:2]))
        if not isinstance(wanted, dict):
            raise ApiError("BadRequest", "the body of the request must be a Scale object")
        replicas = (wanted.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise ApiError("Invalid", f'Scale.autoscaling "{target.name}" is invalid: spec.replicas: Invalid value: '
                           f'{replicas}: must be greater than or equal to 0',
                           details={"name": target.name, "group": "autoscaling", "kind": "Scale"})
        rv = (wanted.get("metadata") or {}).get("resourceVersion") or None
        updated = thaw(parent)
        updated["spec"]["replicas"] = replicas
        updated["metadata"]["resourceVersion"] = rv or parent["metadata"]["resourceVersion"]
        if updated == parent:
            return parent
        with managed.updating(kind, manager, subresource="scale"):
            return app.cluster.api.update(updated, target.namespace, dry_run=dry)

    stored = resources.locked(app, run)
    return json_response(_scale(app, kind, stored))


# ------------------------------------------------------------ binding, eviction
def _bind(app: ApiApp, req: Request, target: Target) -> Response:
    body = req.json()
    node = ((body or {}).get("target") or {}).get("name") if isinstance(body, dict) else None
    if not node:
        raise ApiError("Invalid", f'Binding "{target.name}" is invalid: target.name: Required value',
                       details={"name": target.name, "kind": "Binding"})
    resources.locked(app, lambda: app.cluster.api.bind(target.namespace or "", target.name or "", node))
    return json_response({**success_status({}), "code": 201}, 201)


def _evict(app: ApiApp, req: Request, target: Target) -> Response:
    body = req.json()
    options = (body or {}).get("deleteOptions") or {} if isinstance(body, dict) else {}
    resources.locked(app, lambda: resources.delete_one(app, target.kind, target.namespace or "",
                                                       target.name or "", dict(options)))
    return json_response({**success_status({}), "code": 201}, 201)


# ---------------------------------------------------------------------- logs
def _log(app: ApiApp, req: Request, target: Target) -> Response | Stream:
    cluster = app.cluster
    pod = resources.locked(app, lambda: _parent(app, target))
    logs = getattr(cluster, "logs", None)
    if logs is None:
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        container = req.param("container") or (containers[0] if containers else "")
        raise ApiError("BadRequest", f'container "{container}" in pod "{target.name}" is waiting to start: '
                                     "this kubelab cluster has no kubelet to run it yet")
    follow = req.flag("follow")
    options: dict[str, Any] = {
        "container": req.param("container"), "namespace": target.namespace, "previous": req.flag("previous"),
        "tail_lines": req.int_param("tailLines"), "since_seconds": req.int_param("sinceSeconds"),
        "timestamps": req.flag("timestamps")}
    if not follow:
        text = logs(target.name, **options, limit_bytes=req.int_param("limitBytes"))
        return Response(200, text.encode(), TEXT)
    stepper = watching.Stepper(cluster, follow=True) if cluster.clock.mode == "stepped" else None
    stream = cluster.log_stream(target.name or "", **options, advance=stepper)
    stopped = threading.Event()

    def chunks() -> Iterator[bytes | None]:
        try:
            while not stopped.is_set():
                if stepper is not None:
                    stepper.new_round()
                line = stream.next(timeout=0.5)
                if line is None:
                    if stream.done:
                        return
                    yield None  # nothing yet: lets the transport notice a closed client
                    continue
                yield line.encode()
        finally:
            stream.stop()

    return Stream(chunks(), cancel=stopped.set, content_type=TEXT)
