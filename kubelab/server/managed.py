"""managedFields: who set which field, and server-side apply's conflicts.

Field sets are tuples of the path elements `metadata.managedFields[].fieldsV1` is written in
(`f:spec`, `k:{"name":"web"}` for an item of a list-map, `v:"x"` for a set member), walked with
the schema's `x-kubernetes-list-type`/`-list-map-keys`/`-map-type`. An Update (create, PUT,
any non-apply PATCH) gives its manager the fields it changed and takes them from every other
manager; an Apply (`application/apply-patch+yaml`) owns exactly the fields of its config, and
a field it would change that another manager owns is a 409 Conflict with apiserver's
`Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1:
.spec.replicas` unless `force=true`; fields it stops applying (and nobody else owns) are removed.

The ApiServer stamps metadata it owns (and drops managedFields on create), so the write
context travels in a thread-local that a create/update hook reads: the cluster lock is held
across the whole call, and internal writes (controllers) carry no context.

Read by: server.resources, server.patching, server.subresources. Reads: api.schemas, api.kinds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelab.api import kinds, schemas
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Path = tuple[str, ...]
MEMBER = object()  # a set member that is a container (map, list item), not a leaf value
# Fields the field manager never tracks (fieldmanager's stripMeta).
_STRIPPED_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "selfLink",
                  "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"}
_local = threading.local()


@dataclass
class _Write:
    kind: str  # only objects of this kind are stamped (a hook may create others along the way)
    manager: str
    subresource: str | None
    entries: list[dict[str, Any]] | None  # precomputed by apply(); None: compute an Update


@contextmanager
def _context(write: _Write) -> Iterator[None]:
    previous = getattr(_local, "write", None)
    _local.write = write
    try:
        yield
    finally:
        _local.write = previous


def updating(kind: Kind, manager: str, subresource: str | None = None) -> Any:
    """Within this block, a create/update of a `kind` object through the ApiServer records an Update
    by `manager`."""
    return _context(_Write(kind.kind, manager, subresource, None))


def stamping(kind: Kind, entries: list[dict[str, Any]]) -> Any:
    """Within this block, a create/update of a `kind` object gets exactly these managedFields (an Apply's)."""
    return _context(_Write(kind.kind, "", None, entries))


def install(cluster: Cluster) -> None:
    """Register the managedFields hook on the cluster's ApiServer (once per cluster)."""
    api = cluster.api
    if getattr(api, "_kubelab_managed_fields", False):
        return
    api._kubelab_managed_fields = True  # type: ignore[attr-defined]
    hook = _hook(cluster.clock)
    for name in {k.kind for k in kinds.all_kinds()}:
        api.on_create.setdefault(name, []).append(hook)
        api.on_update.setdefault(name, []).append(hook)


def _hook(clock: Any) -> Any:
    from kubelab.cluster.clock import rfc3339

    def stamp(obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        write: _Write | None = getattr(_local, "write", None)
        if write is None or obj.get("kind") != write.kind:
            return
        meta = obj.setdefault("metadata", {})
        if write.entries is not None:
            meta["managedFields"] = write.entries
            return
        old_entries = list((old or {}).get("metadata", {}).get("managedFields") or [])
        given = meta.get("managedFields") or []
        if old is not None and not same_owners(given, old_entries):
            if not given:
                meta.pop("managedFields", None)
            return  # the client rewrote managedFields itself (kubectl's client-side → server-side upgrade)
        kind = kinds.for_object(obj.get("apiVersion", ""), obj.get("kind", ""))
        entries = update_entries(kind, old, obj, write.manager, write.subresource, rfc3339(clock.now()))
        if entries:
            meta["managedFields"] = entries
        else:
            meta.pop("managedFields", None)

    return stamp


def same_owners(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Whether two managedFields lists say the same, apart from when (times move with the clock shift)."""
    def strip(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "time"} for e in entries if isinstance(e, dict)]

    return strip(a) == strip(b)


# ------------------------------------------------------------------ field sets
def field_set(obj: dict[str, Any] | None, kind: Kind, subresource: str | None = None) -> dict[Path, Any]:
    """Every tracked path of `obj` → its value (MEMBER for maps and list items that hold more)."""
    out: dict[Path, Any] = {}
    if not obj:
        return out
    try:
        root = schemas.schema_for(kind)
    except KeyError:
        root = {}
    has_status = "status" in kind.subresources
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if has_status and (key == "status") != (subresource == "status"):
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _STRIPPED_META}
            if not value:
                continue
        _walk(value, (root.get("properties") or {}).get(key) or {}, ("f:" + key,), out)
    return out


def _walk(value: Any, schema: dict[str, Any], path: Path, out: dict[Path, Any]) -> None:
    if "$ref" in schema:
        schema = schemas.resolve(schema)
    if isinstance(value, dict):
        props, extra = schema.get("properties"), schema.get("additionalProperties")
        if schema.get("x-kubernetes-map-type") == "atomic" or (props is None and not isinstance(extra, dict)) \
                or not value:
            out[path] = value
            return
        if props is None:
            out[path] = MEMBER  # a granular map (labels, data) is itself a member
        for key, item in value.items():
            _walk(item, (props or {}).get(key) or (extra if isinstance(extra, dict) else {}), path + ("f:" + key,), out)
    elif isinstance(value, list) and schema.get("x-kubernetes-list-type") in ("map", "set"):
        items = schema.get("items") or {}
        if schema["x-kubernetes-list-type"] == "set":
            for item in value:
                out[path + ("v:" + _json(item),)] = item
            return
        keys = schema.get("x-kubernetes-list-map-keys") or []
        for item in value:
            if not isinstance(item, dict):
                out[path] = value
                return
            element = path + ("k:" + _json({k: item[k] for k in sorted(keys) if k in item}),)
            _walk(item, items, element, out)
            out[element] = MEMBER
    else:
        out[path] = value


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    trie: dict[str, Any] = {}
    for path in sorted(paths):
        node = trie
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:  # a member that also has children says so with "."
        node = trie
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return trie


def from_fields_v1(trie: dict[str, Any], prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for key, child in (trie or {}).items():
        if key == ".":
            paths.add(prefix)
        elif not child:
            paths.add(prefix + (key,))
        else:
            paths |= from_fields_v1(child, prefix + (key,))
    return paths


def path_text(path: Path) -> str:
    """`.spec.template.spec.containers[name="web"].image`, as fieldpath.Path prints."""
    out = []
    for element in path:
        tag, _, rest = element.partition(":")
        if tag == "f":
            out.append("." + rest)
        elif tag == "k":
            fields = json.loads(rest)
            out.append("[" + ",".join(f"{k}={_json(v)}" for k, v in fields.items()) + "]")
        else:
            out.append(f"[={rest}]")
    return "".join(out)


# ------------------------------------------------------------------- entries
def _entry(manager: str, operation: str, kind: Kind, now: str, paths: set[Path], sub: str | None) -> dict[str, Any]:
    entry = {"manager": manager, "operation": operation, "apiVersion": kind.api_version, "time": now,
             "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(paths)}
    if sub:
        entry["subresource"] = sub
    return entry


def _decoded(entries: list[dict[str, Any]]) -> list[tuple[dict[str, Any], set[Path]]]:
    # Copies: the entries come from stored objects, which are never mutated.
    return [(dict(e), from_fields_v1(e.get("fieldsV1") or {})) for e in entries if isinstance(e, dict)]


def _encode(decoded: list[tuple[dict[str, Any], set[Path]]]) -> list[dict[str, Any]]:
    out = []
    for entry, paths in decoded:
        if paths:
            out.append({**entry, "fieldsV1": to_fields_v1(paths)})
    return out


def update_entries(kind: Kind, old: dict[str, Any] | None, new: dict[str, Any], manager: str,
                   subresource: str | None, now: str) -> list[dict[str, Any]]:
    """managedFields after `manager` changed `old` into `new` with an Update."""
    scope = "status" if subresource == "status" else None
    before, after = field_set(old, kind, scope), field_set(new, kind, scope)
    changed = {p for p, v in after.items() if p not in before or (v is not MEMBER and before[p] != v)}
    removed = set(before) - set(after)
    decoded = _decoded(list((old or {}).get("metadata", {}).get("managedFields") or []))
    mine = None
    for entry, paths in decoded:
        paths -= removed
        if (entry.get("manager"), entry.get("operation"), entry.get("subresource")) == (manager, "Update", subresource):
            mine = (entry, paths)
        else:
            paths -= changed
    if changed:
        if mine is None:
            decoded.append((_entry(manager, "Update", kind, now, set(), subresource), set(changed)))
        else:
            mine[1].update(changed)
            mine[0]["time"] = now
    return _encode(decoded)


def apply(kind: Kind, live: dict[str, Any] | None, config: dict[str, Any], merged: dict[str, Any], manager: str,
          force: bool, now: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Server-side apply bookkeeping: check conflicts, drop fields no longer applied, own the config.
    `merged` is `config` merged into `live`; returns it (pruned) and the new managedFields."""
    applied = field_set(config, kind)
    current = field_set(live, kind)
    decoded = _decoded(list((live or {}).get("metadata", {}).get("managedFields") or []))
    conflicts: list[tuple[dict[str, Any], Path]] = []
    previous: set[Path] = set()
    for entry, paths in decoded:
        if (entry.get("manager"), entry.get("operation")) == (manager, "Apply"):
            previous = paths
            continue
        for p in sorted(paths & set(applied)):
            value = applied[p]
            if value is not MEMBER and p in current and current[p] != value:
                conflicts.append((entry, p))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry, p in conflicts:
        for other, paths in decoded:
            if other is entry:
                paths.discard(p)
    others = set().union(*(paths for entry, paths in decoded
                           if (entry.get("manager"), entry.get("operation")) != (manager, "Apply")))
    for p in sorted(previous - set(applied) - others, key=len, reverse=True):
        if not any(q[:len(p)] == p for q in applied):
            _remove(merged, p)
    decoded = [(e, ps) for e, ps in decoded if (e.get("manager"), e.get("operation")) != (manager, "Apply")]
    decoded.append((_entry(manager, "Apply", kind, now, set(), None), set(applied)))
    return merged, _encode(decoded)


def _manager_text(entry: dict[str, Any]) -> str:
    text = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f' with subresource {json.dumps(entry["subresource"])}'
    if entry.get("operation") == "Update":
        text += f' using {entry.get("apiVersion", "")}'
    return text


def _conflict_error(conflicts: list[tuple[dict[str, Any], Path]]) -> ApiError:
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {_manager_text(e)}",
               "field": path_text(p)} for e, p in conflicts]
    if len(conflicts) == 1:
        entry, p = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {_manager_text(entry)}: {path_text(p)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, p in conflicts:
            by_manager.setdefault(_manager_text(entry), []).append(path_text(p))
        lines = []
        for name in sorted(by_manager):
            lines.append(f"conflicts with {name}:")
            lines.extend(f"- {p}" for p in by_manager[name])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError("Conflict", message, details={"causes": causes})


def _remove(obj: Any, path: Path) -> None:
    """Delete the field or list item at `path` (if it is there)."""
    node = obj
    for i, element in enumerate(path):
        last = i == len(path) - 1
        tag, _, rest = element.partition(":")
        if tag == "f" and isinstance(node, dict) and rest in node:
            if last:
                del node[rest]
                return
            node = node[rest]
        elif tag in ("k", "v") and isinstance(node, list):
            want = json.loads(rest)
            index = next((j for j, item in enumerate(node) if (
                isinstance(item, dict) and all(item.get(k) == v for k, v in want.items()) if tag == "k"
                else item == want)), None)
            if index is None:
                return
            if last:
                del node[index]
                return
            node = node[index]
        else:
            return
