"""Workload-controller figures: a Deployment scaled 0 → 10,000 replicas on 100 nodes, and idle CPU.

Run: `python benchmarks/controllers.py [--replicas 10000] [--nodes 100] [--idle-seconds 10] [--repeat 5]`.
1. Stepped clock: create the Deployment with 0 replicas, scale it to N, and run the cluster until
   every pod is Running — Deployment → ReplicaSet controller → scheduler → kubelets, all through
   the API server. Prints the wall time (target < 10 s, i.e. ≥ 1,000 pods/s), the memory the
   process grew by (target < 1 GiB).
2. Realtime clock: the same N pods running, then the process CPU used while nothing happens
   (target < 2 % of one core: no polling loops, only heartbeats and due timers).
Each line ends with the ratio to its target (≥ 1.0 means met). `--repeat N` runs part 1 N times, each
in a fresh process, and prints the median and the best (benchmarks/repeats.py says why); `--idle-seconds 0`
skips part 2.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kubelab  # noqa: E402
from benchmarks import repeats  # noqa: E402

IMAGE = "registry.k8s.io/pause:3.10"  # what Kubernetes' own density tests run


def rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def deployment(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "density"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "density"}},
                     "template": {"metadata": {"labels": {"app": "density"}},
                                  "spec": {"containers": [{"name": "app", "image": IMAGE}]}}}}


def running(cluster: kubelab.Cluster) -> int:
    pods, _ = cluster.store.list(("", "pods"), "default")
    return sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Running")


def scale_up(replicas: int, nodes: int) -> None:
    cluster = kubelab.Cluster(nodes=nodes + 1, clock="stepped", seed=1)  # + the tainted control plane
    cluster.apply(deployment(0))
    gc.collect()
    before = rss()
    start, start_cpu = time.perf_counter(), time.process_time()
    cluster.scale("deployment", "density", replicas)
    cluster.settle()
    wall = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    up = running(cluster)
    gc.collect()
    grown = rss() - before
    status = cluster.get("deploy", "density")["status"]
    print(f"Deployment 0 → {replicas:,} replicas on {nodes} nodes: {up:,} pods Running, "
          f"{status.get('availableReplicas', 0):,} available")
    print(f"  wall time to all Running: {wall:.2f} s ({up / wall:,.0f} pods/s) — target < 10 s, ratio {10 / wall:.2f}")
    print(f"  process CPU time: {cpu:.2f} s (steadier than wall time on a shared machine)")
    print(f"  memory grown: {grown / 2**20:,.0f} MiB — target < 1024 MiB, ratio {2**30 / max(grown, 1):.2f}")
    repeats.emit(wall_s=wall, cpu_s=cpu, memory_mib=grown / 2**20)
    cluster.close()


def idle_cpu(replicas: int, nodes: int, seconds: float) -> None:
    cluster = kubelab.Cluster(nodes=nodes + 1, clock="realtime", seed=1)
    cluster.apply(deployment(replicas))
    deadline = time.monotonic() + 120
    while running(cluster) < replicas and time.monotonic() < deadline:
        time.sleep(0.5)
    up = running(cluster)
    time.sleep(1.0)  # let start-up stragglers finish
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    share = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    print(f"Realtime clock, {up:,} pods Running on {nodes} nodes, idle for {seconds:g} s:")
    print(f"  CPU used: {share * 100:.2f} % of one core — target < 2 %, ratio {0.02 / max(share, 1e-9):.2f}")
    cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs of part 1 in fresh processes (median and best)")
    args = parser.parse_args()
    if args.repeat > 1:
        argv = ["--replicas", str(args.replicas), "--nodes", str(args.nodes), "--idle-seconds", "0"]
        repeats.repeat(__file__, argv, args.repeat, {"wall_s": 10.0, "memory_mib": 1024.0})
    else:
        scale_up(args.replicas, args.nodes)
    if args.idle_seconds > 0:
        idle_cpu(args.replicas, args.nodes, args.idle_seconds)


if __name__ == "__main__":
    main()
