"""The local API server is the learner's alone: HTTPS with its own CA, a bearer token, 127.0.0.1
only, a kubeconfig only its owner can read; and it stops cleanly, streams included."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import threading
import time

import pytest
import yaml
from apiserver_client import KUBECTL, Served

import kubelab


def test_no_token_is_401_unauthorized(served):
    reply = served.api("GET", "/api/v1/namespaces", token=None)
    assert reply.status == 401
    assert reply.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_wrong_token_is_401_and_kubectl_says_log_in(served, tmp_path):
    assert served.api("GET", "/version", token="guess").status == 401
    config = yaml.safe_load(open(served.handle.kubeconfig))
    config["users"][0]["user"]["token"] = "guess"
    bad = tmp_path / "bad-kubeconfig"
    bad.write_text(yaml.safe_dump(config))
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    env = {"KUBECONFIG": str(bad), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    result = subprocess.run([KUBECTL, "get", "pods"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "error: You must be logged in to the server" in result.stderr


def test_plain_http_is_not_served(served):
    host, port = served.handle.address
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        try:
            answer = sock.recv(100)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200")


def test_server_binds_loopback_only(served):
    host, port = served.handle.address
    assert host == "127.0.0.1"
    assert served.handle.url == f"https://127.0.0.1:{port}"
    others = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    others |= _interface_addresses()
    others = {a for a in others if not a.startswith("127.")}
    if not others:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    for address in others:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()


def _interface_addresses() -> set[str]:
    """IPv4 addresses of this machine's interfaces (best effort, Linux)."""
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        address = probe.getsockname()[0]
        probe.close()
        return {address}
    except OSError:
        return set()


def test_kubeconfig_is_private_and_names_the_kubelab_context(served):
    path = served.handle.kubeconfig
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    config = yaml.safe_load(open(path))
    assert config["current-context"] == "kubelab"
    assert config["users"] == [{"name": "kubelab", "user": {"token": served.handle.token}}]
    assert config["clusters"][0]["cluster"]["certificate-authority-data"]


def test_serving_into_an_existing_kubeconfig_keeps_other_contexts(tmp_path):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "minikube",
        "clusters": [{"name": "minikube", "cluster": {"server": "https://192.168.49.2:8443"}}],
        "users": [{"name": "minikube", "user": {"token": "m"}}],
        "contexts": [{"name": "minikube", "context": {"cluster": "minikube", "user": "minikube"}}]}))
    with kubelab.Cluster(clock="stepped", seed=1) as cluster:
        handle = cluster.serve(kubeconfig=path)
        handle.stop()
    config = yaml.safe_load(path.read_text())
    assert [c["name"] for c in config["contexts"]] == ["minikube", "kubelab"]
    assert config["current-context"] == "kubelab"
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_stop_ends_open_watches_cleanly_and_removes_a_temporary_kubeconfig():
    with kubelab.Cluster(clock="realtime", seed=1) as cluster:
        handle = cluster.serve()
        served = Served(cluster, handle, None)  # type: ignore[arg-type]
        lines: list = []
        ended = threading.Event()

        def consume():
            for event in served.watch_lines("/api/v1/namespaces?watch=true", timeout=10):
                lines.append(event)
            ended.set()

        threading.Thread(target=consume, daemon=True).start()
        time.sleep(0.5)
        started = time.monotonic()
        handle.stop()
        assert ended.wait(3), "the watch stream did not end"
        assert time.monotonic() - started < 2
        assert {e["object"]["metadata"]["name"] for e in lines} >= {"default", "kube-system"}
        assert not os.path.exists(handle.kubeconfig)
        with pytest.raises(OSError):
            socket.create_connection(handle.address, timeout=1).close()


def test_concurrent_requests_are_served_while_a_watch_waits(served):
    stream = served.watch_lines("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1"
                                "&timeoutSeconds=5")
    started = time.monotonic()
    for _ in range(5):
        assert served.api("GET", "/api/v1/namespaces").status == 200
    assert time.monotonic() - started < 2
    stream.close()


def test_closing_the_cluster_stops_its_server():
    cluster = kubelab.Cluster(clock="stepped", seed=1)
    handle = cluster.serve()
    cluster.close()
    assert handle.stopped
    with pytest.raises(OSError):
        socket.create_connection(handle.address, timeout=1).close()
