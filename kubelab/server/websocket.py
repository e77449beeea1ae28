"""RFC 6455 WebSockets, server side: the handshake answer and the frames, over a connected socket.

kubectl's exec and attach upgrade their GET to a WebSocket (client-go uses gorilla/websocket):
the server answers 101 with `Sec-WebSocket-Accept` (SHA-1 of the key and the RFC's GUID) and the
subprotocol it chose, then both sides exchange frames. Client frames are always masked; the
server's never are. Pings are answered with pongs here (client-go pings every 5 s and drops the
connection after a minute without a pong), fragments are joined, a close frame is echoed.
`Connection` is used from one thread only (TLS sockets must not be read and written at once).

Read by: server.transport (handshake), server.remotecommand (frames). Reads: nothing of kubelab.
"""

from __future__ import annotations

import base64
import hashlib
import select
import socket
import struct
from email.message import Message

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
NORMAL_CLOSURE, PROTOCOL_ERROR, TOO_BIG = 1000, 1002, 1009
MAX_MESSAGE = 16 * 1024 * 1024


def accept_key(key: str) -> str:
    """The `Sec-WebSocket-Accept` value answering a `Sec-WebSocket-Key`."""
    return base64.b64encode(hashlib.sha1((key.strip() + GUID).encode()).digest()).decode()


def is_upgrade(headers: Message) -> bool:
    """Whether a request asks for a WebSocket (`Connection: Upgrade`, `Upgrade: websocket`)."""
    upgrade = (headers.get("Upgrade") or "").lower()
    connection = (headers.get("Connection") or "").lower()
    return "websocket" in upgrade and "upgrade" in connection and bool(headers.get("Sec-WebSocket-Key"))


def offered_protocols(headers: Message) -> list[str]:
    """The subprotocols a client offers, in its order (the header may repeat or list several)."""
    offered: list[str] = []
    for value in headers.get_all("Sec-WebSocket-Protocol") or []:
        offered.extend(p.strip() for p in value.split(",") if p.strip())
    return offered


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (what a server sends)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def unmask(mask: bytes, payload: bytes) -> bytes:
    size = len(payload)
    if not size:
        return payload
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


class Closed(Exception):
    """The peer closed the connection (with a close frame or by going away)."""


class Connection:
    """A WebSocket over an accepted socket: `send_binary`, `receive(timeout)`, `close`."""

    def __init__(self, sock: socket.socket, buffered: bytes = b"") -> None:
        self.sock = sock
        self._buffer = bytearray(buffered)
        self._parts: list[bytes] = []
        self._part_opcode = 0
        self.closed = False  # no more frames may be sent
        self.peer_closed = False

    # ------------------------------------------------------------------ sending
    def send(self, opcode: int, payload: bytes) -> None:
        if self.closed:
            raise Closed("the WebSocket is closed")
        self.sock.sendall(frame(opcode, payload))

    def send_binary(self, payload: bytes) -> None:
        self.send(BINARY, payload)

    def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        """Send a close frame (once); the peer answers with its own, which `receive` consumes."""
        if self.closed:
            return
        try:
            self.send(CLOSE, struct.pack("!H", code) + reason.encode()[:120])
        except OSError:
            pass
        self.closed = True

    # ---------------------------------------------------------------- receiving
    def receive(self, timeout: float) -> list[tuple[int, bytes]]:
        """Data messages (opcode, payload) that arrive within `timeout` seconds; [] when none did.

        Raises `Closed` once the peer has closed the connection.
        """
        if self.peer_closed:
            raise Closed("the peer closed the WebSocket")
        messages = self._parse()
        if messages:
            return messages
        pending = getattr(self.sock, "pending", lambda: 0)()
        if not pending:
            readable, _, _ = select.select([self.sock], [], [], timeout)
            if not readable:
                return []
        try:
            data = self.sock.recv(65536)
        except (OSError, ValueError) as err:
            self.peer_closed = True
            raise Closed(str(err)) from None
        if not data:
            self.peer_closed = True
            raise Closed("the peer went away")
        self._buffer += data
        return self._parse()

    def _parse(self) -> list[tuple[int, bytes]]:
        messages: list[tuple[int, bytes]] = []
        while not self.peer_closed:
            parsed = self._next_frame()
            if parsed is None:
                break
            fin, opcode, payload = parsed
            if opcode == PING:
                if not self.closed:
                    self.send(PONG, payload)
            elif opcode == PONG:
                pass
            elif opcode == CLOSE:
                self.peer_closed = True
                code = payload[:2] if len(payload) >= 2 else struct.pack("!H", NORMAL_CLOSURE)
                if not self.closed:
                    try:
                        self.send(CLOSE, code)
                    except OSError:
                        pass
                    self.closed = True
            else:
                if opcode != CONTINUATION:
                    self._part_opcode, self._parts = opcode, []
                self._parts.append(payload)
                if fin:
                    messages.append((self._part_opcode, b"".join(self._parts)))
                    self._parts = []
        if self.peer_closed and not messages:
            raise Closed("the peer closed the WebSocket")
        return messages

    def _next_frame(self) -> tuple[bool, int, bytes] | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        size, offset = second & 0x7F, 2
        if size == 126:
            if len(buf) < 4:
                return None
            size, offset = struct.unpack_from("!H", buf, 2)[0], 4
        elif size == 127:
            if len(buf) < 10:
                return None
            size, offset = struct.unpack_from("!Q", buf, 2)[0], 10
        if not second & 0x80:
            self._fail(PROTOCOL_ERROR, "client frames must be masked")
        if size > MAX_MESSAGE:
            self._fail(TOO_BIG, "message too big")
        if len(buf) < offset + 4 + size:
            return None
        mask = bytes(buf[offset:offset + 4])
        payload = unmask(mask, bytes(buf[offset + 4:offset + 4 + size]))
        del buf[:offset + 4 + size]
        return bool(first & 0x80), first & 0x0F, payload

    def _fail(self, code: int, reason: str) -> None:
        self.close(code, reason)
        self.peer_closed = True
        raise Closed(reason)
