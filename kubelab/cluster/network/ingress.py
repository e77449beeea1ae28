"""ingress-nginx on the local cluster: its controller loop, its pod's program, and default classes.

`IngressNginx` stands for the controller's watch loop (it runs only while a ready
`ingress-nginx-controller` pod exists, as the real one runs in that pod): each handled Ingress
(class `nginx`, or no class while `nginx` is the default IngressClass) gets the event `Sync`
"Scheduled for sync" when it is new or changed, and `status.loadBalancer.ingress[0].ip` set to
the InternalIP of the controller pod's node (`--report-node-internal-ip-address`); the address is
cleared when no controller is left. The program `nginx-ingress-controller` is what that pod runs:
it serves /healthz on 10254 and hands what arrives on 80/443 to the cluster's `IngressRouter`.
`admit_default_class` is the apiserver's DefaultIngressClass admission: a new Ingress without a
class gets the default one's name.

Read by: network (install), runtime (the program, through `programs.IMPLS`). Reads: store,
controllers.base, network.ingress_routing, runtime.programs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.cluster.controllers.base import Controller, Key
from kubelab.cluster.controllers.endpointutil import pod_ready
from kubelab.cluster.network.ingress_routing import (
    CLASS_ANNOTATION,
    CLASSES,
    CONTROLLER_CLASS,
    DEFAULT_CLASS_ANNOTATION,
    INGRESSES,
    NOT_FOUND,
    handles,
)
from kubelab.cluster.runtime.programs import Proc, Run, program, serve_forever
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
Answer = tuple[int, dict[str, str], bytes]
COMPONENT = "nginx-ingress-controller"
NAMESPACE = "ingress-nginx"
CONTROLLER_LABELS = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "ingress-nginx",
                     "app.kubernetes.io/component": "controller"}
PODS = ("", "pods")


class IngressNginx(Controller):
    name = COMPONENT
    primary = INGRESSES
    secondary = (PODS, CLASSES)

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.synced: dict[Key, int] = {}  # Ingress → the generation last announced with "Scheduled for sync"
        self.published: set[Key] = set()  # Ingresses whose status carries our address

    def handle(self, event: Event) -> None:
        if event.resource == PODS and event.object["metadata"].get("namespace") != NAMESPACE:
            return  # not one of the controller's own pods (a pod never changes namespace)
        super().handle(event)

    def keys_for(self, event: Event) -> list[Key]:
        """A controller pod or an IngressClass changing can change every Ingress's fate."""
        if event.resource == PODS and not any(o is not None and _is_controller(o) for o in (event.object, event.old)):
            return []
        ingresses, _ = self.store.list(INGRESSES)
        return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in ingresses]

    def reconcile(self, key: Key) -> float | None:
        ingress = self.store.get(INGRESSES, *key)
        if ingress is None:
            self.synced.pop(key, None)
            self.published.discard(key)
            return None
        mine = handles(self.store, ingress) and not ingress["metadata"].get("deletionTimestamp")
        address = self._address() if mine else None
        if address is not None:
            generation = ingress["metadata"].get("generation", 1)
            if self.synced.get(key) != generation:
                self.synced[key] = generation
                self.cluster.record_event(ingress, "Normal", "Sync", "Scheduled for sync", COMPONENT)
                self.cluster.trace_log.add(COMPONENT, "synced", ingress, f"address {address}")
        elif mine:
            self.synced.pop(key, None)  # the next controller to start announces it again
        wanted = [{"ip": address}] if address else []
        current = thaw(((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [])
        if wanted:
            self.published.add(key)
        if current == wanted or (not mine and key not in self.published):
            return None  # unchanged, or another controller's Ingress: its status is not ours to touch
        if not wanted:  # no controller left (or no longer ours): cleared, as --update-status-on-shutdown does
            self.published.discard(key)
        updated = thaw(ingress)
        updated["status"] = {"loadBalancer": {"ingress": wanted}} if wanted else {"loadBalancer": {}}
        self.api.update_status(updated)
        return None

    def _address(self) -> str | None:
        """The InternalIP of the node running the first ready controller pod (None: no controller)."""
        pods, _ = self.store.list(PODS, NAMESPACE)
        for pod in pods:
            if _is_controller(pod) and pod_ready(pod) and not pod["metadata"].get("deletionTimestamp"):
                node = self.store.get(("", "nodes"), "", (pod.get("spec") or {}).get("nodeName") or "")
                for address in ((node or {}).get("status") or {}).get("addresses") or ():
                    if address.get("type") == "InternalIP":
                        return address["address"]  # type: ignore[no-any-return]
        return None


def _is_controller(pod: Obj) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return pod["metadata"].get("namespace") == NAMESPACE and all(labels.get(k) == v
                                                                 for k, v in CONTROLLER_LABELS.items())


def admit_default_class(cluster: Cluster) -> Any:
    """The DefaultIngressClass admission plugin, as an apiserver create hook."""

    def hook(obj: Obj, old: Obj | None) -> None:
        spec = obj.setdefault("spec", {})
        if spec.get("ingressClassName") or (obj["metadata"].get("annotations") or {}).get(CLASS_ANNOTATION):
            return
        classes, _ = cluster.store.list(CLASSES)
        defaults = [c for c in classes if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION)
                    == "true"]
        if len(defaults) == 1:
            spec["ingressClassName"] = defaults[0]["metadata"]["name"]

    return hook


# ---- the program in registry.k8s.io/ingress-nginx/controller --------------------------------------------------
def _controller_server(proc: Proc) -> dict[int, Any]:
    def healthz(method: str, path: str, headers: dict[str, str], client: str) -> Answer:
        if path.split("?")[0] == "/healthz":
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, b"ok"
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"404 page not found\n"

    def router(method: str, path: str, headers: dict[str, str], client: str) -> Answer:
        route = getattr(proc.session.ctx.network, "ingress", None)
        if route is None:
            return NOT_FOUND  # no cluster around (an image run on its own): nothing is configured
        return route(method, path, headers, client)  # type: ignore[no-any-return]

    return {80: router, 443: router, 10254: healthz}


@program(COMPONENT, _controller_server)
def nginx_ingress_controller(proc: Proc) -> Run:
    version = proc.version
    proc.log("-------------------------------------------------------------------------------",
             "NGINX Ingress controller", f"  Release:       {version}",
             "  Repository:    https://github.com/kubernetes/ingress-nginx",
             f"  nginx version: nginx/{proc.options.get('nginx_version', '1.27.1')}", "",
             "-------------------------------------------------------------------------------", "")
    stamp = proc.stamp("%m%d %H:%M:%S.000000")
    class_flag = next((a.split("=", 1)[1] for a in proc.argv if a.startswith("--controller-class=")),
                      CONTROLLER_CLASS)
    proc.log(f'I{stamp}       7 main.go:205] "Creating API client" host="https://10.96.0.1:443"',
             f'I{stamp}       7 controller.go:213] "Configuration changes detected, backend reload required"',
             f'I{stamp}       7 nginx.go:317] "Starting NGINX Ingress controller" controllerClass="{class_flag}"',
             stderr=True)
    for port, handler in _controller_server(proc).items():
        proc.listen(port, handler)
    proc.trap(15, 3)
    return (yield from serve_forever(proc))
