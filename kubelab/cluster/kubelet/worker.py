"""The pod worker: one per pod on a node, running the kubelet's sync loop for that pod.

`sync()` is level-triggered, like the kubelet's syncPod: it reads the pod from the API, posts its
status (one write per sync, and only when it changed — the status manager's rule), then runs the
next SyncPod — a coroutine (`startup.sync_pod`) that yields the simulated seconds each stage of
`stages.STAGES` takes: sandbox, image, create, start. Anything that happens meanwhile (a container
exits, a probe's verdict changes, the pod is updated) marks the worker dirty and is handled by the
next sync. Deletion and completion go through `termination`.

Read by: kubelet.agent (creates workers, routes pod events), startup, termination, probes, podops.
Reads: status, containers, stages, startup, termination, cluster.clock.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.cluster.clock import parse_time
from kubelab.cluster.kubelet import startup, termination
from kubelab.cluster.kubelet import status as pod_status
from kubelab.cluster.kubelet.containers import Container, Instance
from kubelab.cluster.kubelet.stages import STAGES

if TYPE_CHECKING:
    from kubelab.cluster.kubelet.agent import Kubelet
    from kubelab.cluster.kubelet.volumes import PodVolumes

Obj = dict[str, Any]
PODS = ("", "pods")
SyncPod = Generator[float, None, bool]


class PodWorker:
    # Defaults nothing sets until they change live on the class (an instance sets its own when one
    # changes): a node makes a worker per pod, and ~20 attribute stores per worker were half its
    # construction (cProfile). The rest are only declared here: __init__ sets them (see there why).
    mount_failures = 0
    paused = False
    force_phase = ""  # a phase decided by the kubelet itself (DeadlineExceeded: Failed)
    reason = ""
    message = ""
    volumes: PodVolumes | None
    sandbox_ready: bool
    pod_ip: str
    start_time: float | None
    task: SyncPod | None
    step_timer: Any
    dirty: bool
    terminating: bool  # deletion in progress
    terminal: bool  # every container is done for good: the phase is final
    done: bool  # sandbox gone; nothing will happen to this pod here again
    gone: bool  # forgotten by the kubelet
    finishing: bool  # containers are being stopped because the pod is done (or past its deadline)
    reported_running: bool
    created_containers: bool

    def __init__(self, kubelet: Kubelet, pod: Obj) -> None:
        meta = pod["metadata"]
        self.kubelet = kubelet
        self.cluster = kubelet.cluster
        self.clock = kubelet.cluster.clock
        self.uid: str = meta["uid"]
        self.key = (meta["namespace"], meta["name"])
        self.pod = pod
        # The pod's spec, kept beside `pod` (set together, here and in `sync`, the only places that
        # change it) rather than a property: read ~9 times per pod start, ~0.2 µs a property call.
        self.spec: Obj = pod.get("spec") or {}
        spec = self.spec
        self.containers: dict[str, Container] = {}
        self.inits: list[Container] = []
        self.apps: list[Container] = []
        for c in spec.get("initContainers") or ():
            slot = Container(c, "sidecar" if pod_status.is_sidecar(c) else "init")
            self.inits.append(slot)
            self.containers[slot.name] = slot
        for c in spec.get("containers") or ():
            slot = Container(c, "app")
            self.apps.append(slot)
            self.containers[slot.name] = slot
        self.listening: dict = {}  # the pod's network namespace: port → the program answering there
        self.pull_errors: dict[str, str] = {}
        self.timers: dict[str, Any] = {}
        # What every pod's way up (and down) sets later, set here once more: CPython 3.11 freezes a
        # class's shared attribute keys as instances are made, so a name first stored after thousands
        # of workers exist turns that worker's attributes into a full dict (832 B per pod, tracemalloc).
        self.volumes = None
        self.sandbox_ready = False
        self.pod_ip = ""
        self.start_time = None
        self.task = None
        self.step_timer = None
        self.dirty = False
        self.created_containers = False
        self.reported_running = False
        self.terminating = False
        self.terminal = False
        self.finishing = False
        self.done = False
        self.gone = False

    def adopt_previous_status(self) -> None:
        """A pod that already ran here before this kubelet started (a cluster reopened from its state
        file): its sandbox is gone, so it is re-created and every container restarts."""
        status = self.pod.get("status") or {}
        ran = False
        for entry in (*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())):
            c = self.containers.get(entry.get("name"))
            if c is not None and entry.get("containerID"):
                c.restart_count = int(entry.get("restartCount") or 0) + 1
                ran = True
                self.kubelet.images.remember(entry.get("image") or "")  # images survive a node's restart
        if ran:
            self.event("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")

    # -------------------------------------------------------------------------- facts
    @property
    def now(self) -> float:
        # (Every pod's start path calls self.clock.now() itself: ~8 property calls per pod saved.)
        return self.clock.now()

    @property
    def restart_policy(self) -> str:
        return self.spec.get("restartPolicy") or "Always"

    @property
    def ref(self) -> str:
        """`db_default(uid)`: how the kubelet names a pod in its messages."""
        return f"{self.key[1]}_{self.key[0]}({self.uid})"

    def live(self) -> Obj | None:
        pod = self.cluster.store.get(PODS, *self.key)
        return pod if pod is not None and pod["metadata"].get("uid") == self.uid else None

    def event(self, type: str, reason: str, message: str, container: Container | None = None) -> None:
        # The recorder itself, not Cluster.record_event's one-line wrapper: three Events per pod.
        self.cluster.recorder.record(self.pod, type, reason, message, "kubelet", host=self.kubelet.node,
                                     field_path=container.field_path if container is not None else None)

    def trace(self, action: str, detail: str = "") -> None:
        self.cluster.trace_log.add("kubelet", action, self.pod, detail)

    # ------------------------------------------------------------------------- timers
    def later(self, purpose: str, when: float, fn: Callable[[], None] | None = None, *,
              background: bool = False) -> None:
        """One pending timer per purpose (a newer one replaces it); cancelled when the pod goes."""
        old = self.timers.pop(purpose, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            self.timers.pop(purpose, None)
            (fn or self.sync)()

        self.timers[purpose] = self.kubelet.clock.call_at(max(when, self.now), fire, background=background)

    def cancel_timers(self) -> None:
        for timer in self.timers.values():
            timer.cancel()
        self.timers.clear()

    # --------------------------------------------------------------------------- sync
    def request_sync(self) -> None:
        if self.task is not None or self.paused:
            self.dirty = True
        else:
            self.sync()

    def sync(self) -> None:
        if self.gone or not self.kubelet.alive:
            self.dirty = self.dirty or not self.gone
            return
        if self.task is not None:
            self.dirty = True
            return
        live = self.live()
        if live is None:
            self.kubelet.forget(self)
            return
        self.pod = live
        self.spec = live.get("spec") or {}
        self._refresh_specs()
        if live["metadata"].get("deletionTimestamp"):
            termination.begin(self)
            return
        if self.done:
            return
        if self.terminal:
            self.write_status(live)
            return
        self.write_status(live)
        if self._deadline():
            return
        if termination.completed(self):
            termination.finish(self)
            return
        self.run(startup.sync_pod(self))

    def sources_changed(self, sources: set[tuple[str, str, str]]) -> None:
        """A ConfigMap or Secret this pod mounts changed: its files follow at the next periodic sync."""
        if self.volumes is not None and sources & self.volumes.watched and not self.terminating \
                and "project" not in self.timers:
            self.later("project", self.now + STAGES["project"].seconds, self._project)

    def _project(self) -> None:
        from kubelab.cluster.kubelet import volumes

        live = self.live()
        if live is not None and self.volumes is not None and not self.terminating:
            volumes.refresh(self.cluster.store, live, self.volumes, startup.facts(self))

    def _deadline(self) -> bool:
        """activeDeadlineSeconds: past it, the kubelet fails the pod (DeadlineExceeded)."""
        seconds = self.spec.get("activeDeadlineSeconds")
        if seconds is None or self.start_time is None or self.terminal:
            return False
        deadline = self.start_time + float(seconds)
        if self.now + 1e-9 < deadline:
            self.later("deadline", deadline)
            return False
        termination.deadline_exceeded(self)
        return True

    def _refresh_specs(self) -> None:
        spec = self.spec
        for c in (*(spec.get("initContainers") or ()), *(spec.get("containers") or ())):
            slot = self.containers.get(c["name"])
            if slot is not None:
                slot.spec = c

    def run(self, coroutine: SyncPod) -> None:
        self.task = coroutine
        self.dirty = False
        self._resume()

    def _resume(self) -> None:
        self.step_timer = None
        if self.task is None:
            return
        if not self.kubelet.alive:
            self.paused = True
            return
        try:
            delay = next(self.task)
        except StopIteration as stop:
            self.task = None
            self.write_status()
            if stop.value or self.dirty:
                self.dirty = False
                self.sync()
            return
        except Exception as err:  # a kubelet bug must not stop the cluster: note it, retry later
            self.task = None
            self.cluster.trace_log.add("kubelet", "sync failed", self.pod, repr(err))
            self.later("retry", self.now + 10.0, background=True)
            return
        self.step_timer = self.clock.call_later(delay, self._resume)

    def resume(self) -> None:
        """The kubelet is back (the node recovered): carry on where this pod was."""
        if self.paused:
            self.paused = False
            if self.task is not None:
                self._resume()
                return
        self.sync()

    def cancel_task(self) -> None:
        if self.step_timer is not None:
            self.step_timer.cancel()
            self.step_timer = None
        if self.task is not None:
            self.task.close()
            self.task = None

    # ------------------------------------------------------------------------- status
    def statuses(self) -> tuple[list[Obj], list[Obj]]:
        has_inits = bool(self.inits)
        default = "PodInitializing" if has_inits else "ContainerCreating"
        inits = [c.status("PodInitializing") for c in self.inits]
        apps = [c.status(default) for c in self.apps]
        return inits, apps

    def compute_status(self, live: Obj) -> Obj:
        inits, apps = self.statuses()
        previous = (live.get("status") or {}).get("phase")
        if previous in pod_status.TERMINAL:
            phase = previous
        elif self.force_phase:
            phase = self.force_phase
        else:
            phase = pod_status.phase(self.spec, inits, apps, terminal=self.terminal)
            if phase in pod_status.TERMINAL and not self.terminal:
                phase = "Running" if any(c.running for c in self.containers.values()) else phase
        return pod_status.pod_status(
            live, init_statuses=inits, statuses=apps, pod_phase=phase, sandbox_ready=self.sandbox_ready,
            host_ip=self.kubelet.host_ip, pod_ip=self.pod_ip, start_time=self.start_time, now=self.clock.now(),
            reason=self.reason, message=self.message)

    def write_status(self, live: Obj | None = None) -> None:
        """Post the pod's status if it changed (one write per sync). `live`: the pod as `sync` just
        read it (nothing wrote it since), which saves reading it again."""
        if not self.kubelet.alive:
            return
        if live is None:
            live = self.live()
            if live is None:
                return
        if self.start_time is None:
            started = (live.get("status") or {}).get("startTime")
            self.start_time = parse_time(started) if started else self.clock.now()
        status = self.compute_status(live)
        if status == live.get("status"):
            return
        obj = dict(live)
        obj["status"] = status
        try:
            self.kubelet.post_status(obj)
        except ApiError as err:
            self.cluster.trace_log.add("kubelet", "status update failed", live, str(err))
            return
        if status["phase"] == "Running" and not self.reported_running:
            self.reported_running = True
            self.trace("reported", "running, to the API server")

    # ----------------------------------------------------------------------- containers
    def container_exited(self, c: Container, instance: Instance, code: int) -> None:
        """A container's main process ended (or was killed): record it, and let the next sync decide."""
        now = self.now
        instance.finished_at = now
        instance.exit_code = code
        if not instance.reason:
            instance.reason = "OOMKilled" if instance.oom else ("Completed" if code == 0 else "Error")
        message = self._termination_message(c, instance)
        if message and not instance.message:
            instance.message = message
        instance.logs.close()
        instance.process = None
        for prober in c.probers:
            prober.stop()
        c.probers = []
        c.ready = False
        c.started = False
        self.release_previous(c)
        stopped = c.on_stopped
        if stopped is not None:
            c.on_stopped = None
            c.stopping = False
            stopped()
            return
        self.request_sync()

    @staticmethod
    def release_previous(c: Container) -> None:
        """Only the current instance keeps its filesystem (memory, for thousands of pods)."""
        if c.previous is not None:
            c.previous.fs = None
            c.previous.ctx = None

    def _termination_message(self, c: Container, instance: Instance) -> str:
        """What the container wrote to its terminationMessagePath, or (FallbackToLogsOnError) its last log lines."""
        path = c.spec.get("terminationMessagePath") or "/dev/termination-log"
        text = ""
        if instance.fs is not None:
            try:
                text = instance.fs.read_text(path)
            except OSError:
                text = ""
        if not text and c.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError" and instance.exit_code:
            lines = list(instance.logs.lines)[-80:]
            text = "".join(line.text + ("" if line.partial else "\n") for line in lines)[-2048:]
        return text[:4096]

    # ------------------------------------------------------------------------ leaving
    def stop_everything(self) -> None:
        """SIGKILL every process and drop every timer (the pod is gone from the API, or the node is)."""
        self.cancel_task()
        self.cancel_timers()
        for c in self.containers.values():
            for prober in c.probers:
                prober.stop()
            c.probers = []
            c.on_stopped = None
            if c.current is not None and c.current.process is not None:
                c.current.process.kill()

