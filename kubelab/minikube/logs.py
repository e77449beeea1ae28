"""`minikube logs`: the node's component logs, written from what the simulated cluster recorded.

Every line comes from the cluster's trace (what the API server, scheduler, controllers,
kube-proxy, DNS and kubelet did) and its core/v1 Events, stamped with simulated time in klog's
format (`I0101 00:00:03.000000       1 file.go:NN] …`; the kubelet section in journald's), under
minikube's `==> section <==` headings, the last `--length` lines (default 60) of each.

Read by: kubelab.minikube.commands. Reads: .profiles, .flags, .ssh (containers), kubelab.cluster.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kubelab.minikube.flags import parse
from kubelab.minikube.profiles import Call, find_node
from kubelab.minikube.ssh import NodeShell
from kubelab.minikube.text import EX_GUEST_NOT_FOUND, EX_PROGRAM_USAGE, fatal, human_duration

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster
    from kubelab.cluster.recorder import TraceRecord

# Which section a trace component's lines belong in, and the source file klog names for it.
SECTIONS = (
    ("coredns", ("kube-dns",), "plugin/kubernetes/controller.go:271"),
    ("kube-apiserver", ("api-server",), "handler.go:286"),
    ("kube-controller-manager", ("controller", "garbage-collector", "podgc", "ttl", "taint", "node-lifecycle",
                                 "cronjob", "job", "namespace", "serviceaccount", "persistentvolume", "root-ca"),
     "controller_utils.go:602"),
    ("kube-proxy", ("kube-proxy",), "proxier.go:805"),
    ("kube-scheduler", ("scheduler",), "schedule_one.go:314"),
)
KUBELET_PID = 2187


def _klog(at: float, pid: int, source: str, message: str, severity: str = "I") -> str:
    stamp = time.gmtime(at)
    micro = int(round((at - int(at)) * 1e6)) % 1_000_000
    return f"{severity}{stamp.tm_mon:02d}{stamp.tm_mday:02d} {time.strftime('%H:%M:%S', stamp)}.{micro:06d} " \
           f"{pid:>7} {source}] {message}"


def _line(record: TraceRecord) -> str:
    return f'"{record.action}" object="{record.object}"' + (f' detail="{record.detail}"' if record.detail else "")


def _section_of(component: str) -> str | None:
    for name, prefixes, _ in SECTIONS:
        if any(component == p or component.startswith(p) or component.endswith(p) for p in prefixes):
            return name
    return None


def logs(call: Call) -> int:
    flags, _ = parse(call.args, {"length": "value", "n": "length", "node": "value", "problems": "bool",
                                 "follow": "bool", "f": "follow", "file": "value", "audit": "bool",
                                 "last-start-only": "bool"}, "logs", call.err)
    try:
        length = int(flags.get("length", "60"))
    except ValueError:
        raise fatal(call.err, "MK_USAGE", f"invalid argument \"{flags['length']}\" for \"-n, --length\" flag",
                    EX_PROGRAM_USAGE) from None
    record, cluster = call.running()
    machine = find_node(record, flags["node"]) if "node" in flags else record.nodes[0]
    if machine is None:
        raise fatal(call.err, "GUEST_NODE_RETRIEVE", f"retrieving node: Could not find node {flags['node']}",
                    EX_GUEST_NOT_FOUND)
    sections = render(cluster, machine)
    for title, lines in sections.items():
        call.out.write(f"\n==> {title} <==\n")
        for line in lines[-length:] if length > 0 else lines:
            call.out.write(line + "\n")
    return 0


def render(cluster: Cluster, machine: str) -> dict[str, list[str]]:
    """Section title → log lines, in minikube's section order."""
    sections: dict[str, list[str]] = {"container status": _container_status(cluster, machine)}
    sources = {name: source for name, _, source in SECTIONS}
    for name, _, _ in SECTIONS:
        sections[name] = []
    for record in cluster.trace():
        section = _section_of(record.component)
        if section is not None:
            sections[section].append(_klog(record.time, 1, sources[section], _line(record)))
    sections["kubelet"] = _kubelet(cluster, machine)
    return sections


def _kubelet(cluster: Cluster, machine: str) -> list[str]:
    """journald lines of this node's kubelet: its Events (by reason) merged with its trace records."""
    entries: list[tuple[float, str]] = []
    for event in cluster.events(None):
        source = event.get("source") or {}
        if source.get("component") != "kubelet" or source.get("host") != machine:
            continue
        obj = event.get("involvedObject") or {}
        name = f"{obj.get('namespace')}/{obj.get('name')}" if obj.get("namespace") else obj.get("name")
        severity = "W" if event.get("type") == "Warning" else "I"
        when = _stamp(event.get("lastTimestamp"), cluster.now)
        entries.append((when, _klog(when, KUBELET_PID, "event.go:389", f'"Event occurred" object="{name}" '
                                    f'kind="{obj.get("kind")}" reason="{event.get("reason")}" '
                                    f'message="{event.get("message")}"', severity)))
    for record in cluster.trace():
        if record.component == "kubelet" and record.object.startswith("Pod "):
            pod = _pod_node(cluster, record.object)
            if pod == machine:
                entries.append((record.time, _klog(record.time, KUBELET_PID, "kubelet.go:2431", _line(record))))
    entries.sort(key=lambda e: e[0])
    return [f"{time.strftime('%b %d %H:%M:%S', time.gmtime(at))} {machine} kubelet[{KUBELET_PID}]: {text}"
            for at, text in entries]


def _pod_node(cluster: Cluster, described: str) -> str | None:
    namespace, _, name = described.partition(" ")[2].partition("/")
    obj = cluster.store.get(("", "pods"), namespace, name)
    return ((obj or {}).get("spec") or {}).get("nodeName")


def _stamp(text: Any, default: float) -> float:
    from kubelab.cluster.clock import parse_time

    return parse_time(text) if isinstance(text, str) and text else default


def _container_status(cluster: Cluster, machine: str) -> list[str]:
    """`crictl ps -a` as minikube logs runs it on the node."""
    shell = NodeShell(cluster, machine)
    rows = [["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"]]
    for c in shell.containers(include_exited=True):
        if c["image"] == "registry.k8s.io/pause:3.10":
            continue
        parts = c["name"].split("_")
        state = "Running" if c["status"].startswith("Up") else "Exited"
        rows.append([c["id"] + "0", c["image"], f"{human_duration(cluster.now - c['started'])} ago", state,
                     parts[1], parts[-1], c["pod_id"], parts[2]])
    widths = [max(20, max(len(r[i]) for r in rows) + 1) for i in range(len(rows[0]) - 1)]
    return ["".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1] for r in rows]
