"""`kubectl port-forward` kept running beside the notebook.

In a terminal, port-forward holds the prompt until Ctrl-C; in a notebook that would hold the
kernel, so the next cell could never use the tunnel. `PortForward` starts the real kubectl (argv,
no shell), waits for its `Forwarding from 127.0.0.1:PORT -> …` lines, and keeps draining its
output in a thread while the learner sends requests; `.stop()` (or the session closing) ends it.
A kubectl that fails before forwarding raises `KubectlError` with its own message. Under
JupyterHub the display adds, under kubectl's own lines, the address a browser on the hub opens.

Read by: tools.session (`port_forward`), magics.kube. Reads: tools.errors, tools.urls.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Sequence

from kubelab.tools import urls
from kubelab.tools.errors import KubectlError

_FORWARDING = re.compile(r"^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)")
START_TIMEOUT = 20.0  # seconds kubectl may take to resolve the target and open its local ports


class PortForward:
    """A running `kubectl port-forward`: `.local_port`, `.url`, `.lines`, `.stop()`."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], shown_args: Sequence[str]) -> None:
        self.args = list(shown_args)
        self.lines: list[str] = []  # everything kubectl printed on stdout
        self.ports: list[tuple[int, int]] = []  # (local, remote) pairs it forwards
        self._process = subprocess.Popen(list(argv), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
        self._stderr: list[str] = []
        self._ready = threading.Event()
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True, name="kubelab-port-forward"),
                         threading.Thread(target=self._read_stderr, daemon=True, name="kubelab-port-forward-err")]
        for thread in self._threads:
            thread.start()
        self._wait_until_forwarding()

    def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line.rstrip("\n"))
            found = _FORWARDING.match(line)
            if found:
                self.ports.append((int(found.group(1)), int(found.group(2))))
                self._ready.set()
        self._ready.set()  # kubectl ended: whoever waits learns it from the exit status

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def _wait_until_forwarding(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ports and time.monotonic() < deadline and self._process.poll() is None:
            self._ready.wait(0.05)
        if not self.ports:
            self.stop()
            for thread in self._threads:
                thread.join(timeout=2)
            message = "".join(self._stderr) or f"kubectl port-forward printed nothing in {START_TIMEOUT:.0f} s"
            raise KubectlError(self.args, self._process.returncode or 1, message)
        time.sleep(0.05)  # let the second "Forwarding from [::1]…" line arrive, as a terminal would show it

    @property
    def local_port(self) -> int:
        return self.ports[0][0]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}/"

    @property
    def browser_url(self) -> str | None:
        """`url` as a browser on this JupyterHub reaches it (jupyter-server-proxy), else None."""
        return urls.browser_url(self.url)

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """End kubectl (as Ctrl-C would); the local port closes with it."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __repr__(self) -> str:
        state = "running in the background: .stop() ends it" if self.running else "stopped"
        notes = [urls.browser_note(f"http://127.0.0.1:{local}/") for local in dict(self.ports)] if self.running else []
        return "\n".join([*self.lines, *(n for n in notes if n), f"({state})"])

    def _ipython_display_(self) -> None:
        print(repr(self))  # like a KubectlResult: kubectl's lines as the cell's output, no Out[n] prompt
