"""The magics tour notebook, end to end in a real kernel: by nbclient, and under `pytest --nbval-lax`.

Both runs use `KUBELAB_CLOCK=stepped KUBELAB_SEED=1`, so every `# NBVAL_CHECK_OUTPUT` cell must
print exactly the text stored in the notebook (regenerate it by executing it with nbclient in
that environment and saving it, when the output is meant to change).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent / "notebooks" / "magics_tour.ipynb"


@pytest.fixture
def kernel_env(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBELAB_CLOCK", "stepped")
    monkeypatch.setenv("KUBELAB_SEED", "1")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    # The kernelspec runs `python`: make it this environment's.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    return dict(os.environ)


def _text(cell) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(f"[{out.name}]{out.text}")
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return "".join(parts).replace("[stdout]", "").replace("[stderr]", "")


def _checked(cell) -> bool:
    return "NBVAL_CHECK_OUTPUT" in cell.source or "nbval-check-output" in cell.metadata.get("tags", ())


def test_tour_notebook_runs_in_a_kernel_with_the_stored_output(kernel_env):
    stored = nbformat.read(NOTEBOOK, as_version=4)
    fresh = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(fresh, timeout=120, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    code = [(s, f) for s, f in zip(stored.cells, fresh.cells, strict=True) if s.cell_type == "code"]
    checked = [(s, f) for s, f in code if _checked(s)]
    assert len(checked) >= 10
    for old, new in checked:
        assert _text(new) == _text(old), old.source
    errors = [f for _, f in code if any(o.output_type == "error" for o in f.outputs)]
    assert len(errors) == 1  # only the cell that teaches the error raises
    error = next(o for o in errors[0].outputs if o.output_type == "error")
    assert error.ename == "KubectlError"
    assert error.traceback[-1] == 'hint: "matchLabels" belongs under "spec.selector" — check the indentation'


def test_tour_notebook_passes_nbval_lax(kernel_env):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
         str(NOTEBOOK)],
        env=kernel_env, capture_output=True, text=True, timeout=300, cwd=NOTEBOOK.parent,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
