"""Fixtures for the magics tests: a real IPython shell with `%load_ext kubelab` and a stepped,
seeded local cluster, and `run(cell)` returning what the cell showed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell


@dataclass
class Ran:
    result: Any  # the ExecutionResult
    out: str
    err: str

    @property
    def error(self) -> BaseException | None:
        return self.result.error_in_exec or self.result.error_before_exec


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InteractiveShell]:
    tmp = tmp_path_factory.mktemp("magics")
    patch = pytest.MonkeyPatch()
    patch.setenv("KUBECONFIG", str(tmp / "no-kubeconfig"))  # no user cluster: `auto` means local
    (tmp / "home").mkdir()
    patch.setenv("HOME", str(tmp / "home"))  # proves nothing is written to the user's ~/.kube
    patch.delenv("KUBELAB_CLOCK", raising=False)
    patch.delenv("KUBELAB_SEED", raising=False)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kubelab")
    ip.run_line_magic("config", "KubeMagic.clock = 'stepped'")
    ip.run_line_magic("config", "KubeMagic.seed = 1")
    try:
        yield ip
    finally:
        ip.run_line_magic("unload_ext", "kubelab")
        patch.undo()


@pytest.fixture
def run(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> Any:
    def run_cell(cell: str) -> Ran:
        capsys.readouterr()
        result = shell.run_cell(cell, store_history=True)
        captured = capsys.readouterr()
        return Ran(result, captured.out, captured.err)

    return run_cell
