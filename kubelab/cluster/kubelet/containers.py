"""Containers as the kubelet tracks them: one slot per container of the spec, one instance per run.

A `Container` is a slot of the pod spec (an init container, a sidecar or an app container) with
its restart count, the reason its last start attempt failed (the kubelet's reason cache:
ErrImagePull, CrashLoopBackOff…), its probe verdicts and its current and previous `Instance`.
An `Instance` is one run — containerd's container: its ID, image, filesystem, log and exit. A
`Process` drives a runtime generator on the cluster's clock: each `Sleep` becomes a timer, a stop
signal is thrown in, SIGKILL closes it. `Container.status()` is the container's entry in
`containerStatuses`, field for field as the kubelet reports it.

Read by: kubelet.worker, startup, probes, termination, cluster.podops. Reads: runtime, logs, stages, clock.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Generator
from typing import Any

from kubelab.cluster.clock import SimClock, rfc3339
from kubelab.cluster.kubelet.logs import LogBuffer
from kubelab.cluster.kubelet.stages import STARTUP_WINDOW
from kubelab.cluster.runtime import FileSystem, Image, ProcessContext, Signal, Sleep

Obj = dict[str, Any]
RUNTIME_FAILURE = 255  # a runtime bug ends the process like an unexpected crash


class Process:
    """One runtime generator, resumed on the simulated clock until it returns its exit code."""

    # one per container, kept as long as it runs
    __slots__ = ("clock", "gen", "on_exit", "on_step", "background", "on_error", "timer", "exit_code")

    def __init__(self, clock: SimClock, gen: Generator[Sleep, None, int], on_exit: Callable[[int], None], *,
                 on_step: Callable[[], None] | None = None, background: Callable[[], bool] = lambda: False,
                 on_error: Callable[[Exception], None] | None = None) -> None:
        self.clock = clock
        self.gen = gen
        self.on_exit = on_exit
        self.on_step = on_step
        self.background = background
        self.on_error = on_error
        self.timer: Any = None
        self.exit_code: int | None = None

    @property
    def running(self) -> bool:
        return self.exit_code is None

    def begin(self) -> None:
        self._advance(self.gen.send, None)  # send(None) starts a generator as next() does

    def _wake(self) -> None:
        self.timer = None
        self._advance(self.gen.send, None)

    def _advance(self, step: Callable[[Any], Sleep], arg: Any) -> None:
        # `step(arg)` (send or throw) rather than a lambda per call: one fewer frame and closure
        # on every resume of every container's process.
        if self.exit_code is not None:
            return
        try:
            request = step(arg)
        except StopIteration as stop:
            self._finish(stop.value if isinstance(stop.value, int) else 0)
            return
        except Exception as err:  # the runtime must never take the kubelet down
            if self.on_error is not None:
                self.on_error(err)
            self._finish(RUNTIME_FAILURE)
            return
        if self.on_step is not None:
            self.on_step()
        if self.exit_code is not None:
            return
        seconds = getattr(request, "seconds", math.inf)
        if not math.isinf(seconds):
            self.timer = self.clock.call_later(seconds, self._wake, background=self.background())

    def signal(self, signum: int) -> None:
        """Deliver a signal (the program may handle it, ignore it, or die of it)."""
        if self.exit_code is not None:
            return
        self._cancel()
        self._advance(self.gen.throw, Signal(signum))

    def kill(self, code: int = 137) -> None:
        """SIGKILL: the process is gone at once."""
        if self.exit_code is not None:
            return
        self._cancel()
        try:
            self.gen.close()
        except Exception:  # noqa: BLE001 - a program's cleanup failing changes nothing: it is dead
            pass
        self._finish(code)

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _finish(self, code: int) -> None:
        self.exit_code = code
        self._cancel()
        self.on_exit(code)


def container_id(pod_uid: str, name: str, attempt: int) -> str:
    """64 hex digits, stable for a pod's container and attempt (no generator state consumed)."""
    return hashlib.sha256(f"{pod_uid}/{name}/{attempt}".encode()).hexdigest()


class Instance:
    """One run of a container."""

    # slots, and a log buffer made at the first line or read: one instance lives as long as each
    # container runs, and pause (most containers of a big cluster) never writes a line (an empty
    # LogBuffer is ~1 KB, its deque most of it).
    __slots__ = ("id", "attempt", "image", "runtime", "created", "started_at", "finished_at", "exit_code",
                 "reason", "message", "_logs", "fs", "ctx", "process", "user", "oom", "clock")

    def __init__(self, cid: str, attempt: int, image: Image, created: float, runtime: str) -> None:
        self.id = cid
        self.attempt = attempt
        self.image = image
        self.runtime = runtime  # "containerd" or "docker": the containerID scheme
        self.created = created
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.exit_code: int | None = None
        self.reason = ""
        self.message = ""
        self._logs: LogBuffer | None = None
        self.fs: FileSystem | None = None
        self.ctx: ProcessContext | None = None
        self.process: Process | None = None
        self.user: Obj | None = None
        self.oom = False
        self.clock: SimClock | None = None  # the time its output lines are stamped with (set by create)

    @property
    def logs(self) -> LogBuffer:
        logs = self._logs
        if logs is None:
            logs = self._logs = LogBuffer()
        return logs

    # Its process's stdout and stderr: bound methods rather than two closures per container start.
    def stdout(self, text: str) -> None:
        self.logs.write("stdout", text, self.clock.now())  # type: ignore[union-attr]

    def stderr(self, text: str) -> None:
        self.logs.write("stderr", text, self.clock.now())  # type: ignore[union-attr]

    @property
    def container_id(self) -> str:
        return f"{self.runtime}://{self.id}"

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.finished_at is None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def terminated(self) -> Obj:
        state: Obj = {"exitCode": self.exit_code}
        state["reason"] = self.reason
        if self.message:
            state["message"] = self.message
        # A container that never started (StartError) reports containerd's zero time.
        state["startedAt"] = rfc3339(self.started_at) if self.started_at is not None else "1970-01-01T00:00:00Z"
        state["finishedAt"] = rfc3339(self.finished_at or self.created)
        state["containerID"] = self.container_id
        return state

    def young(self, now: float) -> bool:
        """Within its first minute: its own timers still count as progress for settle()."""
        return self.started_at is None or now - self.started_at < STARTUP_WINDOW

    def settled(self) -> bool:
        """Past its first minute now: its process's timers are background (a bound method, not a
        closure per container start)."""
        return not self.young(self.clock.now())  # type: ignore[union-attr]


class Container:
    """A container of the pod spec and what the kubelet knows about it."""

    def __init__(self, spec: Obj, kind: str) -> None:
        self.name: str = spec["name"]
        self.spec = spec
        self.kind = kind  # "init" | "sidecar" | "app"
        self.field_path = (f"spec.initContainers{{{self.name}}}" if kind in ("init", "sidecar")
                           else f"spec.containers{{{self.name}}}")
        self.current: Instance | None = None
        self.previous: Instance | None = None
        self.restart_count = 0
        self.waiting: tuple[str, str] | None = None  # (reason, message) of the last failed start attempt
        self.ready = False
        self.started = False
        self.probers: list[Any] = []
        self.stopping = False  # a kill is in progress
        self.on_stopped: Callable[[], None] | None = None  # who waits for that kill
        self.kill_timer: Any = None  # SIGKILL when the grace period ends
        self.kill_at = 0.0
        self.spec_image = spec.get("image", "")  # the image the current instance was created from
        self.force_restart = False  # the spec changed: restart whatever the restart policy says
        self._mounts: tuple[Obj, list[Obj]] | None = None  # (spec, its status.volumeMounts)
        self._mountpoints: tuple[Obj, tuple[str, ...]] | None = None  # (spec, its whole-volume mount paths)

    @property
    def running(self) -> bool:
        return self.current is not None and self.current.running

    @property
    def succeeded(self) -> bool:
        return self.current is not None and self.current.finished and self.current.exit_code == 0

    def new_instance(self, instance: Instance) -> None:
        if self.current is not None:
            self.previous = self.current
            self.restart_count += 1
        instance.attempt = self.restart_count
        self.current = instance

    def status(self, default_reason: str) -> Obj:
        current = self.current
        last: Obj = {}
        if current is None:
            reason, message = self.waiting or (default_reason, "")
            state: Obj = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
            if self.previous is not None:
                last = {"terminated": self.previous.terminated()}
        elif current.running and current.started_at is not None:
            state = {"running": {"startedAt": rfc3339(current.started_at)}}
            if self.previous is not None:
                last = {"terminated": self.previous.terminated()}
        elif current.finished and self.waiting is not None:
            reason, message = self.waiting
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
            last = {"terminated": current.terminated()}
        elif current.finished:
            state = {"terminated": current.terminated()}
            if self.previous is not None:
                last = {"terminated": self.previous.terminated()}
        else:  # created, not started yet
            state = {"waiting": {"reason": default_reason}}
        status: Obj = {"name": self.name, "state": state, "lastState": last, "ready": self.ready and self.running,
                       "restartCount": self.restart_count}
        if current is None:
            status["image"] = self.spec.get("image", "")
            status["imageID"] = ""
        else:
            status["image"] = current.image.reference
            status["imageID"] = current.image.repo_digest
            status["containerID"] = current.container_id
        status["started"] = self.started and self.running
        if current is not None:
            mounts = self._mount_statuses()
            if mounts:
                status["volumeMounts"] = mounts
            if current.user is not None:
                status["user"] = current.user
        return status

    def mountpoints(self) -> tuple[str, ...]:
        """The paths its spec mounts whole volumes on (not subPaths): the directories the image store
        makes in the image's filesystem. Built once per spec, as every restart asks again."""
        cached = self._mountpoints
        if cached is not None and cached[0] is self.spec:
            return cached[1]
        paths = tuple(m.get("mountPath", "") for m in self.spec.get("volumeMounts") or ()
                      if not m.get("subPath") and not m.get("subPathExpr"))
        self._mountpoints = (self.spec, paths)
        return paths

    def _mount_statuses(self) -> list[Obj]:
        """status.volumeMounts, built once per spec: every status posted shares the list, as the store's
        revisions share their unchanged parts (a stored object is never changed, and the kubelet
        never edits a status it has built)."""
        cached = self._mounts
        if cached is not None and cached[0] is self.spec:
            return cached[1]
        mounts = []
        for mount in self.spec.get("volumeMounts") or ():
            entry: Obj = {"name": mount.get("name"), "mountPath": mount.get("mountPath")}
            if mount.get("readOnly"):
                entry["readOnly"] = True
                entry["recursiveReadOnly"] = "Disabled"
            mounts.append(entry)
        self._mounts = (self.spec, mounts)
        return mounts
