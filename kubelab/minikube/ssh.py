"""`minikube ssh`: a few commands on a simulated node, answered from the cluster's state.

`docker ps` lists the node's containers as cri-dockerd names them (`k8s_<container>_<pod>_<ns>_
<uid>_<restarts>`, plus each pod's `k8s_POD_…` pause container), with the container IDs the pod
status reports and ages from simulated time; `ps aux` the node's daemons and the containers'
processes; `hostname`, `uname`, `ip addr`, `whoami`. Anything else is bash's "command not found"
(127). Nothing here runs on the real machine.

Read by: kubelab.minikube.commands. Reads: .profiles, .flags, .text, kubelab.cluster (clock, images).
"""

from __future__ import annotations

import hashlib
import shlex
from typing import TYPE_CHECKING, Any

from kubelab.cluster.clock import parse_time
from kubelab.cluster.runtime.images import lookup
from kubelab.minikube.flags import parse
from kubelab.minikube.profiles import Call, find_node, node_ip
from kubelab.minikube.text import EX_GUEST_NOT_FOUND, fatal, human_duration

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
KERNEL = "6.8.0-85-generic"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
DAEMONS = ("/sbin/init", "/lib/systemd/systemd-journald", "/usr/bin/containerd",
           "/usr/bin/dockerd -H tcp://0.0.0.0:2376 -H unix:///var/run/docker.sock",
           "/usr/bin/cri-dockerd --container-runtime-endpoint fd://",
           "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
           "/var/lib/minikube/binaries/v1.37.1/kubelet --config=/var/lib/kubelet/config.yaml")


def ssh(call: Call) -> int:
    flags, args = parse(call.args, {"node": "value", "n": "node", "native-ssh": "bool"}, "ssh", call.err)
    record, cluster = call.running()
    machine = find_node(record, flags["node"]) if "node" in flags else record.nodes[0]
    if machine is None:
        raise fatal(call.err, "GUEST_NODE_RETRIEVE", f"retrieving node: Could not find node {flags['node']}",
                    EX_GUEST_NOT_FOUND)
    line = " ".join(args).strip()
    if not line:
        call.err.write("kubelab: a notebook cell has no terminal for an interactive shell; run one command: "
                       "minikube ssh -- CMD (e.g. minikube ssh -- docker ps)\n")
        return 1
    words = shlex.split(line)
    while words and words[0] == "sudo":
        words = words[1:]
    shell = NodeShell(cluster, machine)
    return shell.run(words, call)


def _short(container_id: str) -> str:
    return container_id.rpartition("://")[2][:12]


def _truncate(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _tabulate(rows: list[list[str]]) -> str:
    """Docker's tabwriter (min width 10, padding 3); the last column is not padded."""
    widths = [max(10, max(len(r[i]) for r in rows) + 3) for i in range(len(rows[0]) - 1)]
    return "".join("".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1] + "\n" for r in rows)


class NodeShell:
    def __init__(self, cluster: Cluster, machine: str) -> None:
        self.cluster = cluster
        self.machine = machine

    def run(self, words: list[str], call: Call) -> int:
        command, args = (words[0], words[1:]) if words else ("", [])
        out = call.out
        if command == "hostname":
            out.write(self.machine + "\n")
        elif command == "whoami":
            out.write("docker\n")
        elif command == "uname":
            out.write(self._uname(args) + "\n")
        elif command == "ip" and args[:1] in (["a"], ["addr"], ["address"]):
            out.write(self._ip_addr())
        elif command == "docker" and args[:1] == ["ps"]:
            out.write(self._docker_ps(args[1:]))
        elif command == "ps":
            out.write(self._ps(args))
        elif command in ("exit", "true", ""):
            return 0
        else:
            call.err.write(f"bash: line 1: {command}: command not found\n")
            return 127
        return 0

    # ------------------------------------------------------------- containers
    def _pods(self) -> list[Obj]:
        pods = [p for p in self.cluster.list("pods", None) if (p.get("spec") or {}).get("nodeName") == self.machine]
        return sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)

    def containers(self, include_exited: bool = False) -> list[dict[str, Any]]:
        """The node's containers, newest first: each pod's app containers, then its pause container."""
        now = self.cluster.now
        found = []
        for pod in self._pods():
            meta, spec = pod["metadata"], pod.get("spec") or {}
            status = pod.get("status") or {}
            images = {c["name"]: c for c in spec.get("containers") or ()}
            created = parse_time(meta.get("creationTimestamp")) if meta.get("creationTimestamp") else now
            pause = hashlib.sha256(f"pause {meta['uid']}".encode()).hexdigest()[:12]
            for cs in status.get("containerStatuses") or ():
                state = cs.get("state") or {}
                if not cs.get("containerID") or ("running" not in state and not include_exited):
                    continue
                detail = state.get("running") or state.get("terminated") or {}
                started = parse_time(detail["startedAt"]) if detail.get("startedAt") else created
                spec_container = images.get(cs["name"], {})
                found.append({"id": _short(cs["containerID"]), "pod_id": pause,
                              "image": spec_container.get("image", ""),
                              "command": self._command(spec_container), "started": started,
                              "name": f"k8s_{cs['name']}_{meta['name']}_{meta['namespace']}_{meta['uid']}_"
                                      f"{cs.get('restartCount', 0)}",
                              "status": self._state(state, now, started)})
            finished = status.get("phase") in ("Succeeded", "Failed")  # kubelet removed the sandbox
            if (status.get("podIP") or status.get("containerStatuses")) and (include_exited or not finished):
                found.append({"id": pause, "pod_id": pause, "image": PAUSE_IMAGE, "command": "/pause",
                              "started": created,
                              "name": f"k8s_POD_{meta['name']}_{meta['namespace']}_{meta['uid']}_0",
                              "status": "Exited (0) " + human_duration(now - created) + " ago" if finished
                              else f"Up {human_duration(now - created)}"})
        return found

    def _state(self, state: Obj, now: float, started: float) -> str:
        if "terminated" in state:
            done = state["terminated"].get("finishedAt")
            ago = human_duration(now - (parse_time(done) if done else started))
            return f"Exited ({state['terminated'].get('exitCode', 0)}) {ago} ago"
        return f"Up {human_duration(now - started)}"

    def _command(self, container: Obj) -> str:
        words = list(container.get("command") or ())
        args = list(container.get("args") or ())
        if not words:
            image = lookup(container.get("image", "")) if container.get("image") else None
            words = list(image.entrypoint) if image else []
            args = args or (list(image.cmd) if image else [])
        return " ".join(words + args)

    def _docker_ps(self, args: list[str]) -> str:
        containers = self.containers(include_exited="-a" in args or "--all" in args)
        if "-q" in args or "--quiet" in args:
            return "".join(c["id"] + "\n" for c in containers)
        rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]]
        for c in containers:
            rows.append([c["id"], c["image"], f'"{_truncate(c["command"], 20)}"',
                         f"{human_duration(self.cluster.now - c['started'])} ago", c["status"], "", c["name"]])
        return _tabulate(rows)

    # ---------------------------------------------------------------- system
    def _ps(self, args: list[str]) -> str:
        if not args:
            return "    PID TTY          TIME CMD\n   2412 pts/1    00:00:00 bash\n   2419 pts/1    00:00:00 ps\n"
        lines = ["USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"]
        pid = 0
        processes = [("root", d) for d in DAEMONS]
        for c in reversed(self.containers()):
            processes.append(("65535" if c["command"] == "/pause" else "root", c["command"] or c["image"]))
        for user, title in processes:
            pid = 1 if pid == 0 else pid + 97
            lines.append(f"{user:<8}{pid:>8}  0.0  0.1  12345  6789 ?        Ssl  00:00   0:00 {title}")
        return "\n".join(lines) + "\n"

    def _uname(self, args: list[str]) -> str:
        if not args or args == ["-s"]:
            return "Linux"
        if args == ["-r"]:
            return KERNEL
        if args == ["-n"]:
            return self.machine
        if args == ["-m"]:
            return "x86_64"
        return f"Linux {self.machine} {KERNEL} #85~22.04.1-Ubuntu SMP PREEMPT_DYNAMIC x86_64 x86_64 x86_64 GNU/Linux"

    def _ip_addr(self) -> str:
        address = node_ip(self.cluster, self.machine)
        octets = [int(x) for x in address.split(".")] if address.count(".") == 3 else [192, 168, 49, 2]
        mac = "02:42:" + ":".join(f"{o:02x}" for o in octets)
        node = self.cluster.get("nodes", self.machine, None)
        cidr = (node.get("spec") or {}).get("podCIDR", "10.244.0.0/24")
        gateway = cidr.rsplit(".", 1)[0] + ".1"
        return (
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
            "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"
            "2: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default\n"
            "    link/ether 02:42:ac:11:00:01 brd ff:ff:ff:ff:ff:ff\n"
            "    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n"
            "       valid_lft forever preferred_lft forever\n"
            "3: bridge: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n"
            "    link/ether 0a:58:0a:f4:00:01 brd ff:ff:ff:ff:ff:ff\n"
            f"    inet {gateway}/16 brd 10.244.255.255 scope global bridge\n"
            "       valid_lft forever preferred_lft forever\n"
            "4: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default\n"
            f"    link/ether {mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
            f"    inet {address}/24 brd {'.'.join(address.split('.')[:3])}.255 scope global eth0\n"
            "       valid_lft forever preferred_lft forever\n")
