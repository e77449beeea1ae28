"""`minikube node add|list|stop|start|delete` on the local cluster.

`add` joins a worker (`minikube-m02`, `-m03`…) through `cluster.add_node`; `stop` silences the
node's kubelet (`cluster.fail_node`: the Node goes NotReady after the grace period, as when a
real node container stops) and remembers the host as stopped; `start` brings it back
(`recover_node`); `delete` removes the Node (`remove_node`). Node names are accepted as minikube
accepts them: the machine name (`minikube-m02`) or the short one (`m02`).

Read by: kubelab.minikube.commands. Reads: .profiles, .flags, .start (node block), .text.
"""

from __future__ import annotations

from kubelab.minikube import start as starting
from kubelab.minikube.flags import parse
from kubelab.minikube.profiles import Call, find_node, node_ip, node_names, short_name
from kubelab.minikube.text import EX_GUEST_NOT_FOUND, EX_PROGRAM_USAGE, fatal, say


def run(call: Call) -> int:
    sub = call.args[0] if call.args else ""
    call.args = call.args[1:]
    handlers = {"add": add, "list": list_, "stop": stop, "start": start, "delete": delete}
    if sub not in handlers:
        call.out.write("Operations on nodes\n\nAvailable Commands:\n  add         Adds a node to the given cluster.\n"
                       "  delete      Deletes a node from a cluster.\n  list        List nodes.\n  start       "
                       "Starts a node.\n  stop        Stops a node in a cluster.\n")
        return 0 if not sub else EX_PROGRAM_USAGE
    return handlers[sub](call)


def add(call: Call) -> int:
    flags, _ = parse(call.args, {"control-plane": "bool", "worker": "bool", "delete-on-failure": "bool"},
                     "node add", call.err)
    record, cluster = call.running()
    if flags.get("control-plane") == "true":
        say(call.err, "failure", "Adding a control-plane node to a non-HA (non-multi-control plane) cluster is not "
                                 "currently supported. Please first delete the cluster and use 'minikube start --ha' "
                                 "to create new one.")
    short = f"m{len(record.nodes) + 1:02d}"
    say(call.out, "happy", f"Adding node {short} to cluster {call.profile} as [worker]")
    added = cluster.add_node()["metadata"]["name"]
    record.nodes = node_names(cluster)
    starting._node_block(call, cluster, record, added, "worker", "fresh", no_proxy=node_ip(cluster, record.nodes[0]))
    say(call.out, "health_check", "Verifying Kubernetes components...")
    say(call.out, "ready", f"Successfully added {short_name(call.profile, added)} to {call.profile}!")
    return 0


def list_(call: Call) -> int:
    parse(call.args, {}, "node list", call.err)
    record = call.partial()
    cluster = call.cluster()
    for machine in record.nodes:
        call.out.write(f"{machine}\t{node_ip(cluster, machine) if cluster is not None else ''}\n")
    return 0


def _target(call: Call, verb: str) -> tuple[str, str]:
    _, args = parse(call.args, {}, f"node {verb}", call.err)
    if not args:
        raise fatal(call.err, "MK_USAGE", f"Usage: minikube node {verb} [name]", EX_PROGRAM_USAGE)
    record = call.partial()
    machine = find_node(record, args[0])
    if machine is None:
        raise fatal(call.err, "GUEST_NODE_RETRIEVE", f"retrieving node: Could not find node {args[0]}",
                    EX_GUEST_NOT_FOUND)
    return args[0], machine


def stop(call: Call) -> int:
    _, machine = _target(call, "stop")
    record = call.partial()
    cluster = call.cluster()
    say(call.out, "stopping", f'Stopping node "{machine}"  ...')
    if cluster is not None and machine not in record.stopped_nodes:
        say(call.out, "shutdown", f'Powering off "{machine}" via SSH ...')
        cluster.fail_node(machine)
        record.stopped_nodes.add(machine)
    say(call.out, "stopped", f"Successfully stopped node {machine}")
    return 0


def start(call: Call) -> int:
    name, machine = _target(call, "start")
    record, cluster = call.running()
    if machine not in record.stopped_nodes:
        say(call.out, "check", f"{name} is already running")
        return 0
    role = "primary control-plane" if machine == record.nodes[0] else "worker"
    starting._node_block(call, cluster, record, machine, role, "restart")
    say(call.out, "health_check", "Verifying Kubernetes components...")
    cluster.recover_node(machine)
    record.stopped_nodes.discard(machine)
    say(call.out, "happy", f"Successfully started node {machine}!")
    return 0


def delete(call: Call) -> int:
    name, machine = _target(call, "delete")
    record, cluster = call.running()
    say(call.out, "deleting_host", f"Deleting node {name} from cluster {call.profile}")
    if record.driver in ("docker", "podman"):
        say(call.out, "deleting_host", f'Deleting container "{machine}" ...')
    cluster.remove_node(machine)
    record.stopped_nodes.discard(machine)
    record.nodes = node_names(cluster)
    say(call.out, "deleted", f"Node {name} was successfully deleted.")
    return 0
