"""The resource verbs: get, list, create, update (PUT), delete and deletecollection.

Each verb reads its options as kube-apiserver does — `dryRun=All`, `fieldValidation`
(Strict/Warn/Ignore; Warn, the server default, answers with `Warning:` headers),
`fieldManager`, `propagationPolicy`/`gracePeriodSeconds`/preconditions from the query or a
DeleteOptions body, `labelSelector`/`fieldSelector`, `limit`/`continue` paging (later pages come from
the first page's list, kept by revision, as etcd serves them at the token's revision) — then calls the
cluster's ApiServer under the cluster lock, pumping the controllers before and after so a
write's immediate consequences are visible to the next request. On a stepped clock, `kubectl drain`'s
polling GETs of a terminating pod move time until it is gone (a watch would do so too).

Read by: server.app. Reads: cluster.apiserver (through the Cluster), server.present,
server.managed, server.protobuf, api.decoding.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kubelab.api import decoding
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.cluster import componentstatus
from kubelab.server import managed
from kubelab.server.messages import Request, Response, json_response, success_status, warning_header
from kubelab.server.present import wants_table
from kubelab.server.routes import Target
from kubelab.store.memory import Obj

if TYPE_CHECKING:
    from kubelab.server.app import ApiApp

T = TypeVar("T")
FIELD_VALIDATION = ("Strict", "Warn", "Ignore")
PROTOBUF = "application/vnd.kubernetes.protobuf"


# ------------------------------------------------------------------ options
def dry_run(req: Request) -> bool:
    values = req.query.get("dryRun") or []
    for value in values:
        if value != "All":
            raise ApiError("BadRequest", f'Invalid dry run value: "{value}"; supported values: "All"')
    return bool(values)


def field_validation(req: Request) -> str:
    value = req.param("fieldValidation") or "Warn"
    for known in FIELD_VALIDATION:
        if value.lower() == known.lower():
            return known
    raise ApiError("BadRequest", f'fieldValidation: Unsupported value: "{value}": supported values: '
                                 '"Ignore", "Strict", "Warn"')


def field_manager(req: Request) -> str:
    """The request's fieldManager, or (like apiserver) its User-Agent up to the first `/`."""
    manager = req.param("fieldManager")
    if manager:
        if len(manager) > 128:
            raise ApiError("BadRequest", "fieldManager: Too long: may not be more than 128 bytes")
        return manager
    return (req.user_agent.split("/", 1)[0] or "unknown")[:128]


def locked(app: ApiApp, fn: Callable[[], T]) -> T:
    """Run `fn` as one API call: under the cluster lock, with due work pumped before and after."""
    cluster = app.cluster
    with cluster.lock:
        cluster.pump()
        result = fn()
        cluster.pump()
        return result


def decode_body(req: Request, kind: Kind) -> dict[str, Any]:
    """The request body as an object of `kind` (JSON, YAML or protobuf); apiVersion/kind default to the URL's."""
    if req.content_type == PROTOBUF:
        from kubelab.server import protobuf

        obj = protobuf.decode(req.body)
    elif req.content_type in ("", "application/json", "application/yaml", "*/*"):
        obj = req.json()
    else:
        raise ApiError("UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media '
                       f'types include: application/json, application/yaml, {PROTOBUF}')
    if not isinstance(obj, dict):
        raise ApiError("BadRequest", f"the body of the request must be a {kind.kind} object")
    obj.setdefault("apiVersion", kind.api_version)
    obj.setdefault("kind", kind.kind)
    if obj["apiVersion"] != kind.api_version:
        raise ApiError("BadRequest", f'the API version in the data ({obj["apiVersion"]}) does not match the expected '
                                     f'API version ({kind.api_version})')
    if obj["kind"] != kind.kind:
        raise ApiError("BadRequest", f'the kind in the data ({obj["kind"]}) does not match the expected kind '
                                     f'({kind.kind})')
    return obj


def warnings_for(obj: dict[str, Any], kind: Kind, mode: str) -> list[tuple[str, str]]:
    """`Warning:` headers for the unknown fields fieldValidation=Warn drops."""
    if mode != "Warn":
        return []
    try:
        _, texts = decoding.decode(obj, kind, "Warn")
    except ApiError:
        return []  # the write itself reports the error
    return [warning_header(t) for t in texts]


# -------------------------------------------------------------------- reads
def get(app: ApiApp, req: Request, target: Target) -> Response:
    kind, name = target.kind, target.name or ""
    if app.cluster.clock.mode == "stepped" and req.headers.get("Kubectl-Command") == "kubectl drain":
        _until_deleted(app, target)
    obj = locked(app, lambda: app.cluster.api.get(kind, target.namespace or "", name)) if not _virtual(kind) else \
        _component_status(app, name)
    seconds = app.presenter.offset()
    warnings = [warning_header(kind.deprecation)] if kind.deprecation else []
    if wants_table(req.accept):
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        return json_response(app.presenter.table(kind, [obj], seconds, req.param("includeObject"), meta), 200,
                             warnings)
    return json_response(app.presenter.object(kind, obj, seconds), 200, warnings)


def _until_deleted(app: ApiApp, target: Target, max_steps: int = 10_000) -> None:
    """`kubectl drain` waits for evicted pods by polling GETs, not by a watch: on a stepped clock,
    a GET of a terminating object from it moves time (as a waiting watch would) until it is gone."""
    cluster = app.cluster
    for _ in range(max_steps):
        try:
            obj = locked(app, lambda: cluster.api.get(target.kind, target.namespace or "", target.name or ""))
        except ApiError:
            return
        if not obj["metadata"].get("deletionTimestamp") or not cluster.step_watch():
            return


def _encode_continue(rv: int, key: tuple[str, str]) -> str:
    text = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["rv"]), (str(data["start"][0]), str(data["start"][1]))
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error):
        raise ApiError("BadRequest", f"continue key is not valid: {token}") from None


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


class _Snapshots:
    """The full lists behind paged answers, by (kind, namespace, selectors, revision): a few, newest kept.

    The store's objects are immutable, so a list taken at a revision stays that revision's list; the pages
    after the first are cut from it instead of listing (and filtering, sorting) every object again.
    """

    SIZE = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists: OrderedDict[tuple[Any, ...], list[Obj]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> list[Obj] | None:
        with self._lock:
            items = self._lists.get(key)
            if items is not None:
                self._lists.move_to_end(key)
            return items

    def put(self, key: tuple[Any, ...], items: list[Obj]) -> None:
        with self._lock:
            self._lists[key] = items
            self._lists.move_to_end(key)
            while len(self._lists) > self.SIZE:
                self._lists.popitem(last=False)

    def drop(self, key: tuple[Any, ...]) -> None:
        with self._lock:
            self._lists.pop(key, None)


_snapshots: weakref.WeakKeyDictionary[Any, _Snapshots] = weakref.WeakKeyDictionary()
_snapshots_lock = threading.Lock()


def _snapshots_of(app: ApiApp) -> _Snapshots:
    with _snapshots_lock:
        found = _snapshots.get(app)
        if found is None:
            found = _snapshots[app] = _Snapshots()
        return found


def page(app: ApiApp, req: Request, target: Target) -> tuple[list[Obj], dict[str, Any]]:
    """The objects a list request names (one page of them) and the list's metadata."""
    kind = target.kind
    labels, fields = req.param("labelSelector"), req.param("fieldSelector")
    limit = req.int_param("limit") or 0
    token = req.param("continue")
    snapshots = _snapshots_of(app)

    def snapshot_key(revision: int) -> tuple[Any, ...]:
        return kind.group, kind.plural, target.namespace, labels, fields, revision

    def listed() -> tuple[list[Obj], int]:
        return locked(app, lambda: app.cluster.api.list(kind, target.namespace, labels, fields))

    start = 0
    if token:
        revision, after = _decode_continue(token)
        # A list no longer kept (evicted, or another server's token) is listed again, as it is now.
        items = snapshots.get(snapshot_key(revision)) or listed()[0]
        # Lists are in (namespace, name) order: the page starts right after the token's key.
        start = bisect.bisect_right(items, after, key=_key)
    else:
        items, revision = listed()
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if 0 < limit < len(items) - start:
        rest = len(items) - start - limit
        chosen = items[start:start + limit]
        meta["continue"] = _encode_continue(revision, _key(chosen[-1]))
        if not labels and not fields:
            meta["remainingItemCount"] = rest
        if not token:
            snapshots.put(snapshot_key(revision), items)
        return chosen, meta
    if token:
        snapshots.drop(snapshot_key(revision))  # the last page: nobody continues this list any more
    return items[start:], meta


def _virtual(kind: Kind) -> bool:
    """ComponentStatus is computed when asked, as kube-apiserver probes the components: never stored."""
    return kind.plural == "componentstatuses" and not kind.group


def _component_status(app: ApiApp, name: str) -> Obj:
    with app.cluster.lock:
        found = [o for o in componentstatus.current(app.cluster.store) if o["metadata"]["name"] == name]
    if not found:
        raise ApiError("NotFound", f'componentstatuses "{name}" not found',
                       details={"name": name, "kind": "componentstatuses"})
    return found[0]


def list_(app: ApiApp, req: Request, target: Target) -> Response:
    if _virtual(target.kind):
        with app.cluster.lock:
            items, meta = componentstatus.current(app.cluster.store), {"resourceVersion": ""}
    else:
        items, meta = page(app, req, target)
    seconds = app.presenter.offset()
    warnings = [warning_header(target.kind.deprecation)] if target.kind.deprecation else []
    if wants_table(req.accept):
        return json_response(app.presenter.table(target.kind, items, seconds, req.param("includeObject"), meta),
                             200, warnings)
    return json_response(app.presenter.listing(target.kind, items, seconds, meta), 200, warnings)


# ------------------------------------------------------------------- writes
def create(app: ApiApp, req: Request, target: Target) -> Response:
    kind = target.kind
    seconds = app.presenter.offset()
    obj = app.presenter.incoming(kind, decode_body(req, kind), seconds)
    mode, dry = field_validation(req), dry_run(req)
    warnings = warnings_for(obj, kind, mode)

    def write() -> Obj:
        with managed.updating(kind, field_manager(req)):
            return app.cluster.api.create(obj, target.namespace, field_validation=mode, dry_run=dry)

    stored = locked(app, write)
    return json_response(app.presenter.object(kind, stored, seconds), 201, warnings)


def update(app: ApiApp, req: Request, target: Target) -> Response:
    kind = target.kind
    seconds = app.presenter.offset()
    obj = app.presenter.incoming(kind, decode_body(req, kind), seconds)
    body_name = (obj.get("metadata") or {}).get("name")
    if body_name != target.name:
        raise ApiError("BadRequest", f"the name of the object ({body_name}) does not match the name on the URL "
                                     f"({target.name})")
    mode, dry = field_validation(req), dry_run(req)
    warnings = warnings_for(obj, kind, mode)
    sub = target.subresource

    def write() -> Obj:
        with managed.updating(kind, field_manager(req), subresource=sub):
            return app.cluster.api.update(obj, target.namespace, subresource=sub, field_validation=mode,
                                          dry_run=dry)

    stored = locked(app, write)
    return json_response(app.presenter.object(kind, stored, seconds), 200, warnings)


def delete_options(req: Request) -> dict[str, Any]:
    """DeleteOptions from the body (kubectl sends one) overlaid with the query's parameters."""
    options: dict[str, Any] = {}
    if req.body.strip():
        body = req.json()
        if isinstance(body, dict):
            options.update(body)
    if req.param("propagationPolicy"):
        options["propagationPolicy"] = req.param("propagationPolicy")
    if req.param("gracePeriodSeconds") is not None:
        options["gracePeriodSeconds"] = req.int_param("gracePeriodSeconds")
    if req.param("orphanDependents") is not None:
        options["orphanDependents"] = req.flag("orphanDependents")
    if req.query.get("dryRun"):
        options["dryRun"] = req.query["dryRun"]
    if options.get("orphanDependents") is not None and "propagationPolicy" not in options:
        options["propagationPolicy"] = "Orphan" if options["orphanDependents"] else "Background"
    return options


def delete_one(app: ApiApp, kind: Kind, namespace: str, name: str, options: dict[str, Any]) -> tuple[Obj, bool]:
    """Delete (or start deleting) one object; returns its last state and whether it is gone."""
    for value in options.get("dryRun") or ():
        if value != "All":
            raise ApiError("BadRequest", f'Invalid dry run value: "{value}"; supported values: "All"')
    pre = options.get("preconditions") or {}
    api = app.cluster.api
    live = api.get(kind, namespace, name)
    uid = live["metadata"].get("uid")
    if pre.get("uid") and pre["uid"] != uid:
        raise ApiError("Conflict", f'Operation cannot be fulfilled on {kind.resource} "{name}": Precondition failed: '
                       f'UID in precondition: {pre["uid"]}, UID in object meta: {uid}',
                       details={"name": name, "kind": kind.plural, **({"group": kind.group} if kind.group else {})})
    grace = options.get("gracePeriodSeconds")
    obj = api.delete(kind, namespace, name, propagation=options.get("propagationPolicy"),
                     grace_period=int(grace) if grace is not None else None,
                     expect_rv=pre.get("resourceVersion") or None, dry_run=bool(options.get("dryRun")))
    gone = api.store.get((kind.group, kind.plural), namespace if kind.namespaced else "", name) is None
    return obj, gone


def delete(app: ApiApp, req: Request, target: Target) -> Response:
    kind = target.kind
    assert target.name is not None
    options = delete_options(req)
    obj, gone = locked(app, lambda: delete_one(app, kind, target.namespace or "", target.name or "", options))
    seconds = app.presenter.offset()
    if gone and kind.kind != "Pod":  # registries return a Status unless they ask for the object (pods do)
        details = {"name": target.name, "kind": kind.plural, "uid": obj["metadata"].get("uid")}
        if kind.group:
            details["group"] = kind.group
        return json_response(success_status(details))
    return json_response(app.presenter.object(kind, obj, seconds))


def delete_collection(app: ApiApp, req: Request, target: Target) -> Response:
    kind = target.kind
    options = delete_options(req)
    labels, fields = req.param("labelSelector"), req.param("fieldSelector")

    def run() -> tuple[list[Obj], int]:
        items, revision = app.cluster.api.list(kind, target.namespace, labels, fields)
        deleted = []
        for o in list(items):
            meta = o["metadata"]
            try:
                deleted.append(delete_one(app, kind, meta.get("namespace", ""), meta["name"], options)[0])
            except ApiError as err:
                if err.reason != "NotFound":
                    raise
        return deleted, revision

    deleted, revision = locked(app, run)
    return json_response(app.presenter.listing(kind, deleted, app.presenter.offset(),
                                            {"resourceVersion": str(revision)}))
