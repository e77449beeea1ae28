"""Run a benchmark several times, each in a fresh interpreter, and summarise the figures.

On a shared two-core VM one run says little: identical runs of `pods.py` land about 30 % apart
(measured: ~3.0 s or ~4.5 s CPU at 3,000 pods, for the same code, hash seed and CPU), so the
benchmarks take `--repeat N` and report every run, the median and the best. Each run is a new
process, so no warm cache, interned string or grown heap carries over from one run to the next.

A benchmark's run prints one `FIGURES {json}` line; `repeat` starts it again (argv only, no
shell) with `--repeat 1`, gathers those lines and prints the summary against the targets.

Read by: benchmarks/pods.py, benchmarks/controllers.py. Reads: nothing of kubelab.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

MARK = "FIGURES "


def emit(**figures: float) -> None:
    """Print this run's figures for a parent `repeat` to read."""
    print(MARK + json.dumps(figures), flush=True)


def repeat(script: str, argv: list[str], times: int, targets: dict[str, float]) -> None:
    """Run `script argv --repeat 1` `times` times; print each run's figures, the median and the best
    of each, and the ratio of median and best to its target (target / figure: ≥ 1.0 means met)."""
    runs: list[dict[str, float]] = []
    for i in range(times):
        done = subprocess.run([sys.executable, script, *argv, "--repeat", "1"], capture_output=True, text=True)
        if done.returncode:  # check=True would hide why: the run's own output is captured
            sys.exit(f"run {i + 1}/{times} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        figures = next(json.loads(line[len(MARK):]) for line in done.stdout.splitlines() if line.startswith(MARK))
        runs.append(figures)
        print(f"run {i + 1}/{times}: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()), flush=True)
    print(f"over {times} fresh processes:")
    for name in runs[0]:
        values = [run[name] for run in runs]
        median, best = statistics.median(values), min(values)
        line = f"  {name}: median {median:.2f}, best {best:.2f}, worst {max(values):.2f}"
        if name in targets:
            target = targets[name]
            line += f" — target < {target:g}, ratio {target / median:.2f} (median), {target / best:.2f} (best)"
        print(line)
