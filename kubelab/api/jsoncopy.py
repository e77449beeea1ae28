"""A deep copy for JSON-shaped data (dicts, lists, scalars) — several times faster than
`copy.deepcopy`, which handles arbitrary objects, memo tables and cycles that API objects
never have.

Read by: the patch engines, store.memory (`thaw`). Reads: nothing.
"""

from __future__ import annotations

from typing import Any

_NESTED = (dict, list)


def copy_json(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: copy_json(v) if type(v) in _NESTED else v for k, v in value.items()}
    if kind is list:
        return [copy_json(v) if type(v) in _NESTED else v for v in value]
    return value
