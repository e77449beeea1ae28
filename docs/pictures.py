"""Draw the README's pictures with kubelab itself: `python docs/pictures.py` writes docs/*.svg.

The scene is lesson 3's and 4's: the course's helloworld Deployment scaled to 3 during a rolling
update, the go-demo-2 ReplicaSet behind a NodePort Service, one pod being replaced — on a
two-node local cluster with a stepped clock and seed 1, so the picture only changes when kubelab does.

Reads: kubelab (Cluster, seed, viz). Read by: nobody (run it by hand after a drawing change).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubelab import Cluster, seed  # noqa: E402
from kubelab.viz import Snapshot, to_dot, to_svg  # noqa: E402

HERE = Path(__file__).resolve().parent


def scene() -> Cluster:
    cluster = Cluster(nodes=2, clock="stepped", seed=1)
    cluster.apply(seed.HELLOWORLD_DEPLOYMENT_FIXED)
    cluster.apply(seed.GO_DEMO_2_REPLICASET)
    cluster.apply("""
apiVersion: v1
kind: Service
metadata: {name: go-demo-2-svc}
spec:
  type: NodePort
  selector: {type: backend, service: go-demo-2}
  ports: [{port: 8080}]
""")
    cluster.settle()
    cluster.scale("deployment", "helloworld", 3)
    cluster.settle()
    victim = cluster.list("pods", selector="service=go-demo-2")[0]["metadata"]["name"]
    cluster.delete("pod", victim)  # the ReplicaSet makes a new one: caught while it is pending
    cluster.advance(1)
    return cluster


def main() -> int:
    cluster = scene()
    try:
        snap = Snapshot.from_cluster(cluster, namespace="default")
        for view in ("ownership", "placement"):
            path = HERE / f"livegraph-{view}.svg"
            path.write_text(to_svg(to_dot(snap, view)), encoding="utf-8")
            print(f"wrote {path.relative_to(HERE.parent)}")
    finally:
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
