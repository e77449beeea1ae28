"""The `kubelab` command.

`kubelab lab` opens the lessons (`notebooks/` of a clone) in JupyterLab: the main job.
`kubelab demo` runs a short, deterministic tour of the embedded local cluster and prints what
it did: the course's broken manifests turned into kubectl-style errors with hints, objects
stored with Kubernetes' defaults and resourceVersions, a watch, events and the component
trace, and a snapshot/restore. `kubelab up` starts a local cluster and serves its Kubernetes
API on 127.0.0.1 until Ctrl-C, with a kubeconfig for kubectl.

Read by: the console script entry point. Reads: kubelab (public API only).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kubelab import ApiError, Cluster
from kubelab import seed as course


def _say(text: str = "") -> None:
    print(text, flush=True)


def _error(err: ApiError) -> None:
    _say(textwrap.indent(f"Error from server ({err.reason}): {err.message}", "    "))


def _pods(cluster: Cluster, selector: str) -> None:
    for pod in cluster.list("pods", selector=selector):
        status = pod["status"]
        ready = sum(1 for c in status.get("containerStatuses") or () if c.get("ready"))
        total = len(pod["spec"]["containers"])
        _say(f"    {pod['metadata']['name']:<22} {ready}/{total}  {status.get('phase', ''):<9} "
             f"{status.get('podIP', '<none>'):<12} {pod['spec'].get('nodeName', '<none>')}")


def demo(seed: int) -> int:
    """A deterministic tour of the local cluster with the course's own manifests."""
    cluster = Cluster(nodes=3, clock="stepped", seed=seed)
    try:
        nodes = ", ".join(n["metadata"]["name"] for n in cluster.list("nodes", None))
        _say(f"Started a local cluster (stepped clock, seed {seed}) with nodes {nodes}")

        _say("\n1. The course's Deployment, with its indentation mistake:")
        try:
            cluster.apply(course.HELLOWORLD_DEPLOYMENT)
        except ApiError as err:
            _error(err)
        _say("\n2. The course's CronJob, with its removed apiVersion:")
        try:
            cluster.apply(course.HELLO_CRONJOB)
        except ApiError as err:
            _error(err)

        _say("\n3. The corrected Deployment, stored with Kubernetes' defaults, then run:")
        mark = cluster.trace()[-1].seq
        deploy = cluster.apply(course.HELLOWORLD_DEPLOYMENT_FIXED)[0]
        strategy = deploy["spec"]["strategy"]
        _say(f"    deployment.apps/helloworld created: strategy {strategy['type']} "
             f"maxSurge={strategy['rollingUpdate']['maxSurge']} "
             f"maxUnavailable={strategy['rollingUpdate']['maxUnavailable']}, "
             f"revisionHistoryLimit={deploy['spec']['revisionHistoryLimit']}")
        waited = cluster.settle()
        _say(f"    after {waited:.0f} simulated seconds:")
        _pods(cluster, "app=helloworld")
        _say("    what the components did:")
        for record in cluster.trace(since=mark)[:8]:
            _say(f"      {record}")

        _say("\n4. The course's go-demo-2 ReplicaSet (mongo + the API with its liveness probe):")
        cluster.apply(course.GO_DEMO_2_REPLICASET)
        cluster.settle()
        _pods(cluster, "service=go-demo-2")
        victim = cluster.list("pods", selector="service=go-demo-2")[0]["metadata"]["name"]
        cluster.delete("pod", victim)
        cluster.settle()
        _say(f"    deleted {victim}; the ReplicaSet made a new one:")
        _pods(cluster, "service=go-demo-2")

        _say("\n5. The fixed CronJob, five simulated minutes later:")
        snap = cluster.snapshot()
        cluster.apply(course.HELLO_CRONJOB_FIXED)
        cluster.advance(300)
        jobs = cluster.list("jobs")
        _say(f"    jobs kept: {', '.join(j['metadata']['name'] for j in jobs)}")
        pod = cluster.list("pods", selector=f"job-name={jobs[-1]['metadata']['name']}")[0]
        _say("    logs of the newest: " + " | ".join(cluster.logs(pod["metadata"]["name"]).splitlines()))
        cluster.restore(snap)
        _say(f"    restored the snapshot from before it: cronjobs now {len(cluster.list('cronjobs'))}")
    finally:
        cluster.close()
    return 0


def default_kubeconfig() -> str:
    """A per-user kubeconfig outside ~/.kube, so `up` never touches the learner's own contexts."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"kubelab-{uid}", "kubeconfig")


def up(nodes: int, port: int, seed: int | None, clock: str, kubeconfig: str | None,
       stop: threading.Event | None = None) -> int:
    """Serve a local cluster's API until Ctrl-C (or until `stop` is set, for tests)."""
    started = time.monotonic()
    cluster = Cluster(nodes=nodes, seed=seed, clock=clock)
    try:
        handle = cluster.serve(port=port, kubeconfig=kubeconfig or default_kubeconfig())
    except OSError as err:
        cluster.close()
        print(f"kubelab: cannot serve on 127.0.0.1:{port}: {err.strerror or err}", file=sys.stderr)
        return 1
    plural = "node" if nodes == 1 else "nodes"
    _say(f"kubelab: a local cluster ({nodes} {plural}, {clock} clock) serves the Kubernetes API at {handle.url}"
         f" (ready in {time.monotonic() - started:.2f}s)")
    _say("Point kubectl at it:")
    _say(f"    export KUBECONFIG={handle.kubeconfig}")
    _say("    kubectl get nodes")
    _say("Press Ctrl-C to stop.")
    stop = stop or threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) \
        if threading.current_thread() is threading.main_thread() else None
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
        cluster.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    _say("kubelab: stopped.")
    return 0


def find_lessons(directory: str | None = None) -> Path | None:
    """The lessons folder: the one given, else ./notebooks, else the clone kubelab was installed from."""
    if directory is not None:
        path = Path(directory)
        return path if path.is_dir() else None
    for path in (Path.cwd() / "notebooks", Path(__file__).resolve().parent.parent / "notebooks"):
        if path.is_dir() and any(path.glob("*.ipynb")):
            return path
    return None


def lab(directory: str | None, no_browser: bool, port: int | None,
        execute: Callable[[str, Sequence[str]], object] = os.execv) -> int:  # type: ignore[assignment]
    """Replace this process with `jupyter lab` rooted at the lessons (returns only on an error)."""
    lessons = find_lessons(directory)
    if lessons is None:
        where = directory or "./notebooks"
        print(f"kubelab: no lessons at {where}: run it from a clone of the kubelab repository, "
              "or pass --dir PATH", file=sys.stderr)
        return 1
    try:
        import jupyterlab  # noqa: F401  (only to say what is missing before exec'ing)
    except ImportError:
        print("kubelab: JupyterLab is not installed: pip install 'kubelab[lab]' (or run ./scripts/lab)",
              file=sys.stderr)
        return 1
    argv = [sys.executable, "-m", "jupyter", "lab", str(lessons)]
    if no_browser:
        argv.append("--no-browser")
    if port is not None:
        argv.append(f"--port={port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and fresh cloud machines often run as root; Jupyter refuses by default
    _say(f"kubelab: opening the lessons in {lessons} with JupyterLab")
    sys.stdout.flush()
    execute(sys.executable, argv)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lab_cmd = sub.add_parser("lab", help="open the lessons (notebooks/) in JupyterLab")
    lab_cmd.add_argument("--dir", default=None, help="the lessons folder (default: ./notebooks of the clone)")
    lab_cmd.add_argument("--no-browser", action="store_true", help="do not open a browser (print the URL)")
    lab_cmd.add_argument("--port", type=int, default=None, help="JupyterLab's port (default: its own, 8888)")
    demo_cmd = sub.add_parser("demo", help="a short tour of the embedded local cluster")
    demo_cmd.add_argument("--seed", type=int, default=1)
    up_cmd = sub.add_parser("up", help="run a local cluster and serve its Kubernetes API for kubectl")
    up_cmd.add_argument("--nodes", type=int, default=1, help="number of nodes (default 1)")
    up_cmd.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    up_cmd.add_argument("--seed", type=int, default=None, help="seed of the cluster's random choices")
    up_cmd.add_argument("--clock", choices=("stepped", "realtime"), default="realtime",
                        help="realtime (default) or stepped: time moves only while a client waits on a watch")
    up_cmd.add_argument("--kubeconfig", default=None,
                        help=f"kubeconfig to write or merge the kubelab context into (default {default_kubeconfig()})")
    args = parser.parse_args(argv)
    if args.command == "lab":
        return lab(args.dir, args.no_browser, args.port)
    if args.command == "demo":
        return demo(args.seed)
    if args.command == "up":
        return up(args.nodes, args.port, args.seed, args.clock, args.kubeconfig)
    return 2


if __name__ == "__main__":
    sys.exit(main())
