"""What the lesson tests and tools share: where the lessons are, how they run, what they keep.

The lessons run on the kernel's local cluster with a stepped clock and a fixed seed
(`lesson_env`), and never against a real cluster the machine may have configured (KUBECONFIG
points at a file that does not exist). A committed lesson keeps the outputs of its
`# NBVAL_CHECK_OUTPUT` cells only — nbval compares a cell only when its stored copy was run —
and no widget state (`keep_checked_outputs`). `python tests/notebooks/lesson_runs.py` re-executes
the lessons and rewrites them that way, after a lesson or kubelab's output changed on purpose.

Read by: tests/notebooks/test_lessons.py, benchmarks/lessons.py. Reads: nbformat, nbclient.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = Path(__file__).with_name("sanitize.cfg")
CHECK = "NBVAL_CHECK_OUTPUT"
RAISES = "NBVAL_RAISES_EXCEPTION"
CELL_TIMEOUT = 120  # seconds: a lesson cell that takes longer is stuck


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def lesson_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a lesson kernel runs in: local cluster, stepped clock, seed 1."""
    env = dict(os.environ if base is None else base)
    env.update(KUBELAB_CLOCK="stepped", KUBELAB_SEED="1",
               KUBECONFIG=os.path.join(tempfile.gettempdir(), "kubelab-lessons-no-such-kubeconfig"))
    env.pop("KUBELAB_TARGET", None)
    return env


def markers(cell: Any) -> set[str]:
    """The nbval markers of a code cell (comment lines, as nbval reads them)."""
    found = set()
    for line in cell.source.splitlines():
        line = line.strip()
        if line.startswith("#") and line.lstrip("#").strip() in (CHECK, RAISES, "NBVAL_SKIP", "NBVAL_IGNORE_OUTPUT"):
            found.add(line.lstrip("#").strip())
    return found


def keep_checked_outputs(nb: Any) -> Any:
    """Drop every output except those of checked cells; drop widget state and run metadata."""
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}  # not the runner's version
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata = {}
        if CHECK in markers(cell):
            count += 1
            cell.execution_count = count
            cell.outputs = _merged_streams(cell.outputs)
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = count
        else:
            cell.execution_count = None
            cell.outputs = []
    return nb


def _merged_streams(outputs: list[Any]) -> list[Any]:
    """Consecutive chunks of one stream as one output: how they arrive depends on timing (nbval merges them too)."""
    merged: list[Any] = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def execute(path: Path) -> Any:
    """Run a lesson top to bottom in a fresh kernel with `lesson_env`; the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    old = dict(os.environ)
    os.environ.update(lesson_env())  # the kernel inherits the client's environment
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def refresh(paths: list[Path]) -> None:
    import nbformat

    for path in paths:
        nb = execute(path)
        failed = [c.id for c in nb.cells if c.cell_type == "code" and RAISES not in markers(c)
                  and any(o.get("output_type") == "error" for o in c.outputs)]
        nbformat.write(keep_checked_outputs(nb), path)
        checked = sum(c.cell_type == "code" and CHECK in markers(c) for c in nb.cells)
        print(f"{path.name}: kept the outputs of {checked} checked cells"
              + (f"; cells that failed: {', '.join(failed)}" if failed else ""))


if __name__ == "__main__":
    refresh([Path(p) for p in sys.argv[1:]] or lessons())
