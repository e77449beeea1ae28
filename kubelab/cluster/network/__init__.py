"""The cluster network: Service allocation, DNS, kube-proxy and the traffic between pods.

`install(cluster)` hooks the allocator into the API server, writes the `kubernetes` and
`kube-dns` Services, registers the Endpoints, EndpointSlice, kube-proxy and kube-dns watchers
(in the order of the "Service created" sequence), and connects `cluster.pod_network`, plus the
`cluster.request(url, from_pod=None)` and `cluster.proxy_rules(node=None, mode=...)` helpers,
the ingress-nginx controller loop and router (live once the `ingress` add-on runs its pod),
`cluster.hosts` (the notebook machine's /etc/hosts) and the add-on registry (`cluster.addons()`).

Read by: cluster.components. Reads: network.*, controllers.endpoints, controllers.endpointslice, cluster.addons.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from kubelab.cluster import addons
from kubelab.cluster.controllers.endpoints import EndpointsController
from kubelab.cluster.controllers.endpointslice import EndpointSliceController
from kubelab.cluster.network import kubeproxy, listeners, services, traffic
from kubelab.cluster.network.dns import KubeDns
from kubelab.cluster.network.ingress import IngressNginx, admit_default_class
from kubelab.cluster.network.ingress_routing import IngressRouter

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster


def install(cluster: Cluster) -> None:
    services.ServiceAllocator(cluster).install()
    cluster.pod_network = traffic.PodNetwork(cluster)  # type: ignore[attr-defined]
    cluster.request = partial(traffic.request, cluster)  # type: ignore[method-assign,attr-defined]
    cluster.proxy_rules = partial(kubeproxy.rules, cluster)  # type: ignore[attr-defined]
    listeners.install(cluster)  # cluster.service_url, cluster.port_forward
    cluster.add_controller(EndpointsController(cluster))
    cluster.add_controller(EndpointSliceController(cluster))
    cluster.add_controller(kubeproxy.KubeProxy(cluster))
    cluster.add_controller(KubeDns(cluster))
    cluster.pod_network.router = IngressRouter(cluster)  # type: ignore[attr-defined]
    cluster.api.on_create.setdefault("Ingress", []).append(admit_default_class(cluster))
    cluster.add_controller(IngressNginx(cluster))
    cluster.hosts = {}  # type: ignore[attr-defined]
    addons.install(cluster)


def bootstrap(cluster: Cluster) -> None:
    """The Services every cluster starts with (after the nodes registered: the apiserver's address)."""
    services.bootstrap(cluster)
