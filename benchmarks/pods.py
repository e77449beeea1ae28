"""Kubelet figures: how long 10,000 bare pods on 100 nodes take from creation to Running, and the memory.

Run: `python benchmarks/pods.py [--pods 10000] [--nodes 100] [--image registry.k8s.io/pause:3.10]
[--repeat 5] [--breakdown] [--tune-gc] [--profile]`. The pods are bare (no controller) and, as in
Kubernetes' own density tests (clusterloader2), run the pause image by default; `--image nginx:1.25`
runs a real program in each.
Everything goes through the cluster's write path: API server create, scheduler, kubelet sync
(sandbox, image, create, start), status writes and events, on a stepped clock. Prints the wall time
(target < 8 s), the simulated time it took, the memory the cluster grew by (target < 1 GiB) and
the ratio to each target (≥ 1.0 means met), and the process CPU time, steadier than wall time
when other work shares the machine. `--breakdown` splits the wall time by component
(API server creates, each controller's reconciles, timers such as the kubelet's SyncPod steps);
`--tune-gc` raises the cyclic garbage collector's threshold first, to show what it costs.
`--repeat N` runs it N times, each in a fresh process, and prints the median and the best
(benchmarks/repeats.py says why one run is not enough on a shared VM); it ignores `--breakdown` and `--profile`.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import gc
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kubelab  # noqa: E402
from benchmarks import repeats  # noqa: E402

WALL_TARGET = 8.0
MEMORY_TARGET = 1 << 30


def rss() -> int:
    """Resident memory of this process, in bytes (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def pod(i: int, image: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod-{i:05d}", "namespace": "default", "labels": {"app": "density"}},
            "spec": {"containers": [{"name": "app", "image": image}]}}


def breakdown(cluster: kubelab.Cluster) -> collections.Counter:
    """Time each controller's reconciles and each kind of timer (wrapping this cluster's pump hooks)."""
    spent: collections.Counter = collections.Counter()
    reconcile, run_timer = cluster._reconcile, cluster._run

    def timed_reconcile(controller, key):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        reconcile(controller, key)
        spent[f"reconcile {controller.name}"] += time.perf_counter() - start

    def timed_run(fn, what):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        run_timer(fn, what)
        spent[f"timer {getattr(fn, '__qualname__', type(fn).__name__)}"] += time.perf_counter() - start

    cluster._reconcile = timed_reconcile  # type: ignore[method-assign]
    cluster._run = timed_run  # type: ignore[method-assign]
    return spent


def run(pods: int, nodes: int, image: str, profile: bool, split: bool, tune_gc: bool) -> None:
    cluster = kubelab.Cluster(nodes=nodes + 1, clock="stepped", seed=1)  # + the tainted control plane
    spent = breakdown(cluster) if split else None
    gc.collect()
    if tune_gc:
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
    before = rss()
    profiler = cProfile.Profile() if profile else None
    start_sim = cluster.now
    start, start_cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    with cluster.lock:
        for i in range(pods):
            cluster.api.create(pod(i, image))
        created = time.perf_counter()
        cluster.settle()
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    sim = cluster.now - start_sim
    listed, _ = cluster.store.list(("", "pods"), "default")
    running = sum(1 for p in listed if (p.get("status") or {}).get("phase") == "Running")
    gc.collect()
    grown = rss() - before
    print(f"pods Running: {running}/{pods} on {nodes} nodes ({image})")
    print(f"wall time creation → Running: {wall:.2f} s (target < {WALL_TARGET:g} s, ratio {WALL_TARGET / wall:.2f})")
    print(f"process CPU time: {cpu:.2f} s (what to compare on a shared machine, where wall time is noisy)")
    print(f"simulated time: {sim:.1f} s")
    print(f"memory used: {grown / 2**20:.0f} MiB (target < 1 GiB, ratio {MEMORY_TARGET / max(grown, 1):.2f})")
    events = cluster.store.count(("", "events"))
    print(f"objects: {events} events, store revision {cluster.store.revision}")
    repeats.emit(wall_s=wall, cpu_s=cpu, memory_mib=grown / 2**20)
    if spent is not None:
        spent["API server creates"] = created - start
        for name, seconds in spent.most_common(8):
            print(f"  {seconds:7.2f} s  {seconds / pods * 1000:6.3f} ms/pod  {name}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--image", default="registry.k8s.io/pause:3.10")
    parser.add_argument("--breakdown", action="store_true", help="time spent per component")
    parser.add_argument("--tune-gc", action="store_true", help="raise the garbage collector's threshold first")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs in fresh processes (median and best; no breakdown or profile)")
    args = parser.parse_args()
    if args.repeat > 1:
        argv = ["--pods", str(args.pods), "--nodes", str(args.nodes), "--image", args.image]
        argv += ["--tune-gc"] if args.tune_gc else []
        repeats.repeat(__file__, argv, args.repeat, {"wall_s": WALL_TARGET, "memory_mib": MEMORY_TARGET / 2**20})
        return
    run(args.pods, args.nodes, args.image, args.profile, args.breakdown, args.tune_gc)


if __name__ == "__main__":
    main()
