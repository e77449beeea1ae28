"""Request routing: which handler answers a request, by path and method.

Non-resource paths (`/healthz`, `/livez`, `/readyz`, `/version`, discovery, `/openapi/v3`)
are answered here; resource paths go to resources (CRUD), watching (`watch=true`), patching
(PATCH) or subresources, after the verb is checked against the kind's verbs as apiserver's
405 does it.

Read by: server.handle, server.transport (calls it). Reads: server.routes, server.discovery,
server.openapi, server.resources, server.watching, server.patching, server.subresources,
server.present, server.managed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubelab.api.errors import ApiError
from kubelab.server import discovery, managed, openapi, patching, resources, routes, subresources, watching
from kubelab.server.messages import Request, Response, Stream, Upgrade, encode, json_response, not_found_path
from kubelab.server.present import Presenter

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

HOST = "127.0.0.1"
_HEALTH = ("/healthz", "/livez", "/readyz")
# HTTP method (and whether a name is given) → the Kubernetes verb it is.
_VERBS = {("GET", True): "get", ("GET", False): "list", ("POST", False): "create", ("PUT", True): "update",
          ("PATCH", True): "patch", ("DELETE", True): "delete", ("DELETE", False): "deletecollection",
          ("HEAD", True): "get", ("HEAD", False): "list"}


def method_not_allowed() -> ApiError:
    return ApiError("MethodNotAllowed", "the server does not allow this method on the requested resource")


_CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


class ApiApp:
    """The API server's request handler; one per served cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.presenter = Presenter(cluster)
        self.address = HOST  # host:port once bound (what discovery tells clients to use)
        managed.install(cluster)

    def __call__(self, req: Request) -> Response | Stream | Upgrade:
        try:
            return self._route(req)
        except ApiError as err:
            if err.hint:  # kubectl rebuilds some messages (422 Invalid) without it: the magics read it here
                self.cluster.trace_log.add("api-server", "rejected", f"{req.method} {req.path}", f"hint: {err.hint}")
            raise

    def _route(self, req: Request) -> Response | Stream | Upgrade:
        path = req.path.rstrip("/") or "/"
        if path in _HEALTH or path.startswith(tuple(p + "/" for p in _HEALTH)):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return json_response(discovery.VERSION)
        if path in ("/api", "/apis"):
            if discovery.wants_aggregated(req.accept):
                doc = discovery.aggregated(path == "/api")
                return Response(200, encode(doc), discovery.AGGREGATED)
            return json_response(discovery.api_versions(self.address) if path == "/api"
                                 else discovery.api_group_list())
        if path.startswith("/openapi/"):
            return openapi.serve(req, path)
        if path == _CRDS and req.method == "GET":
            # kubectl's validation asks whether a kind it cannot find is a CRD: there are none here.
            return json_response({"kind": "CustomResourceDefinitionList", "apiVersion": "apiextensions.k8s.io/v1",
                                  "metadata": {"resourceVersion": str(self.cluster.store.revision)}, "items": []})
        found = routes.group_version(path)
        if found is None:
            raise not_found_path()
        group, version, rest = found
        if not rest:
            if req.method != "GET":
                raise method_not_allowed()
            return json_response(discovery.resource_list(group, version))
        return self._resource(req, routes.resolve(group, version, rest))

    def _resource(self, req: Request, target: routes.Target) -> Response | Stream | Upgrade:
        if target.subresource is not None:
            return subresources.serve(self, req, target)
        verb = _VERBS.get((req.method, target.name is not None))
        kind = target.kind
        watch = req.method == "GET" and (target.watch_prefix or req.flag("watch"))
        if watch:
            verb = "watch"
        if verb is None or verb not in kind.verbs:
            raise method_not_allowed()
        if verb == "create" and kind.namespaced and target.namespace is None:
            raise method_not_allowed()  # POST needs a namespace in the path
        if watch:
            return watching.watch(self, req, target)
        if verb == "get":
            return resources.get(self, req, target)
        if verb == "list":
            return resources.list_(self, req, target)
        if verb == "create":
            return resources.create(self, req, target)
        if verb == "update":
            return resources.update(self, req, target)
        if verb == "patch":
            return patching.patch(self, req, target)
        if verb == "delete":
            return resources.delete(self, req, target)
        return resources.delete_collection(self, req, target)
