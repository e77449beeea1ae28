"""How Go's encoding/json (the sigs.k8s.io/json fork apiserver uses) reacts to odd scalars.

The decoder reports what Go would: the JSON kind of a value in `json: cannot unmarshal <kind>
into …` (`string`, `number`, `number 1.5`, `bool`, `object`, `array`), base64 errors for `[]byte`
fields (Secret data: `illegal base64 data at input byte 4`), and metav1.Time's RFC 3339 parsing.

Read by: api.decoding, api.patch_meta. Reads: nothing.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NEWLINES = (ord("\n"), ord("\r"))
_PAD = ord("=")


def json_kind(value: Any) -> str:
    """The word Go puts in `cannot unmarshal <word> into …` for a decoded JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return "string"


def number_text(value: int | float) -> str:
    """A number as kubectl's JSON carries it (Go's float formatting for the common cases)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def base64_error(text: str) -> str | None:
    """base64.StdEncoding.Decode's CorruptInputError, or None when `text` decodes."""
    src = text.encode("utf-8")
    n, si = len(src), 0
    while True:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return _corrupt(si - j)
            c = src[si]
            si += 1
            if c in _B64:
                j += 1
                continue
            if c in _NEWLINES:
                continue
            if c != _PAD or j < 2:
                return _corrupt(si - 1)
            if j == 2:  # "==" expected: the first "=" is consumed
                while si < n and src[si] in _NEWLINES:
                    si += 1
                if si == n:
                    return _corrupt(n)
                if src[si] != _PAD:
                    return _corrupt(si - 1)
                si += 1
            while si < n and src[si] in _NEWLINES:
                si += 1
            return _corrupt(si) if si < n else None


def _corrupt(offset: int) -> str:
    return f"illegal base64 data at input byte {offset}"


RFC3339 = "2006-01-02T15:04:05Z07:00"
_ELEMENTS = (("2006", r"\d{4}"), ("-", "-"), ("01", r"\d{2}"), ("-", "-"), ("02", r"\d{2}"), ("T", "T"),
             ("15", r"\d{2}"), (":", ":"), ("04", r"\d{2}"), (":", ":"), ("05", r"\d{2}(?:[.,]\d+)?"),
             ("Z07:00", r"Z|[+-]\d{2}:\d{2}"))
_ELEMENT_RES = tuple((layout, re.compile(pattern)) for layout, pattern in _ELEMENTS)


def time_error(text: str) -> str | None:
    """time.Parse(time.RFC3339, text)'s error, or None when the text is a valid timestamp."""
    pos = 0
    for layout, pattern in _ELEMENT_RES:
        m = pattern.match(text, pos)
        if not m:
            return f'parsing time "{text}" as "{RFC3339}": cannot parse "{text[pos:]}" as "{layout}"'
        pos = m.end()
    if pos != len(text):
        return f'parsing time "{text}": extra text: "{text[pos:]}"'
    month, day = int(text[5:7]), int(text[8:10])
    if not 1 <= month <= 12:
        return f'parsing time "{text}": month out of range'
    try:
        _dt.date(int(text[:4]), month, day)
    except ValueError:
        return f'parsing time "{text}": day out of range'
    for unit, start, limit in (("hour", 11, 23), ("minute", 14, 59), ("second", 17, 59)):
        if int(text[start:start + 2]) > limit:
            return f'parsing time "{text}": {unit} out of range'
    return None


def time_text(value: _dt.date) -> str:
    """YAML timestamps PyYAML turned into dates, back to the RFC 3339 text kubectl would send."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    return value.isoformat()
