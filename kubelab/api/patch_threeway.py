"""The three-way strategic merge patch that `kubectl apply` (client-side) computes.

original is the last-applied-configuration, modified the new manifest, current the live
object. The patch carries the changes from current to modified (never deleting what the
manifest does not mention: status, allocated clusterIP, labels added by `kubectl label`),
plus deletions of what was in original and is no longer in modified; merged lists get a
`$setElementOrder/<list>`, fields with the retainKeys strategy a `$retainKeys`. Mirrors
apimachinery's CreateThreeWayMergePatch with overwrite (kubectl's default).

Read by: api.patch (the facade). Reads: api.patch_strategic, api.patch_meta, api.patch_json.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubelab.api.jsoncopy import copy_json
from kubelab.api.kinds import Kind
from kubelab.api.patch_json import json_equal
from kubelab.api.patch_meta import (
    DELETE_FROM_LIST,
    DIRECTIVE,
    RETAIN_KEYS,
    SET_ORDER,
    Node,
    field_meta,
    go_value,
    no_merge_key,
    root,
    server_error,
)
from kubelab.api.patch_strategic import element_kind, merge_key_equal, merge_map, sort_by


@dataclass(frozen=True)
class _Diff:
    ignore_changes: bool = False  # keep only deletions
    ignore_deletions: bool = False  # keep only changes and additions
    retain_keys: bool = False  # this map's field has the retainKeys strategy


def create_three_way_patch(original: dict | None, modified: dict, current: dict, kind: Kind) -> dict:
    """The patch `kubectl apply` sends; {} when the live object already matches the manifest.

    Like kubectl, the caller puts the new last-applied-configuration annotation into
    `modified` itself, so that the patch also records it."""
    node = root(kind)
    original, modified, current = (copy_json(d or {}) for d in (original, modified, current))
    delta = diff_maps(current, modified, node, _Diff(ignore_deletions=True))
    deletions = diff_maps(original, modified, node, _Diff(ignore_changes=True))
    return merge_map(deletions, delta, node, applying=False)


def diff_maps(original: dict, modified: dict, node: Node | None, how: _Diff) -> dict:
    """A patch that turns `original` into `modified` (within what `how` keeps)."""
    patch: dict = {}
    retained = [k for k, v in modified.items() if v is not None] if how.retain_keys else []
    for key, new in modified.items():
        if key not in original:
            if not how.ignore_changes:
                patch[key] = new
            continue
        old = original[key]
        if key == DIRECTIVE:
            if not isinstance(old, str) or not isinstance(new, str):
                raise server_error(f"invalid value for special key: {DIRECTIVE}")
            if old != new:
                patch[key] = new
        elif isinstance(old, dict) and isinstance(new, dict):
            _diff_map_field(key, old, new, patch, node, how)
        elif isinstance(old, list) and isinstance(new, list):
            _diff_list_field(key, old, new, patch, node, how)
        elif not how.ignore_changes and not json_equal(old, new):
            patch[key] = new
    if not how.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    # $retainKeys goes along when something changes here or a field has to be cleared.
    if retained and (patch or any(v is not None and k not in modified for k, v in original.items())):
        patch[RETAIN_KEYS] = sort_scalars(retained)
    return patch


def _diff_map_field(key: str, old: dict, new: dict, patch: dict, node: Node | None, how: _Diff) -> None:
    meta = field_meta(node, key)
    if meta.strategy == "replace":
        if not how.ignore_changes and not json_equal(old, new):
            patch[key] = new
        return
    value = diff_maps(old, new, meta.value, replace(how, retain_keys=meta.retain_keys))
    if value:
        patch[key] = value


def _diff_list_field(key: str, old: list, new: list, patch: dict, node: Node | None, how: _Diff) -> None:
    meta = field_meta(node, key)
    if meta.strategy != "merge":
        if not how.ignore_changes and not json_equal(old, new):
            patch[key] = new
        return
    added, deleted, order = diff_lists(old, new, meta.items, meta.merge_key,
                                       replace(how, retain_keys=meta.retain_keys))
    if added:
        patch[key] = added
    if deleted:
        patch[f"{DELETE_FROM_LIST}/{key}"] = deleted
    if order:
        patch[f"{SET_ORDER}/{key}"] = order


def diff_lists(old: list, new: list, items: Node | None, merge_key: str, how: _Diff) -> tuple[list, list, list]:
    """(items to merge, primitives to delete, $setElementOrder list) for a merged list."""
    if not old:
        return ([], [], []) if not new or how.ignore_changes else (new, [], [])
    kind = element_kind(old, new)
    if kind == "map":
        changed, deletions = _diff_maps_in_list(old, new, items, merge_key, how)
        changed = sort_by(changed, new, merge_key, kind) + deletions
        reordered = len(old) != len(new) or not all(
            merge_key_equal(a, b, merge_key) for a, b in zip(old, new, strict=True))
        wanted = (not how.ignore_changes and (changed or reordered)) or (not how.ignore_deletions and changed)
        return changed, [], [{merge_key: m[merge_key]} for m in new] if wanted else []
    added, deleted = _diff_scalars(old, new, how)
    added = sort_by(added, new, merge_key, kind)
    wanted = (not how.ignore_deletions and deleted) or (not how.ignore_changes and not json_equal(old, new))
    return added, deleted, new if wanted else []


def _diff_maps_in_list(old: list, new: list, items: Node | None, merge_key: str,
                       how: _Diff) -> tuple[list, list]:
    """Walk both lists sorted by merge key (as text, like apimachinery): changed or added
    items, and `$patch: delete` items for the removed ones."""
    changed: list = []
    deletions: list = []
    old_sorted, new_sorted = _sorted_by_key(old, merge_key), _sorted_by_key(new, merge_key)
    i = j = 0
    while i < len(old_sorted) or j < len(new_sorted):
        old_key = _key_text(old_sorted[i], merge_key) if i < len(old_sorted) else None
        new_key = _key_text(new_sorted[j], merge_key) if j < len(new_sorted) else None
        if old_key is not None and new_key is not None and old_key == new_key:
            value = diff_maps(old_sorted[i], new_sorted[j], items, how)
            if value:
                value[merge_key] = new_sorted[j][merge_key]
                changed.append(value)
            i, j = i + 1, j + 1
        elif old_key is None or (new_key is not None and old_key > new_key):
            if not how.ignore_changes:
                changed.append(new_sorted[j])
            j += 1
        else:
            if not how.ignore_deletions:
                deletions.append({merge_key: old_sorted[i][merge_key], DIRECTIVE: "delete"})
            i += 1
    return changed, deletions


def _sorted_by_key(items: list, merge_key: str) -> list:
    return sorted(items, key=lambda m: go_value(m.get(merge_key)))


def _key_text(item: dict, merge_key: str) -> str:
    if merge_key not in item:
        raise no_merge_key(item, merge_key)
    return go_value(item[merge_key])


def _diff_scalars(old: list, new: list, how: _Diff) -> tuple[list, list]:
    old_sorted, new_sorted = sort_scalars(old), sort_scalars(new)
    added: list = []
    deleted: list = []
    i = j = 0
    while i < len(old_sorted) or j < len(new_sorted):
        a = go_value(old_sorted[i]) if i < len(old_sorted) else None
        b = go_value(new_sorted[j]) if j < len(new_sorted) else None
        if a is not None and b is not None and a == b:
            i, j = i + 1, j + 1
        elif a is None or (b is not None and a > b):
            if not how.ignore_changes:
                added.append(new_sorted[j])
            j += 1
        else:
            if not how.ignore_deletions:
                deleted.append(old_sorted[i])
            i += 1
    unique: list = []
    for value in deleted:
        if not any(json_equal(value, seen) for seen in unique):
            unique.append(value)
    return added, unique


def sort_scalars(values: list) -> list:
    """Sorted by their text, as apimachinery sorts scalars (so 10 comes before 9)."""
    return sorted(values, key=go_value)
