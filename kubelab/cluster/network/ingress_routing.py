"""How ingress-nginx routes a request: Ingress rules → backend Service → endpoint → pod.

`IngressRouter.route` answers what the controller pod receives on port 80/443. Like the nginx
configuration ingress-nginx renders, every handled Ingress adds locations to a server per host
(rules without a host go to the catch-all server `_`): an exact host beats a `*.` wildcard one
label deep, which beats `_`; within a server an Exact path beats any Prefix, and the longest
Prefix wins (Prefix matches whole path elements, so `/foo` serves `/foo/bar` but not `/foobar`;
ImplementationSpecific is taken as Prefix). A server with no matching location uses the
Ingress's `defaultBackend`, else the controller's default backend: nginx's 404 page. A backend
Service that is missing or has no ready endpoints is nginx's 503.

Read by: network.ingress (the controller pod's program), network (install). Reads: store, network.traffic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
Answer = tuple[int, dict[str, str], bytes]
INGRESSES = ("networking.k8s.io", "ingresses")
CLASSES = ("networking.k8s.io", "ingressclasses")
CONTROLLER_CLASS = "k8s.io/ingress-nginx"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
CATCH_ALL = "_"


def _page(status: int, reason: str) -> Answer:
    body = (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
    return status, {"Content-Type": "text/html"}, body.encode()


NOT_FOUND = _page(404, "Not Found")
UNAVAILABLE = _page(503, "Service Temporarily Unavailable")


class Location(NamedTuple):
    ingress: Obj
    host: str
    path: str
    exact: bool
    backend: Obj


def handles(store: Any, ingress: Obj) -> bool:
    """Whether ingress-nginx (class `nginx`, controller k8s.io/ingress-nginx) serves this Ingress."""
    spec = ingress.get("spec") or {}
    name = spec.get("ingressClassName") or (ingress["metadata"].get("annotations") or {}).get(CLASS_ANNOTATION)
    classes, _ = store.list(CLASSES)
    if name:
        return any(c["metadata"]["name"] == name and (c.get("spec") or {}).get("controller") == CONTROLLER_CLASS
                   for c in classes)
    return any((c.get("spec") or {}).get("controller") == CONTROLLER_CLASS
               and (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true" for c in classes)


def prefix_matches(rule: str, path: str) -> bool:
    """Kubernetes' Prefix: the request's path elements start with the rule's (trailing slashes ignored)."""
    wanted = [p for p in rule.split("/") if p]
    asked = [p for p in path.split("/") if p]
    return asked[:len(wanted)] == wanted


def host_matches(rule_host: str, host: str) -> bool:
    if rule_host.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == rule_host[2:]
    return rule_host == host


class IngressRouter:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def locations(self) -> list[Location]:
        out = []
        ingresses, _ = self.cluster.store.list(INGRESSES)
        for ingress in ingresses:
            if ingress["metadata"].get("deletionTimestamp") or not handles(self.cluster.store, ingress):
                continue
            for rule in (ingress.get("spec") or {}).get("rules") or ():
                for p in ((rule.get("http") or {}).get("paths")) or ():
                    out.append(Location(ingress, rule.get("host") or CATCH_ALL, p.get("path") or "/",
                                        p.get("pathType") == "Exact", p.get("backend") or {}))
        return out

    def match(self, host: str, path: str) -> tuple[Obj | None, Obj | None, str]:
        """(Ingress, backend, what matched) for a request; (None, None, …) means the default backend."""
        locations = self.locations()
        hosts = {loc.host for loc in locations}
        server = host if host in hosts else next(
            (h for h in sorted(hosts) if h.startswith("*.") and host_matches(h, host)), CATCH_ALL)
        mine = [loc for loc in locations if loc.host == server]
        exact = [loc for loc in mine if loc.exact and loc.path == path]
        prefix = sorted((loc for loc in mine if not loc.exact and prefix_matches(loc.path, path)),
                        key=lambda loc: -len(loc.path.rstrip("/")))
        best: Location | None = (exact or prefix)[0] if exact or prefix else None
        if best is not None:
            return best.ingress, best.backend, f"{server}{best.path} ({'Exact' if best.exact else 'Prefix'})"
        # A host's server falls back to its own Ingress's defaultBackend; the catch-all server to any's.
        if server == CATCH_ALL:
            owners, _ = self.cluster.store.list(INGRESSES)
            owners = [i for i in owners if not i["metadata"].get("deletionTimestamp")
                      and handles(self.cluster.store, i)]
        else:
            owners = [loc.ingress for loc in mine]
        for ingress in owners:
            backend = (ingress.get("spec") or {}).get("defaultBackend")
            if backend:
                return ingress, backend, f"{server} defaultBackend"
        return None, None, f"{server} default backend"

    def route(self, method: str, target: str, headers: dict[str, str], client_ip: str, path: list[str]) -> Answer:
        host = next((v for k, v in headers.items() if k.lower() == "host"), "")
        host = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        ingress, backend, matched = self.match(host.lower(), target.split("?")[0] or "/")
        if ingress is None or backend is None:
            path.append(f"Ingress controller: no rule for {host or '(no host)'}{target} → default backend 404")
            return NOT_FOUND
        meta = ingress["metadata"]
        service_ref = backend.get("service") or {}
        port_ref = service_ref.get("port") or {}
        port_text = port_ref.get("number") or port_ref.get("name") or ""
        path.append(f"Ingress {meta['namespace']}/{meta['name']} {matched} → {service_ref.get('name')}:{port_text}")
        service = self.cluster.store.get(("", "services"), meta["namespace"], service_ref.get("name") or "")
        port = _service_port(service, port_ref) if service is not None else None
        if service is None or port is None:
            return UNAVAILABLE
        network = self.cluster.pod_network
        try:
            return network.to_service(service, port, method, target, headers, client_ip, path)  # type: ignore
        except (ConnectionRefusedError, TimeoutError):
            return UNAVAILABLE


def _service_port(service: Obj, ref: Obj) -> Obj | None:
    for port in (service.get("spec") or {}).get("ports") or ():
        if (ref.get("number") is not None and port.get("port") == ref["number"]) or (
                ref.get("name") and port.get("name") == ref["name"]):
            return port  # type: ignore[no-any-return]
    return None
