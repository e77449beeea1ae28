"""SyncPod's way down: stopping containers, finishing pods, confirming deletions.

`kill_container` is kuberuntime's killContainer: a `Killing` event (`Stopping container nginx`, or
the probe's `Container api failed liveness probe, will be restarted`), the preStop hook, the
stop signal (the image's STOPSIGNAL: nginx shuts down on SIGQUIT), and SIGKILL when the grace
period ends — never sooner than 2 s. `begin` handles a graceful deletion: app containers stop
together, then sidecars in reverse order, then the sandbox goes and the kubelet confirms the
deletion to the API server (a pod on a dead node is never confirmed: its kubelet does nothing).
`completed`/`finish` end a pod whose containers are done for good (restartPolicy Never or
OnFailure): Succeeded or Failed, sandbox torn down, IP released.

Read by: kubelet.worker, kubelet.startup, kubelet.probes. Reads: containers, probes, stages, cluster.runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.cluster.kubelet.containers import Container, Process
from kubelab.cluster.kubelet.probes import http_probe
from kubelab.cluster.kubelet.stages import MINIMUM_GRACE_PERIOD, seconds_for
from kubelab.cluster.kubelet.startup import should_restart
from kubelab.cluster.runtime import ExecError, ProcessContext, exec_
from kubelab.cluster.runtime.process import SIGNAL_NUMBERS

if TYPE_CHECKING:
    from kubelab.cluster.kubelet.worker import PodWorker

Obj = dict[str, Any]
POD = kinds.resolve("pods")


def stop_signal(c: Container) -> int:
    named = (c.spec.get("lifecycle") or {}).get("stopSignal")
    if named and named in SIGNAL_NUMBERS:
        return SIGNAL_NUMBERS[named]
    return c.current.image.stop_signal if c.current is not None else 15


def kill_container(w: PodWorker, c: Container, grace: float, message: str, on_done: Callable[[], None]) -> None:
    """Stop the container's current instance within `grace` seconds, then call `on_done`."""
    instance = c.current
    if instance is None or not instance.running or instance.process is None:
        on_done()
        return
    if c.stopping:
        return
    c.stopping = True
    for prober in c.probers:
        prober.stop()
    c.probers = []
    c.ready = False
    w.event("Normal", "Killing", message, c)
    process = instance.process
    deadline = w.now + max(grace, MINIMUM_GRACE_PERIOD)
    c.kill_timer = w.kubelet.clock.call_at(deadline, process.kill)
    c.kill_at = deadline

    def stopped() -> None:
        if c.kill_timer is not None:
            c.kill_timer.cancel()
            c.kill_timer = None
        on_done()

    c.on_stopped = stopped

    def send_signal() -> None:
        if instance.running and process.running:
            process.signal(stop_signal(c))

    hook = (c.spec.get("lifecycle") or {}).get("preStop")
    if hook:
        pre_stop(w, c, hook, deadline, send_signal)
    else:
        send_signal()


def pre_stop(w: PodWorker, c: Container, hook: Obj, deadline: float, then: Callable[[], None]) -> None:
    """Run the preStop handler (it takes simulated time: `sleep 15` really waits), then `then`."""
    instance = c.current
    assert instance is not None

    def failed() -> None:
        w.event("Warning", "FailedPreStopHook", "PreStopHook failed", c)

    if "sleep" in hook:
        seconds = float(hook["sleep"].get("seconds") or 0)
        w.kubelet.clock.call_at(min(w.now + seconds, deadline), then)
        return
    if "httpGet" in hook:
        ok, _ = http_probe(hook["httpGet"], c.spec, w.listening, w.pod_ip, w.kubelet.probe_source)
        if not ok:
            failed()
        then()
        return
    if "exec" not in hook or instance.ctx is None:
        then()
        return
    base = instance.ctx
    ctx = ProcessContext(env=dict(base.env), fs=base.fs, hostname=base.hostname, now=base.now,
                         stdout=lambda t: None, stderr=lambda t: None, network=base.network,
                         listening=base.listening, user=base.user, groups=base.groups, pod_ip=base.pod_ip,
                         workdir=base.workdir)
    try:
        gen = exec_(list(hook["exec"].get("command") or []), instance.image, ctx)
    except ExecError:
        failed()
        then()
        return

    def hook_done(code: int) -> None:
        deadline_timer.cancel()
        if code != 0:
            failed()
        then()

    hook_process = Process(w.cluster.clock, gen, hook_done)
    deadline_timer = w.kubelet.clock.call_at(deadline, lambda: hook_process.kill())
    hook_process.begin()


# ---------------------------------------------------------------------------- deletion
def begin(w: PodWorker) -> None:
    """The pod has a deletionTimestamp: stop everything gracefully, then confirm the deletion."""
    meta = w.pod["metadata"]
    grace = meta.get("deletionGracePeriodSeconds")
    if grace is None:
        grace = w.spec.get("terminationGracePeriodSeconds", 30)
    if w.terminating:
        _shorten(w, w.now + max(float(grace), MINIMUM_GRACE_PERIOD))
        return
    w.terminating = True
    w.cancel_task()
    w.cancel_timers()
    w.trace("stopping", f"grace period {grace}s")
    for c in w.containers.values():
        for prober in c.probers:
            prober.stop()
        c.probers = []
        c.ready = False
    w.write_status()
    deadline = w.now + float(grace)
    apps = [c for c in w.apps if c.running]
    sidecars = [c for c in reversed(w.inits) if c.running]

    def sidecars_next() -> None:
        while sidecars:
            c = sidecars.pop(0)
            if c.running:
                kill_container(w, c, max(deadline - w.now, 0.0), f"Stopping container {c.name}", sidecars_next)
                return
        _all_stopped(w)

    pending = {c.name for c in apps}

    def app_stopped(name: str) -> None:
        pending.discard(name)
        if not pending:
            sidecars_next()

    if not apps:
        sidecars_next()
        return
    for c in apps:
        kill_container(w, c, float(grace), f"Stopping container {c.name}", partial(app_stopped, c.name))


def _shorten(w: PodWorker, deadline: float) -> None:
    """A second delete with a shorter grace period: containers still stopping are killed sooner."""
    for c in w.containers.values():
        instance = c.current
        if c.stopping and c.kill_timer is not None and deadline < c.kill_at and instance is not None \
                and instance.process is not None:
            c.kill_timer.cancel()
            c.kill_timer = w.kubelet.clock.call_at(deadline, instance.process.kill)
            c.kill_at = deadline


def _all_stopped(w: PodWorker) -> None:
    w.terminal = True
    w.kubelet.clock.call_later(seconds_for("teardown"), lambda: _confirm(w))


def _confirm(w: PodWorker) -> None:
    teardown(w)
    w.write_status()
    live = w.live()
    if live is not None:
        meta = live["metadata"]
        try:
            if meta.get("finalizers"):
                w.cluster.api.delete(POD, meta["namespace"], meta["name"], grace_period=0)
            else:
                w.cluster.api.finish_deletion(POD, meta["namespace"], meta["name"])
            w.trace("confirmed the deletion of")
        except ApiError as err:
            w.cluster.trace_log.add("kubelet", "deletion failed", live, str(err))
    w.kubelet.forget(w)


def teardown(w: PodWorker) -> None:
    """StopPodSandbox: the pod's network namespace goes, its IP returns to the node's range."""
    if w.sandbox_ready:
        w.sandbox_ready = False
        w.listening.clear()
        if not w.spec.get("hostNetwork"):
            w.kubelet.ipam.release(w.uid)


# --------------------------------------------------------------------------- completion
def completed(w: PodWorker) -> bool:
    """Every app container finished and none will run again (restartPolicy Never/OnFailure), or an
    init container failed under restartPolicy Never."""
    policy = w.restart_policy
    for c in w.inits:
        if c.kind == "init" and c.current is not None and c.current.finished and c.current.exit_code != 0 \
                and policy == "Never":
            return True
    if policy == "Always" or not w.apps:
        return False
    return all(c.current is not None and c.current.finished and not c.stopping and not should_restart(w, c)
               for c in w.apps)


def finish(w: PodWorker) -> None:
    """The pod is done: stop its sidecars, post the final phase, tear the sandbox down."""
    if w.terminal or w.terminating or w.finishing:
        return
    w.finishing = True
    w.cancel_timers()
    sidecars = [c for c in reversed(w.inits) if c.running]
    grace = float(w.spec.get("terminationGracePeriodSeconds", 30))

    def next_sidecar() -> None:
        while sidecars:
            c = sidecars.pop(0)
            if c.running:
                kill_container(w, c, grace, f"Stopping container {c.name}", next_sidecar)
                return
        w.terminal = True
        w.write_status()
        w.kubelet.clock.call_later(seconds_for("teardown"), lambda: _done(w))

    next_sidecar()


def deadline_exceeded(w: PodWorker) -> None:
    """activeDeadlineSeconds passed: every container is stopped and the pod fails."""
    if w.terminal or w.terminating or w.finishing:
        return
    w.finishing = True
    w.cancel_task()
    w.cancel_timers()
    w.reason, w.message = "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
    w.event("Warning", "DeadlineExceeded", w.message)
    running = [c for c in (*w.apps, *reversed(w.inits)) if c.running]
    grace = float(w.spec.get("terminationGracePeriodSeconds", 30))
    pending = {c.name for c in running}

    def stopped(name: str) -> None:
        pending.discard(name)
        if not pending:
            _final(w)

    if not running:
        _final(w)
    for c in running:
        kill_container(w, c, grace, f"Stopping container {c.name}", partial(stopped, c.name))


def _final(w: PodWorker) -> None:
    w.terminal = True
    w.force_phase = "Failed"
    w.write_status()
    w.kubelet.clock.call_later(seconds_for("teardown"), lambda: _done(w))


def _done(w: PodWorker) -> None:
    if w.gone or w.terminating:
        return
    teardown(w)
    w.write_status()
    w.done = True
