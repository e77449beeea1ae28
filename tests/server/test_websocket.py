"""The server side of RFC 6455: handshake key, masked client frames, fragments, ping/pong, close."""

from __future__ import annotations

import socket
import struct

import pytest

from kubelab.server import websocket


def client_frame(opcode: int, payload: bytes, fin: bool = True, masked: bool = True) -> bytes:
    """A frame as a client sends it (masked)."""
    mask = b"\x11\x22\x33\x44"
    size = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    flag = 0x80 if masked else 0
    if size < 126:
        head += bytes([flag | size])
    else:
        head += bytes([flag | 126]) + struct.pack("!H", size)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + (mask + body if masked else payload)


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    first, second = sock.recv(2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", sock.recv(2))[0]
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    assert not second & 0x80, "server frames are never masked"
    return first & 0x0F, data


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield websocket.Connection(server), client
    server.close()
    client.close()


def test_accept_key_is_the_rfc_example():
    assert websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_masked_binary_messages_are_unmasked_in_order(pair):
    ws, client = pair
    client.sendall(client_frame(websocket.BINARY, b"\x00hello") + client_frame(websocket.BINARY, b"\xff\x00"))
    assert ws.receive(1) == [(websocket.BINARY, b"\x00hello"), (websocket.BINARY, b"\xff\x00")]


def test_a_message_split_over_frames_and_reads_is_joined(pair):
    ws, client = pair
    data = client_frame(websocket.BINARY, b"\x00" + b"x" * 300, fin=False) + client_frame(0, b"tail")
    client.sendall(data[:5])
    assert ws.receive(1) == []
    client.sendall(data[5:])
    messages = []
    while not messages:
        messages = ws.receive(1)
    assert messages == [(websocket.BINARY, b"\x00" + b"x" * 300 + b"tail")]


def test_ping_is_answered_with_pong_carrying_its_payload(pair):
    ws, client = pair
    client.sendall(client_frame(websocket.PING, b"beat"))
    assert ws.receive(1) == []
    assert read_frame(client) == (websocket.PONG, b"beat")


def test_close_is_echoed_and_ends_the_connection(pair):
    ws, client = pair
    client.sendall(client_frame(websocket.CLOSE, struct.pack("!H", 1000)))
    with pytest.raises(websocket.Closed):
        ws.receive(1)
    assert read_frame(client) == (websocket.CLOSE, struct.pack("!H", 1000))
    with pytest.raises(websocket.Closed):
        ws.send_binary(b"\x01late")


def test_unmasked_client_frame_is_a_protocol_error(pair):
    ws, client = pair
    client.sendall(client_frame(websocket.BINARY, b"\x00x", masked=False))
    with pytest.raises(websocket.Closed):
        ws.receive(1)
    opcode, payload = read_frame(client)
    assert (opcode, struct.unpack("!H", payload[:2])[0]) == (websocket.CLOSE, 1002)


def test_large_server_messages_use_the_extended_length():
    assert websocket.frame(websocket.BINARY, b"a" * 200)[:4] == bytes([0x82, 126]) + struct.pack("!H", 200)
    assert websocket.frame(websocket.BINARY, b"a" * 70000)[:2] == bytes([0x82, 127])
