"""Local access from the notebook's machine: `minikube service --url` and `kubectl port-forward`.

Each listener is a small HTTP server bound to 127.0.0.1 only (never other interfaces: a class
must not expose its cluster to the network) on a daemon thread. Every request it accepts is
carried into the simulated cluster under the cluster lock: `service_url` sends it to a node's
IP:nodePort through the pod network (kube-proxy's NodePort path), `port_forward` sends it to
one pod's port, as the kubelet's port-forward stream does. `cluster.close()` stops them all.

Read by: network (install attaches `cluster.service_url` and `cluster.port_forward`).
Reads: network.traffic (PodNetwork), controllers.endpointutil, store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError, not_found
from kubelab.cluster.controllers.endpointutil import find_port, pod_ready, selects

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster
    from kubelab.cluster.network.traffic import PodNetwork

Obj = dict[str, Any]
Answer = tuple[int, dict[str, str], bytes]
Forward = Callable[[str, str, dict[str, str]], Answer]

# Headers that describe one hop's connection, not the message: the local server sets its own.
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


class Listener:
    """One local HTTP listener; `.url`, `.port`, `.stop()` are what a notebook uses."""

    def __init__(self, forward: Forward, port: int = 0, name: str = "kubelab-listener") -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(forward))
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = False
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{name}:{self.port}", daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self.server.server_address[:2]  # type: ignore[return-value]

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)

    def __repr__(self) -> str:
        return f"<kubelab listener {self.url}{' stopped' if self._stopped else ''}>"


def _handler_class(forward: Forward) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a browser or http.client reuses the connection
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # the simulated programs answer by method and path only
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            status, answer_headers, body = forward(self.command, self.path, headers)
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = ""
            self.send_response_only(status, phrase)
            for key, value in answer_headers.items():
                if key.lower() not in _HOP_HEADERS:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _proxy

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # one stderr line per request would flood the notebook

    return Handler


def _failure(message: str) -> Answer:
    """What the local client sees when the cluster side cannot answer (a proxy's 502)."""
    return 502, {"Content-Type": "text/plain; charset=utf-8"}, f"{message}\n".encode()


class Listeners:
    """`cluster.service_url` and `cluster.port_forward`; every listener is stopped by `cluster.close()`."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.by_service: dict[tuple[str, str], Listener] = {}
        self.open: list[Listener] = []
        if not hasattr(cluster, "_closers"):
            cluster._closers = []
        cluster._closers.append(self.close)

    @property
    def network(self) -> PodNetwork:
        return self.cluster.pod_network  # type: ignore[attr-defined, no-any-return]

    def close(self) -> None:
        for listener in self.open:
            listener.stop()
        self.open.clear()
        self.by_service.clear()

    def _start(self, forward: Forward, port: int, name: str) -> Listener:
        try:
            listener = Listener(forward, port, name)
        except OSError as err:  # kubectl's words for a taken local port
            raise ApiError("", f"unable to listen on port {port}: Listeners failed to create with the following "
                           f"errors: [unable to create listener: Error listen tcp4 127.0.0.1:{port}: bind: "
                           f"{err.strerror or err}]", code=500) from err
        self.open.append(listener)
        return listener

    # ------------------------------------------------------------ minikube service --url
    def service_url(self, name: str, namespace: str = "default") -> str:
        """The local URL of a NodePort/LoadBalancer Service (`minikube service NAME --url`)."""
        with self.cluster.lock:
            self.cluster.pump()
            service = self._service(name, namespace)
            if _node_port(service) is None:
                raise ApiError("BadRequest", f"service {namespace}/{name} has no node port",
                               hint=f"expose it outside the cluster with type NodePort, or use "
                                    f"port_forward('svc/{name}', 0, <port>)")
            listener = self.by_service.get((namespace, name))
            if listener is None or listener not in self.open:
                listener = self._start(lambda m, t, h: self._to_node_port(namespace, name, m, t, h), 0,
                                       f"service-{namespace}-{name}")
                self.by_service[(namespace, name)] = listener
            return listener.url

    def _service(self, name: str, namespace: str) -> Obj:
        service = self.cluster.store.get(("", "services"), namespace, name)
        if service is None:
            raise not_found("", "services", name)
        return service  # type: ignore[no-any-return]

    def _to_node_port(self, namespace: str, name: str, method: str, target: str, headers: dict[str, str]) -> Answer:
        with self.cluster.lock:
            self.cluster.pump()
            service = self.cluster.store.get(("", "services"), namespace, name)
            port = _node_port(service) if service is not None else None
            if port is None:
                return _failure(f"service {namespace}/{name} has no node port")
            node_ip = self._node_ip()
            if node_ip is None:
                return _failure("no node has an InternalIP")
            return self._send(method, f"http://{node_ip}:{port}{target}", headers)

    def _node_ip(self) -> str | None:
        nodes, _ = self.cluster.store.list(("", "nodes"))
        # The first node, as minikube's is: its IP answers on every nodePort (kube-proxy runs on each node).
        for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            for address in (node.get("status") or {}).get("addresses") or ():
                if address.get("type") == "InternalIP":
                    return address["address"]  # type: ignore[no-any-return]
        return None

    def _send(self, method: str, url: str, headers: dict[str, str]) -> Answer:
        try:
            return self.network.send(method, url, headers, "", [])
        except ConnectionRefusedError:
            return _failure(f"dial tcp {url.split('/')[2]}: connect: connection refused")
        except TimeoutError:
            return _failure(f"dial tcp {url.split('/')[2]}: i/o timeout")

    # --------------------------------------------------------------- kubectl port-forward
    def port_forward(self, target: str, local_port: int, remote_port: int, namespace: str = "default") -> Listener:
        """`kubectl port-forward TARGET LOCAL:REMOTE`: target `pod/NAME`, `svc/NAME` (or a bare pod name)."""
        kind, _, name = target.rpartition("/")
        kind = kind.lower() or "pod"
        with self.cluster.lock:
            self.cluster.pump()
            if kind in ("svc", "service", "services"):
                pod_name, port = self._service_pod(name, namespace, remote_port)
            elif kind in ("po", "pod", "pods"):
                pod_name, port = name, remote_port
            else:
                raise ApiError("BadRequest", f"error: cannot attach to {kind}: not implemented",
                               hint="forward to pod/NAME or svc/NAME")
            pod = self._running_pod(pod_name, namespace)
            self._check_listening(pod, port)
        return self._start(lambda m, t, h: self._to_pod(namespace, pod_name, port, m, t, h), local_port,
                           f"port-forward-{namespace}-{pod_name}")

    def _service_pod(self, name: str, namespace: str, remote_port: int) -> tuple[str, int]:
        """kubectl's translation: the Service port's targetPort on one running pod of its selector."""
        service = self._service(name, namespace)
        spec = service.get("spec") or {}
        ports = [p for p in spec.get("ports") or () if p.get("port") == remote_port]
        if not ports:
            raise ApiError("BadRequest", f"error: Service {name} does not have a service port {remote_port}")
        pods, _ = self.cluster.store.list(("", "pods"), namespace)
        candidates = [p for p in pods if selects(service, p["metadata"].get("labels"))
                      and (p.get("status") or {}).get("phase") == "Running"
                      and not p["metadata"].get("deletionTimestamp")]
        if not candidates:
            raise ApiError("", "error: timed out waiting for the condition", code=500,
                           hint=f"no running pod matches Service {name}'s selector")
        # kubectl prefers ready pods; among equals the name keeps the choice reproducible.
        pod = sorted(candidates, key=lambda p: (not pod_ready(p), p["metadata"]["name"]))[0]
        port = find_port(pod, ports[0].get("targetPort", remote_port), ports[0].get("protocol", "TCP"))
        if port is None:
            raise ApiError("BadRequest", f"error: Service {name} does not have a service port {remote_port}")
        return pod["metadata"]["name"], port

    def _running_pod(self, name: str, namespace: str) -> Obj:
        pod = self.cluster.store.get(("", "pods"), namespace, name)
        if pod is None:
            raise not_found("", "pods", name)
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Running":
            raise ApiError("BadRequest", f"error: unable to forward port because pod is not running. "
                           f"Current status={phase}")
        return pod  # type: ignore[no-any-return]

    def _check_listening(self, pod: Obj, port: int) -> None:
        ip = (pod.get("status") or {}).get("podIP") or ""
        try:
            self.network.listener(ip, port)
        except (ConnectionRefusedError, TimeoutError) as err:
            name = pod["metadata"]["name"]
            raise ApiError("", f"error forwarding port {port} to pod {name}: dial tcp4 127.0.0.1:{port}: "
                           "connect: Connection refused", code=500,
                           hint=f"no container of pod {name} listens on port {port}") from err

    def _to_pod(self, namespace: str, name: str, port: int, method: str, target: str,
                headers: dict[str, str]) -> Answer:
        with self.cluster.lock:
            self.cluster.pump()
            pod = self.cluster.store.get(("", "pods"), namespace, name)
            ip = (pod.get("status") or {}).get("podIP") if pod is not None else None
            if not ip:
                return _failure(f'pods "{name}" not found')
            return self._send(method, f"http://{ip}:{port}{target}", headers)


def _node_port(service: Obj | None) -> int | None:
    for port in ((service or {}).get("spec") or {}).get("ports") or ():
        if port.get("nodePort") and port.get("protocol", "TCP") == "TCP":
            return int(port["nodePort"])
    return None


def install(cluster: Cluster) -> Listeners:
    listeners = Listeners(cluster)
    cluster.service_url = listeners.service_url  # type: ignore[attr-defined]
    cluster.port_forward = listeners.port_forward  # type: ignore[attr-defined]
    cluster.local_listeners = listeners  # type: ignore[attr-defined]
    return listeners
