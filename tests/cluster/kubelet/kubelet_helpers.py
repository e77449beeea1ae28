"""Shared helpers for the kubelet's behaviour tests: clusters, pods, and what a user reads back."""

from __future__ import annotations

import kubelab

WORKERS = ("kubelab-worker", "kubelab-worker2")


def make(nodes: int = 3, seed: int = 1) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=nodes, clock="stepped", seed=seed)


def pod(name: str, *containers: dict, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": list(containers), **spec}}


def container(name: str, image: str, *command: str, **fields) -> dict:
    body = {"name": name, "image": image, **fields}
    if command:
        body["command"] = list(command)
    return body


def sh(name: str, image: str, script: str, **fields) -> dict:
    return container(name, image, "sh", "-c", script, **fields)


def status(c: kubelab.Cluster, name: str) -> dict:
    return c.get("pods", name)["status"]


def phase(c: kubelab.Cluster, name: str) -> str:
    return status(c, name).get("phase", "")


def state(c: kubelab.Cluster, name: str, container_name: str | None = None, init: bool = False) -> dict:
    field = "initContainerStatuses" if init else "containerStatuses"
    entries = status(c, name).get(field) or []
    entry = entries[0] if container_name is None else next(e for e in entries if e["name"] == container_name)
    return entry


def waiting(c: kubelab.Cluster, name: str, container_name: str | None = None) -> tuple[str, str]:
    w = state(c, name, container_name)["state"].get("waiting") or {}
    return w.get("reason", ""), w.get("message", "")


def conditions(c: kubelab.Cluster, name: str) -> dict[str, tuple[str, str, str]]:
    return {x["type"]: (x["status"], x.get("reason", ""), x.get("message", "")) for x in status(c, name)["conditions"]}


def events(c: kubelab.Cluster, name: str, source: str | None = "kubelet") -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in c.events()
            if e["involvedObject"]["name"] == name and (source is None or e["source"]["component"] == source)]


def event_counts(c: kubelab.Cluster, name: str) -> dict[tuple[str, str], int]:
    return {(e["reason"], e["message"]): e["count"] for e in c.events() if e["involvedObject"]["name"] == name}


def elapsed(c: kubelab.Cluster, since: float) -> float:
    return round(c.now - since, 3)
