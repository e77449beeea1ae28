"""Determinism check: one seeded scenario, hashed, to compare before and after a speed change.

Run: `python benchmarks/determinism_check.py [--seed 7] [--verbose]`. On a stepped clock it plays
a rollout, a Service, a Job, a DaemonSet, bare pods, a crash loop, a bad image, an unschedulable
pod, a scale-up and down, deletes, and `exec`s that read and change container files (and check
that another container of the same image did not see the change), then prints one SHA-256 per
part (stored objects, events, trace, scheduling decisions, exec output, generator state) and an
overall hash. A speed change must leave every line the same for the same seed: run it before and
after (other people's changes move the hashes too, so compare trees that differ only by yours).
`--verbose` also writes the canonical JSON of each part to /tmp/determinism-<part>.json to diff.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kubelab  # noqa: E402


def deployment(name: str, image: str, replicas: int, **spec: Any) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image, **spec}]}}}}


def pod(name: str, image: str, **extra: Any) -> dict:
    container = {"name": "c", "image": image, **extra.pop("container", {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"role": "bare"}},
            "spec": {"containers": [container], **extra}}


def scenario(seed: int) -> dict[str, Any]:
    cluster = kubelab.Cluster(nodes=3, clock="stepped", seed=seed)
    cluster.apply(deployment("web", "nginx:1.25", 3))
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}})
    cluster.apply([
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
         "spec": {"completions": 2, "template": {"spec": {"restartPolicy": "Never", "containers": [
             {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", "echo done"]}]}}}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
         "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {"metadata": {"labels": {"app": "agent"}},
                  "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}}},
    ])
    for i in range(4):
        cluster.create(pod(f"bare-{i}", "registry.k8s.io/pause:3.10"))
    cluster.create(pod("tools", "busybox:1.36", container={"command": ["sleep", "3600"]}))
    cluster.create(pod("crash", "busybox:1.36", container={"command": ["sh", "-c", "echo boom; exit 3"]}))
    cluster.create(pod("badimage", "nginx:no-such-tag"))
    cluster.create(pod("huge", "nginx:1.25", container={"resources": {"requests": {"cpu": "500"}}}))
    cluster.settle(timeout=60)
    cluster.advance(90)
    execs = []
    for argv in (["cat", "/etc/passwd"], ["sh", "-c", "echo hi > /tmp/x; cat /tmp/x; ls /tmp /etc"],
                 ["id"], ["env"], ["sh", "-c", "echo more >> /etc/hosts; cat /etc/hosts"]):
        result = cluster.exec("tools", argv)
        execs.append([argv, result.exit_code, result.stdout, result.stderr])
    web, other = (p["metadata"]["name"] for p in cluster.list("pods", selector="app=web")[:2])
    cluster.advance(75)  # so that a touched file's mtime differs from the image's
    for argv in (["cat", "/etc/passwd"], ["ls", "-la", "/"], ["sh", "-c", "touch /usr/share/x; ls /usr/share"],
                 ["sh", "-c", "chmod 600 /etc/passwd; touch /etc/group; echo x:x:7:7::/:/bin/sh >> /etc/passwd; "
                  "ls -l /etc; id x"]):
        result = cluster.exec(web, argv)
        execs.append([argv, result.exit_code, result.stdout, result.stderr])
    for argv in (["ls", "-l", "/etc"], ["wc", "-l", "/etc/passwd"]):  # another container of the image: unchanged
        result = cluster.exec(other, argv)
        execs.append([argv, result.exit_code, result.stdout, result.stderr])
    execs.append(["logs crash", cluster.logs("crash")])
    cluster.apply(deployment("web", "nginx:1.26", 3))  # a rolling update
    cluster.settle(timeout=120)
    cluster.scale("deployment", "web", 6)
    cluster.settle(timeout=60)
    cluster.scale("deployment", "web", 2)
    cluster.settle(timeout=60)
    cluster.delete("pod", "bare-1")
    cluster.delete("pod", "crash", grace_period=0)
    cluster.delete("service", "web")
    cluster.settle(timeout=60)
    cluster.advance(30)
    objects = {f"{'/'.join(r)}|{ns}|{name}": obj
               for r, spaces in cluster.store.snapshot().items()
               for ns, objs in spaces.items() for name, obj in objs.items()}
    decisions = {}
    for p in cluster.list("pods", None):
        d = cluster.scheduling_decision(p["metadata"]["name"], p["metadata"]["namespace"])
        decisions[p["metadata"]["name"]] = repr(d)
    parts = {
        "objects": objects,
        "events": cluster.events(None),
        "trace": [tuple(r) for r in cluster.trace()],
        "decisions": decisions,
        "exec": execs,
        "rng": repr(cluster.rng.getstate()),
        "revision": cluster.store.revision,
        "now": cluster.now,
    }
    cluster.close()
    return parts


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    parts = scenario(args.seed)
    total = hashlib.sha256()
    for name, value in parts.items():
        text = canonical(value)
        if args.verbose:
            Path(f"/tmp/determinism-{name}.json").write_text(json.dumps(json.loads(text), indent=1, sort_keys=True))
        digest = hashlib.sha256(text.encode()).hexdigest()
        total.update(digest.encode())
        print(f"{name:10s} {digest[:16]}  ({len(value) if hasattr(value, '__len__') else value})")
    print(f"{'overall':10s} {total.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
