"""SPDY/3.1 frames, as client-go's port-forward speaks them (through moby/spdystream).

A frame is 8 bytes of head then a payload. Control frames start with the high bit set, the version
(3) and a type; data frames start with a 31-bit stream id. Both carry 8 bits of flags (FIN = 1) and a
24-bit length. Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are `count, (len, name, len, value)*`
with 32-bit big-endian lengths, compressed with zlib primed with SPDY/3's dictionary; each direction
of a connection is ONE zlib stream, flushed (Z_SYNC_FLUSH) after every block, so a `Reader` and a
`Writer` live as long as their connection. client-go sends no SETTINGS and does no flow control.

Read by: server.portforward. Reads: nothing of kubelab.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 0, 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
VERSION = 3
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, CANCEL = 1, 2, 3, 5  # RST_STREAM status codes
MAX_DATA = 32 * 1024  # bytes per DATA frame we send (the format allows 16 MiB)
MAX_FRAME = 16 * 1024 * 1024


def _dictionary() -> bytes:
    """SPDY/3's zlib dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1): length-prefixed words, then text."""
    words = ("options head post put delete trace accept accept-charset accept-encoding accept-language "
             "accept-ranges age allow authorization cache-control connection content-base content-encoding "
             "content-language content-length content-location content-md5 content-range content-type date etag "
             "expect expires from host if-match if-modified-since if-none-match if-range if-unmodified-since "
             "last-modified location max-forwards pragma proxy-authenticate proxy-authorization range referer "
             "retry-after server te trailer transfer-encoding upgrade user-agent vary via warning www-authenticate "
             "method get status").split()
    words += ["200 OK", *"version HTTP/1.1 url public set-cookie keep-alive origin".split()]
    text = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
            "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
            "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
            "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
            "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
            "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
    return b"".join(struct.pack("!I", len(w)) + w.encode() for w in words) + text.encode()


DICTIONARY = _dictionary()


class ProtocolError(Exception):
    """The peer sent something that is not SPDY/3.1: the connection must end (GOAWAY)."""


@dataclass
class Frame:
    """One decoded frame. `value` is the RST_STREAM/GOAWAY status, the PING id or a window delta."""

    type: int  # DATA (0) or a control frame type
    stream_id: int = 0
    flags: int = 0
    data: bytes = b""
    headers: dict[str, list[str]] = field(default_factory=dict)
    value: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower()) or [""]
        return values[0]


class Reader:
    """Frames out of a byte stream that arrives in arbitrary pieces (WebSocket messages, reads)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            first, second = struct.unpack_from("!II", self._buffer)
            flags, length = second >> 24, second & 0xFFFFFF
            if length > MAX_FRAME:
                raise ProtocolError(f"frame of {length} bytes")
            if len(self._buffer) < 8 + length:
                break
            payload = bytes(self._buffer[8:8 + length])
            del self._buffer[:8 + length]
            if first & 0x80000000:
                version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
                if version != VERSION:
                    raise ProtocolError(f"SPDY version {version}")
                frame = self._control(kind, flags, payload)
                if frame is not None:
                    frames.append(frame)
            else:
                frames.append(Frame(DATA, first & 0x7FFFFFFF, flags, payload))
        return frames

    def _control(self, kind: int, flags: int, payload: bytes) -> Frame | None:
        try:
            if kind == SYN_STREAM:
                stream_id = struct.unpack_from("!I", payload)[0] & 0x7FFFFFFF
                return Frame(kind, stream_id, flags, headers=self._headers(payload[10:]))
            if kind in (SYN_REPLY, HEADERS):
                stream_id = struct.unpack_from("!I", payload)[0] & 0x7FFFFFFF
                return Frame(kind, stream_id, flags, headers=self._headers(payload[4:]))
            if kind in (RST_STREAM, WINDOW_UPDATE):
                stream_id, value = struct.unpack_from("!II", payload)
                return Frame(kind, stream_id & 0x7FFFFFFF, flags, value=value)
            if kind == PING:
                return Frame(kind, flags=flags, value=struct.unpack_from("!I", payload)[0])
            if kind == GOAWAY:
                last, status = struct.unpack_from("!II", payload)
                return Frame(kind, last & 0x7FFFFFFF, flags, value=status)
        except (struct.error, zlib.error) as err:
            raise ProtocolError(f"malformed control frame {kind}: {err}") from None
        return Frame(kind, flags=flags) if kind == SETTINGS else None  # unknown types are ignored (§2.2.1)

    def _headers(self, block: bytes) -> dict[str, list[str]]:
        raw = self._inflate.decompress(block)
        (count,), offset, headers = struct.unpack_from("!I", raw), 4, {}
        for _ in range(count):
            size = struct.unpack_from("!I", raw, offset)[0]
            name = raw[offset + 4:offset + 4 + size].decode("latin-1").lower()
            offset += 4 + size
            size = struct.unpack_from("!I", raw, offset)[0]
            value = raw[offset + 4:offset + 4 + size].decode("latin-1")
            offset += 4 + size
            headers[name] = value.split("\x00")  # several values of one header are NUL-separated
        return headers


class Writer:
    """Frames to send; owns this direction's header compressor."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=DICTIONARY)

    @staticmethod
    def _control(kind: int, flags: int, payload: bytes) -> bytes:
        return struct.pack("!HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload

    def _block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack("!I", len(headers))
        for name, value in headers.items():
            key, text = name.lower().encode("latin-1"), value.encode("latin-1")
            raw += struct.pack("!I", len(key)) + key + struct.pack("!I", len(text)) + text
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def syn_reply(self, stream_id: int, headers: dict[str, str] | None = None, fin: bool = False) -> bytes:
        payload = struct.pack("!I", stream_id) + self._block(headers or {})
        return self._control(SYN_REPLY, FLAG_FIN if fin else 0, payload)

    def syn_stream(self, stream_id: int, headers: dict[str, str], fin: bool = False) -> bytes:
        """What a client sends to open a stream (the server never does; tests use it)."""
        payload = struct.pack("!IIBB", stream_id, 0, 0, 0) + self._block(headers)
        return self._control(SYN_STREAM, FLAG_FIN if fin else 0, payload)

    @staticmethod
    def data(stream_id: int, payload: bytes, fin: bool = False) -> bytes:
        """DATA frames for `payload` (split at MAX_DATA); FIN on the last one. Empty + FIN is a half-close."""
        out, pieces = [], [payload[i:i + MAX_DATA] for i in range(0, len(payload), MAX_DATA)] or [b""]
        for index, piece in enumerate(pieces):
            flags = FLAG_FIN if fin and index == len(pieces) - 1 else 0
            out.append(struct.pack("!II", stream_id & 0x7FFFFFFF, (flags << 24) | len(piece)) + piece)
        return b"".join(out)

    def rst_stream(self, stream_id: int, status: int) -> bytes:
        return self._control(RST_STREAM, 0, struct.pack("!II", stream_id, status))

    def ping(self, ping_id: int) -> bytes:
        return self._control(PING, 0, struct.pack("!I", ping_id))

    def goaway(self, last_stream_id: int, status: int = 0) -> bytes:
        return self._control(GOAWAY, 0, struct.pack("!II", last_stream_id, status))
