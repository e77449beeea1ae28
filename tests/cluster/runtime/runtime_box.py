"""Test harness for the simulated runtime: boot an image's filesystem, run processes on a fake clock."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kubelab.cluster.runtime import (
    NoNetwork,
    ProcessContext,
    Signal,
    container_fs,
    exec_,
    kubernetes_hosts,
    kubernetes_resolv_conf,
    lookup,
    start,
)

T0 = 1764099798.0  # Tue Nov 25 19:43:18 UTC 2025


@dataclass
class Result:
    code: int | None
    stdout: str
    stderr: str
    sleeps: list[float] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Box:
    """One container: image, filesystem, pod network table, clock."""

    def __init__(
        self,
        ref: str = "busybox",
        *,
        hostname: str = "pod-1",
        network=None,
        user: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        image = lookup(ref)
        assert image is not None, ref
        self.image = image
        self.now = T0
        self.hostname = hostname
        self.network = network or NoNetwork()
        self.user = user
        self.env = env or {}
        self.listening: dict = {}
        self.fs = container_fs(
            image,
            hostname=hostname,
            hosts=kubernetes_hosts("10.244.0.7", hostname),
            resolv_conf=kubernetes_resolv_conf("default"),
            now=lambda: self.now,
        )
        self.log: list[tuple[str, str]] = []

    def ctx(self, stdin: str | None = None, out: list | None = None) -> ProcessContext:
        sink = self.log if out is None else out
        return ProcessContext(
            env=dict(self.env),
            fs=self.fs,
            hostname=self.hostname,
            now=lambda: self.now,
            stdout=lambda s: sink.append(("o", s)),
            stderr=lambda s: sink.append(("e", s)),
            network=self.network,
            stdin=stdin,
            listening=self.listening,
            user=self.user,
            pod_ip="10.244.0.7",
        )

    def drive(self, gen, until: float = 60.0, first=None) -> tuple[int | None, list[float], object]:
        """Resume `gen` as a kubelet would until it exits or `until` simulated seconds have passed."""
        end = self.now + until
        sleeps: list[float] = []
        try:
            request = next(gen) if first is None else first
            while True:
                sleeps.append(request.seconds)
                if math.isinf(request.seconds) or self.now + request.seconds > end:
                    return None, sleeps, request
                self.now += request.seconds
                request = gen.send(None)
        except StopIteration as stop:
            return stop.value, sleeps, None

    def run(self, argv: list[str] | None = None, *, until: float = 60.0, stdin: str | None = None) -> Result:
        self.log = []
        gen = start(argv if argv is not None else self.image.entrypoint + self.image.cmd, self.image, self.ctx(stdin))
        code, sleeps, _ = self.drive(gen, until)
        gen.close()
        return self.result(code, sleeps)

    def sh(self, script: str, **kw) -> Result:
        return self.run(["sh", "-c", script], **kw)

    def exec(self, argv: list[str], *, until: float = 60.0, stdin: str | None = None) -> Result:
        out: list = []
        gen = exec_(argv, self.image, self.ctx(stdin, out))
        saved, self.log = self.log, out
        code, sleeps, _ = self.drive(gen, until)
        gen.close()
        result = self.result(code, sleeps)
        self.log = saved
        return result

    def result(self, code: int | None, sleeps: list[float]) -> Result:
        return Result(
            code, "".join(s for k, s in self.log if k == "o"), "".join(s for k, s in self.log if k == "e"), sleeps
        )

    def boot(self, argv: list[str] | None = None):
        """Start the main process and run it until it first blocks; returns (generator, pending request)."""
        self.log = []
        gen = start(argv if argv is not None else self.image.entrypoint + self.image.cmd, self.image, self.ctx())
        code, _, request = self.drive(gen, until=0.0)
        assert code is None, self.result(code, []).output
        return gen, request

    def signal(self, gen, signum: int = 15):
        try:
            return None, gen.throw(Signal(signum))
        except StopIteration as stop:
            return stop.value, None

    @property
    def output(self) -> str:
        return "".join(s for _, s in self.log)
