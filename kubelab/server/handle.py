"""Starting and stopping a local API server: `serve(cluster)` → `ServerHandle`.

`serve` issues the server's TLS material and bearer token, binds 127.0.0.1 only (the API is
the learner's own, never the network's), starts the accept loop in a daemon thread and writes
a kubeconfig (a private temporary one unless a path is given, in which case the `kubelab`
entries are merged into that file). `ServerHandle.stop()` ends every stream and removes a
temporary kubeconfig.

Read by: kubelab.cluster.core (`Cluster.serve`), cli. Reads: server.tls, server.kubeconfig,
server.transport, server.app.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from kubelab.server import kubeconfig, tls
from kubelab.server.app import HOST, ApiApp
from kubelab.server.transport import HttpServer

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster



class ServerHandle:
    """A running API server: its `url`, `kubeconfig` path, bearer `token` and CA; `stop()` ends it."""

    def __init__(self, server: HttpServer, thread: threading.Thread, url: str, kubeconfig_path: Path,
                 token: str, ca_pem: bytes, temp_dir: str | None) -> None:
        self._server = server
        self._thread = thread
        self.url = url
        self.kubeconfig = str(kubeconfig_path)
        self.token = token
        self.ca_pem = ca_pem
        self._temp_dir = temp_dir
        self.stopped = False

    @property
    def address(self) -> tuple[str, int]:
        """The bound socket address, e.g. ("127.0.0.1", 41807)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def port(self) -> int:
        return self.address[1]

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self._server.close()
        self._thread.join(timeout=5)
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self.stopped else "serving"
        return f"<kubelab ServerHandle {self.url} {state} kubeconfig={self.kubeconfig}>"


def serve(cluster: Cluster, port: int = 0, kubeconfig_path: str | os.PathLike[str] | None = None) -> ServerHandle:
    """Serve `cluster`'s Kubernetes API over HTTPS on 127.0.0.1:`port` (0: any free port)."""
    material = tls.issue()
    token = secrets.token_urlsafe(32)
    app = ApiApp(cluster)
    server = HttpServer((HOST, port), app, token, tls.server_context(material))
    app.address = f"{HOST}:{server.server_address[1]}"
    url = f"https://{app.address}"
    temp_dir = None
    if kubeconfig_path is None:
        temp_dir = tempfile.mkdtemp(prefix="kubelab-")
        kubeconfig_path = os.path.join(temp_dir, "kubeconfig")
    written = kubeconfig.write(kubeconfig_path, url, material.ca_pem, token)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name=f"kubelab-apiserver-{server.server_address[1]}", daemon=True)
    thread.start()
    return ServerHandle(server, thread, url, written, token, material.ca_pem, temp_dir)
