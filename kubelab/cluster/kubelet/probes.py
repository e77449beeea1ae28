"""Probes, actually evaluated: startup, liveness and readiness against the running container.

`httpGet` asks the port's listener in the pod's network namespace (the image's simulated server
answers, so a wrong path is a 404), `tcpSocket` checks that something listens, `exec` runs the
command with the container's shell interpreter (its output is the event's text, as in
`Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory`), `grpc`
calls the standard health service. A `Prober` runs one probe on the simulated clock: first after
`initialDelaySeconds`, then every `periodSeconds`, counting `successThreshold` and
`failureThreshold` before its verdict changes; each failed attempt leaves an `Unhealthy` event.
Its timers are ordinary (settle() waits for them) until the verdict is known and steady, then
background, so a healthy pod never keeps settle() busy. A system pod's probers (a mirror pod, or a
kube-system pod at system-cluster-critical priority or above: the control plane, CoreDNS) are
background from the start: the cluster's bootstrap runs those pods to Ready before handing the
cluster over (cluster.systempods), and afterwards a learner's `settle()` never waits on them.

Exec probes run to completion at once: their sleeps count against `timeoutSeconds` without
moving the cluster's clock.

Read by: kubelet.startup (`start` when a container starts), kubelet.termination (stops probers).
Reads: runtime, containers, termination (a failed liveness probe kills).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubelab.cluster.runtime import ExecError, ProcessContext, exec_

if TYPE_CHECKING:
    from kubelab.cluster.kubelet.containers import Container, Instance
    from kubelab.cluster.kubelet.worker import PodWorker

Obj = dict[str, Any]
KINDS = {"startupProbe": "Startup", "livenessProbe": "Liveness", "readinessProbe": "Readiness"}
USER_AGENT = "kube-probe/1.37"
EXEC_STEPS = 10_000  # sleeps an exec probe may take before it counts as hung
SYSTEM_PRIORITY = 2_000_000_000  # system-cluster-critical; system-node-critical is 2000001000


def resolve_port(port: Any, container: Obj) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for entry in container.get("ports") or ():
        if entry.get("name") == port:
            return int(entry.get("containerPort"))
    return None


def http_probe(spec: Obj, container: Obj, listening: dict, pod_ip: str, client_ip: str) -> tuple[bool, str]:
    port = resolve_port(spec.get("port"), container)
    scheme = (spec.get("scheme") or "HTTP").lower()
    host = spec.get("host") or pod_ip
    path = spec.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}:{port}{path}"
    if port is None:
        return False, f"unable to find port {spec.get('port')!r} in container"
    handler = listening.get(port)
    if handler is None:
        return False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
    headers = {"Host": f"{host}:{port}", "User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
    for header in spec.get("httpHeaders") or ():
        headers[header.get("name", "")] = header.get("value", "")
    try:
        status, _, _ = handler("GET", path, headers, client_ip)
    except TimeoutError:
        return False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    except Exception as err:  # noqa: BLE001 - a broken simulated server is a broken server
        return False, f'Get "{url}": {err}'
    if status == 0:
        return False, f'Get "{url}": net/http: HTTP/1.x transport connection broken: malformed HTTP response'
    if 200 <= status < 400:
        return True, ""
    return False, f"HTTP probe failed with statuscode: {status}"


def tcp_probe(spec: Obj, container: Obj, listening: dict, pod_ip: str) -> tuple[bool, str]:
    port = resolve_port(spec.get("port"), container)
    host = spec.get("host") or pod_ip
    if port is not None and port in listening:
        return True, ""
    return False, f"dial tcp {host}:{port}: connect: connection refused"


def grpc_probe(spec: Obj, listening: dict, pod_ip: str, client_ip: str) -> tuple[bool, str]:
    port = spec.get("port")
    handler = listening.get(port)
    if handler is None:
        return False, f'timeout: failed to connect service "{pod_ip}:{port}" within 1s'
    try:
        status, _, _ = handler("POST", "/grpc.health.v1.Health/Check", {"Content-Type": "application/grpc"}, client_ip)
    except Exception:  # noqa: BLE001
        status = 0
    if status == 200:
        return True, ""
    return False, "rpc error: code = Unimplemented desc = unknown service grpc.health.v1.Health"


def exec_probe(argv: list[str], instance: Instance, timeout: float, now: float) -> tuple[bool, str]:
    """Run the command to completion in the container; sleeps use up `timeout` (virtual time)."""
    if instance.ctx is None:
        return False, "container is not running"
    out: list[str] = []
    elapsed = [0.0]
    base = instance.ctx
    ctx = ProcessContext(env=dict(base.env), fs=base.fs, hostname=base.hostname, now=lambda: now + elapsed[0],
                         stdout=out.append, stderr=out.append, network=base.network, listening=base.listening,
                         user=base.user, groups=base.groups, pod_ip=base.pod_ip, workdir=base.workdir)
    try:
        gen = exec_(argv, instance.image, ctx)
    except ExecError as err:
        return False, str(err)
    code = None
    try:
        request = next(gen)
        for _ in range(EXEC_STEPS):
            seconds = getattr(request, "seconds", math.inf)
            if math.isinf(seconds) or elapsed[0] + seconds > timeout:
                break
            elapsed[0] += seconds
            request = gen.send(None)
    except StopIteration as stop:
        code = stop.value if isinstance(stop.value, int) else 0
    except Exception as err:  # noqa: BLE001
        return False, str(err)
    finally:
        gen.close()
    if code is None:
        return False, f'command "{" ".join(argv)}" timed out'
    output = "".join(out)
    return code == 0, output.rstrip("\n") if code else output


class Prober:
    """One probe of one container instance, on the simulated clock."""

    def __init__(self, field: str, spec: Obj, container: Container, instance: Instance, *, clock: Any,
                 context: Callable[[], tuple[dict, str, str]], on_result: Callable[[Prober, bool], None],
                 on_failure: Callable[[Prober, str], None], background: bool = False) -> None:
        self.field = field  # startupProbe | livenessProbe | readinessProbe
        self.kind = KINDS[field]
        self.spec = spec
        self.container = container
        self.instance = instance
        self.clock = clock
        self.context = context
        self.on_result = on_result
        self.on_failure = on_failure
        self.result: bool | None = None if field != "livenessProbe" else True
        self.known = field == "livenessProbe"
        self.successes = 0
        self.failures = 0
        self.timer: Any = None
        self.stopped = False
        self.background = background  # every timer background, even before a verdict (system pods)

    def start(self, started_at: float) -> None:
        delay = max(0.0, started_at + float(self.spec.get("initialDelaySeconds") or 0) - self.clock.now())
        self.timer = self.clock.call_later(delay, self.tick, background=self.background)

    def stop(self) -> None:
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def evaluate(self) -> tuple[bool, str]:
        listening, pod_ip, client_ip = self.context()
        spec, container = self.spec, self.container.spec
        if "httpGet" in spec:
            return http_probe(spec["httpGet"], container, listening, pod_ip, client_ip)
        if "tcpSocket" in spec:
            return tcp_probe(spec["tcpSocket"], container, listening, pod_ip)
        if "grpc" in spec:
            return grpc_probe(spec["grpc"], listening, pod_ip, client_ip)
        if "exec" in spec:
            timeout = float(spec.get("timeoutSeconds") or 1)
            return exec_probe(list(spec["exec"].get("command") or []), self.instance, timeout, self.clock.now())
        return True, ""

    def tick(self) -> None:
        self.timer = None
        if self.stopped or not self.instance.running:
            return
        ok, output = self.evaluate()
        if ok:
            self.successes, self.failures = self.successes + 1, 0
        else:
            self.successes, self.failures = 0, self.failures + 1
            self.on_failure(self, output)
        threshold_met = (ok and self.successes >= int(self.spec.get("successThreshold") or 1)) or \
                        (not ok and self.failures >= int(self.spec.get("failureThreshold") or 3))
        if threshold_met and (self.result is not ok or not self.known):
            self.result, self.known = ok, True
            self.on_result(self, ok)
        if self.stopped or not self.instance.running:
            return
        if self.field == "startupProbe" and self.result:
            return  # a startup probe stops once it has succeeded
        steady = self.known and ((self.result and self.failures == 0) or (not self.result and self.successes == 0))
        period = float(self.spec.get("periodSeconds") or 10)
        self.timer = self.clock.call_later(period, self.tick, background=steady or self.background)


def is_system_pod(pod: Obj) -> bool:
    """A pod whose probes settle() does not wait on: a static pod's mirror, or a critical kube-system pod."""
    meta = pod.get("metadata") or {}
    if "kubernetes.io/config.mirror" in (meta.get("annotations") or ()):
        return True
    return meta.get("namespace") == "kube-system" and \
        int((pod.get("spec") or {}).get("priority") or 0) >= SYSTEM_PRIORITY


# --------------------------------------------------------------------- the pod worker's side
def start(w: PodWorker, c: Container, instance: Instance) -> None:
    """A container just started: its startup probe first, or its liveness and readiness probes.
    Without a startup probe it counts as started, and as ready unless a readiness probe says so."""
    spec = c.spec
    c.started = "startupProbe" not in spec
    c.ready = c.started and "readinessProbe" not in spec
    fields = ["startupProbe"] if "startupProbe" in spec else ["livenessProbe", "readinessProbe"]
    for field in fields:
        if field in spec and c.kind != "init":
            _run(w, c, instance, field)


def _run(w: PodWorker, c: Container, instance: Instance, field: str) -> None:
    prober = Prober(field, c.spec[field], c, instance, clock=w.kubelet.clock,
                    context=lambda: (w.listening, w.pod_ip, w.kubelet.probe_source),
                    on_result=lambda p, ok: _verdict(w, p, ok),
                    on_failure=lambda p, output: w.event("Warning", "Unhealthy", f"{p.kind} probe failed: {output}",
                                                         p.container),
                    background=is_system_pod(w.pod))
    c.probers.append(prober)
    prober.start(instance.started_at or w.now)


def _verdict(w: PodWorker, prober: Prober, ok: bool) -> None:
    c = prober.container
    if prober.field == "readinessProbe":
        c.ready = ok
        w.request_sync()
    elif prober.field == "startupProbe":
        if not ok:
            _kill(w, c, "startup")
            return
        c.started = True
        c.ready = "readinessProbe" not in c.spec
        for field in ("livenessProbe", "readinessProbe"):
            if field in c.spec and prober.instance.running:
                _run(w, c, prober.instance, field)
        w.request_sync()
    elif not ok:
        _kill(w, c, "liveness")


def _kill(w: PodWorker, c: Container, kind: str) -> None:
    """A failed liveness or startup probe: the container is stopped (and restarted, unless the
    restart policy is Never) within the probe's or the pod's grace period."""
    from kubelab.cluster.kubelet import termination

    if c.stopping or not c.running:
        return
    message = f"Container {c.name} failed {kind} probe"
    if w.restart_policy != "Never":
        message += ", will be restarted"
    grace = (c.spec.get(f"{kind}Probe") or {}).get("terminationGracePeriodSeconds")
    if grace is None:
        grace = w.spec.get("terminationGracePeriodSeconds", 30)
    termination.kill_container(w, c, float(grace), message, w.request_sync)
