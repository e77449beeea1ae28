"""Service validation (ValidateService, ValidateServiceUpdate) and the node-port allocator's range check.

Ports must be named when there are several, use TCP/UDP/SCTP and valid numbers; clusterIPs must
be IPs (or None for a headless Service) and never change once set; ExternalName Services need a
DNS name. `node_port_range_errors` is what apiserver's allocator answers after validation passed:
`provided port is not in the valid range. The range of valid ports is 30000-32767`.

Read by: api.validation. Reads: api.rules, api.rules_containers, api.names.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from kubelab.api import names
from kubelab.api.rules import (
    Errors,
    dns_label,
    dns_subdomain,
    duplicate,
    forbidden,
    invalid,
    name_is_dns1035,
    not_supported,
    raw,
    required,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from kubelab.api.rules_containers import PROTOCOLS, RANGE_PORT, port_num_or_name

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
NODE_PORT_RANGE = (30000, 32767)


def ip_errors(value: str) -> list[str]:
    """IsValidIP's messages (strict: no leading zeros, no IPv4-mapped IPv6, canonical form)."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        parts = value.split(".")
        if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
            return ["must not have leading 0s"]
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ["must not be an IPv4-mapped IPv6 address"]
    if str(ip) != value:
        return [f'must be in canonical form ("{ip}")']
    return []


def _cluster_ips(spec: dict[str, Any]) -> list[str]:
    # The service strategy fills clusterIPs from clusterIP before validation (normalizeClusterIPs).
    ips = spec.get("clusterIPs")
    if ips is None and spec.get("clusterIP"):
        ips = [spec["clusterIP"]]
    return list(ips or ())


def _headless(spec: dict[str, Any]) -> bool:
    return _cluster_ips(spec) == ["None"]


def _service_port(port: dict[str, Any], require_name: bool, seen: set[str], path: str, errs: Errors) -> None:
    name = port.get("name", "")
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs.extend(invalid(f"{path}.name", name, m) for m in dns_label(name))
        if name in seen:
            errs.append(duplicate(f"{path}.name", name))
        else:
            seen.add(name)
    number = port.get("port", 0)
    if not 1 <= number <= 65535:
        errs.append(invalid(f"{path}.port", number, RANGE_PORT))
    protocol = port.get("protocol", "")
    if not protocol:
        errs.append(required(f"{path}.protocol"))
    elif protocol not in PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    port_num_or_name(port.get("targetPort", 0), f"{path}.targetPort", errs)
    if port.get("appProtocol") is not None:
        errs.extend(invalid(f"{path}.appProtocol", port["appProtocol"], m)
                    for m in names.qualified_name(port["appProtocol"]))


def _cluster_ip_fields(spec: dict[str, Any], errs: Errors) -> None:
    """ValidateServiceClusterIPsRelatedFields."""
    if spec.get("type") == "ExternalName":
        return
    ips, cluster_ip = _cluster_ips(spec), spec.get("clusterIP", "")
    if cluster_ip:
        if not ips:
            errs.append(required("spec.clusterIPs"))
        elif ips[0] != cluster_ip:
            errs.append(invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    elif ips:
        errs.append(invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"))
    seen: set[str] = set()
    for i, family in enumerate(spec.get("ipFamilies") or ()):
        if family not in ("IPv4", "IPv6"):
            errs.append(not_supported(f"spec.ipFamilies[{i}]", family, ("IPv4", "IPv6")))
        if family in seen:
            errs.append(duplicate(f"spec.ipFamilies[{i}]", family))
        seen.add(family)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        errs.append(not_supported("spec.ipFamilyPolicy", policy, ("PreferDualStack", "RequireDualStack",
                                                                  "SingleStack")))
    bad = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                bad = True
                errs.append(invalid("spec.clusterIPs", ips, "'None' must be the first and only value"))
            continue
        messages = ip_errors(ip)
        bad = bad or bool(messages)
        errs.extend(invalid(f"spec.clusterIPs[{i}]", ip, m) for m in messages)
    if len(ips) > 2:
        errs.append(invalid("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if not bad and len(ips) == 2 and ipaddress.ip_address(ips[0]).version == ipaddress.ip_address(ips[1]).version:
        errs.append(invalid("spec.clusterIPs", ips, "may specify no more than one IP for each IP family"))


def _externally_accessible(spec: dict[str, Any]) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def _service_port_key(port: dict[str, Any]) -> str:
    # Go prints the internal core.ServicePort it used as a map key (no JSON tags: Go field names).
    return json.dumps({"Name": "", "Protocol": port.get("protocol", ""), "AppProtocol": None,
                       "Port": port.get("port", 0), "TargetPort": 0, "NodePort": 0}, separators=(",", ":"))


def validate_service(obj: dict[str, Any], errs: Errors, old: dict[str, Any] | None = None) -> None:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    if old is None:
        validate_object_meta(meta, True, name_is_dns1035, errs)
    else:
        validate_object_meta_update(meta, old.get("metadata") or {}, errs)
        _cluster_ips_update(spec, old.get("spec") or {}, errs)
        # ValidateServiceUpdate then validates the whole object again, metadata included.
        validate_object_meta(meta, True, name_is_dns1035, errs)
    kind = spec.get("type", "")
    ports = spec.get("ports") or []
    headless = _headless(spec)
    if not ports and not headless and kind != "ExternalName":
        errs.append(required("spec.ports"))
    if kind in ("LoadBalancer", "NodePort") and headless:
        errs.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
    elif kind == "ExternalName":
        for key in ("clusterIPs", "ipFamilies"):
            if (_cluster_ips(spec) if key == "clusterIPs" else spec.get(key)):
                errs.append(forbidden(f"spec.{key}", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = (spec.get("externalName") or "").removesuffix(".")
        if cname:
            errs.extend(invalid("spec.externalName", cname, m) for m in dns_subdomain(cname))
        else:
            errs.append(required("spec.externalName"))
    seen: set[str] = set()
    for i, port in enumerate(ports):
        _service_port(port, len(ports) > 1, seen, f"spec.ports[{i}]", errs)
    if spec.get("selector") is not None:
        validate_labels(spec["selector"], "spec.selector", errs)
    affinity = spec.get("sessionAffinity", "")
    if not affinity:
        errs.append(required("spec.sessionAffinity"))
    elif affinity not in ("ClientIP", "None"):
        errs.append(not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None")))
    if affinity == "ClientIP":
        timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
        if timeout is None:
            errs.append(required("spec.sessionAffinityConfig", "when session affinity type is ClientIP"))
        elif not 0 < timeout <= 86400:
            errs.append(invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                                "must be greater than 0 and less than 86400"))
    elif affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.append(forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"))
    _cluster_ip_fields(spec, errs)
    for i, ip in enumerate(spec.get("externalIPs") or ()):
        errs.extend(invalid(f"spec.externalIPs[{i}]", ip, m) for m in ip_errors(ip))
    if not kind:
        errs.append(required("spec.type"))
    elif kind not in SERVICE_TYPES:
        errs.append(not_supported("spec.type", kind, SERVICE_TYPES))
    if kind == "ClusterIP":
        for i, port in enumerate(ports):
            if port.get("nodePort"):
                errs.append(forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    node_ports: set[tuple[str, int]] = set()
    service_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        node_port = port.get("nodePort", 0)
        if node_port:
            node_key = (port.get("protocol", ""), node_port)
            if node_key in node_ports:
                errs.append(duplicate(f"spec.ports[{i}].nodePort", node_port))
            node_ports.add(node_key)
    for i, port in enumerate(ports):
        port_key = (port.get("protocol", ""), port.get("port", 0))
        if port_key in service_ports:
            errs.append(raw(f"spec.ports[{i}]", _service_port_key(port), type="Duplicate"))
        service_ports.add(port_key)
    if spec.get("loadBalancerSourceRanges") and kind != "LoadBalancer":
        errs.append(forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"))
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        errs.append(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"))
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        errs.append(required("allocateLoadBalancerNodePorts"))  # apiserver's path lacks "spec." here
    external = spec.get("externalTrafficPolicy", "")
    if not _externally_accessible(spec):
        if external:
            errs.append(invalid("spec.externalTrafficPolicy", external, "may only be set for externally-accessible "
                                                                        "services"))
    elif not external:
        errs.append(required("spec.externalTrafficPolicy"))
    elif external not in ("Cluster", "Local"):
        errs.append(not_supported("spec.externalTrafficPolicy", external, ("Cluster", "Local")))
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        errs.append(required("spec.internalTrafficPolicy"))
    elif internal is not None and internal not in ("Cluster", "Local"):
        errs.append(not_supported("spec.internalTrafficPolicy", internal, ("Cluster", "Local")))


def _cluster_ips_update(spec: dict[str, Any], old_spec: dict[str, Any], errs: Errors) -> None:
    """validateUpgradeDowngradeClusterIPs: a clusterIP, once set, stays."""
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    new, old = _cluster_ips(spec), _cluster_ips(old_spec)
    if new == ["None"] and old == ["None"]:
        return
    if len(new) == len(old):
        for i, ip in enumerate(old):
            if ip != new[i]:
                errs.append(invalid(f"spec.clusterIPs[{i}]", new, "may not change once set"))
    elif len(old) > len(new):
        if not new:
            errs.append(invalid("spec.clusterIPs[0]", new, "primary clusterIP can not be unset"))
        elif new[0] != old[0]:
            errs.append(invalid("spec.clusterIPs[0]", new, "may not change once set"))
    elif old and new[0] != old[0]:
        errs.append(invalid("spec.clusterIPs[0]", new, "may not change once set"))


def node_port_range_errors(obj: dict[str, Any]) -> Errors:
    """The node-port allocator's check, which apiserver runs after validation passed."""
    spec = obj.get("spec") or {}
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        return []
    low, high = NODE_PORT_RANGE
    return [invalid(f"spec.ports[{i}].nodePort", p["nodePort"], "provided port is not in the valid range. The range "
                    f"of valid ports is {low}-{high}")
            for i, p in enumerate(spec.get("ports") or ()) if p.get("nodePort") and not low <= p["nodePort"] <= high]
