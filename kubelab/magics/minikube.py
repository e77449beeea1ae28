"""`%minikube ARGS`: the real minikube when there is one, else kubelab's emulation of it.

With a `minikube` on PATH and a target that is not `local`, the real tool runs (argv, output
streamed into the cell). Otherwise `kubelab.minikube.Minikube` emulates it on the kernel's
session (which implements its `MinikubeHost`): `start` creates the `minikube` profile's local
cluster and makes its context the target. A non-zero exit raises `MinikubeError`, as `%kube`
raises `KubectlError`, unless `--no-raise-error`.

Read by: magics (load_ipython_extension). Reads: kubelab.minikube, tools.runner, tools.session.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from kubelab.magics import argv
from kubelab.tools import runner
from kubelab.tools.errors import MinikubeError


@magics_class
class MinikubeMagic(Magics):
    def __init__(self, shell: Any, kube: Any) -> None:
        super().__init__(shell)
        self.kube = kube  # the KubeMagic: its session and raise_on_error

    @line_magic
    def minikube(self, line: str) -> None:
        """%minikube ARGS: run minikube (real, or emulated on the local cluster)."""
        try:
            parsed = argv.parse(line)
        except ValueError as err:
            raise UsageError(str(err)) from None
        session = self.kube.session
        real = shutil.which("minikube")
        if real is not None and not session.prefers_local:
            code = runner.run([real, *parsed.args], out=sys.stdout, err=sys.stderr,
                              timeout=parsed.for_seconds).returncode
        else:
            code = emulator(session).run(parsed.args, sys.stdout, sys.stderr)
        raise_error = self.kube.raise_on_error if parsed.raise_error is None else parsed.raise_error
        if code != 0 and raise_error:
            raise MinikubeError(["minikube", *parsed.args], code, "", shown=True)


def emulator(session: Any) -> Any:
    try:
        from kubelab.minikube import Minikube
    except ImportError:
        raise UsageError("minikube is not on PATH and this kubelab has no minikube emulator") from None
    return Minikube(session)
