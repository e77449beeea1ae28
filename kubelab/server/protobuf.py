"""Kubernetes protobuf request bodies, decoded into the JSON dict the API would have received.

kubectl's `create deployment|namespace|configmap|secret|service|serviceaccount|job|cronjob|…` and
`autoscale` POST `application/vnd.kubernetes.protobuf` bodies: the `k8s\\0` magic, then a `runtime.Unknown`
envelope {typeMeta{apiVersion, kind}, raw, contentEncoding, contentType} whose `raw` is the object's message
(`k8s.io.api.apps.v1.Deployment`…). `decode(body)` walks the message by field number with the table that
scripts/gen_protobuf_fields.py generated from k8s.io/api's generated.proto files and Go struct tags
(protobuf_fields.json), and prints every field as Go's encoding/json would: pointers when set, omitempty
zeros dropped, `replicas: 0` kept, embedded structs inlined, Time/IntOrString/Quantity/bytes in their JSON form.

Read by: server.resources (request bodies). Reads: api.errors, protobuf_fields.json.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import os
import struct
from functools import lru_cache
from typing import Any

from kubelab.api.errors import ApiError

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_TIME = _META + "Time"
_MICRO_TIME = _META + "MicroTime"
_DURATION = _META + "Duration"
_FIELDS_V1 = _META + "FieldsV1"
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_VARINT_TYPES = {"int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64"}
_ZERO_SCALAR: dict[str, Any] = {"string": "", "bytes": "", "bool": False, "double": 0.0, "float": 0.0}

Wire = dict[int, list[tuple[int, Any]]]


class _DecodeError(Exception):
    pass


@lru_cache(maxsize=1)
def _table() -> dict[str, list[list[Any]]]:
    path = os.path.join(os.path.dirname(__file__), "protobuf_fields.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)["messages"]


def message_name(api_version: str, kind: str) -> str:
    """`k8s.io.api.apps.v1.Deployment` for apps/v1 Deployment; the core group's package is `core`."""
    group, _, version = api_version.rpartition("/")
    package = group.split(".", 1)[0] if group else "core"
    return f"k8s.io.api.{package}.{version}.{kind}"


def decode(body: bytes) -> dict[str, Any]:
    """The object a kubectl protobuf body carries, as the JSON dict the API expects (BadRequest if malformed)."""
    if not body.startswith(MAGIC):
        raise ApiError("BadRequest", "provided data does not appear to be a protobuf message, expected prefix "
                       f"{list(MAGIC)}".replace(",", ""))
    try:
        envelope = _wire(memoryview(body)[len(MAGIC):], "runtime.Unknown")
        type_meta = _wire(_last_bytes(envelope, 1), "runtime.TypeMeta")
        api_version = _text(_last_bytes(type_meta, 1))
        kind = _text(_last_bytes(type_meta, 2))
        encoding = _text(_last_bytes(envelope, 3))
        raw = _last_bytes(envelope, 2)
    except _DecodeError as e:
        raise _bad(f"the protobuf envelope (runtime.Unknown) is malformed: {e}")
    if encoding:
        raise _bad(f'unsupported protobuf content encoding "{encoding}"')
    if not kind or not api_version:
        raise _bad("Object 'Kind' is missing in the protobuf envelope" if not kind
                   else "Object 'apiVersion' is missing in the protobuf envelope")
    name = message_name(api_version, kind)
    if name not in _table():
        raise _bad(f'no kind "{kind}" is registered for version "{api_version}" in kubelab\'s protobuf decoder '
                   "(send JSON instead: kubectl create -f / apply -f)")
    try:
        obj = _message(name, raw)
    except _DecodeError as e:
        raise _bad(f"unable to decode the protobuf body of {kind} {api_version}: {e}")
    return {"kind": kind, "apiVersion": api_version, **obj}


def _bad(message: str) -> ApiError:
    return ApiError("BadRequest", message)


# --- the wire format ---------------------------------------------------------------------------------------------

def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _DecodeError("unexpected EOF")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _DecodeError("integer overflow")


def _wire(data: memoryview, where: str) -> Wire:
    """Field number → [(wire type, value)] in wire order; values are ints or memoryviews."""
    fields: Wire = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        value: int | memoryview
        if number <= 0:
            raise _DecodeError(f"proto: {where}: illegal tag {number} (wire type {wire_type})")
        if wire_type == _VARINT:
            value, pos = _varint(data, pos)
        elif wire_type == _BYTES:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise _DecodeError("unexpected EOF")
            value, pos = data[pos:pos + length], pos + length
        elif wire_type in (_FIXED64, _FIXED32):
            size = 8 if wire_type == _FIXED64 else 4
            if pos + size > len(data):
                raise _DecodeError("unexpected EOF")
            value, pos = data[pos:pos + size], pos + size
        else:
            raise _DecodeError(f"proto: {where}: illegal wireType {wire_type} for field {number}")
        fields.setdefault(number, []).append((wire_type, value))
    return fields


def _last_bytes(fields: Wire, number: int) -> memoryview:
    values = fields.get(number)
    if not values:
        return memoryview(b"")
    wire_type, value = values[-1]
    if wire_type != _BYTES:
        raise _DecodeError(f"proto: wrong wireType = {wire_type} for field {number}")
    return value


def _text(data: memoryview) -> str:
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise _DecodeError(f"invalid UTF-8 in a string field: {e}")


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _scalar(ftype: str, wire_type: int, value: Any, field: str) -> Any:
    if ftype in ("string", "bytes"):
        if wire_type != _BYTES:
            raise _DecodeError(f"proto: wrong wireType = {wire_type} for field {field}")
        return _text(value) if ftype == "string" else base64.b64encode(bytes(value)).decode("ascii")
    if ftype in ("double", "float"):
        expected = _FIXED64 if ftype == "double" else _FIXED32
        if wire_type != expected:
            raise _DecodeError(f"proto: wrong wireType = {wire_type} for field {field}")
        return struct.unpack("<d" if ftype == "double" else "<f", bytes(value))[0]
    if wire_type != _VARINT:
        raise _DecodeError(f"proto: wrong wireType = {wire_type} for field {field}")
    if ftype == "bool":
        return value != 0
    if ftype in ("int32", "int64"):
        return _signed(value, 32 if ftype == "int32" else 64)
    if ftype in ("sint32", "sint64"):
        return (value >> 1) ^ -(value & 1)
    return value


def _scalars(ftype: str, values: list[tuple[int, Any]], field: str) -> list[Any]:
    """Every value of a repeated scalar field, unpacking packed varints."""
    items: list[Any] = []
    for wire_type, value in values:
        if wire_type == _BYTES and ftype in _VARINT_TYPES:
            pos = 0
            while pos < len(value):
                number, pos = _varint(value, pos)
                items.append(_scalar(ftype, _VARINT, number, field))
        else:
            items.append(_scalar(ftype, wire_type, value, field))
    return items


# --- messages, printed as Go's encoding/json prints the structs ---------------------------------------------------

def _message(name: str, data: memoryview) -> Any:
    special = _SPECIAL.get(name)
    if special is not None:
        return special(_wire(data, name))
    rows = _table().get(name)
    if rows is None:
        raise _DecodeError(f"no field table for message {name}")
    fields = _wire(data, name.rsplit(".", 1)[-1])
    out: dict[str, Any] = {}
    for number, json_name, ftype, flags in rows:
        values = fields.get(number)
        if ftype.startswith("map:"):
            entries = _map(ftype, values or [], json_name)
            if entries:
                out[json_name] = entries
            elif "o" not in flags:
                out[json_name] = None  # a nil map without omitempty prints as null
            continue
        if "r" in flags:
            items = ([_message(ftype, _bytes_of(wt, v, json_name)) for wt, v in values or []]
                     if ftype not in _ZERO_SCALAR and ftype not in _VARINT_TYPES
                     else _scalars(ftype, values or [], json_name))
            if items:
                out[json_name] = items
            elif "o" not in flags:
                out[json_name] = None
            continue
        is_message = ftype not in _ZERO_SCALAR and ftype not in _VARINT_TYPES
        if values is None:
            if "p" in flags:
                continue  # a nil pointer: absent
            if is_message:
                if "z" in flags:
                    continue
                value = _message(ftype, memoryview(b""))  # a zero struct still prints (`"status": {}`)
            else:
                value = _ZERO_SCALAR.get(ftype, 0)
        elif is_message:
            wire_type, raw = values[-1]
            raw = _bytes_of(wire_type, raw, json_name)
            if "z" in flags and not raw:
                continue
            value = _message(ftype, raw)
        else:
            wire_type, raw = values[-1]
            value = _scalar(ftype, wire_type, raw, json_name)
        if value is None:
            continue  # a zero Time
        if "i" in flags and isinstance(value, dict):
            out.update(value)
        elif "o" in flags and "p" not in flags and not is_message and value in ("", 0, False):
            continue  # omitempty drops a non-pointer zero; a pointer (`replicas: 0`) stays
        else:
            out[json_name] = value
    return out


def _bytes_of(wire_type: int, value: Any, field: str) -> memoryview:
    if wire_type != _BYTES:
        raise _DecodeError(f"proto: wrong wireType = {wire_type} for field {field}")
    return value


def _map(ftype: str, values: list[tuple[int, Any]], field: str) -> dict[str, Any]:
    _, key_type, value_type = ftype.split(":", 2)
    out: dict[str, Any] = {}
    for wire_type, raw in values:
        entry = _wire(_bytes_of(wire_type, raw, field), f"{field} entry")
        key = _one(key_type, entry.get(1), field)
        out[str(key)] = _one(value_type, entry.get(2), field)
    return out


def _one(ftype: str, values: list[tuple[int, Any]] | None, field: str) -> Any:
    if ftype in _ZERO_SCALAR or ftype in _VARINT_TYPES:
        return _scalar(ftype, *values[-1], field) if values else _ZERO_SCALAR.get(ftype, 0)
    return _message(ftype, _bytes_of(*values[-1], field) if values else memoryview(b""))


# --- types that print themselves ---------------------------------------------------------------------------------

def _int(fields: Wire, number: int, bits: int = 64) -> int:
    values = fields.get(number)
    if not values:
        return 0
    wire_type, value = values[-1]
    if wire_type != _VARINT:
        raise _DecodeError(f"proto: wrong wireType = {wire_type} for field {number}")
    return _signed(value, bits)


def _time(fields: Wire, micro: bool = False) -> str | None:
    if not fields:
        return None  # metav1.Time marshals its zero value as no bytes at all
    seconds = _int(fields, 1)
    try:
        moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=seconds)
    except OverflowError:
        raise _DecodeError(f"timestamp out of range: {seconds} seconds")
    if micro:
        micros = _int(fields, 2, 32) // 1000
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # metav1.Time keeps whole seconds only


def _int_or_string(fields: Wire) -> int | str:
    if _int(fields, 1) == 1:
        return _text(_last_bytes(fields, 3))
    return _int(fields, 2, 32)


def _quantity(fields: Wire) -> str:
    return _text(_last_bytes(fields, 1)) or "0"


def _json_bytes(fields: Wire) -> Any:
    raw = bytes(_last_bytes(fields, 1))
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise _DecodeError("an embedded object (RawExtension) is not JSON")


def _duration(fields: Wire) -> str:
    """metav1.Duration prints like Go's time.Duration.String(): `1h2m3s`, `1.5s`, `300ms`, `0s`."""
    ns = _int(fields, 1)
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _trim(rest / 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    return f"{sign}{minutes}m{seconds}" if minutes else sign + seconds


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


_SPECIAL = {
    _TIME: _time,
    _MICRO_TIME: lambda fields: _time(fields, micro=True),
    _INT_OR_STRING: _int_or_string,
    _QUANTITY: _quantity,
    _RAW_EXTENSION: _json_bytes,
    _FIELDS_V1: _json_bytes,
    _DURATION: _duration,
}
