"""The real kubectl forwards a local port to a simulated pod (SPDY/3.1 tunnelled in a WebSocket):
the pod's HTTP answers come back, and every failure prints kubectl's usual words."""

from __future__ import annotations

import http.client
import re
import socket

import pytest
from test_websocket import client_frame, read_frame

from kubelab.server import portforward, spdy, websocket


@pytest.fixture(scope="module", autouse=True)
def pods(served):
    c = served.cluster
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}})
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "broken"},
              "spec": {"containers": [{"name": "broken", "image": "example.invalid/nothing:1"}]}})
    c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front"},
              "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080, "targetPort": 80}]}})
    c.advance(30)


class Forward:
    """A running `kubectl port-forward` and the local port it listens on."""

    def __init__(self, served, *args: str) -> None:
        self.process = served.popen("port-forward", *args)
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline()
        found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", self.first_line)
        if found is None:
            self.stop()
            pytest.fail(f"kubectl port-forward did not start: {self.first_line!r} {self.stderr!r}")
        self.port, self.remote = int(found[1]), int(found[2])

    def get(self, path: str = "/") -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def stop(self) -> tuple[str, str]:
        if self.process.poll() is None:
            self.process.terminate()
        out, err = self.process.communicate(timeout=10)
        self.stderr = err
        return out, err


def test_port_forward_to_a_pod_serves_the_nginx_welcome_page(served):
    forward = Forward(served, "pod/web", "0:80")
    try:
        assert forward.remote == 80
        status, body = forward.get("/")
        assert status == 200 and "<title>Welcome to nginx!</title>" in body
    finally:
        out, err = forward.stop()
    assert "Handling connection for" in out
    assert err == ""


def test_one_kept_alive_connection_carries_several_requests(served):
    forward = Forward(served, "web", "0:80")
    conn = http.client.HTTPConnection("127.0.0.1", forward.port, timeout=10)
    try:
        answers = []
        for path in ("/", "/missing", "/"):
            conn.request("GET", path)
            response = conn.getresponse()
            answers.append((response.status, len(response.read()) > 0))
    finally:
        conn.close()
        out, _ = forward.stop()
    assert answers == [(200, True), (404, True), (200, True)]
    assert out.count("Handling connection for") == 1


def test_port_forward_to_a_service_goes_to_its_pods_target_port(served):
    forward = Forward(served, "svc/front", "0:8080")
    try:
        assert forward.remote == 80  # kubectl translates the Service port to the pod's targetPort itself
        status, body = forward.get("/")
        assert status == 200 and "Welcome to nginx!" in body
    finally:
        forward.stop()


def test_missing_pod_is_not_found(served):
    result = served.kubectl("port-forward", "pod/nope", "0:80")
    assert (result.rc, result.err.strip()) == (1, 'Error from server (NotFound): pods "nope" not found')


def test_pod_that_is_not_running_cannot_be_forwarded(served):
    result = served.kubectl("port-forward", "pod/broken", "0:80")
    assert result.rc == 1
    assert result.err.strip() == "error: unable to forward port because pod is not running. Current status=Pending"


def test_port_nobody_listens_on_is_the_kubelets_connection_refused(served):
    forward = Forward(served, "pod/web", "0:81")
    try:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            forward.get("/")
        forward.process.wait(timeout=10)
    finally:
        _, err = forward.stop()
    assert forward.process.returncode == 1
    assert '"An error occurred forwarding" err="error forwarding port 81 to pod ' in err
    assert ("dial tcp4 127.0.0.1:81: connect: connection refused IPv6 dial tcp6 [::1]:81: connect: connection "
            f'refused " localPort={forward.port} remotePort=81') in err
    assert err.splitlines()[-1] == "error: lost connection to pod"


def test_without_websocket_the_answer_is_a_clean_400(served):
    reply = served.api("POST", "/api/v1/namespaces/default/pods/web/portforward",
                       headers={"Upgrade": "SPDY/3.1", "Connection": "Upgrade"})
    assert reply.status == 400
    assert "needs a WebSocket" in reply.json()["message"]


# ------------------------------------------------------------------ the protocol itself
def test_header_blocks_share_one_compression_context_per_direction():
    writer, reader = spdy.Writer(), spdy.Reader()
    data = b"".join(writer.syn_stream(i, {"streamType": kind, "port": "80", "requestID": "0"})
                    for i, kind in ((1, "error"), (3, "data")))
    frames = [f for i in range(0, len(data), 5) for f in reader.feed(data[i:i + 5])]  # arbitrary pieces
    assert [(f.type, f.stream_id, f.header("streamtype")) for f in frames] == [
        (spdy.SYN_STREAM, 1, "error"), (spdy.SYN_STREAM, 3, "data")]


def test_spdy_dictionary_is_the_protocols():
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.endswith(b"charset=utf-8charset=iso-8859-1,utf-,*,enq=0.")


def _session_pair(served) -> tuple[portforward.Session, socket.socket, socket.socket]:
    server, client = socket.socketpair()
    session = portforward.Session(served.cluster, "default", "web")
    return session, server, client


def test_session_answers_client_pings_and_ends_on_goaway(served):
    session, server, client = _session_pair(served)
    writer, reader = spdy.Writer(), spdy.Reader()
    try:
        client.sendall(client_frame(websocket.BINARY, writer.ping(1) + writer.goaway(0)))
        session.run(websocket.Connection(server))
        opcode, payload = read_frame(client)
        assert opcode == websocket.BINARY
        assert [(f.type, f.value) for f in reader.feed(payload)] == [(spdy.PING, 1)]
        assert read_frame(client)[0] == websocket.CLOSE
    finally:
        server.close()
        client.close()


def test_bytes_that_are_not_http_end_the_connection_with_a_message(served):
    session, server, client = _session_pair(served)
    writer, reader = spdy.Writer(), spdy.Reader()
    frames = (writer.syn_stream(1, {"streamType": "error", "port": "80", "requestID": "0"})
              + writer.syn_stream(3, {"streamType": "data", "port": "80", "requestID": "0"})
              + writer.data(3, b"\x00\x01PING\r\n\r\n") + writer.goaway(3))
    try:
        client.sendall(client_frame(websocket.BINARY, frames))
        session.run(websocket.Connection(server))
        got = []
        while True:
            opcode, payload = read_frame(client)
            if opcode == websocket.CLOSE:
                break
            got += reader.feed(payload)
    finally:
        server.close()
        client.close()
    assert [(f.type, f.stream_id) for f in got[:2]] == [(spdy.SYN_REPLY, 1), (spdy.SYN_REPLY, 3)]
    error = b"".join(f.data for f in got if f.type == spdy.DATA and f.stream_id == 1)
    assert error == b"kubelab: the simulated pod web only answers HTTP on port 80"
    assert {f.stream_id for f in got if f.type == spdy.DATA and f.fin} == {1, 3}
