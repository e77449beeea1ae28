"""`minikube start`, `stop` and `delete` on the kernel's local cluster, with minikube's progress lines.

`start` creates the profile's cluster through the host (or resumes a stopped one, or updates a
running one) and then tells the story minikube tells for the docker driver: driver choice, the
primary control-plane node, the container, "Preparing Kubernetes … on Docker …", the CNI, the
default addons and "Done!" — one block per extra node. Sizes and versions come from the Node
objects the cluster registered, so they agree with `kubectl describe node`.

Read by: kubelab.minikube.commands. Reads: kubelab.minikube.{profiles,flags,addons,text}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.minikube import addons
from kubelab.minikube.flags import parse
from kubelab.minikube.profiles import KIC_DRIVERS, Call, Profile, node_ip, node_names
from kubelab.minikube.text import EX_PROGRAM_USAGE, KIC_VERSION, VERSION, fatal, say

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

PLATFORM = "Ubuntu 22.04"  # the simulated workstation: the same on every machine, so notebooks replay
DRIVERS = ("docker", "podman", "virtualbox", "vmware", "kvm2", "qemu2", "qemu", "hyperkit", "hyperv", "vfkit",
           "parallels", "krunkit", "none", "ssh")
START_FLAGS = {"driver": "value", "vm-driver": "driver", "nodes": "value", "n": "nodes", "cpus": "value",
               "memory": "value", "kubernetes-version": "value", "container-runtime": "value", "addons": "value",
               "wait": "value", "force": "bool", "keep-context": "bool", "install-addons": "bool", "ha": "bool",
               "disk-size": "value", "cni": "value", "extra-config": "value", "ports": "value"}


def start(call: Call) -> int:
    flags, _ = parse(call.args, START_FLAGS, "start", call.err)
    try:
        count = int(flags.get("nodes", "1"))
    except ValueError:
        raise fatal(call.err, "MK_USAGE", f"invalid argument \"{flags['nodes']}\" for \"-n, --nodes\" flag",
                    EX_PROGRAM_USAGE) from None
    if count < 1:
        raise fatal(call.err, "MK_USAGE", "Number of nodes must be at least 1", EX_PROGRAM_USAGE)
    state = call.state()  # before start: None for a new profile, "Stopped" for one to restart
    record = call.record()
    out = call.out
    say(out, "happy", f"[{call.profile}] minikube {VERSION} on {PLATFORM}" if call.profile != "minikube"
        else f"minikube {VERSION} on {PLATFORM}")
    if record is not None:
        say(out, "sparkle", f"Using the {record.driver} driver based on existing profile")
    else:
        driver = flags.get("driver", "")
        if driver and driver not in DRIVERS:
            raise fatal(call.err, "DRV_UNSUPPORTED_OS", f"The driver '{driver}' is not supported on linux/amd64",
                        EX_PROGRAM_USAGE)
        record = Profile(call.profile, driver or "docker")
        if driver:
            say(out, "sparkle", f"Using the {driver} driver based on user configuration")
        else:
            say(out, "sparkle", "Automatically selected the docker driver")
    restarting, fresh = state == "Stopped", state is None
    cluster = call.host.start(call.profile, count if fresh else max(1, len(record.nodes)))
    call.session.profiles[call.profile] = record
    call.session.context = call.profile
    record.nodes = node_names(cluster)
    if record.nodes:
        primary = record.nodes[0]
        _node_block(call, cluster, record, primary, "primary control-plane",
                    "fresh" if fresh else "restart" if restarting or primary in record.stopped_nodes else "update")
        if fresh:
            for sub in ("Generating certificates and keys ...", "Booting up control plane ...",
                        "Configuring RBAC rules ..."):
                say(out, "sub_step", sub)
            say(out, "cni", "Configuring bridge CNI (Container Networking Interface) ..." if len(record.nodes) == 1
                else "Configuring CNI (Container Networking Interface) ...")
        say(out, "health_check", "Verifying Kubernetes components...")
        say(out, "sub_step", "Using image gcr.io/k8s-minikube/storage-provisioner:v5")
        enabled = addons.enable_defaults(cluster, record)
        say(out, "addon_enable", f"Enabled addons: {', '.join(enabled)}")
        for worker in record.nodes[1:]:
            out.write("\n")
            mode = "fresh" if fresh else "restart" if restarting or worker in record.stopped_nodes else "update"
            _node_block(call, cluster, record, worker, "worker", mode, no_proxy=node_ip(cluster, primary))
            say(out, "health_check", "Verifying Kubernetes components...")
        for name in list(record.stopped_nodes):
            cluster.recover_node(name)
        record.stopped_nodes.clear()
    if flags.get("keep-context", "false") == "true":
        say(out, "kubectl", f"To connect to this cluster, use:  --context={call.profile}")
    else:
        say(out, "ready", f'Done! kubectl is now configured to use "{call.profile}" cluster and "default" '
                          "namespace by default")
    return 0


def _node_block(call: Call, cluster: Cluster, record: Profile, name: str, role: str, mode: str,
                no_proxy: str = "") -> None:
    """What minikube prints while it provisions one node: starting, base image, container, Kubernetes."""
    out = call.out
    say(out, "thumbs_up", f'Starting "{name}" {role} node in "{call.profile}" cluster')
    if record.driver in KIC_DRIVERS:
        say(out, "pulling", f"Pulling base image {KIC_VERSION} ...")
    if mode == "update":
        say(out, "running", f'Updating the running {record.driver} "{name}" {record.machine_type} ...')
    elif mode == "restart":
        say(out, "restarting", f'Restarting existing {record.driver} {record.machine_type} for "{name}" ...')
    else:
        cpus, memory = _size(cluster, name)
        disk = "" if record.driver in KIC_DRIVERS else ", Disk=20000MB"
        say(out, "starting_vm", f"Creating {record.driver} {record.machine_type} (CPUs={cpus}, Memory={memory}MB"
                                f"{disk}) ...")
    if no_proxy and mode == "fresh":
        say(out, "internet", "Found network options:")
        say(out, "sub_step", f"NO_PROXY={no_proxy}")
    kubernetes, runtime = _versions(cluster, name)
    say(out, "docker", f"Preparing Kubernetes {kubernetes} on Docker {runtime} ...")
    if no_proxy and mode == "fresh":
        say(out, "sub_step", f"env NO_PROXY={no_proxy}")


def _node(cluster: Cluster, name: str) -> dict[str, Any]:
    return cluster.get("nodes", name, None)


def _size(cluster: Cluster, name: str) -> tuple[str, int]:
    capacity = (_node(cluster, name).get("status") or {}).get("capacity") or {}
    memory = str(capacity.get("memory", "0Ki"))
    mb = int(memory[:-2]) // 1024 if memory.endswith("Ki") and memory[:-2].isdigit() else 0
    return str(capacity.get("cpu", "2")), mb


def _versions(cluster: Cluster, name: str) -> tuple[str, str]:
    info = (_node(cluster, name).get("status") or {}).get("nodeInfo") or {}
    runtime = str(info.get("containerRuntimeVersion", "docker://28.4.0")).rpartition("://")[2]
    return str(info.get("kubeletVersion", "v1.37.1")), runtime


def stop(call: Call) -> int:
    flags, _ = parse(call.args, {"all": "bool", "keep-context-active": "bool", "schedule": "value",
                                 "cancel-scheduled": "bool"}, "stop", call.err)
    names = sorted(call.session.profiles) if flags.get("all") == "true" else [call.profile]
    stopped = 0
    for name in names:
        one = Call(call.session, name, call.out, call.err, [])
        record = one.partial()
        running = one.cluster() is not None
        for machine in reversed(record.nodes or [name]):
            say(call.out, "stopping", f'Stopping node "{machine}"  ...')
            if running and machine not in record.stopped_nodes:
                say(call.out, "shutdown", f'Powering off "{machine}" via SSH ...')
            stopped += 1
        if running:
            call.host.stop(name)
        if call.session.context == name:
            call.session.context = None
    say(call.out, "stopped", f"{stopped} node{'s' if stopped > 1 else ''} stopped.")
    return 0


def delete(call: Call) -> int:
    flags, _ = parse(call.args, {"all": "bool", "purge": "bool"}, "delete", call.err)
    if flags.get("all") == "true":
        for name in sorted(set(call.session.profiles) | ({call.profile} if call.cluster() else set())):
            _delete_one(Call(call.session, name, call.out, call.err, []))
        say(call.out, "deleting_host", "Successfully deleted all profiles")
        return 0
    record = call.record()
    if record is None:
        say(call.err, "meh", f'"{call.profile}" profile does not exist, trying anyways.')
        say(call.out, "deleted", f'Removed all traces of the "{call.profile}" cluster.')
        return 0
    _delete_one(call)
    return 0


def _delete_one(call: Call) -> None:
    record = call.record() or Profile(call.profile)
    if record.driver in KIC_DRIVERS:
        say(call.out, "deleting_host", f'Deleting "{call.profile}" in {record.driver} ...')
        for machine in record.nodes or [call.profile]:
            say(call.out, "deleting_host", f'Deleting container "{machine}" ...')
    call.host.delete(call.profile)
    call.session.profiles.pop(call.profile, None)
    if call.session.context == call.profile:
        call.session.context = None
    say(call.out, "deleted", f'Removed all traces of the "{call.profile}" cluster.')
