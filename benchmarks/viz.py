"""Cluster-picture figures: DOT generation and SVG render times for 10, 100 and 1,000 objects.

Run: `python benchmarks/viz.py [--sizes 10,100,1000] [--repeat 5] [--renderers dot,graphviz-pure,wasi]`.
The graphs have the shape of reference/visualization.md §3.1: per app one Deployment, one
ReplicaSet, one Service (with its Endpoints) and three pods spread over three nodes, all Running.
For each size it prints `to_dot` time (wall and CPU: process_time, steadier on a shared machine),
the DOT size, then each renderer's wall time for the ownership view (collapsed past 300 objects,
as widgets draw it, and uncollapsed) and the placement view, with the SVG size. Renders bypass
`to_svg`'s cache. Medians of `--repeat` runs. wasi's one-off module compile is printed apart.

Then the event-to-updated-widget latency of a LiveGraph on a ~100-object cluster, and the
notebook suite's total run time with each lesson kernel's memory (benchmarks/lessons.py).
To add a section (the widget latency figure does), write `def report_x(args) -> None` and
append it to SECTIONS at the bottom.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubelab.viz import Snapshot, render, to_dot  # noqa: E402

NODES = ("node-1", "node-2", "node-3")


def synthetic_snapshot(objects: int) -> Snapshot:
    """About `objects` drawn objects (6 per app: deploy, rs, svc, 3 pods; plus Endpoints and 3 Nodes)."""
    items: list[dict] = [{"kind": "Node", "metadata": {"name": n, "uid": f"uid-{n}"}, "spec": {},
                          "status": {"conditions": [{"type": "Ready", "status": "True"}]}} for n in NODES]
    apps = max(1, round(objects / 6))
    for a in range(apps):
        app, ns = f"app-{a:04d}", "default"
        rs = f"{app}-5d4f8c"
        items.append({"kind": "Deployment", "metadata": {"name": app, "namespace": ns, "uid": f"d-{a}"},
                      "spec": {"replicas": 3},
                      "status": {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3}})
        items.append({"kind": "ReplicaSet", "metadata": {"name": rs, "namespace": ns, "uid": f"rs-{a}",
                                                         "ownerReferences": [{"kind": "Deployment", "name": app,
                                                                              "uid": f"d-{a}", "controller": True}]},
                      "spec": {"replicas": 3}, "status": {"replicas": 3, "readyReplicas": 3}})
        addresses = []
        for p in range(3):
            name = f"{rs}-{p:05d}"
            items.append({"kind": "Pod", "metadata": {
                "name": name, "namespace": ns, "uid": f"p-{a}-{p}", "labels": {"app": app},
                "ownerReferences": [{"kind": "ReplicaSet", "name": rs, "uid": f"rs-{a}", "controller": True}]},
                "spec": {"nodeName": NODES[(a * 3 + p) % len(NODES)]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                           "containerStatuses": [{"name": "app", "ready": True, "state": {"running": {}}}]}})
            addresses.append({"ip": f"10.0.{a % 250}.{p}", "targetRef": {"kind": "Pod", "name": name,
                                                                         "uid": f"p-{a}-{p}"}})
        items.append({"kind": "Service", "metadata": {"name": app, "namespace": ns, "uid": f"s-{a}"},
                      "spec": {"selector": {"app": app}}})
        items.append({"kind": "Endpoints", "metadata": {"name": app, "namespace": ns},
                      "subsets": [{"addresses": addresses}]})
    return Snapshot.from_objects(items)


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of this process) over `repeat` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def report_dot_and_svg(args: argparse.Namespace) -> None:
    renderers = [r for r in args.renderers.split(",") if r in render.available()]
    missing = sorted(set(args.renderers.split(",")) - set(renderers))
    absent = f" (not available: {', '.join(missing)})" if missing else ""
    print(f"renderers: {', '.join(renderers) or 'none'}{absent}")
    if "wasi" in renderers:
        start = time.perf_counter()
        render.render_with("wasi", "digraph { a -> b }")
        print(f"wasi first call (module compile): {time.perf_counter() - start:.2f} s")
    for size in (int(s) for s in args.sizes.split(",")):
        snap = synthetic_snapshot(size)
        drawn = len(snap) - len(snap.nodes) - len(snap.endpoints)
        views = {
            "ownership": lambda s=snap: to_dot(s),
            "ownership uncollapsed": lambda s=snap: to_dot(s, collapse_over=10**9),
            "placement": lambda s=snap: to_dot(s, "placement"),
        }
        print(f"\n{drawn} objects ({len(snap.pods)} pods):")
        for view, make in views.items():
            if view == "ownership uncollapsed" and drawn <= 300:
                continue  # the same graph as "ownership"
            wall, cpu = median_time(make, args.repeat)
            dot = make()
            print(f"  {view:22} to_dot {wall * 1000:7.1f} ms wall {cpu * 1000:7.1f} ms cpu, "
                  f"DOT {len(dot) / 1024:6.1f} KiB")
            for name in renderers:
                repeat = args.repeat if len(dot) < 50_000 else max(1, args.repeat // 2)
                wall, _ = median_time(lambda n=name, d=dot: render.render_with(n, d), repeat)
                svg = render.render_with(name, dot)
                print(f"  {'':22} {name:13} {wall * 1000:8.1f} ms wall, SVG {len(svg) / 1024:7.1f} KiB")


# Sections run in order; later figures (widget latency) append theirs.
SECTIONS: list[Callable[[argparse.Namespace], None]] = [report_dot_and_svg]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--renderers", default=",".join(render.RENDERERS))
    args = parser.parse_args(argv)
    for section in SECTIONS:
        section(args)



def report_widget_latency(args: argparse.Namespace) -> None:
    """Event-to-updated-widget latency: a write to a ~100-object local cluster until LiveGraph's new
    picture is set (watch poll + snapshot + to_dot + to_svg). Target < 150 ms (issue 8)."""
    import kubelab
    from kubelab.widgets import LiveGraph

    cluster = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    try:
        for a in range(14):  # 14 × (Deployment, ReplicaSet, 3 Pods, Service, Endpoints) ≈ 100 objects
            labels = {"app": f"app-{a:02d}"}
            cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"app-{a:02d}"},
                           "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": {
                               "metadata": {"labels": labels},
                               "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
            cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"app-{a:02d}"},
                           "spec": {"selector": labels, "ports": [{"port": 80}]}})
        cluster.settle()
        graph = LiveGraph(cluster, namespace="default")
        objects = len(graph.source.snapshot("default"))
        pods = [p["metadata"]["name"] for p in cluster.list("pods")]
        walls = []
        for i in range(max(args.repeat, 10)):
            before = graph.renders
            pod = cluster.get("pod", pods[i % len(pods)])
            pod["metadata"]["labels"]["touched"] = str(i)
            start = time.perf_counter()
            cluster.update(pod)
            while graph.renders == before:
                time.sleep(0.001)
            walls.append(time.perf_counter() - start)
        graph.close()
        walls.sort()
        print(f"\nwidget latency, LiveGraph of {objects} objects (local cluster, {len(walls)} label changes): "
              f"median {statistics.median(walls) * 1000:.0f} ms, max {walls[-1] * 1000:.0f} ms wall "
              f"(target < 150 ms)")
    finally:
        cluster.close()


SECTIONS.append(report_widget_latency)


def report_lesson_suite(args: argparse.Namespace) -> None:
    """The notebook suite's total run time (target < 3 minutes in CI), and each lesson kernel's memory:
    the figures of benchmarks/lessons.py, which runs each lesson in a fresh kernel as the tests do."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("lessons.py")
    spec = importlib.util.spec_from_file_location("kubelab_benchmark_lessons", path)
    assert spec is not None and spec.loader is not None
    lessons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lessons)
    lessons.main(lessons.lessons())


SECTIONS.append(report_lesson_suite)

if __name__ == "__main__":
    main()
