"""`kubectl port-forward` over the WebSocket tunnel: SPDY/3.1 carried in WebSocket binary messages.

kubectl 1.37 opens `GET …/pods/NAME/portforward` with the subprotocol `SPDY/3.1+portforward.k8s.io`;
from then on the WebSocket's binary messages are one byte stream of SPDY frames (message boundaries
mean nothing). For each local connection kubectl opens two streams with the headers `streamType`
(`error`, then `data`), `port` and `requestID`; the kubelet pairs them by request id, dials the port
in the pod and copies bytes both ways until one side ends, then writes any failure on the error
stream and half-closes both. Here the pod's side of the port is the simulated program's HTTP answer
(`cluster.pod_network`), so the data stream is read as HTTP/1.1 requests, each answered in turn.
Everything runs in the connection's thread (a TLS socket must not be read and written at once).

Read by: server.subresources. Reads: server.spdy, server.websocket, server.resources, cluster (pod_network).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.server import resources, spdy, websocket
from kubelab.server.messages import Request, Upgrade
from kubelab.server.routes import Target

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster
    from kubelab.server.app import ApiApp

log = logging.getLogger("kubelab.server")

PROTOCOL = "SPDY/3.1+portforward.k8s.io"
POLL = 0.05  # seconds between looks at the server's stop flag while the client is quiet
MAX_HEAD = 64 * 1024  # an HTTP request head longer than this is not one
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


def serve(app: ApiApp, req: Request, target: Target) -> Upgrade:
    """`…/pods/NAME/portforward`: the apiserver's checks, then the tunnelled SPDY session."""
    resources.locked(app, lambda: _check(app, target))
    if not websocket.is_upgrade(req.headers):
        raise ApiError("BadRequest", f"port-forward needs a WebSocket (Upgrade: websocket, Sec-WebSocket-Protocol: "
                                     f"{PROTOCOL}): kubelab does not serve SPDY upgrades")
    offered = websocket.offered_protocols(req.headers)
    if PROTOCOL not in offered:
        raise ApiError("BadRequest", f"unable to negotiate a WebSocket subprotocol from {offered}: kubelab "
                                     f"speaks {PROTOCOL}")
    session = Session(app.cluster, target.namespace or "default", target.name or "")
    return Upgrade(PROTOCOL, session.run, session.cancel.set)


def _check(app: ApiApp, target: Target) -> None:
    pod = app.cluster.api.get(target.kind, target.namespace or "", target.name or "")
    name = pod["metadata"]["name"]
    if not (pod.get("spec") or {}).get("nodeName"):
        raise ApiError("BadRequest", f"pod {name} does not have a host assigned")
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":  # kubectl checks this itself first; a raw client gets the same words
        raise ApiError("BadRequest", f"unable to forward port because pod is not running. Current status={phase}")


def refused_message(pod: dict[str, Any], port: int) -> str:
    """What containerd's kubelet writes on the error stream when nothing listens on the port."""
    uid = (pod.get("metadata") or {}).get("uid") or ""
    sandbox = hashlib.sha256(f"sandbox/{uid}".encode()).hexdigest()  # stable ids derived from the pod's uid
    netns = hashlib.sha256(f"netns/{uid}".encode()).hexdigest()
    netns = f"{netns[:8]}-{netns[8:12]}-{netns[12:16]}-{netns[16:20]}-{netns[20:32]}"
    return (f"error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network "
            f'namespace "/var/run/netns/cni-{netns}": failed to connect to localhost:{port} inside namespace '
            f'"{sandbox}", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 dial tcp6 '
            f"[::1]:{port}: connect: connection refused ")


@dataclass
class _Pair:
    """One local connection of kubectl's: its error and data streams and the bytes read so far."""

    request_id: str
    port: int
    error_id: int = 0
    data_id: int = 0
    inbound: bytearray = field(default_factory=bytearray)
    client_done: bool = False  # kubectl half-closed the data stream (its local connection ended)
    finished: bool = False


class Session:
    """One port-forward connection; `run(ws)` serves it until the client or the server ends it."""

    def __init__(self, cluster: Cluster, namespace: str, name: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.cancel = threading.Event()
        self.pairs: dict[str, _Pair] = {}  # by request id
        self.by_stream: dict[int, _Pair] = {}
        self.reader = spdy.Reader()
        self.writer = spdy.Writer()
        self.last_stream = 0
        self._ws: websocket.Connection | None = None

    def run(self, ws: websocket.Connection) -> None:
        self._ws = ws
        try:
            while not self.cancel.is_set():
                try:
                    messages = ws.receive(POLL)
                except websocket.Closed:
                    return
                for opcode, data in messages:
                    if opcode != websocket.BINARY:
                        continue
                    for frame in self.reader.feed(data):
                        if not self._handle(frame):
                            return
            self._send(self.writer.goaway(self.last_stream))  # the server is stopping
        except spdy.ProtocolError as err:
            log.debug("port-forward: %s", err)
            self._send(self.writer.goaway(self.last_stream, 1))
        finally:
            ws.close()

    def _send(self, data: bytes) -> None:
        assert self._ws is not None
        if not self._ws.closed:
            self._ws.send_binary(data)

    # ------------------------------------------------------------------ frames
    def _handle(self, frame: spdy.Frame) -> bool:
        """Act on one frame; False when the connection is over (GOAWAY)."""
        if frame.type == spdy.SYN_STREAM:
            self._open(frame)
        elif frame.type == spdy.DATA:
            pair = self.by_stream.get(frame.stream_id)
            if pair is not None and frame.stream_id == pair.data_id and not pair.finished:
                pair.inbound += frame.data
                pair.client_done = pair.client_done or frame.fin
                self._serve_http(pair)
        elif frame.type == spdy.RST_STREAM:
            pair = self.by_stream.get(frame.stream_id)
            if pair is not None:
                self._finish(pair)  # kubectl gave up on this connection: end its error stream too
        elif frame.type == spdy.PING:
            if frame.value & 1:  # the client's (odd) pings are echoed; ours would be even
                self._send(self.writer.ping(frame.value))
        elif frame.type == spdy.GOAWAY:
            return False
        return True

    def _open(self, frame: spdy.Frame) -> None:
        sid = frame.stream_id
        self.last_stream = max(self.last_stream, sid)
        kind, port, request_id = frame.header("streamType"), frame.header("port"), frame.header("requestID")
        if kind not in ("error", "data") or not port.isdigit() or not request_id:
            self._send(self.writer.rst_stream(sid, spdy.PROTOCOL_ERROR))
            return
        self._send(self.writer.syn_reply(sid))
        pair = self.pairs.setdefault(request_id, _Pair(request_id, int(port)))
        if kind == "error":
            pair.error_id = sid
        else:
            pair.data_id = sid
        self.by_stream[sid] = pair
        if pair.error_id and pair.data_id:
            refused = self._dial(pair.port)
            if refused is not None:
                self._finish(pair, refused)

    def _finish(self, pair: _Pair, error: str = "") -> None:
        """The kubelet's end of one connection: the error (if any), then both streams half-closed."""
        if pair.finished:
            return
        pair.finished = True
        if pair.error_id:
            if error:
                self._send(self.writer.data(pair.error_id, error.encode()))
            self._send(self.writer.data(pair.error_id, b"", fin=True))
        if pair.data_id:
            self._send(self.writer.data(pair.data_id, b"", fin=True))
        self.pairs.pop(pair.request_id, None)
        for sid in (pair.error_id, pair.data_id):
            self.by_stream.pop(sid, None)

    # -------------------------------------------------------------- the pod side
    def _pod(self) -> dict[str, Any] | None:
        return self.cluster.store.get(("", "pods"), self.namespace, self.name)  # type: ignore[no-any-return]

    def _dial(self, port: int) -> str | None:
        """None when the pod listens on `port`, else the error the kubelet reports."""
        with self.cluster.lock:
            self.cluster.pump()
            pod = self._pod()
            if pod is None or (pod.get("status") or {}).get("phase") != "Running":
                return f'pod not found ("{self.name}_{self.namespace}")'
            try:
                self.cluster.pod_network.listener((pod.get("status") or {}).get("podIP") or "", port)
            except (ConnectionRefusedError, TimeoutError):
                return refused_message(pod, port)
        return None

    def _serve_http(self, pair: _Pair) -> None:
        """Answer every complete HTTP request buffered on the data stream; end it when the client did."""
        while not pair.finished:
            request = _next_request(pair.inbound)
            if request is None:
                if len(pair.inbound) > MAX_HEAD and b"\r\n\r\n" not in pair.inbound:
                    request = ("", "", {}, b"", True)  # not HTTP at all
                else:
                    break
            method, target, headers, _body, close = request
            if not method:
                self._finish(pair, f"kubelab: the simulated pod {self.name} only answers HTTP on port {pair.port}")
                return
            answer = self._exchange(pair.port, method, target, headers)
            if isinstance(answer, str):
                self._finish(pair, answer)
                return
            status, answer_headers, body = answer
            close = close or (answer_headers.get("Connection") or "").lower() == "close"
            self._send(self.writer.data(pair.data_id, _response(status, answer_headers, body, method, close)))
            if close:
                self._finish(pair)
                return
        if pair.client_done and not pair.finished:
            self._finish(pair)

    def _exchange(self, port: int, method: str, target: str, headers: dict[str, str]
                  ) -> tuple[int, dict[str, str], bytes] | str:
        with self.cluster.lock:
            self.cluster.pump()
            pod = self._pod()
            ip = (pod.get("status") or {}).get("podIP") if pod is not None else None
            if pod is None or not ip:
                return f'pod not found ("{self.name}_{self.namespace}")'
            try:
                # kubelet dials localhost inside the pod's network namespace: the client is the pod itself
                return self.cluster.pod_network.send(method, f"http://{ip}:{port}{target}", headers, ip, [])
            except (ConnectionRefusedError, TimeoutError):
                return refused_message(pod, port)


def _next_request(buffer: bytearray) -> tuple[str, str, dict[str, str], bytes, bool] | None:
    """Take one complete HTTP/1.x request off `buffer`: (method, target, headers, body, close), or None
    while it is incomplete. A first line that is not HTTP gives an empty method."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        del buffer[:]
        return "", "", {}, b"", True
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    lower = {k.lower(): v for k, v in headers.items()}
    start = end + 4
    if "chunked" in lower.get("transfer-encoding", "").lower():
        stop = buffer.find(b"\r\n0\r\n\r\n", start - 2)
        if stop < 0:
            return None
        body, consumed = bytes(buffer[start:stop]), stop + 7
    else:
        size = int(lower.get("content-length") or 0)
        if len(buffer) < start + size:
            return None
        body, consumed = bytes(buffer[start:start + size]), start + size
    del buffer[:consumed]
    connection = lower.get("connection", "").lower()
    close = connection == "close" or (parts[2] == "HTTP/1.0" and connection != "keep-alive")
    forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
    return parts[0], parts[1], forwarded, body, close


def _response(status: int, headers: dict[str, str], body: bytes, method: str, close: bool) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in _HOP_HEADERS]
    lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close" if close else "Connection: keep-alive")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if method == "HEAD" else head + body
