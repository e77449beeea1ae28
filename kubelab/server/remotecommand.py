"""exec and attach over WebSocket: Kubernetes' channel protocol (`v5.channel.k8s.io`, `v4.…`).

Before the upgrade the apiserver's and kubelet's checks answer with a 400 Status, which kubectl
reports as `error: unable to upgrade connection: …` (container not valid, not running, no host).
After it, every binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the final
Status (Success, or Failure with reason NonZeroExitCode and the exit code as the ExitCode cause,
which kubectl turns into `command terminated with exit code N` and its own exit code), 4 resize;
v5 adds 255 (the client closed one of its streams — how stdin's end arrives). The command runs in
the container's sandboxed shell through `cluster.exec`, which takes stdin whole: with `stdin=true`
it starts once the client has closed stdin. A shell reading stdin (`exec -i … -- sh`) and anything
with a terminal (`-t`) run through `cluster.exec_stream` instead: each line runs as it arrives, and
with a terminal the keys are echoed and the prompt shown. Output is sent as it is written. `attach` follows the
container's log from now on until the container ends or the client leaves.

Read by: server.subresources. Reads: server.websocket, server.messages, cluster (exec, exec_stream,
log_stream).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.server import resources, websocket
from kubelab.server.messages import Request, Upgrade
from kubelab.server.routes import Target

if TYPE_CHECKING:
    from kubelab.server.app import ApiApp

log = logging.getLogger("kubelab.server")

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE_STREAM = 0, 1, 2, 3, 4, 255
POLL = 0.05  # seconds between looks at the client while a command runs
SUCCESS = {"metadata": {}, "status": "Success"}


def exit_status(argv: list[str], code: int) -> dict[str, Any]:
    """The kubelet's Status for a command that exited non-zero (kubectl reads the ExitCode cause)."""
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(argv)}], exit code {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def error_status(err: ApiError) -> dict[str, Any]:
    """An ApiError as the kubelet writes it on the error channel (a Status without kind/apiVersion)."""
    status = {k: v for k, v in err.status.items() if k not in ("kind", "apiVersion")}
    status.setdefault("metadata", {})
    return status


def serve(app: ApiApp, req: Request, target: Target) -> Upgrade:
    """`…/pods/NAME/exec` and `…/pods/NAME/attach`: the checks, then the WebSocket session."""
    verb = target.subresource or "exec"
    argv = req.query.get("command") or []
    streams = {name: req.flag(name) for name in ("stdin", "stdout", "stderr", "tty")}
    if verb == "exec" and not argv:
        raise ApiError("BadRequest", "you must specify at least 1 command")
    if not (streams["stdin"] or streams["stdout"] or streams["stderr"]):
        raise ApiError("BadRequest", "you must specify at least 1 of stdin, stdout, stderr")
    container = resources.locked(app, lambda: _check(app, target, req.param("container"), verb))
    if not websocket.is_upgrade(req.headers):
        raise ApiError("BadRequest", f"{verb} needs a WebSocket (Upgrade: websocket, Sec-WebSocket-Protocol: "
                                     f"{PROTOCOLS[0]}): kubelab does not serve SPDY")
    offered = websocket.offered_protocols(req.headers)
    protocol = next((p for p in offered if p in PROTOCOLS), None)
    if protocol is None:
        raise ApiError("BadRequest", f"unable to negotiate a WebSocket subprotocol from {offered}: kubelab "
                                     f"speaks {', '.join(PROTOCOLS)}")
    session = _Session(app, target, container, argv, streams, protocol == PROTOCOLS[0])
    return Upgrade(protocol, session.exec if verb == "exec" else session.attach, session.cancel.set)


def _check(app: ApiApp, target: Target, container: str | None, verb: str) -> str:
    """The apiserver's checks (the pod, its container, its node) and the kubelet's (running)."""
    pod = app.cluster.api.get(target.kind, target.namespace or "", target.name or "")
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or ()]
    inits = [c["name"] for c in spec.get("initContainers") or ()]
    if not container:
        if len(names) != 1:
            message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
            raise ApiError("BadRequest", message)
        container = names[0]
    if container not in names and container not in inits:
        raise ApiError("BadRequest", f"container {container} is not valid for pod {name}")
    if not spec.get("nodeName"):
        raise ApiError("BadRequest", f"pod {name} does not have a host assigned")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        doing = "exec into" if verb == "exec" else "attach"
        raise ApiError("BadRequest", f"cannot {doing} a container in a completed pod; current phase is {phase}")
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
    state = next((s.get("state") or {} for s in statuses if s.get("name") == container), {})
    if "running" not in state:
        raise ApiError("BadRequest", f'container not found ("{container}")')
    return container


class _Session:
    """One exec or attach over one WebSocket; runs in the connection's thread."""

    def __init__(self, app: ApiApp, target: Target, container: str, argv: list[str], streams: dict[str, bool],
                 v5: bool) -> None:
        self.cluster = app.cluster
        self.target = target
        self.container = container
        self.argv = argv
        self.streams = streams
        self.v5 = v5
        self.cancel = threading.Event()
        self.outbox: queue.Queue[tuple[int, bytes]] = queue.Queue()

    def _out(self, channel: int, text: str) -> None:
        if self.streams["tty"] and channel == STDERR:
            channel = STDOUT  # a terminal has one output stream
        if self.streams["stdout" if channel == STDOUT else "stderr"] or self.streams["tty"]:
            self.outbox.put((channel, text.encode()))

    def _finish(self, status: dict[str, Any]) -> None:
        self.outbox.put((ERROR, json.dumps(status, separators=(",", ":")).encode()))

    # --------------------------------------------------------------------- exec
    def exec(self, ws: websocket.Connection) -> None:
        if self.streams["stdin"] and (self.streams["tty"] or _is_shell(self.argv)):
            self._interactive(ws)
            return
        # v4 has no way to say "stdin ended": the command starts at once and reads no stdin.
        waiting_stdin = self.streams["stdin"] and self.v5
        stdin: list[bytes] = []
        if not waiting_stdin:
            self._start(None)
        while not self.cancel.is_set():  # set when the server stops
            if self._drain(ws):
                return
            try:
                messages = ws.receive(POLL)
            except websocket.Closed:
                self.cancel.set()
                return
            for opcode, data in messages:
                if opcode != websocket.BINARY or not data:
                    continue
                if data[0] == STDIN and waiting_stdin:
                    stdin.append(data[1:])
                elif data[0] == CLOSE_STREAM and data[1:2] == bytes([STDIN]) and waiting_stdin:
                    waiting_stdin = False
                    self._start(b"".join(stdin).decode(errors="replace"))

    def _interactive(self, ws: websocket.Connection) -> None:
        """A shell (or anything with a terminal) fed stdin as it arrives: `exec -i … -- sh`, `exec -it`."""
        try:
            stream = self.cluster.exec_stream(self.target.name or "", list(self.argv), container=self.container,
                                              namespace=self.target.namespace or "default",
                                              tty=self.streams["tty"], on_output=self._out)
        except ApiError as err:
            self._finish(error_status(err))
            self._drain(ws)
            return
        try:
            while not self.cancel.is_set():
                if self._drain(ws):
                    return
                sleeping = stream.sleeping  # a command sleeping on the clock: let time pass, poll the client
                try:
                    messages = ws.receive(0.0 if sleeping else POLL)
                except websocket.Closed:
                    return
                for opcode, data in messages:
                    if opcode != websocket.BINARY or not data:
                        continue
                    if data[0] == STDIN:
                        stream.write(data[1:].decode(errors="replace"))
                    elif data[0] == CLOSE_STREAM and data[1:2] == bytes([STDIN]):
                        stream.close_stdin()
                code = stream.wait(POLL if sleeping else 0.0)
                if code is not None:
                    self._finish(SUCCESS if code == 0 else exit_status(self.argv, code))
        finally:
            stream.kill()  # the client left (or the server stops) before the shell ended

    def _start(self, stdin: str | None) -> None:
        def run() -> None:
            try:
                result = self.cluster.exec(self.target.name or "", list(self.argv), container=self.container,
                                           namespace=self.target.namespace or "default", stdin=stdin,
                                           on_output=self._out, cancel=self.cancel)
                self._finish(SUCCESS if result.exit_code == 0 else exit_status(self.argv, result.exit_code))
            except ApiError as err:
                self._finish(error_status(err))
            except Exception as err:  # a bug in the sandbox: the client still gets an answer
                log.exception("kubelab exec %s failed", self.argv)
                self._finish(error_status(ApiError("InternalError", f"Internal error occurred: {err!r}")))

        threading.Thread(target=run, name=f"kubelab-exec-{self.target.name}", daemon=True).start()

    def _drain(self, ws: websocket.Connection) -> bool:
        """Send what the command wrote; True once the final Status went out and the socket closed."""
        while True:
            try:
                channel, data = self.outbox.get_nowait()
            except queue.Empty:
                return False
            ws.send_binary(bytes([channel]) + data)
            if channel == ERROR:
                _close(ws)
                return True

    # ------------------------------------------------------------------- attach
    def attach(self, ws: websocket.Connection) -> None:
        cluster = self.cluster
        stream = cluster.log_stream(self.target.name or "", container=self.container,
                                    namespace=self.target.namespace or "default", tail_lines=0)
        stepped = cluster.clock.mode == "stepped"
        try:
            while not self.cancel.is_set():
                try:
                    ws.receive(0)  # pings, and whether the client left (stdin is not forwarded)
                except websocket.Closed:
                    return
                line = stream.next(timeout=POLL)
                if line is not None:
                    self._out(STDOUT, line)
                    if stepped:
                        time.sleep(0.02)  # a stepped clock runs ahead as fast as it is read: pace it
                elif stream.done:
                    self._finish(SUCCESS)
                elif stepped:
                    # A container's own loop does not drag a stepped clock forward for a waiting
                    # client; while someone is attached, let time flow at about wall speed.
                    cluster.advance(POLL)
                self._drain(ws)
                if ws.closed:
                    return
        finally:
            stream.stop()


def _is_shell(argv: list[str]) -> bool:
    """`sh`, `bash -l`…: a shell that reads its commands from stdin (no `-c`, no script file)."""
    if not argv or argv[0].rsplit("/", 1)[-1] not in ("sh", "ash", "bash", "dash", "zsh"):
        return False
    return all(arg.startswith("-") and "c" not in arg for arg in argv[1:])


def _close(ws: websocket.Connection) -> None:
    """Close normally and wait (briefly) for the client's close: closing the socket with its
    pings unread would reset the connection and could lose the last output."""
    ws.close()
    for _ in range(40):
        try:
            ws.receive(POLL)
        except websocket.Closed:
            return
