"""Table printers of the core, networking, storage and coordination kinds, as kube-apiserver prints them.

Service (TYPE, CLUSTER-IP, EXTERNAL-IP `<none>`/`<pending>`, PORT(S) `80:30790/TCP`), Endpoints and
EndpointSlice (`10.0.0.1:80,… + 2 more...`), Node (STATUS `Ready,SchedulingDisabled`, ROLES `control-plane`),
Namespace, Event (LAST SEEN, TYPE, REASON, OBJECT `pod/web-1`, MESSAGE), ConfigMap and Secret (DATA),
ServiceAccount, PersistentVolume(Claim), Ingress, IngressClass, Lease and ComponentStatus.
Each kind is a pair (columns(), row(obj, now)).

Read by: server.tables. Reads: server.printers_common.
"""

from __future__ import annotations

from typing import Any

from kubelab.server.printers_common import (
    CORE,
    age,
    age_column,
    column,
    dig,
    doc,
    format_labels,
    list_with_more,
    meta,
    name,
    name_column,
    since,
)

Obj = dict[str, Any]
_NETWORKING = "io.k8s.api.networking.v1."
_DISCOVERY = "io.k8s.api.discovery.v1."


def _simple(*cols: Obj) -> list[Obj]:
    return [name_column(), *cols, age_column()]


# --- Service, Endpoints, EndpointSlice, Ingress --------------------------------------------------------------------

def service_columns() -> list[Obj]:
    spec = CORE + "ServiceSpec"
    return [name_column(), column("Type", description=doc(spec, "type")),
            column("Cluster-IP", description=doc(spec, "clusterIP")),
            column("External-IP", description=doc(spec, "externalIPs")),
            column("Port(s)", description=doc(spec, "ports")), age_column(),
            column("Selector", priority=1, description=doc(spec, "selector"))]


def _load_balancer_addresses(status: Obj) -> list[str]:
    found = {i.get("ip") or i.get("hostname") for i in dig(status, "loadBalancer", "ingress") or []}
    return sorted(a for a in found if a)


def _external_ip(spec: Obj, status: Obj) -> str:
    kind = spec.get("type") or "ClusterIP"
    external = spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        # The server prints wide cells, so the load balancer's list is never clipped to 16 characters.
        addresses = _load_balancer_addresses(status)
        return ",".join(addresses + external) or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def port_text(ports: list[Obj] | None) -> str:
    """makePortString: `80/TCP`, `80:30790/TCP` with a node port, comma-joined."""
    pieces = []
    for p in ports or []:
        protocol = p.get("protocol") or "TCP"
        node_port = p.get("nodePort") or 0
        port = p.get("port", 0)
        pieces.append(f"{port}:{node_port}/{protocol}" if node_port > 0 else f"{port}/{protocol}")
    return ",".join(pieces) or "<none>"


def service_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [name(obj), spec.get("type") or "ClusterIP", ips[0] if ips else "<none>", _external_ip(spec, status),
            port_text(spec.get("ports")), age(obj, now), format_labels(spec.get("selector"))]


def endpoints_columns() -> list[Obj]:
    return _simple(column("Endpoints", description=doc(CORE + "Endpoints", "subsets")))


def endpoints_text(subsets: list[Obj] | None) -> str:
    """formatEndpoints: `ip:port` for every address and port, the first three then `+ N more...`."""
    if not subsets:
        return "<none>"
    found: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [a.get("ip") or "" for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:  # a headless service without ports lists bare addresses
            count += len(addresses)
            found.extend(addresses)
            continue
        for port in ports:
            count += len(addresses)
            number = port.get("port", 0)
            found.extend(f"[{ip}]:{number}" if ":" in ip else f"{ip}:{number}" for ip in addresses)
    return list_with_more(found, count, empty="")


def endpoints_row(obj: Obj, now: float) -> list[Any]:
    return [name(obj), endpoints_text(obj.get("subsets")), age(obj, now)]


def endpoint_slice_columns() -> list[Obj]:
    slice_ = _DISCOVERY + "EndpointSlice"
    return _simple(column("AddressType", description=doc(slice_, "addressType")),
                   column("Ports", description=doc(slice_, "ports")),
                   column("Endpoints", description=doc(slice_, "endpoints")))


def endpoint_slice_row(obj: Obj, now: float) -> list[Any]:
    ports = obj.get("ports") or []
    port_names = [str(p["port"]) if p.get("port") is not None else p.get("name") or "*" for p in ports]
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return [name(obj), obj.get("addressType") or "", list_with_more(port_names, len(port_names)),
            list_with_more(addresses, len(addresses)), age(obj, now)]


def ingress_columns() -> list[Obj]:
    return _simple(
        column("Class", description="The name of the IngressClass resource that should be used for additional "
                                    "configuration"),
        column("Hosts", description="Hosts that incoming requests are matched against before the ingress rule"),
        column("Address", description="Address is a list containing ingress points for the load-balancer"),
        column("Ports", description="Ports of TLS configurations that open"))


def _hosts(rules: list[Obj]) -> str:
    """formatHosts: up to three hosts; once three are listed, any further rule makes `+ N more...`."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - 3} more..." if more else text


def ingress_row(obj: Obj, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    return [name(obj), spec.get("ingressClassName") or "<none>", _hosts(spec.get("rules") or []),
            ",".join(_load_balancer_addresses(obj.get("status") or {})), "80, 443" if spec.get("tls") else "80",
            age(obj, now)]


def ingress_class_columns() -> list[Obj]:
    return _simple(column("Controller", description="Controller that is responsible for handling this class"),
                   column("Parameters", description="A reference to a resource with additional parameters"))


def ingress_class_row(obj: Obj, now: float) -> list[Any]:
    spec = obj.get("spec") or {}
    params = spec.get("parameters")
    text = "<none>"
    if params:
        kind = params.get("kind") or ""
        text = f"{kind}.{params['apiGroup']}" if params.get("apiGroup") is not None else kind
        text += "/" + (params.get("name") or "")
    return [name(obj), spec.get("controller") or "", text, age(obj, now)]


# --- Node, Namespace, Event ----------------------------------------------------------------------------------------

def node_columns() -> list[Obj]:
    info, status = CORE + "NodeSystemInfo", CORE + "NodeStatus"
    return [name_column(), column("Status", description="The status of the node"),
            column("Roles", description="The roles of the node"), age_column(),
            column("Version", description=doc(info, "kubeletVersion")),
            column("Internal-IP", priority=1, description=doc(status, "addresses")),
            column("External-IP", priority=1, description=doc(status, "addresses")),
            column("OS-Image", priority=1, description=doc(info, "osImage")),
            column("Kernel-Version", priority=1, description=doc(info, "kernelVersion")),
            column("Container-Runtime", priority=1, description=doc(info, "containerRuntimeVersion"))]


def node_roles(labels: dict[str, str] | None) -> str:
    """`node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values, sorted; `<none>` if none."""
    roles = set()
    for key, value in (labels or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/"):]:
            roles.add(key[len("node-role.kubernetes.io/"):])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def node_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    states = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []

    def address(kind: str) -> str:
        return next((a.get("address") or "" for a in addresses if a.get("type") == kind), "<none>")

    return [name(obj), ",".join(states), node_roles(meta(obj).get("labels")), age(obj, now),
            info.get("kubeletVersion") or "", address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def namespace_columns() -> list[Obj]:
    return _simple(column("Status", description="The status of the namespace"))


def namespace_row(obj: Obj, now: float) -> list[Any]:
    return [name(obj), dig(obj, "status", "phase") or "", age(obj, now)]


def event_columns() -> list[Obj]:
    event = CORE + "Event"
    return [column("Last Seen", description=doc(event, "lastTimestamp")),
            column("Type", description=doc(event, "type")),
            column("Reason", description=doc(event, "reason")),
            column("Object", description=doc(event, "involvedObject")),
            column("Subobject", priority=1, description=doc(CORE + "ObjectReference", "fieldPath")),
            column("Source", priority=1, description=doc(event, "source")),
            column("Message", description=doc(event, "message")),
            column("First Seen", priority=1, description=doc(event, "firstTimestamp")),
            column("Count", priority=1, description=doc(event, "count")),
            column("Name", priority=1, description=doc("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "name"),
                   fmt="name")]


def event_row(obj: Obj, now: float) -> list[Any]:
    first = since(obj["firstTimestamp"], now) if obj.get("firstTimestamp") else since(obj.get("eventTime"), now)
    last = since(obj["lastTimestamp"], now) if obj.get("lastTimestamp") else first
    count = obj.get("count") or 0
    series = obj.get("series")
    if series is not None:
        last, count = since(series.get("lastObservedTime"), now), series.get("count") or 0
    elif count == 0:
        count = 1  # singleton events of the events.k8s.io API carry no count
    involved = obj.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    instance = source.get("host") or obj.get("reportingInstance") or ""
    return [last, obj.get("type") or "", obj.get("reason") or "", target, involved.get("fieldPath") or "",
            f"{component}, {instance}" if instance else component, (obj.get("message") or "").strip(), first,
            count, name(obj)]


# --- ConfigMap, Secret, ServiceAccount, Lease, ComponentStatus -----------------------------------------------------

def config_map_columns() -> list[Obj]:
    return _simple(column("Data", description=doc(CORE + "ConfigMap", "data")))


def config_map_row(obj: Obj, now: float) -> list[Any]:
    return [name(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age(obj, now)]


def secret_columns() -> list[Obj]:
    return _simple(column("Type", description=doc(CORE + "Secret", "type")),
                   column("Data", description=doc(CORE + "Secret", "data")))


def secret_row(obj: Obj, now: float) -> list[Any]:
    return [name(obj), obj.get("type") or "", len(obj.get("data") or {}), age(obj, now)]


def service_account_columns() -> list[Obj]:
    return _simple(column("Secrets", description=doc(CORE + "ServiceAccount", "secrets")))


def service_account_row(obj: Obj, now: float) -> list[Any]:
    return [name(obj), len(obj.get("secrets") or []), age(obj, now)]


def lease_columns() -> list[Obj]:
    return _simple(column("Holder", description=doc("io.k8s.api.coordination.v1.LeaseSpec", "holderIdentity")))


def lease_row(obj: Obj, now: float) -> list[Any]:
    return [name(obj), dig(obj, "spec", "holderIdentity") or "", age(obj, now)]


def component_status_columns() -> list[Obj]:
    return [name_column(), column("Status", description="Status of the component conditions"),
            column("Message", description="Message of the component conditions"),
            column("Error", description="Error of the component conditions")]


def component_status_row(obj: Obj, now: float) -> list[Any]:
    for cond in obj.get("conditions") or []:
        if cond.get("type") == "Healthy":
            status = "Healthy" if cond.get("status") == "True" else "Unhealthy"
            return [name(obj), status, cond.get("message") or "", cond.get("error") or ""]
    return [name(obj), "Unknown", "", ""]


# --- PersistentVolume, PersistentVolumeClaim -----------------------------------------------------------------------

_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))
_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def access_modes_text(modes: list[str] | None) -> str:
    """GetAccessModesAsString: `RWO,ROX,RWX,RWOP` in that fixed order, whatever order they were given in."""
    return ",".join(short for mode, short in _ACCESS_MODES if mode in (modes or []))


def _storage_class(obj: Obj) -> str:
    annotations = meta(obj).get("annotations") or {}
    if _CLASS_ANNOTATION in annotations:
        return annotations[_CLASS_ANNOTATION]
    return dig(obj, "spec", "storageClassName") or ""


def persistent_volume_columns() -> list[Obj]:
    spec, status = CORE + "PersistentVolumeSpec", CORE + "PersistentVolumeStatus"
    return [name_column(), column("Capacity", description=doc(spec, "capacity")),
            column("Access Modes", description=doc(spec, "accessModes")),
            column("Reclaim Policy", description=doc(spec, "persistentVolumeReclaimPolicy")),
            column("Status", description=doc(status, "phase")),
            column("Claim", description=doc(spec, "claimRef")),
            column("StorageClass", description="StorageClass of the pv"),
            column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
            column("Reason", description=doc(status, "reason")), age_column(),
            column("VolumeMode", priority=1, description=doc(spec, "volumeMode"))]


def persistent_volume_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef")
    claim_text = f"{claim.get('namespace') or ''}/{claim.get('name') or ''}" if claim else ""
    phase = "Terminating" if meta(obj).get("deletionTimestamp") else status.get("phase") or ""
    capacity = str((spec.get("capacity") or {}).get("storage", "0"))
    return [name(obj), capacity, access_modes_text(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy") or "", phase, claim_text, _storage_class(obj),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason") or "", age(obj, now),
            spec.get("volumeMode") or "<unset>"]


def persistent_volume_claim_columns() -> list[Obj]:
    spec, status = CORE + "PersistentVolumeClaimSpec", CORE + "PersistentVolumeClaimStatus"
    return [name_column(), column("Status", description=doc(status, "phase")),
            column("Volume", description=doc(spec, "volumeName")),
            column("Capacity", description=doc(status, "capacity")),
            column("Access Modes", description=doc(status, "accessModes")),
            column("StorageClass", description="StorageClass of the pvc"),
            column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"), age_column(),
            column("VolumeMode", priority=1, description=doc(spec, "volumeMode"))]


def persistent_volume_claim_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    phase = "Terminating" if meta(obj).get("deletionTimestamp") else status.get("phase") or ""
    capacity = modes = ""
    if spec.get("volumeName"):  # capacity and modes are the bound volume's, shown once bound
        modes = access_modes_text(status.get("accessModes"))
        capacity = str((status.get("capacity") or {}).get("storage", "0"))
    return [name(obj), phase, spec.get("volumeName") or "", capacity, modes, _storage_class(obj),
            spec.get("volumeAttributesClassName") or "<unset>", age(obj, now), spec.get("volumeMode") or "<unset>"]
