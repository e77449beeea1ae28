"""Network figures for the local cluster: Endpoints update latency and local listener throughput.

Run: `python benchmarks/network.py [--services 1000] [--pods-per-service 10] [--seconds 3]`.
1. Stepped clock, N Services × M running pods (status written as a kubelet would): flip one pod's Ready condition
   through the status subresource and pump — the wall time until its Endpoints and EndpointSlice
   are rewritten (median of 100 changes), and the endpoint controllers' own share of it.
2. A NodePort Service of nginx reached through `cluster.service_url()` over loopback with
   http.client keep-alive from 2 threads: requests per second.
Each line ends with the ratio to its target (≥ 1.0 means met).
"""

from __future__ import annotations

import argparse
import collections
import http.client
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kubelab  # noqa: E402

IMAGE = "registry.k8s.io/pause:3.10"
ENDPOINT_CONTROLLERS = ("endpoint-controller", "endpointslice-controller")


def report(name: str, value: float, unit: str, target: float, higher_is_better: bool) -> None:
    ratio = value / target if higher_is_better else target / value if value else float("inf")
    mark = "ok " if ratio >= 1 else "MISS"
    cmp = "≥" if higher_is_better else "≤"
    print(f"{mark} {name:<52} {value:>10,.2f} {unit:<6} target {cmp} {target:,.0f} {unit:<6} ratio {ratio:5.2f}")


def timed_reconciles(cluster: kubelab.Cluster) -> collections.Counter:
    """Wrap this cluster's reconcile hook to add up each controller's time."""
    spent: collections.Counter = collections.Counter()
    reconcile = cluster._reconcile

    def timed(controller, key):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        reconcile(controller, key)
        spent[controller.name] += time.perf_counter() - start

    cluster._reconcile = timed  # type: ignore[method-assign]
    return spent


def with_ready(pod: dict, ready: bool) -> dict:
    value = "True" if ready else "False"
    status = dict(pod["status"])
    status["conditions"] = [{**c, "status": value} if c["type"] in ("Ready", "ContainersReady") else c
                            for c in status.get("conditions") or ()]
    return {**pod, "status": status}


def running_status(i: int) -> dict:
    """What a kubelet would have written for a started pause pod (the pods sit on a node with no kubelet)."""
    return {"phase": "Running", "hostIP": "172.18.0.250", "podIP": f"10.244.{100 + i // 250}.{i % 250 + 2}",
            "podIPs": [{"ip": f"10.244.{100 + i // 250}.{i % 250 + 2}"}], "qosClass": "BestEffort",
            "startTime": "2026-01-01T00:00:00Z",
            "conditions": [{"type": t, "status": "True", "lastProbeTime": None,
                            "lastTransitionTime": "2026-01-01T00:00:01Z"}
                           for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                     "PodScheduled")]}


def endpoints_latency(services: int, per_service: int, changes: int) -> None:
    # Pods are bound to a node name no kubelet serves (the stepped clock never reaches PodGC's 40 s
    # quarantine), so their status is exactly what the benchmark writes and no kubelet rewrites it.
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=1)
    start = time.perf_counter()
    for i in range(services * per_service):
        app = f"svc-{i // per_service:04d}"
        pod = cluster.api.create({"apiVersion": "v1", "kind": "Pod",
                                  "metadata": {"name": f"{app}-{i % per_service:02d}", "labels": {"app": app}},
                                  "spec": {"nodeName": "bench-node", "containers": [{"name": "app", "image": IMAGE}]}})
        cluster.api.update_status({**pod, "status": running_status(i)})
    cluster.pump()
    pods_done = time.perf_counter()
    for i in range(services):
        cluster.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{i:04d}"},
                            "spec": {"selector": {"app": f"svc-{i:04d}"}, "ports": [{"port": 80}]}})
    cluster.pump()
    print(f"    set-up: pods {pods_done - start:,.1f} s, Services and their Endpoints "
          f"{time.perf_counter() - pods_done:,.1f} s")
    ready = sum(len(s.get("addresses") or ()) for e in cluster.store.list(("", "endpoints"), "default")[0]
                for s in e.get("subsets") or ())
    print(f"    {services:,} Services × {per_service} pods, {ready:,} ready addresses")
    spent = timed_reconciles(cluster)
    walls, own = [], []
    for n in range(changes):
        name = f"svc-{(n * 7) % services:04d}-{n % per_service:02d}"
        pod = cluster.store.get(("", "pods"), "default", name)
        flipped = with_ready(pod, ready=not _is_ready(pod))
        spent.clear()
        t = time.perf_counter()
        cluster.api.update_status(flipped)
        cluster.pump()
        walls.append(time.perf_counter() - t)
        own.append(sum(spent[c] for c in ENDPOINT_CONTROLLERS))
        ep = cluster.store.get(("", "endpoints"), "default", name[:8])
        listed = {a["targetRef"]["name"] for s in ep.get("subsets") or () for a in s.get("addresses") or ()}
        assert (name in listed) == _is_ready(flipped), f"Endpoints of {name[:8]} did not follow the change"
    report("pod readiness change → Endpoints written (median)", statistics.median(walls) * 1000, "ms", 10, False)
    report("  of which endpoint controllers' reconciles (median)", statistics.median(own) * 1000, "ms", 5, False)
    cluster.close()


def _is_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or ())


def listener_throughput(seconds: float, threads: int = 2) -> None:
    cluster = kubelab.Cluster(nodes=2, clock="stepped", seed=1)
    cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
    cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    cluster.settle()
    port = int(cluster.service_url("web").rsplit(":", 1)[1])
    counts = [0] * threads
    failures = [0] * threads
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while time.perf_counter() < stop:
            conn.request("GET", "/")
            response = conn.getresponse()
            body = response.read()
            if response.status == 200 and b"Welcome to nginx!" in body:
                counts[i] += 1
            else:
                failures[i] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if sum(failures):
        print(f"    {sum(failures)} requests did not get nginx's page")
    report(f"NodePort listener, keep-alive, {threads} threads", sum(counts) / elapsed, "req/s", 1_000, True)
    cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--pods-per-service", type=int, default=10)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(f"kubelab network benchmark — Python {sys.version.split()[0]}")
    endpoints_latency(args.services, args.pods_per_service, args.changes)
    listener_throughput(args.seconds)


if __name__ == "__main__":
    main()
