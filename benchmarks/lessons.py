"""The lessons' cost: wall time and kernel memory of each lesson run top to bottom, and the total.

Run: `python benchmarks/lessons.py [notebooks/02-pods.ipynb …]`.
Each lesson runs in a fresh kernel (nbclient) on the local cluster with a stepped clock and seed 1,
as the notebook tests run it. After its last cell the kernel reports its resident memory (RSS,
from /proc) and its peak (ru_maxrss): the local cluster lives in the kernel, so this is what one
learner costs on Binder (2 GB per user; target < 500 MB per lesson). The suite's wall time is
compared with the CI target of 3 minutes. Each line ends with the ratio to its target (≥ 1.0 means met).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "notebooks"))

import nbformat  # noqa: E402
from lesson_runs import CELL_TIMEOUT, NOTEBOOKS, lesson_env, lessons  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

RSS_TARGET_MB = 500
SUITE_TARGET_S = 180
# Runs in the lesson's kernel after its last cell: current and peak resident memory, in MB.
MEMORY_CELL = """
import resource
with open("/proc/self/statm") as f:
    _pages = int(f.read().split()[1])
print(_pages * resource.getpagesize() / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def report(name: str, value: float, unit: str, target: float) -> None:
    ratio = target / value if value else float("inf")
    mark = "ok " if ratio >= 1 else "MISS"
    print(f"{mark} {name:<44} {value:>8,.1f} {unit:<3} target ≤ {target:,.0f} {unit:<3} ratio {ratio:5.2f}", flush=True)


def run(path: Path) -> tuple[float, float, float, int]:
    """Wall seconds, RSS MB and peak RSS MB of one lesson; and how many of its cells failed unexpectedly."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(MEMORY_CELL))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    started = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - started
    failed = sum(1 for c in nb.cells[:-1] if c.cell_type == "code" and "NBVAL_RAISES_EXCEPTION" not in c.source
                 and any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    rss, peak = (float(x) for x in nb.cells[-1].outputs[0]["text"].split())
    return wall, rss, peak, failed


def main(paths: list[Path]) -> int:
    os.environ.update(lesson_env())  # the kernels inherit it
    total = 0.0
    print("lessons on the local cluster (stepped clock, seed 1), one fresh kernel each — wall time "
          "includes the kernel's start; memory measured in the kernel after the last cell")
    for path in paths:
        wall, rss, peak, failed = run(path)
        total += wall
        print(f"    {path.name}: {wall:.1f} s, RSS {rss:.0f} MB (peak {peak:.0f} MB)"
              + (f", {failed} cells FAILED" if failed else ""))
        report(f"kernel RSS after {path.stem}", rss, "MB", RSS_TARGET_MB)
    report(f"total wall time of {len(paths)} lessons", total, "s", SUITE_TARGET_S)
    return 0


if __name__ == "__main__":
    sys.exit(main([Path(p) for p in sys.argv[1:]] or lessons()))
