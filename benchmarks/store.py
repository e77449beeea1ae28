"""Store and apply-path figures for the local cluster, against the targets of the core issue.

Run: `python benchmarks/store.py [--pods 10000]`. Prints each figure, its target and the ratio
(figure / target for rates, target / figure for latencies: ≥ 1.0 means the target is met).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kubelab  # noqa: E402
from kubelab.store.memory import MemoryStore, freeze  # noqa: E402

PODS = ("", "pods")


def running_pod(i: int) -> dict:
    """A pod as it looks once scheduled and running (spec defaulted, status filled)."""
    name = f"web-7d4b9c8f6d-{i:05d}"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "generateName": "web-7d4b9c8f6d-", "namespace": "default",
                     "uid": f"0b0c3b9e-6a7c-4a5e-9d7e-{i:012x}", "creationTimestamp": "2026-01-01T00:00:00Z",
                     "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c8f6d",
                                          "uid": "1b0c3b9e-6a7c-4a5e-9d7e-2f1a3b4c5d6e", "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
                                 "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
                                 "terminationMessagePath": "/dev/termination-log",
                                 "terminationMessagePolicy": "File"}],
                 "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                 "serviceAccountName": "default", "nodeName": f"kubelab-worker{i % 100 or ''}",
                 "securityContext": {}, "schedulerName": "default-scheduler", "enableServiceLinks": True},
        "status": {"phase": "Running", "hostIP": "172.18.0.3", "podIP": f"10.244.{i % 250}.{i % 200 + 2}",
                   "startTime": "2026-01-01T00:00:01Z", "qosClass": "BestEffort",
                   "conditions": [{"type": t, "status": "True", "lastProbeTime": None,
                                   "lastTransitionTime": "2026-01-01T00:00:02Z"}
                                  for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                            "PodScheduled")],
                   "containerStatuses": [{"name": "nginx", "state": {"running": {"startedAt": "2026-01-01T00:00:02Z"}},
                                          "lastState": {}, "ready": True, "restartCount": 0, "started": True,
                                          "image": "docker.io/library/nginx:1.25",
                                          "imageID": "docker.io/library/nginx@sha256:0d17b565c37b",
                                          "containerID": f"containerd://{i:064x}"}]},
    }


def report(name: str, value: float, unit: str, target: float, higher_is_better: bool) -> None:
    ratio = value / target if higher_is_better else target / value if value else float("inf")
    mark = "ok " if ratio >= 1 else "MISS"
    cmp = "≥" if higher_is_better else "≤"
    print(f"{mark} {name:<44} {value:>12,.1f} {unit:<10} target {cmp} {target:,.0f} {unit:<6} ratio {ratio:5.2f}")


def new_pod(i: int) -> dict:
    """The same pod as it is stored at creation: defaulted spec, no status yet."""
    pod = running_pod(i)
    pod["spec"].pop("nodeName")
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return pod


def bench_store(n: int) -> None:
    created = [freeze(new_pod(i)) for i in range(n)]
    store = MemoryStore()
    t = time.perf_counter()
    for p in created:
        store.create(PODS, p, copy=False)
    report("store creates/s (owned objects, as the API server writes)", n / (time.perf_counter() - t), "ops/s",
           20_000, True)
    copied = MemoryStore()
    pods = [new_pod(i) for i in range(n)]
    t = time.perf_counter()
    for p in pods:
        copied.create(PODS, p)
    print(f"    store creates/s with a defensive copy of each pod: {n / (time.perf_counter() - t):,.0f}")

    running = [freeze(running_pod(i)) for i in range(n)]
    t = time.perf_counter()
    for p in running:
        store.update(PODS, p, copy=False)
    report("store updates/s (pending → running status)", n / (time.perf_counter() - t), "ops/s", 20_000, True)

    times = []
    for _ in range(9):
        t = time.perf_counter()
        items, _ = store.list(PODS, "default")
        times.append(time.perf_counter() - t)
    assert len(items) == n
    report(f"list of {n:,} pods (median of 9)", statistics.median(times) * 1000, "ms", 50, False)
    bench_watch(store, n)
    bench_snapshot(store, n)


def bench_watch(store: MemoryStore, n: int) -> None:
    """50 watchers on threads: a burst of 1,000 updates (throughput), then 200 paced ones (latency)."""
    watchers = [store.watch(PODS, since=store.revision) for _ in range(50)]
    received = [0] * 50
    delays: list[float] = []
    sent: dict[str, float] = {}
    total = 1200

    def consume(i: int) -> None:
        while received[i] < total:
            e = watchers[i].next(timeout=10)
            if e is None:
                return
            received[i] += 1
            if received[i] > 1000:
                delays.append(time.perf_counter() - sent[e.object["metadata"]["resourceVersion"]])

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(50)]
    for th in threads:
        th.start()
    t = time.perf_counter()
    for i in range(1000):
        store.update(PODS, freeze(running_pod(i)), copy=False)
    while sum(received) < 50_000:
        time.sleep(0.001)
    report("watch: 1,000-update burst × 50 watchers", 50_000 / (time.perf_counter() - t), "events/s", 50_000, True)
    for i in range(200):
        pod = freeze(running_pod(i))
        sent[str(store.revision + 1)] = time.perf_counter()
        store.update(PODS, pod, copy=False)
        time.sleep(0.002)
    for th in threads:
        th.join()
    assert sum(received) == 50 * total, sum(received)
    delays.sort()
    report("watch delivery p99, 50 watchers (paced writes)", delays[int(len(delays) * 0.99)] * 1000, "ms", 20, False)
    for w in watchers:
        w.stop()



def bench_snapshot(store: MemoryStore, n: int) -> None:
    names = [o["metadata"]["name"] for o in store.list(PODS)[0]]
    snap = store.snapshot()
    for name in names:
        store.delete(PODS, "default", name)
    t = time.perf_counter()
    store.restore(snap)
    restore_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    store.snapshot()
    snap_ms = (time.perf_counter() - t) * 1000
    assert store.count(PODS) == n
    report(f"snapshot of {n:,} objects", snap_ms, "ms", 200, False)
    report(f"restore of {n:,} objects (all changed)", restore_ms, "ms", 200, False)


def bench_memory(n: int) -> None:
    pods = [running_pod(i) for i in range(n)]
    text_size = statistics.mean(len(json.dumps(p, separators=(",", ":"))) for p in pods)
    gc.collect()
    tracemalloc.start()
    store = MemoryStore(history=0)
    base = tracemalloc.get_traced_memory()[0]
    for p in pods:
        store.create(PODS, p)
    del pods
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    per_pod = used / n
    print(f"    (pod JSON text {text_size:,.0f} bytes; stored {per_pod:,.0f} bytes each)")
    report("memory per stored pod / its JSON size", per_pod / text_size, "×", 3, False)


def bench_apply(n: int) -> None:
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=1)
    docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "labels": {"app": "web"}},
             "data": {"key": f"value-{i}"}} for i in range(n)]
    t = time.perf_counter()
    for d in docs:
        cluster.api.create(d)
    report("API server create (validated) ConfigMaps/s", n / (time.perf_counter() - t), "ops/s", 3_000, True)
    fresh = [{**d, "metadata": {**d["metadata"], "name": f"new-{i}"}} for i, d in enumerate(docs)]
    t = time.perf_counter()
    for d in fresh:
        cluster.apply(d)
    report("Cluster.apply (validated) new ConfigMaps/s", n / (time.perf_counter() - t), "ops/s", 3_000, True)
    for d in fresh:
        d["data"] = {"key": "changed"}
    t = time.perf_counter()
    for d in fresh:
        cluster.apply(d)
    report("Cluster.apply (validated) changed ConfigMaps/s", n / (time.perf_counter() - t), "ops/s", 3_000, True)
    count = min(n, 1000)
    deploys = [{"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": f"web-{i}", "labels": {"app": "web"}},
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": f"web-{i}"}},
                         "template": {"metadata": {"labels": {"app": f"web-{i}"}},
                                      "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                                               "ports": [{"containerPort": 80}]}]}}}}
               for i in range(count)]
    t = time.perf_counter()
    for d in deploys:
        cluster.apply(d)
    print(f"    Cluster.apply of {count:,} Deployments, with the controllers' reactions: "
          f"{count / (time.perf_counter() - t):,.0f}/s")
    cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    args = parser.parse_args()
    print(f"kubelab store benchmark — {args.pods:,} pods, Python {sys.version.split()[0]}")
    bench_store(args.pods)
    bench_memory(args.pods)
    bench_apply(args.pods)


if __name__ == "__main__":
    main()
