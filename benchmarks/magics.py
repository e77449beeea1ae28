"""Magic overhead and first-command time, against the targets of the magics issue.

Run: `python benchmarks/magics.py [--repeat 20]`. Prints each figure with its target and the
ratio (target / figure: ≥ 1.0 means the target is met).

1. `%kube get pods` in a warm shell (local cluster started, kubectl's discovery cache warm) next
   to the same kubectl command run directly with the same kubeconfig: the difference is the
   magic's overhead (target ≤ 30 ms). Medians of wall time; the magic's own CPU time in this
   process (`time.process_time`, which excludes kubectl's) is printed too, as it is less noisy.
2. `%load_ext kubelab` + the first `%kube get nodes` in a fresh Python process (cold imports,
   the local cluster's start, kubectl's first discovery) until the output is there (target < 1.5 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OVERHEAD_TARGET = 0.030
STARTUP_TARGET = 1.5

STARTUP = """
import time, sys
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
t0 = time.perf_counter()
ip.run_line_magic("load_ext", "kubelab")
result = ip.run_line_magic("kube", "get nodes")
assert "control-plane" in result.stdout, result
print(time.perf_counter() - t0)
ip.run_line_magic("unload_ext", "kubelab")
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, KUBELAB_CLOCK="stepped", KUBELAB_SEED="1")
    env["KUBECONFIG"] = os.path.join(tempfile.gettempdir(), "kubelab-bench-no-kubeconfig")  # auto → local
    return env


def overhead(repeat: int) -> tuple[float, float, float]:
    os.environ.update(_env())
    from IPython.core.interactiveshell import InteractiveShell

    from kubelab.tools import session

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kubelab")
    ip.run_line_magic("kube", "create deployment web --image=nginx --replicas=3")
    ip.run_line_magic("kube", "settle")
    ip.run_line_magic("kube", "get pods")  # warm kubectl's discovery cache
    argv, env = session.current().kubectl_command(["get", "pods"])
    magic, direct, cpu = [], [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        ip.run_line_magic("kube", "get pods")
        magic.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        t = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True)
        direct.append(time.perf_counter() - t)
        assert done.returncode == 0
    ip.run_line_magic("unload_ext", "kubelab")
    return statistics.median(magic), statistics.median(direct), statistics.median(cpu)


def startup(repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", STARTUP], env=_env(), capture_output=True, text=True,
                              cwd=tempfile.gettempdir(), check=True)
        runs.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def _row(name: str, figure: float, target: float, note: str = "") -> None:
    print(f"{name:<58} {figure * 1000:8.1f} ms   target {target * 1000:6.0f} ms   "
          f"ratio {target / max(figure, 1e-9):5.2f}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    magic, direct, cpu = overhead(args.repeat)
    print(f"%kube get pods (warm): {magic * 1000:.1f} ms; kubectl get pods directly: {direct * 1000:.1f} ms")
    _row("magic overhead (median wall, magic − direct)", max(magic - direct, 0.0), OVERHEAD_TARGET,
         f"(magic's own CPU {cpu * 1000:.1f} ms)")
    _row("%load_ext kubelab + first %kube get nodes (fresh process)", startup(max(3, args.repeat // 5)),
         STARTUP_TARGET)


if __name__ == "__main__":
    main()
