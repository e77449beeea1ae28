"""HTTP(S) transport of the local API server: threads, TLS, bearer tokens, chunked streams.

One thread per connection (ThreadingHTTPServer), HTTP/1.1 keep-alive, TLS handshakes done
in the connection's own thread (a slow client never blocks `accept`). An `Upgrade` answer
switches the connection to a WebSocket (exec, attach, port-forward) for the rest of its life.
Every request must carry `Authorization: Bearer <token>`; otherwise it gets the 401 Status kubectl reports as
`You must be logged in to the server (Unauthorized)`. A handler that raises is a bug: it is
logged and answered with a 500 Status while the server keeps serving. `close()` wakes every
open stream, so watches end with a clean last chunk instead of a reset.

Read by: server.handle. Reads: server.messages, api.errors.
"""

from __future__ import annotations

import hmac
import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from kubelab.api.errors import ApiError
from kubelab.server import websocket
from kubelab.server.messages import Request, Response, Stream, Upgrade, status_response

log = logging.getLogger("kubelab.server")

App = Callable[[Request], "Response | Stream | Upgrade"]
UNAUTHORIZED = ApiError("Unauthorized", "Unauthorized")
IDLE_TIMEOUT = 300.0  # seconds a keep-alive connection may sit idle (Go keeps idle conns 90 s)
MAX_BODY = 64 * 1024 * 1024


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, token: str, context: ssl.SSLContext | None) -> None:
        self.app = app
        self.token = token
        self.ssl_context = context
        self.stopping = False
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._streams: set[Stream | Upgrade] = set()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn = request
        try:
            # Answers go out as a few writes: without NODELAY, Nagle and the client's delayed ACK
            # hold the last one back for ~40 ms.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                request.settimeout(10)
                conn = self.ssl_context.wrap_socket(request, server_side=True)
                conn.settimeout(None)
            with self._lock:
                if self.stopping:
                    return
                self._connections.add(conn)
            self.RequestHandlerClass(conn, client_address, self)  # type: ignore[arg-type]
        except (ssl.SSLError, OSError) as err:
            log.debug("connection from %s ended: %s", client_address, err)
        finally:
            with self._lock:
                self._connections.discard(conn)
            if conn is not request:
                try:
                    conn.close()
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("kubelab API server: connection from %s failed", client_address)

    def track(self, stream: Stream | Upgrade, add: bool) -> None:
        with self._lock:
            if add:
                self._streams.add(stream)
            else:
                self._streams.discard(stream)

    def close(self) -> None:
        """Stop accepting, end every stream, drop idle keep-alive connections."""
        with self._lock:
            self.stopping = True
            streams, connections = list(self._streams), list(self._connections)
        self.shutdown()
        for stream in streams:
            stream.cancel()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RD)  # unblocks a thread waiting for the next request
            except OSError:
                pass
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubelab"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: HttpServer
    _headers_buffer: list[bytes]

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError("RequestEntityTooLarge", "Request entity too large: limit is 3145728", code=413)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.server.token.encode())

    def _serve(self) -> None:
        try:
            body = self._read_body()
            if not self._authorized():
                result: Response | Stream | Upgrade = status_response(UNAUTHORIZED)
            else:
                parts = urlsplit(self.path)
                request = Request(self.command, unquote(parts.path), parse_qs(parts.query, keep_blank_values=True),
                                  self.headers, body)
                result = self.server.app(request)
        except ApiError as err:
            result = status_response(err)
        except Exception as err:  # a handler bug: report it, keep serving
            log.exception("kubelab API server: %s %s failed", self.command, self.path)
            result = status_response(ApiError("InternalError", f"Internal error occurred: {err!r}"))
        if isinstance(result, Stream):
            self._stream(result)
        elif isinstance(result, Upgrade):
            self._upgrade(result)
        else:
            self._respond(result)

    def _respond(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if not any(name == "Cache-Control" for name, _ in response.headers):
            self.send_header("Cache-Control", "no-cache, private")
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        # Headers and body in one write: one TLS record, one segment for small answers.
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def _stream(self, stream: Stream) -> None:
        chunked = self.request_version != "HTTP/1.0"
        self.server.track(stream, True)
        try:
            self.send_response(200)
            self.send_header("Content-Type", stream.content_type)
            self.send_header("Cache-Control", "no-cache, private")
            for name, value in stream.headers:
                self.send_header(name, value)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.close_connection = True
            self.end_headers()
            self.wfile.flush()
            for chunk in stream.chunks:
                if self.server.stopping or self._client_left():
                    self.close_connection = True
                    break
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                    self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (OSError, ValueError):
            self.close_connection = True  # the client went away mid-stream
        finally:
            close = getattr(stream.chunks, "close", None)
            if close is not None:
                close()
            self.server.track(stream, False)

    def _upgrade(self, upgrade: Upgrade) -> None:
        """Switch to a WebSocket and run the session; the connection ends with it."""
        self.close_connection = True
        self.server.track(upgrade, True)
        try:
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", websocket.accept_key(self.headers.get("Sec-WebSocket-Key", "")))
            if upgrade.protocol:
                self.send_header("Sec-WebSocket-Protocol", upgrade.protocol)
            self.end_headers()
            self.wfile.flush()
            # The client sends nothing before it has read the 101, so rfile has buffered nothing.
            upgrade.session(websocket.Connection(self.connection))
        except (OSError, ValueError, websocket.Closed) as err:
            log.debug("WebSocket session ended: %s", err)
        finally:
            self.server.track(upgrade, False)

    def _client_left(self) -> bool:
        """During a stream the client sends nothing more: a readable socket means it closed."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)
