"""A deep copy for JSON-shaped data (dicts, lists, scalars) — several times faster than
`copy.deepcopy`, which handles arbitrary objects, memo tables and cycles that API objects
never have.

`EXACT_FORMAT` is the marshal format whose bytes tell two JSON values apart exactly (the key of
api.podspecs' prepared pod specs).

`interned_copy` is the same copy with keys and short strings interned, the compact form the store
keeps objects in (the decoder copies free-form values with it).

Read by: the patch engines, store.memory (`thaw`, `freeze`), api.decoding, api.podspecs.
Reads: nothing.
"""

from __future__ import annotations

import sys
from typing import Any

_NESTED = (dict, list)
# marshal's format 2 writes exact types (True, 1 and 1.0, lists and tuples stay apart), dicts in their
# order and no back-references, so equal bytes mean equal values; it refuses (ValueError) any other type
# (a date, a str or dict subclass), which its callers then treat another way.
EXACT_FORMAT = 2


def copy_json(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: copy_json(v) if type(v) in _NESTED else v for k, v in value.items()}
    if kind is list:
        return [copy_json(v) if type(v) in _NESTED else v for v in value]
    return value


_intern = sys.intern
# Strings up to this length are interned (api.decoding interns the same ones); the functions below
# spell it as a literal, cheaper than a global in their comprehensions.
INTERN_MAX = 64


def interned_copy(value: Any) -> Any:
    """A deep copy with interned keys and strings of up to 64 characters: store.memory's `freeze`,
    the compact form the store keeps objects in (keys must be exact strs, as in any JSON object)."""
    kind = type(value)
    if kind is dict:
        return {_intern(k): interned_copy(v) if type(v) in _NESTED else _intern(v) if type(v) is str and len(v) <= 64
                else v for k, v in value.items()}
    if kind is list:
        return [interned_copy(v) if type(v) in _NESTED else _intern(v) if type(v) is str and len(v) <= 64 else v
                for v in value]
    if kind is str and len(value) <= 64:
        return _intern(value)
    return value
