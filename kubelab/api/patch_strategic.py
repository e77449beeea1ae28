"""Strategic merge patch (application/strategic-merge-patch+json) as kube-apiserver applies it.

Like a JSON merge patch, except that the schema says how each list merges: lists whose
field carries `x-kubernetes-patch-strategy: merge` merge their items by the
`x-kubernetes-patch-merge-key` (containers by name, ports by containerPort) or, for
primitives, as sets (finalizers); other lists are replaced. Directives in the patch:
`$patch: replace|delete` (maps and list items), `$setElementOrder/<list>`, `$retainKeys`,
`$deleteFromPrimitiveList/<list>`. The algorithm, its item ordering and its error texts
follow k8s.io/apimachinery/pkg/util/strategicpatch; kubelab adds hints to the errors.

Read by: api.patch (the facade), api.patch_threeway. Reads: api.patch_meta, api.patch_json.
"""

from __future__ import annotations

from typing import Any

from kubelab.api.jsoncopy import copy_json
from kubelab.api.kinds import Kind
from kubelab.api.patch_json import json_equal
from kubelab.api.patch_meta import (
    DELETE_FROM_LIST,
    DIRECTIVE,
    LIST_TYPE,
    MAP_TYPE,
    RETAIN_KEYS,
    SET_ORDER,
    Node,
    bad_arg_type,
    bad_request,
    field_meta,
    go_value,
    no_list_of_lists,
    no_merge_key,
    root,
    server_error,
)

# --- applying a patch -------------------------------------------------------------------


def strategic_merge_patch(target: dict, patch: dict, kind: Kind) -> dict:
    """Apply a strategic merge patch to an object of `kind`; returns a new dict."""
    if not isinstance(patch, dict) or not isinstance(target, dict):
        raise bad_request("invalid JSON document")
    return merge_map(copy_json(target), copy_json(patch), root(kind), applying=True)


def merge_map(original: dict, patch: dict, node: Node | None, *, applying: bool) -> dict:
    """Merge `patch` into `original`, both private copies (mutated). `applying` is True when
    apiserver applies a patch to an object, False when kubectl merges two patches into one:
    then nulls and `$deleteFromPrimitiveList` lists are kept, as they must reach the server."""
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == "replace":
            del patch[DIRECTIVE]
            return patch
        if directive == "delete":
            return {}
        raise server_error(f"unknown patch type: {go_value(directive)} in map: {go_value(patch)}",
                           hint="in a map, `$patch` may be `replace` or `delete`")
    _retain_keys(original, patch, applying)
    _apply_element_orders(original, patch, node, applying)
    for key, value in list(patch.items()):
        delete_list = False
        if key.startswith(DELETE_FROM_LIST):
            if not applying:
                original[key] = value
                continue
            key, delete_list = _list_key(key, DELETE_FROM_LIST), True
        if value is None:
            original.pop(key, None)
            if applying:
                continue
        current = original.get(key, _ABSENT)
        if current is _ABSENT or _shape(current) != _shape(value):
            if not delete_list:
                _set_clean(original, key, value, applying)
            continue
        if isinstance(value, dict):
            meta = field_meta(node, key)
            original[key] = value if meta.strategy == "replace" else merge_map(
                current, value, meta.value, applying=applying)
        elif isinstance(value, list):
            meta = field_meta(node, key)
            if meta.strategy == "merge" or delete_list:
                original[key] = merge_list(current, value, meta.items, meta.merge_key, applying, delete_list)
            else:
                original[key] = value
        else:
            original[key] = value
    return original


_ABSENT = object()


def _shape(value: Any) -> str:
    return "map" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"


def _set_clean(original: dict, key: str, value: Any, applying: bool) -> None:
    """A value with nothing to merge into: it lands as is, minus directives (and nulls, when
    applying: there they can only mean "absent")."""
    if applying:
        _discard_nulls(value)
    cleaned, keep = remove_directives(value)
    if keep:
        original[key] = cleaned
    else:
        original.pop(key, None)


def _discard_nulls(value: Any) -> None:
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _discard_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _discard_nulls(item)


def remove_directives(value: Any) -> tuple[Any, bool]:
    """Strip `$patch` maps from a value; the flag is False when the value itself is one."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        for key in list(value):
            value[key], keep = remove_directives(value[key])
            if not keep:
                del value[key]
        return value, True
    if isinstance(value, list):
        kept = [remove_directives(item) for item in value]
        return [item for item, keep in kept if keep], True
    return value, True


def _list_key(key: str, prefix: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        raise bad_request("invalid patch format of primitive list" if prefix == DELETE_FROM_LIST
                          else "invalid patch format of setElementOrder list")
    return rest


def _retain_keys(original: dict, patch: dict, applying: bool) -> None:
    if RETAIN_KEYS not in patch:
        return
    retained = patch.pop(RETAIN_KEYS)
    if not applying:
        if RETAIN_KEYS in original and not json_equal(original[RETAIN_KEYS], retained):
            raise server_error(f"{go_value(original[RETAIN_KEYS])} and {go_value(retained)} are not deep equal: "
                               "this may happen when calculating the 3-way diff patch")
        original.setdefault(RETAIN_KEYS, retained)
        return
    if not isinstance(retained, list):
        raise bad_request("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_LIST, SET_ORDER)):
            continue
        if key not in retained:
            raise bad_request("invalid patch format of retainKeys",
                              hint=f'"{key}" is in the patch but not in its $retainKeys list')
    for key in [k for k in original if k not in retained]:
        del original[key]


def _apply_element_orders(original: dict, patch: dict, node: Node | None, applying: bool) -> None:
    """Merge each list that has a `$setElementOrder/<list>` and put its items in that order."""
    for directive in [k for k in patch if k.startswith(SET_ORDER)]:
        order = patch.pop(directive)
        if not applying:
            if directive in original:
                if not json_equal(original[directive], order):
                    raise bad_request("invalid patch format of setElementOrder list")
            else:
                original[directive] = order
        if not isinstance(order, list):
            raise bad_arg_type(LIST_TYPE, order)
        key = _list_key(directive, SET_ORDER)
        in_original, in_patch = key in original, key in patch
        current: list = original[key] if in_original else []
        patched: list = patch[key] if in_patch else []
        for value in (current, patched):
            if not isinstance(value, list):
                raise bad_arg_type(LIST_TYPE, value)
        meta = field_meta(node, key)
        merge_key = meta.merge_key
        _check_order(patched, order, merge_key)
        live = _LiveView(current)
        merged: list
        if in_original and in_patch:
            merged = merge_list(current, patched, meta.items, merge_key, applying, False, live) \
                if meta.strategy == "merge" else patched
        elif in_original:
            merged = current
        elif in_patch:
            merged = remove_directives(patched)[0]
        else:
            continue
        ordered, rest = partition(merged, order, merge_key)
        kind = element_kind(current, patched)
        original[key] = normalize_order(ordered, rest, order, live.seen, merge_key, kind)
        patch.pop(key, None)


def _check_order(patched: list, order: list, merge_key: str) -> None:
    """The patch's items must appear in the order list, in the same relative order."""
    if not order or not patched:
        return
    items = split_deletions(patched)[0] if merge_key else patched
    i = j = 0
    while i < len(items) and j < len(order):
        if isinstance(items[i], dict) and DIRECTIVE in items[i]:
            i += 1
            continue
        if merge_key_equal(items[i], order[j], merge_key):
            i += 1
        j += 1
    if i < len(items) and j >= len(order):
        raise server_error(f"The order in patch list:\n{go_value(patched)}\n doesn't match {SET_ORDER} list:\n"
                           f"{go_value(order)}\n")


def merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return json_equal(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise bad_arg_type(MAP_TYPE, item)
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
    return json_equal(left[merge_key], right[merge_key])


class _LiveView:
    """The live list as apimachinery's `$setElementOrder` step sees it after the merge.

    Go slices share their backing array: the merge deletes items of the live list by
    shifting the array in place and appends new items into the room that frees, and the
    ordering step reads that array through the live list's old slice header. Which items it
    sees where decides where server-only items land, so kubelab reproduces it."""

    def __init__(self, items: list) -> None:
        self.seen = list(items)
        self.length = len(items)

    def delete(self, index: int) -> None:
        self.seen[index:self.length - 1] = self.seen[index + 1:self.length]
        self.length -= 1

    def append(self, item: Any) -> None:
        if self.length < len(self.seen):
            self.seen[self.length] = item
        self.length += 1


def merge_list(original: list, patch: list, items: Node | None, merge_key: str,
               applying: bool, delete_list: bool, live: _LiveView | None = None) -> list:
    """Merge a list with merge strategy (or apply a `$deleteFromPrimitiveList`)."""
    if not original and not patch:
        return original
    kind = element_kind(original, patch)
    if kind != "map":
        if applying and delete_list:
            return [v for v in original if not any(json_equal(v, d) for d in patch)]
        merged = dedupe(original + patch)
    else:
        if not merge_key:
            raise server_error("cannot merge lists without merge key for struct")
        original, patch, replaced = _special_items(original, patch, merge_key, live)
        # A copy: `original` stays the live order that the server-only items keep.
        merged = _merge_items(list(original), patch, merge_key, items, applying,
                              None if replaced else live)
    ordered, rest = partition(merged, patch, merge_key)
    return normalize_order(ordered, rest, patch, original, merge_key, kind)


def _special_items(original: list, patch: list, merge_key: str,
                   live: _LiveView | None) -> tuple[list, list, bool]:
    """Apply the `$patch` items of a list patch: the list, the plain items left, and
    whether the patch replaced the list."""
    plain: list = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            while (index := _find(original, merge_key, item[merge_key])) >= 0:
                original = original[:index] + original[index + 1:]
                if live is not None:
                    live.delete(index)
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise server_error("merging lists cannot yet be specified in the patch")
        else:
            raise server_error(f"unknown patch type: {go_value(directive)} in map: {go_value(item)}",
                               hint="in a list item, `$patch` may be `delete` or `replace`")
    return (plain, [], True) if replace else (original, plain, False)


def _find(items: list, merge_key: str, value: Any) -> int:
    """The index of the map whose merge key has `value`, or -1."""
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise server_error(f"value for key {index} is not a map")
        if merge_key in item and json_equal(item[merge_key], value):
            return index
    return -1


def _merge_items(original: list, patch: list, merge_key: str, items: Node | None, applying: bool,
                 live: _LiveView | None) -> list:
    for item in patch:
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        index = _find(original, merge_key, item[merge_key])
        if index >= 0:
            original[index] = merge_map(original[index], item, items, applying=applying)
        else:
            original.append(item)  # as apimachinery does: a new item is taken as sent
            if live is not None:
                live.append(item)
    return original


# --- item order -------------------------------------------------------------------------


def element_kind(*lists: list) -> str:
    """The one kind of element in the lists: "map", or a scalar type; lists of lists are refused."""
    kind = None
    for items in lists:
        for item in items:
            this = "map" if isinstance(item, dict) else "list" if isinstance(item, list) else \
                "bool" if isinstance(item, bool) else "number" if isinstance(item, (int, float)) else \
                "string" if isinstance(item, str) else "null"
            if kind is None:
                if this == "list":
                    raise no_list_of_lists()
                kind = this
            elif kind != this:
                raise server_error(f"list element types are not identical: {go_value(list(lists))}")
    if kind is None:
        raise server_error("no elements in any of the given slices")
    return kind


def dedupe(values: list) -> list:
    result: list = []
    for value in values:
        if not any(json_equal(value, seen) for seen in result):
            result.append(value)
    return result


def partition(merged: list, present_in: list, merge_key: str) -> tuple[list, list]:
    """Split items into those present in `present_in` and the others (server-only)."""
    inside: list = []
    outside: list = []
    for item in merged:
        if merge_key:
            if not isinstance(item, dict):
                raise bad_arg_type(MAP_TYPE, item)
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            found = _find(present_in, merge_key, item[merge_key]) >= 0
        else:
            found = any(json_equal(item, other) for other in present_in)
        (inside if found else outside).append(item)
    return inside, outside


def split_deletions(items: list) -> tuple[list, list]:
    keep: list = []
    delete: list = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_arg_type(MAP_TYPE, item)
        (delete if item.get(DIRECTIVE) == "delete" else keep).append(item)
    return keep, delete


def _position(items: list, item: Any, merge_key: str, kind: str) -> int:
    def key_of(value: Any) -> Any:
        return value.get(merge_key) if kind == "map" and isinstance(value, dict) else value

    wanted = key_of(item)
    return next((i for i, other in enumerate(items) if json_equal(key_of(other), wanted)), -1)


def sort_by(items: list, order: list, merge_key: str, kind: str) -> list:
    """Items sorted by their place in `order`; `$patch: delete` items go last."""
    deletions: list = []
    if kind == "map":
        for each in (items, order):
            for item in each:
                if not isinstance(item, dict):
                    raise bad_arg_type(MAP_TYPE, item)
                if merge_key not in item:
                    raise no_merge_key(item, merge_key)
        items, deletions = split_deletions(items)
    ranked = [(_position(order, item, merge_key, kind), n, item) for n, item in enumerate(items)]
    ranked.sort(key=lambda r: (r[0] < 0, r[0], r[1]))
    return [item for _, _, item in ranked] + deletions


def normalize_order(patch_items: list, server_only: list, patch_order: list, server_order: list,
                    merge_key: str, kind: str) -> list:
    """Patch items in the patch's order and server-only items in the live order, interleaved
    by their live positions; patch items new to the server come before the server-only items
    still waiting (so an item added without `$setElementOrder` lands first)."""
    right = sort_by(patch_items, patch_order, merge_key, kind)
    left = sort_by(server_only, server_order, merge_key, kind)
    result: list = []
    i = j = 0
    while i < len(left) and j < len(right):
        li = _position(server_order, left[i], merge_key, kind)
        rj = _position(server_order, right[j], merge_key, kind)
        if li >= 0 and rj >= 0 and li < rj:
            result.append(left[i])
            i += 1
        else:
            result.append(right[j])
            j += 1
    return result + left[i:] + right[j:]
