"""`minikube service`, `service list`, `dashboard` and `docker-env` on the local cluster.

A Service's URL is the local listener `cluster.service_url` opens on 127.0.0.1 (kube-proxy's
NodePort path into the simulated cluster) — what minikube's docker driver gives on macOS and
Windows, where the node's 192.168.49.x address is not reachable from the workstation either.
Tables, the "has no node port" and "not found" messages and their exit codes are minikube's.
On a JupyterHub (Binder) the host knows a second address for each URL, the one the learner's
browser opens: it is shown on a line of its own beside minikube's text (on stderr after a bare
`--url`, so a script that reads the URL from stdout still gets just the URL).

Read by: kubelab.minikube.commands. Reads: .profiles, .flags, .addons, .text.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubelab.minikube import addons
from kubelab.minikube.flags import parse, true
from kubelab.minikube.profiles import Call, node_ip
from kubelab.minikube.text import (
    EX_GUEST_CONFLICT,
    EX_PROGRAM_USAGE,
    EX_SVC_NOT_FOUND,
    EX_SVC_TIMEOUT,
    PREFIX,
    fatal,
    say,
    table,
)

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
HEADERS = ["Namespace", "Name", "Target Port", "URL"]


def _port_names(service: Obj) -> list[str]:
    """minikube's TARGET PORT column: `name/port` for a named port, else the port."""
    names = []
    for port in (service.get("spec") or {}).get("ports") or ():
        if port.get("nodePort"):
            names.append(f"{port['name']}/{port['port']}" if port.get("name") else str(port["port"]))
    return names


def _url(cluster: Cluster, service: Obj) -> str:
    meta = service["metadata"]
    return str(cluster.service_url(meta["name"], meta["namespace"]))  # type: ignore[attr-defined]


def _browser_note(call: Call, url: str, what: str = "") -> str:
    """The extra "(from your browser on this hub: …)" line for `url`, or "" (not on a hub, or a host
    that cannot tell)."""
    find = getattr(call.host, "browser_url", None)
    shown = find(url) if find is not None else None
    return f"({what}from your browser on this hub: {shown})\n" if shown else ""


def service(call: Call) -> int:
    if call.args[:1] == ["list"]:
        call.args = call.args[1:]
        return service_list(call)
    flags, args = parse(call.args, {"namespace": "value", "n": "namespace", "url": "bool", "all": "bool",
                                    "https": "bool", "wait": "value", "interval": "value", "format": "value"},
                        "service", call.err)
    if not args:
        raise fatal(call.err, "MK_USAGE", "You must specify service name(s) or --all", EX_PROGRAM_USAGE)
    namespace = flags.get("namespace", "default")
    _, cluster = call.running()
    url_mode = true(flags, "url")
    services = {s["metadata"]["name"]: s for s in cluster.list("services", namespace)}
    wanted = [services[name] for name in args if name in services]
    if not wanted:
        name = args[0]
        raise fatal(call.err, "SVC_NOT_FOUND", f"Service '{name}' was not found in '{namespace}' namespace.\n"
                    f"You may select another namespace by using 'minikube service {name} -n <namespace>'. Or list "
                    "out all the services using 'minikube service list'", EX_SVC_NOT_FOUND)
    no_node_port = []
    for svc in wanted:
        name = svc["metadata"]["name"]
        ports = _port_names(svc)
        if not ports:
            if not url_mode:
                call.out.write(table(HEADERS, [[namespace, name, "", "No node port"]]))
            say(call.out, "sad", f"service {namespace}/{name} has no node port")
            no_node_port.append(f"{namespace}/{name}")
            continue
        if svc["spec"].get("type") in ("NodePort", "LoadBalancer") and not _has_running_pod(cluster, svc):
            raise fatal(call.err, "SVC_UNREACHABLE", f"service not available: no running pod for service {name} "
                        "found", EX_SVC_NOT_FOUND)
        url = _url(cluster, svc)
        if url_mode:
            call.out.write(url + "\n")
            call.err.write(_browser_note(call, url))
            continue
        call.out.write(table(HEADERS, [[namespace, name, "\n".join(ports), url]]))
        say(call.out, "celebrate", f"Opening service {namespace}/{name} in default browser...")
        call.out.write(_browser_note(call, url))
    if no_node_port:
        say(call.err, "warning", f"Services [{' '.join(no_node_port)}] have type \"ClusterIP\" not meant to be "
                                 "exposed, however for local development minikube allows you to access this !")
    return 0


def _has_running_pod(cluster: Cluster, svc: Obj) -> bool:
    selector = (svc.get("spec") or {}).get("selector") or {}
    text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    pods = cluster.list("pods", svc["metadata"]["namespace"], selector=text or None)
    return any((p.get("status") or {}).get("phase") == "Running" for p in pods)


def service_list(call: Call) -> int:
    flags, _ = parse(call.args, {"namespace": "value", "n": "namespace", "output": "value", "o": "output"},
                     "service list", call.err)
    _, cluster = call.running()
    rows = []
    for svc in cluster.list("services", flags.get("namespace") or None):
        meta = svc["metadata"]
        ports = _port_names(svc)
        rows.append([meta["namespace"], meta["name"], "\n".join(ports) if ports else "No node port",
                     _url(cluster, svc) if ports else ""])
    if flags.get("output", "table") == "json":
        body = [{"Namespace": r[0], "Name": r[1], "URLs": [r[3]] if r[3] else [],
                 "PortNames": r[2].split("\n") if r[3] else ["No node port"]} for r in rows]
        call.out.write(json.dumps(body, separators=(",", ":")))
        return 0
    call.out.write(table(HEADERS, rows))
    for namespace, name, _, url in rows:
        if url:
            call.out.write(_browser_note(call, url, f"{namespace}/{name}, "))
    return 0


def dashboard(call: Call) -> int:
    flags, _ = parse(call.args, {"url": "bool", "port": "value"}, "dashboard", call.err)
    record, cluster = call.running()
    if "dashboard" not in addons.enabled(cluster, record):
        say(call.err, "enabling", "Enabling dashboard ...")
        for image in addons.IMAGES["dashboard"]:
            say(call.out, "sub_step", f"Using image {image}")
        addons._set(cluster, record, "dashboard", True)
        hint = "" if call.profile == "minikube" else f" -p {call.profile}"
        call.out.write(f"{PREFIX['tip']}Some dashboard features require the metrics-server addon. To enable all "
                       f"features please run:\n\n\tminikube{hint} addons enable metrics-server\n\n")
    say(call.err, "verifying", "Verifying dashboard health ...")
    url = call.host.dashboard_url()
    if url is None:
        raise fatal(call.err, "SVC_CHECK_TIMEOUT", "dashboard service is not running: kubelab's live cluster view "
                    "is not available in this kernel", EX_SVC_TIMEOUT)
    say(call.err, "launch", "Launching proxy ...")
    say(call.err, "verifying", "Verifying proxy health ...")
    if true(flags, "url"):
        call.out.write(url + "\n")
        call.err.write(_browser_note(call, url))
    else:
        say(call.out, "celebrate", f"Opening {url} in your default browser...")
        call.out.write(_browser_note(call, url))
    return 0


def docker_env(call: Call) -> int:
    flags, _ = parse(call.args, {"unset": "bool", "u": "unset", "shell": "value", "no-proxy": "bool",
                                 "ssh-host": "bool", "ssh-add": "bool", "output": "value", "o": "output"},
                     "docker-env", call.err)
    record, cluster = call.running()
    if len(record.nodes) > 1:
        raise fatal(call.err, "ENV_MULTINODE_CONFLICT", "The docker-env command is incompatible with multi-node "
                    "clusters. Use the 'registry' add-on: https://minikube.sigs.k8s.io/docs/handbook/registry/",
                    EX_GUEST_CONFLICT)
    names = ("DOCKER_TLS_VERIFY", "DOCKER_HOST", "DOCKER_CERT_PATH", "MINIKUBE_ACTIVE_DOCKERD")
    if true(flags, "unset"):
        call.out.write("".join(f"unset {n};\n" for n in names))
    else:
        values = ("1", f"tcp://{node_ip(cluster, record.nodes[0])}:2376", "$HOME/.minikube/certs", call.profile)
        call.out.write("".join(f'export {n}="{v}"\n' for n, v in zip(names, values, strict=False)))
        call.out.write(f"\n# To point your shell to minikube's docker-daemon, run:\n"
                       f"# eval $(minikube -p {call.profile} docker-env)\n")
    say(call.err, "notice", "kubelab: the node runs no Docker daemon to point at; `minikube ssh -- docker ps` "
                            "lists its containers")
    return 0
