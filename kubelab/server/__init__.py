"""kubelab's Kubernetes REST API server: the local cluster over HTTPS, for kubectl and clients.

`serve(cluster, port=0, kubeconfig_path=None)` (also `Cluster.serve`) starts it on 127.0.0.1
and returns a `ServerHandle` (`url`, `kubeconfig`, `token`, `stop()`). The modules split along
the request's path: transport (HTTP, TLS, auth) → app (routing) → discovery / openapi /
resources / watching / patching / subresources, with present (Tables, time shift) on the way
out and managed (managedFields, server-side apply) on the way in.

Read by: kubelab.cluster.core, cli. Reads: kubelab.cluster, kubelab.api.
"""

from __future__ import annotations

from kubelab.server.handle import ServerHandle, serve

__all__ = ["ServerHandle", "serve"]
