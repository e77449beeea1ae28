"""Stepped local clusters in the states the lessons show, built from the seed's manifests.

Each function returns a `Snapshot` of a fresh `Cluster(clock="stepped", seed=…)`, so the same
call always gives the same objects (names, uids, statuses) and the same DOT.
"""

from __future__ import annotations

from typing import Any

import kubelab
from kubelab import seed
from kubelab.viz import Snapshot

GO_DEMO_2_SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "go-demo-2"},
                     "spec": {"selector": {"service": "go-demo-2"}, "ports": [{"port": 28017}]}}


def pod(name: str, containers: list[dict[str, Any]], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": containers}}


def cluster(nodes: int = 2) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=nodes, clock="stepped", seed=11)


def go_demo_2() -> tuple[kubelab.Cluster, Snapshot]:
    """The seed's go-demo-2 ReplicaSet, running, with a Service selecting its pods."""
    c = cluster()
    c.apply(seed.GO_DEMO_2_REPLICASET)
    c.apply(GO_DEMO_2_SERVICE)
    c.advance(30)
    return c, Snapshot.from_cluster(c)


def troubled() -> Snapshot:
    """A CrashLoopBackOff pod, an ImagePullBackOff pod, and a not-Ready pod the go-demo-2 Service selects."""
    c, _ = go_demo_2()
    c.apply(pod("crasher", [{"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", "exit 1"]}]))
    c.apply(pod("no-such-image", [{"name": "app", "image": "nosuch/image:9"}]))
    c.apply(pod("unready", [{"name": "api", "image": "nginx:1.25",
                             "readinessProbe": {"httpGet": {"path": "/", "port": 9999}, "periodSeconds": 2}}],
                {"service": "go-demo-2"}))
    c.advance(60)
    return Snapshot.from_cluster(c)


def mid_rollout() -> Snapshot:
    """The seed's (fixed) helloworld Deployment at 3 replicas, caught halfway through a new image's rollout."""
    c = cluster()
    c.apply(seed.HELLOWORLD_DEPLOYMENT_FIXED)
    deploy = c.get("deployment", "helloworld")
    deploy["spec"]["replicas"] = 3
    c.update(deploy)
    c.advance(30)
    deploy = c.get("deployment", "helloworld")
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25"
    c.update(deploy)
    c.advance(2)
    return Snapshot.from_cluster(c)


def three_nodes() -> Snapshot:
    """A 3-node cluster running go-demo-2 spread over the workers, plus a pod too big for any node."""
    c = cluster(nodes=3)
    c.apply(seed.GO_DEMO_2_REPLICASET)
    c.apply(pod("too-big", [{"name": "app", "image": "nginx:1.25", "resources": {"requests": {"cpu": "100"}}}]))
    c.advance(30)
    return Snapshot.from_cluster(c)
