"""The images minikube's add-ons run: ingress-nginx, the dashboard and metrics-server.

Same shape as `images_catalog.CATALOG` (which appends these). The ingress controller runs the
`nginx-ingress-controller` program (registered by cluster.network.ingress, since it routes by the
cluster's Ingress objects); the others are generic programs described as data: their logs, the
routes they answer and, for the admission-webhook certificate jobs, an exit code.

Read by: images_catalog. Reads: nothing.
"""

from __future__ import annotations

from typing import Any

MiB = 1024 * 1024

ADDON_IMAGES: list[dict[str, Any]] = [
    {
        "repository": "registry.k8s.io/ingress-nginx/controller",
        "family": "alpine",
        "program": "nginx-ingress-controller",
        "entrypoint": [],
        "cmd": ["/nginx-ingress-controller"],
        "ports": [80, 443, 8443, 10254],
        "user": "www-data",
        "users": ("www-data:x:101:82:Linux User,,,:/home/www-data:/sbin/nologin",),
        "executables": {"/nginx-ingress-controller": "program:nginx-ingress-controller"},
        "size_bytes": 105_000_000,
        "pull_seconds": 3.5,
        "memory_bytes": 45 * MiB,
        "processes": ["/nginx-ingress-controller", "nginx: master process /usr/bin/nginx -c /etc/nginx/nginx.conf",
                      "nginx: worker process"],
        "tags": {"v1.13.2": {"version": "v1.13.2", "options": {"nginx_version": "1.27.1"}}},
    },
    {
        "repository": "registry.k8s.io/ingress-nginx/kube-webhook-certgen",
        "family": "scratch",
        "entrypoint": ["/kube-webhook-certgen"],
        "executables": {"/kube-webhook-certgen": "program:generic"},
        "size_bytes": 28_900_000,
        "pull_seconds": 1.4,
        "memory_bytes": 8 * MiB,
        "logs": ['{"level":"info","msg":"creating new secret","source":"k8s/k8s.go:38"}'],
        "exit_code": 0,
        "run_seconds": 1,
        "tags": {"v1.6.2": {"version": "v1.6.2"}},
    },
    {
        "repository": "kubernetesui/dashboard",
        "family": "scratch",
        "entrypoint": ["/dashboard"],
        "executables": {"/dashboard": "program:generic"},
        "ports": [9090],
        "size_bytes": 74_600_000,
        "pull_seconds": 2.6,
        "memory_bytes": 20 * MiB,
        "logs": ["{time} Starting overwatch", "{time} Using namespace: kubernetes-dashboard",
                 "{time} Using in-cluster config to connect to apiserver",
                 "{time} Serving insecurely on HTTP port: 9090"],
        "http": {9090: {"*": "<!doctype html>\n<html lang=\"en\">\n<head>\n<title>Kubernetes Dashboard</title>\n"
                             "</head>\n<body>\n<kd-root></kd-root>\n</body>\n</html>\n"}},
        "tags": {"v2.7.0": {"version": "v2.7.0"}},
    },
    {
        "repository": "kubernetesui/metrics-scraper",
        "family": "scratch",
        "entrypoint": ["/metrics-sidecar"],
        "executables": {"/metrics-sidecar": "program:generic"},
        "ports": [8000],
        "size_bytes": 19_700_000,
        "pull_seconds": 1.1,
        "memory_bytes": 6 * MiB,
        "logs": ["{\"level\":\"info\",\"msg\":\"Kubernetes host: https://10.96.0.1:443\",\"time\":\"{time}\"}"],
        "http": {8000: {"/": "URL: /\n", "/healthz": "ok"}},
        "tags": {"v1.0.8": {"version": "v1.0.8"}},
    },
    {
        "repository": "registry.k8s.io/metrics-server/metrics-server",
        "family": "scratch",
        "entrypoint": ["/metrics-server"],
        "executables": {"/metrics-server": "program:generic"},
        "ports": [4443],
        "size_bytes": 19_500_000,
        "pull_seconds": 1.1,
        "memory_bytes": 12 * MiB,
        "logs": ["I{time} 1 serving.go:374] Generated self-signed cert (/tmp/apiserver.crt, /tmp/apiserver.key)",
                 "I{time} 1 secure_serving.go:213] Serving securely on [::]:4443"],
        "http": {4443: {"/readyz": "ok", "/livez": "ok"}},
        "tags": {"v0.8.0": {"version": "v0.8.0"}},
    },
]
