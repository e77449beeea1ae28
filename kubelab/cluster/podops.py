"""The Cluster's pod verbs that reach a kubelet: `logs`, `log_stream` (logs -f) and `exec`.

`PodOperations` is mixed into `kubelab.Cluster`. Like the API server, it finds the pod's node and
asks that node's kubelet; errors carry the API server's and kubelet's words (`a container name
must be specified for pod go-demo-2, choose one of: [db api]`, `previous terminated container "db"
in pod "db" not found`, `container "x" in pod "y" is waiting to start: ContainerCreating`). `exec`
runs the command with the container's own shell interpreter, filesystem and process table (so
`ps aux` lists the container's processes); in stepped mode the clock moves while it sleeps.
`exec_stream` is the interactive form (`exec -i … -- sh`, `-it`): stdin fed as it arrives, through
a terminal's line discipline with `tty`. `step_follow` lets a `logs -f` reader move a stepped clock.

Read by: cluster.core (mixin), server. Reads: cluster.kubelet (workers, containers, logs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError, bad_request
from kubelab.cluster.clock import parse_time
from kubelab.cluster.kubelet.containers import Container, Instance, Process
from kubelab.cluster.kubelet.logs import LogStream, render
from kubelab.cluster.runtime import ExecError, ProcessContext, exec_
from kubelab.cluster.runtime.session import LiveInput
from kubelab.cluster.runtime.terminal import Terminal, onlcr

if TYPE_CHECKING:
    from kubelab.cluster.clock import SimClock
    from kubelab.cluster.gcpause import PausingLock
    from kubelab.cluster.kubelet.agent import Kubelet
    from kubelab.cluster.kubelet.worker import PodWorker
    from kubelab.store.memory import MemoryStore

Obj = dict[str, Any]
POD = kinds.resolve("pods")
EXEC_TIMEOUT = 3600.0  # simulated seconds a command may run before kubelab stops it
INTERACTIVE_PACE = 20.0  # simulated seconds per wall second while an interactive command sleeps (stepped)


@dataclass(frozen=True)
class ExecResult:
    stdout: str
    stderr: str
    exit_code: int


class _Resumable(Process):
    """A Process its caller may wake before its timer: new stdin or ^C for a shell waiting on input."""

    def poke(self) -> None:
        if self.running:
            self._cancel()
            self._wake()


class ExecStream:
    """An exec whose stdin arrives while it runs. `write`/`close_stdin` feed it; `wait` lets it run.

    In stepped mode time moves only while the command sleeps (`sleep 5` in the shell), at
    INTERACTIVE_PACE, so a loop typed at the prompt scrolls instead of racing to its end; while
    the shell waits for a line the clock stands still, as it does for any idle cluster.
    """

    def __init__(self, ops: PodOperations, stdin: LiveInput, terminal: Terminal | None) -> None:
        self.ops = ops
        self.stdin = stdin
        self.terminal = terminal
        self.process: Process | None = None
        self.exit_code: int | None = None
        self._done = threading.Event()

    def finished(self, code: int) -> None:
        self.exit_code = code
        self._done.set()

    def write(self, data: str) -> None:
        """Input from the client: keys through the terminal, or bytes straight to stdin."""
        with self.ops.lock:
            if self.terminal is not None:
                self.terminal.receive(data)
            else:
                self.stdin.feed(data)
            self._poke()

    def close_stdin(self) -> None:
        with self.ops.lock:
            self.stdin.close()
            self._poke()

    @property
    def sleeping(self) -> bool:
        """The command waits on the clock (a `sleep`), not on input: `wait` makes time pass."""
        process = self.process
        return process is not None and process.running and process.timer is not None

    def _poke(self) -> None:
        if isinstance(self.process, _Resumable):
            self.process.poke()

    def wait(self, timeout: float) -> int | None:
        """Let the command run for about `timeout` wall seconds; its exit code once it has ended."""
        ops, clock = self.ops, self.ops.clock
        if clock.mode == "stepped" and not self._done.is_set():
            with ops.lock:
                target = clock.now() + INTERACTIVE_PACE * timeout
                process = self.process
                while process is not None and process.running and process.timer is not None:
                    due = clock.first_due()
                    if due is None:
                        break
                    ops._advance_to(min(due, target))
                    if due >= target:
                        break
        self._done.wait(timeout)
        return self.exit_code

    def kill(self) -> None:
        """The client left: the command dies with its session."""
        with self.ops.lock:
            if self.process is not None:
                self.process.kill()


class PodOperations:
    if TYPE_CHECKING:
        lock: PausingLock
        clock: SimClock
        store: MemoryStore
        api: Any
        node_agents: dict[str, Any]

        def pump(self) -> None: ...
        def step_watch(self) -> bool: ...
        def _advance_to(self, due: float) -> None: ...

    # ------------------------------------------------------------------------- logs
    def logs(
        self,
        pod: str | Obj,
        container: str | None = None,
        namespace: str = "default",
        previous: bool = False,
        tail_lines: int | None = None,
        since_seconds: float | None = None,
        timestamps: bool = False,
        *,
        since_time: str | None = None,
        limit_bytes: int | None = None,
    ) -> str:
        """A container's log (`kubectl logs`): the current instance, or with `previous` the last one that ended."""
        with self.lock:
            self.pump()
            instance = self._log_instance(pod, container, namespace, previous)
            lines = instance.logs.select(self.clock.now(), tail_lines=tail_lines, since_seconds=since_seconds,
                                         since_time=parse_time(since_time) if since_time else None)
            return render(lines, timestamps, limit_bytes)

    def log_stream(
        self,
        pod: str | Obj,
        container: str | None = None,
        namespace: str = "default",
        previous: bool = False,
        tail_lines: int | None = None,
        since_seconds: float | None = None,
        timestamps: bool = False,
        *,
        advance: Callable[[], bool] | None = None,
    ) -> LogStream:
        """`kubectl logs -f`: the log so far, then each line as it is written, until the instance ends.

        In stepped mode a reader waiting for the next line moves the clock with `advance` (default
        `step_watch`; the API server passes a paced `step_follow`); it returns False when it did not.
        """
        with self.lock:
            self.pump()
            instance = self._log_instance(pod, container, namespace, previous)
            backlog = instance.logs.select(self.clock.now(), tail_lines=tail_lines, since_seconds=since_seconds)
            if self.clock.mode != "stepped":
                advance = None
            elif advance is None:
                advance = self.step_watch
            return LogStream(instance.logs, backlog, timestamps=timestamps, advance=advance)

    def step_follow(self) -> bool:
        """For a client following a container in stepped mode: jump to the next timer of any kind.

        A container's own sleeps (`while true; do date; sleep 5; done`) are background timers, which
        `step_watch` leaves alone so an idle cluster stays still; someone following the log wants
        them to pass. False when nothing is pending (or the clock is realtime).
        """
        if self.clock.mode != "stepped":
            return False
        with self.lock:
            due = self.clock.next_due(include_background=True)
            if due is None:
                return False
            self._advance_to(due)
            return True

    def _log_instance(self, pod: str | Obj, container: str | None, namespace: str, previous: bool) -> Instance:
        live, c = self._container(pod, container, namespace)
        name = live["metadata"]["name"]
        if previous:
            instance = _shown_last(c)
            if instance is None:
                raise bad_request(f'previous terminated container "{c.name}" in pod "{name}" not found')
            return instance
        current = c.current
        if current is not None and (current.running or current.finished):
            return current
        last = _shown_last(c)
        if last is not None:
            return last
        reason = (c.waiting or ("ContainerCreating", ""))[0] if current is None else "ContainerCreating"
        if reason == "ErrImagePull":
            raise bad_request(f'container "{c.name}" in pod "{name}" is waiting to start: image can\'t be pulled')
        if reason == "ImagePullBackOff":
            raise bad_request(f'container "{c.name}" in pod "{name}" is waiting to start: trying and failing to '
                              "pull image")
        raise bad_request(f'container "{c.name}" in pod "{name}" is waiting to start: {reason}')

    # ------------------------------------------------------------------------- exec
    def exec(
        self,
        pod: str | Obj,
        argv: list[str],
        container: str | None = None,
        namespace: str = "default",
        stdin: str | None = None,
        timeout: float = EXEC_TIMEOUT,
        *,
        on_output: Callable[[int, str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ExecResult:
        """Run `argv` in a running container (`kubectl exec`); its exit code is returned, not raised.

        `on_output(stream, text)` (1 stdout, 2 stderr) sees the output as it is written (the API
        server streams it); setting `cancel` stops the command as a closed exec session does.
        """
        if isinstance(argv, str):
            argv = [argv]
        done = threading.Event()
        out: list[str] = []
        err: list[str] = []
        code: list[int] = []

        def writer(sink: list[str], stream: int) -> Callable[[str], None]:
            if on_output is None:
                return sink.append

            def write(text: str) -> None:
                sink.append(text)
                on_output(stream, text)
            return write
        with self.lock:
            self.pump()

            def finished(exit_code: int) -> None:
                code.append(exit_code)
                done.set()

            process = self._exec_process(pod, argv, container, namespace, stdin, writer(out, 1), writer(err, 2),
                                         finished)
            deadline = self.clock.now() + timeout
            if self.clock.mode == "stepped":
                while not done.is_set() and not (cancel is not None and cancel.is_set()):
                    due = self.clock.first_due()
                    if due is None or due > deadline:
                        break
                    self._advance_to(due)
                if not done.is_set() and not (cancel is not None and cancel.is_set()):
                    writer(err, 2)(f"kubelab: the command was still running after {timeout:g} simulated seconds "
                               "and was stopped\n")
                if not done.is_set():
                    process.kill()
        if not done.is_set() and self.clock.mode != "stepped":
            remaining = timeout / max(self.clock.speed, 1e-9)  # wall seconds, counted in 0.2 s waits
            while not done.wait(timeout=min(0.2, max(remaining, 0.0))):
                remaining -= 0.2
                if remaining <= 0 or (cancel is not None and cancel.is_set()):
                    with self.lock:
                        process.kill()
                    break
        return ExecResult("".join(out), "".join(err), code[0] if code else 137)

    def exec_stream(
        self,
        pod: str | Obj,
        argv: list[str],
        container: str | None = None,
        namespace: str = "default",
        *,
        tty: bool = False,
        on_output: Callable[[int, str], None],
    ) -> ExecStream:
        """Start `argv` with stdin that arrives while it runs (`kubectl exec -i`, `-it` with `tty`).

        A shell reads and runs it line by line; `on_output(stream, text)` sees the output (and, with
        a terminal, the echo and prompts) as it is written. Drive it with `ExecStream.wait`.
        """
        stdin = LiveInput(tty=tty)
        terminal = Terminal(stdin, lambda text: on_output(1, text)) if tty else None

        def write(stream: int) -> Callable[[str], None]:
            if tty:  # a terminal has one output, and shows every newline as CR LF
                return lambda text: on_output(1, onlcr(text))
            return lambda text: on_output(stream, text)

        stream = ExecStream(self, stdin, terminal)
        with self.lock:
            self.pump()
            stream.process = self._exec_process(pod, list(argv), container, namespace, stdin, write(1), write(2),
                                                stream.finished, kind=_Resumable)
        return stream

    def _exec_process(self, pod: str | Obj, argv: list[str], container: str | None, namespace: str,
                      stdin: str | LiveInput | None, out: Callable[[str], None], err: Callable[[str], None],
                      finished: Callable[[int], None], kind: type[Process] = Process) -> Process:
        """A command started in a running container, on the cluster's clock (call with the lock held)."""
        live, c = self._container(pod, container, namespace)
        phase = (live.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise bad_request(f"cannot exec into a container in a completed pod; current phase is {phase}")
        instance = c.current
        if instance is None or not instance.running or instance.ctx is None:
            raise bad_request(f'unable to upgrade connection: container not found ("{c.name}")')
        base = instance.ctx
        ctx = ProcessContext(env=dict(base.env), fs=base.fs, hostname=base.hostname, now=base.now, stdout=out,
                             stderr=err, network=base.network, stdin=stdin, listening=base.listening, user=base.user,
                             groups=base.groups, pod_ip=base.pod_ip, workdir=base.workdir)
        try:
            gen = exec_(list(argv), instance.image, ctx)
        except ExecError as error:
            raise ApiError("InternalError", "Internal error occurred: error executing command in container: "
                                            f"{error}") from None
        process = kind(self.clock, gen, finished)
        process.begin()
        return process

    # ------------------------------------------------------------------------ helpers
    def kubelet(self, node: str) -> Kubelet:
        """The kubelet of a node (for inspection: its workers, image store, IPAM)."""
        agent = self.node_agents.get(node)
        if agent is None:
            raise ApiError("NotFound", f'nodes "{node}" not found')
        return agent.kubelet

    def _container(self, pod: str | Obj, container: str | None, namespace: str) -> tuple[Obj, Container]:
        if isinstance(pod, dict):
            namespace = pod.get("metadata", {}).get("namespace") or namespace
            pod = pod["metadata"]["name"]
        live = self.api.get(POD, namespace, pod)
        spec = live.get("spec") or {}
        names = [c["name"] for c in spec.get("containers") or ()]
        inits = [c["name"] for c in spec.get("initContainers") or ()]
        if container is None:
            if len(names) == 1:
                container = names[0]
            elif not names:
                raise bad_request(f"a container name must be specified for pod {pod}")
            else:
                message = f"a container name must be specified for pod {pod}, choose one of: [{' '.join(names)}]"
                if inits:
                    message += f" or one of the init containers: [{' '.join(inits)}]"
                raise bad_request(message)
        if container not in names and container not in inits:
            raise bad_request(f"container {container} is not valid for pod {pod}")
        node = spec.get("nodeName")
        if not node:
            raise bad_request(f"pod {pod} does not have a host assigned")
        worker = self._worker(node, live)
        return live, worker.containers[container]

    def _worker(self, node: str, live: Obj) -> PodWorker:
        agent = self.node_agents.get(node)
        kubelet = getattr(agent, "kubelet", None)
        ip = getattr(kubelet, "host_ip", "") or node
        meta = live["metadata"]
        where = f"https://{ip}:10250/containerLogs/{meta['namespace']}/{meta['name']}"
        if kubelet is None or not kubelet.alive:
            raise ApiError("InternalError", f'Get "{where}": dial tcp {ip}:10250: connect: no route to host')
        worker = kubelet.workers.get((meta["namespace"], meta["name"]))
        if worker is None or worker.uid != meta["uid"]:
            raise bad_request(f"pod {meta['name']} is not running on this node anymore")
        return worker


def _shown_last(c: Container) -> Instance | None:
    """The instance `lastState.terminated` describes (what `--previous` reads)."""
    current = c.current
    if current is not None and current.finished and c.waiting is not None:
        return current
    if current is None or current.running or current.finished:
        return c.previous
    return None

