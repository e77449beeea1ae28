"""`kubelab up` serves a local cluster until Ctrl-C and tells the learner how to point kubectl at it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import yaml
from apiserver_client import KUBECTL


def test_up_prints_the_export_line_serves_kubectl_and_stops_on_ctrl_c(tmp_path):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    kubeconfig = tmp_path / "kubeconfig"
    up = subprocess.Popen([sys.executable, "-m", "kubelab.cli", "up", "--nodes", "2", "--seed", "3",
                           "--clock", "stepped", "--kubeconfig", str(kubeconfig)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [up.stdout.readline() for _ in range(5)]
        assert lines[0].startswith("kubelab: a local cluster (2 nodes, stepped clock) serves the Kubernetes API at "
                                   "https://127.0.0.1:")
        assert lines[2].strip() == f"export KUBECONFIG={kubeconfig}"
        assert lines[4].strip() == "Press Ctrl-C to stop."
        env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
        nodes = subprocess.run([KUBECTL, "get", "nodes", "-o", "name"], env=env, capture_output=True, text=True,
                               timeout=30)
        assert nodes.stdout.split() == ["node/kubelab-control-plane", "node/kubelab-worker"], nodes.stderr
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        assert lines[0].split(" at ")[1].split()[0] == server
    finally:
        up.send_signal(signal.SIGINT)
        out, err = up.communicate(timeout=10)
    assert up.returncode == 0, err
    assert out.strip().endswith("kubelab: stopped.")


def test_up_on_a_busy_port_says_so(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "kubelab.cli", "up", "--port", str(port), "--kubeconfig",
                               str(tmp_path / "kc")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"kubelab: cannot serve on 127.0.0.1:{port}: Address already in use" in done.stderr
