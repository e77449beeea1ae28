"""`minikube status`, `ip`, `version`, `profile [list|NAME]` and `update-context`.

`status` prints minikube's block per node (control plane: host, kubelet, apiserver, kubeconfig;
worker: host, kubelet) and exits with its bit flags: 1 host not running, 2 kubelet/apiserver not
running, 4 kubeconfig not configured — 7 for a stopped profile, 85 for none. A node stopped
with `minikube node stop` is a stopped host; a node whose kubelet kubelab silenced
(`cluster.fail_node`) is a running host with a stopped kubelet.

Read by: kubelab.minikube.commands. Reads: .profiles, .flags, .text.
"""

from __future__ import annotations

import json
import re

from kubelab.minikube.flags import parse, true
from kubelab.minikube.profiles import Call, find_node, node_ip
from kubelab.minikube.text import (
    COMMIT,
    EX_GUEST_NOT_FOUND,
    EX_PROGRAM_ERROR,
    EX_PROGRAM_USAGE,
    VERSION,
    fatal,
    say,
    table,
)

FIELDS = ("Name", "Host", "Kubelet", "APIServer", "Kubeconfig", "Worker")


def _statuses(call: Call) -> list[dict[str, object]]:
    record = call.partial()
    cluster = call.cluster()
    result = []
    for index, machine in enumerate(record.nodes or [call.profile]):
        worker = index > 0
        if cluster is None or machine in record.stopped_nodes:
            host = kubelet = apiserver = kubeconfig = "Stopped"
        else:
            host = "Running"
            agent = getattr(cluster, "node_agents", {}).get(machine)
            kubelet = "Running" if agent is None or agent.alive else "Stopped"
            apiserver, kubeconfig = "Running", "Configured"
        status: dict[str, object] = {"Name": machine, "Host": host, "Kubelet": kubelet, "APIServer": apiserver,
                                     "Kubeconfig": kubeconfig, "Worker": worker}
        if worker and host == "Running":  # a stopped host reports Stopped everywhere, as minikube's NodeStatus
            status["APIServer"] = status["Kubeconfig"] = "Irrelevant"
        result.append(status)
    return result


def _exit_code(statuses: list[dict[str, object]]) -> int:
    code = 0
    for st in statuses:
        if st["Host"] != "Running":
            code |= 1
        if st["APIServer"] not in ("Running", "Irrelevant") or st["Kubelet"] != "Running":
            code |= 2
        if st["Kubeconfig"] not in ("Configured", "Irrelevant"):
            code |= 4
    return code


def status(call: Call) -> int:
    flags, _ = parse(call.args, {"output": "value", "o": "output", "format": "value", "f": "format",
                                 "node": "value", "n": "node", "layout": "value", "l": "layout",
                                 "watch": "value", "w": "watch"}, "status", call.err)
    output = flags.get("output", "text").lower()
    if output not in ("text", "json"):
        raise fatal(call.err, "MK_USAGE", f"invalid output format: {output}. Valid values: 'text', 'json'",
                    EX_PROGRAM_USAGE)
    statuses = _statuses(call)
    if "node" in flags:
        machine = find_node(call.partial(), flags["node"])
        if machine is None:
            raise fatal(call.err, "GUEST_NODE_RETRIEVE", f"retrieving node: Could not find node {flags['node']}",
                        EX_GUEST_NOT_FOUND)
        statuses = [s for s in statuses if s["Name"] == machine]
    if output == "json":
        body = statuses[0] if len(statuses) == 1 else statuses
        call.out.write(json.dumps(body, separators=(",", ":")))
        return _exit_code(statuses)
    template = flags.get("format")
    for st in statuses:
        if template is not None:
            call.out.write(_fill(template, st))
        elif st["Worker"]:
            call.out.write(f"{st['Name']}\ntype: Worker\nhost: {st['Host']}\nkubelet: {st['Kubelet']}\n\n")
        else:
            call.out.write(f"{st['Name']}\ntype: Control Plane\nhost: {st['Host']}\nkubelet: {st['Kubelet']}\n"
                           f"apiserver: {st['APIServer']}\nkubeconfig: {st['Kubeconfig']}\n\n")
    return _exit_code(statuses)


def _fill(template: str, st: dict[str, object]) -> str:
    """The `{{.Field}}` parts of a Go template (all `minikube status --format` uses)."""
    return re.sub(r"{{\s*\.(\w+)\s*}}", lambda m: str(st.get(m.group(1), "")), template)


def ip(call: Call) -> int:
    flags, _ = parse(call.args, {"node": "value", "n": "node"}, "ip", call.err)
    record, cluster = call.running()
    machine = find_node(record, flags["node"]) if "node" in flags else record.nodes[0]
    if machine is None:
        raise fatal(call.err, "GUEST_NODE_RETRIEVE", f"retrieving node: Could not find node {flags['node']}",
                    EX_GUEST_NOT_FOUND)
    call.out.write(node_ip(cluster, machine) + "\n")
    return 0


def version(call: Call) -> int:
    flags, _ = parse(call.args, {"output": "value", "o": "output", "short": "bool",
                                 "components": "bool"}, "version", call.err)
    output = flags.get("output", "")
    if true(flags, "short"):
        call.out.write(VERSION + "\n")
    elif output == "json":
        call.out.write(json.dumps({"commit": COMMIT, "minikubeVersion": VERSION}, separators=(",", ":")) + "\n")
    elif output == "yaml":
        call.out.write(f"commit: {COMMIT}\nminikubeVersion: {VERSION}\n\n")
    elif output:
        raise fatal(call.err, "MK_OUTPUT_USAGE", "error: --output must be 'yaml' or 'json'", EX_PROGRAM_ERROR)
    else:
        call.out.write(f"minikube version: {VERSION}\ncommit: {COMMIT}\n")
    return 0


def profile(call: Call) -> int:
    flags, args = parse(call.args, {"output": "value", "o": "output", "light": "bool", "l": "light",
                                    "detailed": "bool", "d": "detailed"}, "profile", call.err)
    if not args:
        call.out.write(call.profile + "\n")
        return 0
    if args[0] != "list":
        call.session.active = args[0]
        say(call.out, "check", f"minikube profile was successfully set to {args[0]}")
        return 0
    rows = []
    detailed = true(flags, "detailed")
    for name in sorted(set(call.session.profiles) | ({call.profile} if call.cluster() else set())):
        one = Call(call.session, name, call.out, call.err, [])
        record = one.record()
        if record is None:
            continue
        cluster = one.cluster()
        state = "Skipped" if true(flags, "light") else "OK" if cluster is not None else "Stopped"
        address = node_ip(cluster, record.nodes[0]) if cluster is not None and record.nodes else ""
        row = [name, record.driver, "docker", address, "v1.37.1", state, str(len(record.nodes or [name])),
               "*" if name == call.profile else "", "*" if name == call.session.context else ""]
        if detailed:
            row.insert(4, "8443")
        rows.append(row)
    if not rows:
        raise fatal(call.err, "MK_USAGE_NO_PROFILE", "No minikube profile was found.", EX_PROGRAM_USAGE,
                    advice="\n\n    You can create one using 'minikube start'.\n    ")
    if flags.get("output", "table") == "json":
        valid = [{"Name": r[0], "Status": r[5 + detailed], "Config": {"Name": r[0], "Driver": r[1]}} for r in rows]
        call.out.write(json.dumps({"invalid": [], "valid": valid}, separators=(",", ":")))
        return 0
    headers = ["Profile", "Driver", "Runtime", "IP", "Version", "Status", "Nodes", "Active Profile",
               "Active Kubecontext"]
    if detailed:
        headers.insert(4, "Port")
    call.out.write(table(headers, rows, upper=False))
    return 0


def update_context(call: Call) -> int:
    parse(call.args, {}, "update-context", call.err)
    record, _ = call.running()
    if call.session.context == call.profile:
        say(call.out, "meh", f'No changes required for the "{call.profile}" context')
    else:
        call.host.start(call.profile, len(record.nodes))  # the host rewrites the context and makes it current
        call.session.context = call.profile
        say(call.out, "celebrate", f'"{call.profile}" context has been updated to point to the local cluster')
    say(call.out, "kubectl", f'Current context is "{call.profile}"')
    return 0

