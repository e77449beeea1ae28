"""minikube's command tree: find the command in argv, pick the profile, run it, map errors to exits.

`dispatch(session, argv, out, err)` does what cobra does for minikube: `-p/--profile` may stand
anywhere (before `--`), the first word names the command, an unknown one is cobra's
`Error: unknown command "X" for "minikube"` (with "Did you mean this?" for a near miss) and
minikube's usage exit code 14.

Read by: kubelab.minikube (Minikube.run). Reads: every command module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from kubelab.api.errors import ApiError
from kubelab.minikube import addons, logs, node, service, ssh, start, status
from kubelab.minikube.profiles import Call, Session
from kubelab.minikube.text import EX_PROGRAM_ERROR, EX_PROGRAM_USAGE, Exit, fatal


def _kubectl(call: Call) -> int:
    args = call.args[1:] if call.args[:1] == ["--"] else list(call.args)
    if args:
        # As minikube adds --cluster: after the command words, before the first flag (clearer kubectl errors).
        at = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
        args = args[:at] + [f"--context={call.profile}"] + args[at:]
    return call.host.kubectl(args, call.out, call.err)


COMMANDS: dict[str, Callable[[Call], int]] = {
    "start": start.start, "stop": start.stop, "delete": start.delete, "status": status.status,
    "ip": status.ip, "version": status.version, "profile": status.profile, "update-context": status.update_context,
    "addons": addons.run, "addon": addons.run, "node": node.run, "service": service.service,
    "dashboard": service.dashboard, "docker-env": service.docker_env, "logs": logs.logs, "ssh": ssh.ssh,
    "kubectl": _kubectl,
}
# Real minikube commands the emulator does not model: minikube would run them; here they say so.
UNSUPPORTED = ("cache", "completion", "config", "cp", "image", "license", "mount", "options", "pause",
               "podman-env", "ssh-host", "ssh-key", "tunnel", "unpause", "update-check")
HELP = """minikube provisions and manages local Kubernetes clusters optimized for development workflows.

Basic Commands:
  start            Starts a local Kubernetes cluster
  status           Gets the status of a local Kubernetes cluster
  stop             Stops a running local Kubernetes cluster
  delete           Deletes a local Kubernetes cluster
  dashboard        Access the Kubernetes dashboard running within the minikube cluster

Images Commands:
  docker-env       Provides instructions to point your terminal's docker-cli to the Docker Engine inside minikube

Configuration and Management Commands:
  addons           Enable or disable a minikube addon
  profile          Get or list the current profiles (clusters)
  update-context   Update kubeconfig in case of an IP or port change

Networking and Connectivity Commands:
  service          Returns a URL to connect to a service

Advanced Commands:
  ssh              Log into the minikube environment (for debugging)
  kubectl          Run a kubectl binary matching the cluster version
  node             Add, remove, or list additional nodes

Troubleshooting Commands:
  logs             Returns logs to debug a local Kubernetes cluster
  ip               Retrieves the IP address of the specified node

Other Commands:
  version          Print the version of minikube

Use "minikube <command> --help" for more information about a given command.
"""


def dispatch(session: Session, argv: list[str], out: TextIO, err: TextIO) -> int:
    profile, rest = _take_profile(argv, session.active)
    words = [a for a in rest if not a.startswith("-")]
    if not words:
        out.write(HELP)
        return 0
    name = words[0]
    args = list(rest)
    args.remove(name)
    if name == "help":
        out.write(HELP)
        return 0
    handler = COMMANDS.get(name)
    try:
        if handler is None:
            if name in UNSUPPORTED:
                raise fatal(err, "MK_UNIMPLEMENTED", f"'minikube {name}' is not emulated on kubelab's local "
                            "cluster: install minikube to use it", EX_PROGRAM_USAGE)
            return _unknown(name, err)
        if "--help" in args or "-h" in args:
            out.write(f"Usage:\n  minikube {name} [flags] [options]\n\nUse \"minikube options\" for a list of "
                      "global command-line options (applies to all commands).\n")
            return 0
        return handler(Call(session, profile, out, err, args))
    except Exit as stop:
        return stop.code
    except ApiError as error:  # the local cluster refused: minikube would surface the API error
        err.write(f"❌  Exiting due to MK_API_ERROR: {error}\n")
        return EX_PROGRAM_ERROR


def _take_profile(argv: list[str], default: str) -> tuple[str, list[str]]:
    """Remove `-p NAME`, `-pNAME`, `--profile NAME`, `--profile=NAME` (before `--`) and return the profile."""
    profile, rest, i = default, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg in ("-p", "--profile") and i + 1 < len(argv):
            profile, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--profile="):
            profile = arg.split("=", 1)[1]
        elif arg.startswith("-p") and not arg.startswith("--") and len(arg) > 2:
            profile = arg[2:].lstrip("=")
        else:
            rest.append(arg)
        i += 1
    return profile, rest


def _unknown(name: str, err: TextIO) -> int:
    near = [c for c in sorted(set(COMMANDS) - {"addon"} | set(UNSUPPORTED))
            if _distance(name, c) <= 2 or c.startswith(name)]
    hint = "\n\nDid you mean this?\n" + "".join(f"\t{c}\n" for c in near) if near else ""
    err.write(f'Error: unknown command "{name}" for "minikube"{hint}\nRun \'minikube --help\' for usage.\n')
    return EX_PROGRAM_USAGE


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (cobra's suggestion test, case-insensitive)."""
    a, b = a.lower(), b.lower()
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]
