"""The images a kubeadm cluster's own pods run: etcd, the control-plane components, kube-proxy, CoreDNS.

Same shape as `images_catalog.CATALOG` (which appends these). Each is the generic program described
as data: a few start-up log lines like the real component's, and the health endpoints kubeadm's
probes ask (etcd's metrics port 2381, the apiserver's 6443, the controller-manager's 10257, the
scheduler's 10259, kube-proxy's 10256, CoreDNS's health 8080 and ready 8181 plugins), and minikube's
storage-provisioner. kind and minikube nodes have them preloaded, so cluster.systempods marks them
present on every node.

Read by: images_catalog, cluster.systempods (the references). Reads: nothing.
"""

from __future__ import annotations

from typing import Any

MiB = 1024 * 1024
KUBERNETES_VERSION = "v1.37.1"
ETCD_VERSION = "3.6.4-0"
COREDNS_VERSION = "v1.12.1"
REGISTRY = "registry.k8s.io"
IMAGES = {
    "etcd": f"{REGISTRY}/etcd:{ETCD_VERSION}",
    "kube-apiserver": f"{REGISTRY}/kube-apiserver:{KUBERNETES_VERSION}",
    "kube-controller-manager": f"{REGISTRY}/kube-controller-manager:{KUBERNETES_VERSION}",
    "kube-scheduler": f"{REGISTRY}/kube-scheduler:{KUBERNETES_VERSION}",
    "kube-proxy": f"{REGISTRY}/kube-proxy:{KUBERNETES_VERSION}",
    "coredns": f"{REGISTRY}/coredns/coredns:{COREDNS_VERSION}",
    "storage-provisioner": "gcr.io/k8s-minikube/storage-provisioner:v5",
}
_OK = "ok"


def _component(name: str, port: int, routes: dict[str, str], logs: list[str], size: int, memory: int,
               **extra: Any) -> dict[str, Any]:
    """A Go binary on a distroless base, started by its full path as kubeadm's manifests do."""
    repository, _, tag = IMAGES[name].rpartition(":")
    return {
        "repository": repository,
        "family": "scratch",
        "entrypoint": [],
        "cmd": [f"/usr/local/bin/{name}"],
        "env": {"PATH": "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"},
        "executables": {f"/usr/local/bin/{name}": "program:generic", name: "program:generic"},
        "ports": [port],
        "size_bytes": size,
        "pull_seconds": 2.0,
        "memory_bytes": memory,
        "logs": logs,
        "http": {port: routes},
        "tags": {tag: {"version": tag}},
        **extra,
    }


SYSTEM_IMAGES: list[dict[str, Any]] = [
    _component(
        "etcd", 2381,
        {"/livez": _OK, "/readyz": _OK, "/health": '{"health":"true","reason":""}',
         "/metrics": "etcd_server_has_leader 1\n"},
        ['{"level":"info","ts":"{time}","caller":"etcdmain/etcd.go:64","msg":"Running: ","args":["etcd",'
         '"--advertise-client-urls=https://{hostname}:2379","--data-dir=/var/lib/etcd"]}',
         '{"level":"info","ts":"{time}","caller":"embed/etcd.go:140","msg":"configuring peer listeners",'
         '"listen-peer-urls":["https://0.0.0.0:2380"]}',
         '{"level":"info","ts":"{time}","caller":"embed/etcd.go:311","msg":"starting an etcd server",'
         '"etcd-version":"3.6.4","go-version":"go1.24.6","name":"{hostname}","data-dir":"/var/lib/etcd"}',
         '{"level":"info","ts":"{time}","caller":"etcdserver/server.go:2083","msg":"published local member to '
         'cluster through raft","local-member-attributes":"{Name:{hostname}}","request-path":'
         '"/0/members/aec36adc501070cc/attributes","cluster-id":"fa54960ea34d58be"}',
         '{"level":"info","ts":"{time}","caller":"embed/serve.go:275","msg":"serving client traffic securely",'
         '"traffic":"grpc+http","address":"127.0.0.1:2379"}'],
        23_700_000, 60 * MiB, entrypoint=["/usr/local/bin/etcd"], cmd=[],
        executables={"/usr/local/bin/etcd": "program:generic", "etcd": "program:generic",
                     "/usr/local/bin/etcdctl": "program:generic"},
        ports=[2379, 2380, 2381]),
    _component(
        "kube-apiserver", 6443, {"/livez": _OK, "/readyz": _OK, "/healthz": _OK, "/version": "{version}"},
        ["I{time}       1 options.go:249] external host was not specified, using {hostname}",
         "I{time}       1 server.go:146] Version: {version}",
         "I{time}       1 shared_informer.go:313] Waiting for caches to sync for node_authorizer",
         "I{time}       1 secure_serving.go:213] Serving securely on [::]:6443",
         "I{time}       1 controller.go:667] quota admission added evaluator for: namespaces",
         "I{time}       1 storage_scheduling.go:111] all system priority classes are created successfully or "
         "already exist."],
        31_000_000, 250 * MiB),
    _component(
        "kube-controller-manager", 10257, {"/healthz": _OK, "/livez": _OK, "/readyz": _OK},
        ["I{time}       1 serving.go:386] Generated self-signed cert in-memory",
        "I{time}       1 controllermanager.go:191] \"Starting\" version=\"{version}\"",
        "I{time}       1 secure_serving.go:213] Serving securely on 127.0.0.1:10257",
        "I{time}       1 leaderelection.go:257] attempting to acquire leader lease "
        "kube-system/kube-controller-manager...",
        "I{time}       1 leaderelection.go:271] successfully acquired lease kube-system/kube-controller-manager",
        "I{time}       1 controllermanager.go:778] \"Started controller\" controller=\"replicaset-controller\"",
        "I{time}       1 controllermanager.go:778] \"Started controller\" controller=\"deployment-controller\""],
        25_600_000, 50 * MiB),
    _component(
        "kube-scheduler", 10259, {"/livez": _OK, "/readyz": _OK, "/healthz": _OK},
        ["I{time}       1 serving.go:386] Generated self-signed cert in-memory",
        "I{time}       1 server.go:167] \"Starting Kubernetes Scheduler\" version=\"{version}\"",
        "I{time}       1 secure_serving.go:213] Serving securely on 127.0.0.1:10259",
        "I{time}       1 leaderelection.go:257] attempting to acquire leader lease kube-system/kube-scheduler...",
        "I{time}       1 leaderelection.go:271] successfully acquired lease kube-system/kube-scheduler"],
        19_700_000, 25 * MiB),
    _component(
        "kube-proxy", 10256, {"/healthz": '{"lastUpdated":"{time}","currentTime":"{time}","nodeEligible":true}',
                              "/livez": _OK},
        ["I{time}       1 server_linux.go:66] \"Using iptables proxy\"",
        "I{time}       1 server.go:698] \"Successfully retrieved node IP(s)\" IPs=[\"{hostname}\"]",
        "I{time}       1 server_linux.go:132] \"Using iptables Proxier\"",
        "I{time}       1 config.go:199] \"Starting service config controller\"",
        "I{time}       1 config.go:105] \"Starting endpoint slice config controller\"",
        "I{time}       1 shared_informer.go:320] Caches are synced for service config"],
        30_400_000, 20 * MiB, ports=[10249, 10256]),
    {
        "repository": IMAGES["coredns"].rpartition(":")[0],
        "family": "scratch",
        "entrypoint": ["/coredns"],
        "executables": {"/coredns": "program:generic"},
        "ports": [53, 8080, 8181, 9153],
        "size_bytes": 22_400_000,
        "pull_seconds": 1.3,
        "memory_bytes": 15 * MiB,
        "logs": [".:53", "[INFO] plugin/reload: Running configuration SHA512 = "
                 "1b226df79860026c6a52e67daa10d7f0d57ec5b023288ec00c5e05f93523c894564e15b91770d3a07ae1cfbe861d15b37d"
                 "6d84c82cb45d0e3a57d1e6e2d6df8e",
                 "CoreDNS-1.12.1", "linux/amd64, go1.24.1, 707c7c1"],
        "http": {8080: {"/health": "OK"}, 8181: {"/ready": "OK"},
                 9153: {"/metrics": "coredns_build_info{version=\"1.12.1\"} 1\n"}},
        "tags": {COREDNS_VERSION: {"version": COREDNS_VERSION}},
    },
    {  # minikube's hostpath provisioner (a Go binary on scratch): it watches claims, it serves nothing
        "repository": "gcr.io/k8s-minikube/storage-provisioner",
        "family": "scratch",
        "entrypoint": [],
        "cmd": ["/storage-provisioner"],
        "executables": {"/storage-provisioner": "program:generic"},
        "size_bytes": 31_500_000,
        "pull_seconds": 1.5,
        "memory_bytes": 12 * MiB,
        "logs": ["I{time}       1 storage_provisioner.go:116] Initializing the minikube storage provisioner...",
                 "I{time}       1 storage_provisioner.go:141] Storage provisioner initialized, now starting service!",
                 "I{time}       1 leaderelection.go:243] attempting to acquire leader lease "
                 "kube-system/k8s.io-minikube-hostpath...",
                 "I{time}       1 leaderelection.go:253] successfully acquired lease "
                 "kube-system/k8s.io-minikube-hostpath",
                 "I{time}       1 controller.go:835] Starting provisioner controller "
                 "k8s.io/minikube-hostpath_{hostname}!"],
        "tags": {"v5": {"version": "v5"}},
    },
]
