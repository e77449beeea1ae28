"""`minikube addons list|enable|disable`, and the addons `start` turns on.

The catalog is minikube v1.37's addon names and maintainers (what `addons list` shows). Which
addons are on lives in the cluster when it offers `addons()`/`enable_addon()`/`disable_addon()`
(so the objects an addon brings really appear); otherwise in the profile the emulator keeps.
Messages follow minikube's: the maintainer tip, "Using image …" sub-steps, "Verifying ingress
addon...", "🌟  The 'ingress' addon is enabled" — and the stray quote minikube prints in
`🌑  "The 'ingress' addon is disabled`.

Read by: kubelab.minikube.commands, .start, .service (dashboard). Reads: .profiles, .flags, .text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.minikube.flags import parse
from kubelab.minikube.profiles import Call, Profile
from kubelab.minikube.text import EX_PROGRAM_ERROR, EX_PROGRAM_USAGE, EX_SVC_UNSUPPORTED, PREFIX, fatal, say, table

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

DEFAULTS = ("default-storageclass", "storage-provisioner")
CATALOG = {  # name → maintainer, as minikube v1.37 lists them
    "ambassador": "3rd party (Ambassador)", "amd-gpu-device-plugin": "3rd party (AMD)", "auto-pause": "minikube",
    "cloud-spanner": "Google", "csi-hostpath-driver": "Kubernetes", "dashboard": "Kubernetes",
    "default-storageclass": "Kubernetes", "efk": "3rd party (Elastic)", "freshpod": "Google", "gcp-auth": "Google",
    "gvisor": "minikube", "headlamp": "3rd party (kinvolk.io)", "inaccel": "3rd party (InAccel [info@inaccel.com])",
    "ingress": "Kubernetes", "ingress-dns": "minikube", "inspektor-gadget": "3rd party (inspektor-gadget.io)",
    "istio": "3rd party (Istio)", "istio-provisioner": "3rd party (Istio)", "kong": "3rd party (Kong HQ)",
    "kubeflow": "3rd party", "kubetail": "3rd party (kubetail.com)", "kubevirt": "3rd party (KubeVirt)",
    "logviewer": "3rd party (unknown)", "metallb": "3rd party (MetalLB)", "metrics-server": "Kubernetes",
    "nvidia-device-plugin": "3rd party (NVIDIA)", "nvidia-driver-installer": "3rd party (NVIDIA)",
    "nvidia-gpu-device-plugin": "3rd party (NVIDIA)", "olm": "3rd party (Operator Framework)",
    "pod-security-policy": "3rd party (unknown)", "portainer": "3rd party (Portainer.io)", "registry": "minikube",
    "registry-aliases": "3rd party (unknown)", "registry-creds": "3rd party (UPMC Enterprises)",
    "storage-provisioner": "minikube", "storage-provisioner-gluster": "3rd party (Gluster)",
    "storage-provisioner-rancher": "3rd party (Rancher)", "volcano": "third-party (volcano)",
    "volumesnapshots": "Kubernetes", "yakd": "3rd party (marcnuri.com)",
}
OFFICIAL = ("Google", "Kubernetes", "minikube")
IMAGES = {  # the images minikube names while it enables an addon
    "dashboard": ("docker.io/kubernetesui/dashboard:v2.7.0", "docker.io/kubernetesui/metrics-scraper:v1.0.8"),
    "ingress": ("registry.k8s.io/ingress-nginx/controller:v1.13.2",
                "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.2",
                "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.2"),
    "metrics-server": ("registry.k8s.io/metrics-server/metrics-server:v0.8.0",),
    "storage-provisioner": ("gcr.io/k8s-minikube/storage-provisioner:v5",),
}
VERIFIED = ("ingress", "registry", "gvisor", "gcp-auth", "csi-hostpath-driver")  # minikube waits for their pods


def enabled(cluster: Cluster | None, record: Profile) -> set[str]:
    """The addons that are on: the cluster's word when it keeps them, else the profile's."""
    if cluster is not None and hasattr(cluster, "addons"):
        return _names_on(cluster.addons())
    return set(record.addons)


def _names_on(state: Any) -> set[str]:
    if isinstance(state, dict):
        return {name for name, on in state.items() if _is_on(on)}
    names = set()
    for item in state or ():
        if isinstance(item, str):
            names.add(item)
        elif isinstance(item, dict):
            if _is_on(item.get("enabled", item.get("status"))):
                names.add(str(item.get("name")))
        elif hasattr(item, "name") and hasattr(item, "enabled"):  # cluster.addons(): AddonStatus tuples
            if _is_on(item.enabled):
                names.add(str(item.name))
    return names


def available(cluster: Cluster | None) -> set[str] | None:
    """The addons the local cluster can run, when it says (None: it keeps no addons itself)."""
    if cluster is None or not hasattr(cluster, "addons"):
        return None
    state = cluster.addons()
    if isinstance(state, dict):
        return set(state)
    return {str(getattr(i, "name", i.get("name") if isinstance(i, dict) else i)) for i in state or ()}


def _is_on(value: Any) -> bool:
    if isinstance(value, dict):
        value = value.get("enabled", value.get("status"))
    return value is True or value == "enabled"


def _set(cluster: Cluster | None, record: Profile, name: str, on: bool) -> None:
    method = "enable_addon" if on else "disable_addon"
    if cluster is not None and hasattr(cluster, method):
        getattr(cluster, method)(name)
    (record.addons.add if on else record.addons.discard)(name)


def enable_defaults(cluster: Cluster, record: Profile) -> list[str]:
    """What `start` enables (default-storageclass, storage-provisioner); returns their names."""
    on = enabled(cluster, record)
    for name in DEFAULTS:
        if name not in on:
            _set(cluster, record, name, True)
    return list(DEFAULTS)


def run(call: Call) -> int:
    sub, rest = (call.args[0], call.args[1:]) if call.args and not call.args[0].startswith("-") else ("", call.args)
    call.args = rest
    if sub == "list":
        return list_(call)
    if sub in ("enable", "disable"):
        return toggle(call, sub == "enable")
    if sub in ("configure", "images", "open"):
        raise fatal(call.err, "MK_USAGE", f"kubelab's minikube emulator does not support 'addons {sub}'",
                    EX_PROGRAM_USAGE)
    call.out.write("addons modifies minikube addons files using subcommands like \"minikube addons enable "
                   "dashboard\"\n\nAvailable Commands:\n  configure   Configures the addon w/ADDON_NAME within "
                   "minikube\n  disable     Disables the addon w/ADDON_NAME within minikube\n  enable      Enables "
                   "the addon w/ADDON_NAME within minikube\n  list        Lists all available minikube addons as "
                   "well as their current statuses (enabled/disabled)\n")
    return 0 if not sub else EX_PROGRAM_USAGE


def list_(call: Call) -> int:
    flags, _ = parse(call.args, {"output": "value", "o": "output", "docs": "bool", "d": "docs"}, "addons list",
                     call.err)
    record = call.record()
    on = enabled(call.cluster(), record) if record is not None else set()
    if flags.get("output", "list") == "json":
        import json

        body = {n: ({"Profile": call.profile, "Status": "enabled" if n in on else "disabled"} if record else {})
                for n in sorted(CATALOG)}
        call.out.write(json.dumps(body, separators=(",", ":")) + "\n")
        return 0
    if record is None:
        rows = [[name, CATALOG[name]] for name in sorted(CATALOG)]
        call.out.write(table(["Addon Name", "Maintainer"], rows))
        return 0
    rows = [[name, call.profile, "enabled ✅" if name in on else "disabled    ", CATALOG[name]]
            for name in sorted(CATALOG)]
    call.out.write(table(["Addon Name", "Profile", "Status", "Maintainer"], rows))
    if len(call.session.profiles) > 1:
        say(call.out, "tip", "To see addons list for other profiles use: `minikube addons -p name list`")
    return 0


def toggle(call: Call, on: bool) -> int:
    verb = "enable" if on else "disable"
    _, args = parse(call.args, {"images": "value", "registries": "value", "force": "bool", "refresh": "bool"},
                    f"addons {verb}", call.err)
    if len(args) != 1:
        raise fatal(call.err, "MK_USAGE", f"usage: minikube addons {verb} ADDON_NAME", EX_PROGRAM_USAGE)
    name = args[0]
    record = call.partial()
    cluster = call.cluster()
    if not on:
        if name not in CATALOG:
            raise fatal(call.err, "SVC_ADDON_UNSUPPORTED", f"\"'{name}' is not a valid minikube addon",
                        EX_SVC_UNSUPPORTED)
        if name in enabled(cluster, record):
            _set(cluster, record, name, False)
        say(call.out, "addon_disable", f"\"The '{name}' addon is disabled")
        return 0
    if name not in CATALOG:
        raise fatal(call.err, "MK_ADDON_ENABLE", f"enable failed: run callbacks: {name} is not a valid addon",
                    EX_PROGRAM_ERROR)
    maintainer_tip(call, name)
    for image in IMAGES.get(name, ()):
        say(call.out, "sub_step", f"Using image {image}")
    local = available(cluster)
    if local is not None and name not in local:
        raise fatal(call.err, "MK_ADDON_ENABLE", f"enable failed: run callbacks: the '{name}' addon does not run "
                    f"on kubelab's local cluster (it runs: {', '.join(sorted(local))})", EX_PROGRAM_ERROR)
    try:
        _set(cluster, record, name, True)
    except Exception as error:  # the local cluster could not apply it: fail the way minikube does
        text = str(error) if str(error).startswith("enable failed") else f"enable failed: run callbacks: {error}"
        raise fatal(call.err, "MK_ADDON_ENABLE", text, EX_PROGRAM_ERROR) from None
    if name == "dashboard":
        hint = "" if call.profile == "minikube" else f" -p {call.profile}"
        call.out.write(f"{PREFIX['tip']}Some dashboard features require the metrics-server addon. To enable all "
                       f"features please run:\n\n\tminikube{hint} addons enable metrics-server\n\n")
    if name in VERIFIED:
        say(call.out, "health_check", f"Verifying {name} addon...")
        if cluster is not None and cluster.clock.mode == "stepped":
            cluster.settle(timeout=360)  # minikube waits (up to 6 minutes) for the addon's pods to run
    say(call.out, "addon_enable", f"The '{name}' addon is enabled")
    return 0


def maintainer_tip(call: Call, name: str) -> None:
    maintainer = CATALOG[name]
    if maintainer in OFFICIAL:
        call.out.write(f"{PREFIX['tip']}{name} is an addon maintained by {maintainer}. For any concerns contact "
                       "minikube on GitHub.\nYou can view the list of minikube maintainers at: "
                       "https://github.com/kubernetes/minikube/blob/master/OWNERS\n")
    else:
        say(call.out, "warning", f"{name} is a 3rd party addon and is not maintained or verified by minikube "
                                 "maintainers, enable at your own risk.")
        say(call.out, "warning", f"{name} does not currently have an associated maintainer.")
