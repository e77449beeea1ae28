"""kube-proxy: per-node watchers of Services and Endpoints, and the rules they would program.

`rules(cluster, node, mode)` renders what the real tool lists on a node: `iptables-save -t nat`
(KUBE-SERVICES → KUBE-SVC-<hash> → one KUBE-SEP-<hash> per endpoint, chosen by
`-m statistic --mode random --probability 1/(n-i)`; chain names hash "ns/name:port" + protocol
with SHA-256 and base32 as kube-proxy does), `ipvsadm -Ln` for ipvs, and the KUBE-PORTALS
redirects of the old userspace mode. `KubeProxy` traces, per node, the rules it adds, updates
and removes when a Service or its Endpoints change — steps 4-5 of the "Service created" sequence.

Read by: network (install). Reads: store, controllers.base.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from kubelab.cluster.controllers.base import Controller, Key
from kubelab.store.watch import Event

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
MODES = ("iptables", "ipvs", "userspace")
CLUSTER_CIDR = "10.244.0.0/16"


def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def _port_name(service: Obj, port: Obj) -> str:
    meta = service["metadata"]
    return f"{meta['namespace']}/{meta['name']}" + (f":{port['name']}" if port.get("name") else "")


def _programmed(cluster: Cluster) -> list[tuple[Obj, Obj, list[tuple[str, int]]]]:
    """(service, port, ready endpoints) for every Service port kube-proxy handles, in name order."""
    services, _ = cluster.store.list(("", "services"))
    out = []
    for service in sorted(services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") in (None, "", "None"):
            continue
        meta = service["metadata"]
        endpoints = cluster.store.get(("", "endpoints"), meta["namespace"], meta["name"]) or {}
        for port in spec.get("ports") or ():
            name, proto = port.get("name", ""), port.get("protocol", "TCP")
            eps = sorted({(a["ip"], p["port"]) for s in endpoints.get("subsets") or () for p in s.get("ports") or ()
                          if p.get("name", "") == name and p.get("protocol", "TCP") == proto
                          for a in s.get("addresses") or ()})
            out.append((service, port, eps))
    return out


def rules(cluster: Cluster, node: str | None = None, mode: str = "iptables") -> str:
    if mode not in MODES:
        raise ValueError(f'unknown proxy mode "{mode}": use one of {", ".join(MODES)}')
    nodes, _ = cluster.store.list(("", "nodes"))
    names = sorted(n["metadata"]["name"] for n in nodes)
    node = node or next((n for n in names if not n.endswith("control-plane")), names[0] if names else "")
    chosen = next((n for n in nodes if n["metadata"]["name"] == node), None)
    if chosen is None:
        raise LookupError(f'nodes "{node}" not found')
    node_ip = next((a["address"] for a in (chosen.get("status") or {}).get("addresses") or ()
                    if a.get("type") == "InternalIP"), "")
    programmed = _programmed(cluster)
    if mode == "ipvs":
        return _ipvs(programmed, node_ip)
    if mode == "userspace":
        return _userspace(programmed)
    return _iptables(programmed)


def _iptables(programmed: list) -> str:
    """iptables-save's layout: built-in chains, then user chains sorted by name, each with its rules."""
    chains: dict[str, list[str]] = {name: [] for name in ("KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-POSTROUTING",
                                                           "KUBE-SERVICES")}
    chains["KUBE-MARK-MASQ"].append("-j MARK --set-xmark 0x4000/0x4000")
    chains["KUBE-POSTROUTING"] += [
        "-m mark ! --mark 0x4000/0x4000 -j RETURN", "-j MARK --set-xmark 0x4000/0x0",
        '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully']
    for service, port, eps in programmed:
        if not eps:
            continue  # kube-proxy REJECTs these in the filter table; the nat table has nothing for them
        spn, proto = _port_name(service, port), port.get("protocol", "TCP").lower()
        ip, number = service["spec"]["clusterIP"], port["port"]
        svc = "KUBE-SVC-" + _hash(spn + proto)
        match = f'-p {proto} -m comment --comment "{spn} cluster IP" -m {proto} --dport {number}'
        chains["KUBE-SERVICES"].append(f"-d {ip}/32 {match} -j {svc}")
        rules = chains[svc] = [f"! -s {CLUSTER_CIDR} -d {ip}/32 {match} -j KUBE-MARK-MASQ"]
        if port.get("nodePort"):
            ext = "KUBE-EXT-" + _hash(spn + proto)
            chains["KUBE-NODEPORTS"].append(f'-p {proto} -m comment --comment "{spn}" -m {proto} '
                                            f'--dport {port["nodePort"]} -j {ext}')
            chains[ext] = [f'-m comment --comment "masquerade traffic for {spn} external destinations" '
                           "-j KUBE-MARK-MASQ", f"-j {svc}"]
        for i, (ep_ip, ep_port) in enumerate(eps):
            endpoint = f"{ep_ip}:{ep_port}"
            sep = "KUBE-SEP-" + _hash(spn + proto + endpoint)
            left = len(eps) - i
            chance = f" -m statistic --mode random --probability {1 / left:.11f}" if left > 1 else ""
            rules.append(f'-m comment --comment "{spn} -> {endpoint}"{chance} -j {sep}')
            chains[sep] = [f'-s {ep_ip}/32 -m comment --comment "{spn}" -j KUBE-MARK-MASQ',
                           f'-p {proto} -m comment --comment "{spn}" -m {proto} -j DNAT --to-destination {endpoint}']
    chains["KUBE-SERVICES"].append('-m comment --comment "kubernetes service nodeports; NOTE: this must be the last '
                                   'rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    builtin = {"PREROUTING": ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'], "INPUT": [],
               "OUTPUT": ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
               "POSTROUTING": ['-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING']}
    order = [*builtin, *sorted(chains)]
    everything = {**builtin, **chains}
    lines = ["*nat"] + [f":{c} ACCEPT [0:0]" for c in builtin] + [f":{c} - [0:0]" for c in sorted(chains)]
    lines += [f"-A {chain} {rule}" for chain in order for rule in everything[chain]]
    return "\n".join(lines + ["COMMIT"]) + "\n"


def _ipvs(programmed: list, node_ip: str) -> str:
    lines = ["IP Virtual Server version 1.2.1 (size=4096)", "Prot LocalAddress:Port Scheduler Flags",
             "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"]
    virtual: list[tuple[str, str, list]] = []
    for service, port, eps in programmed:
        proto = port.get("protocol", "TCP")
        virtual.append((proto, f"{service['spec']['clusterIP']}:{port['port']}", eps))
        if port.get("nodePort") and node_ip:
            virtual.append((proto, f"{node_ip}:{port['nodePort']}", eps))
    for proto, address, eps in sorted(virtual, key=lambda v: (v[0], v[1])):
        lines.append(f"{proto:<4} {address} rr")
        lines.extend(f"  -> {f'{ip}:{p}':<28}Masq    1      0          0" for ip, p in eps)
    return "\n".join(lines) + "\n"


def _userspace(programmed: list) -> str:
    """Removed in Kubernetes 1.26: each Service port was a local proxy port the rules redirected to."""
    lines = ["*nat", ":KUBE-PORTALS-CONTAINER - [0:0]", ":KUBE-PORTALS-HOST - [0:0]"]
    for service, port, _ in programmed:
        spn, proto = _port_name(service, port), port.get("protocol", "TCP").lower()
        proxy_port = 32768 + int(hashlib.sha256(spn.encode()).hexdigest()[:8], 16) % 28000
        lines.append(f"-A KUBE-PORTALS-CONTAINER -d {service['spec']['clusterIP']}/32 -p {proto} -m comment "
                     f"--comment \"{spn}\" -m {proto} --dport {port['port']} -j REDIRECT --to-ports {proxy_port}")
    return "\n".join(lines + ["COMMIT"]) + "\n"


class KubeProxy(Controller):
    """One watcher standing for every node's kube-proxy (they all see the same Services)."""

    name = "kube-proxy"
    primary = ("", "services")
    secondary = (("", "endpoints"),)

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.programmed: dict[Key, tuple] = {}

    def keys_for(self, event: Event) -> list[Key]:
        meta = event.object["metadata"]
        return [(meta.get("namespace", ""), meta["name"])]

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        service = self.store.get(self.primary, namespace, name)
        state = None
        if service is not None and (service.get("spec") or {}).get("type") != "ExternalName" \
                and (service.get("spec") or {}).get("clusterIP") not in (None, "", "None"):
            endpoints = self.store.get(("", "endpoints"), namespace, name) or {}
            state = (tuple(sorted(a["ip"] for s in endpoints.get("subsets") or () for a in s.get("addresses") or ())),
                     tuple((p.get("port"), p.get("nodePort")) for p in service["spec"].get("ports") or ()))
        before = self.programmed.get(key)
        if state == before:
            return None
        if state is None:
            self.programmed.pop(key, None)
            action = "removed rules for"
        else:
            self.programmed[key] = state
            action = "added rules for" if before is None else "updated rules for"
        count = len(state[0]) if state else 0
        detail = "" if state is None else f"{count} endpoint{'s' if count != 1 else ''}"
        nodes, _ = self.store.list(("", "nodes"))
        for node in sorted(n["metadata"]["name"] for n in nodes):
            self.cluster.trace_log.add(f"kube-proxy({node})", action, f"Service {namespace}/{name}", detail)
        return None
