"""The manifests of kube-system's own workloads, as kubeadm (kind, minikube) writes them.

`static_pod(component, node, now)` is the mirror pod of one of kubeadm's control-plane manifests
(/etc/kubernetes/manifests/*.yaml) on `node`: host network, system-node-critical, the kubelet's
`kubernetes.io/config.*` annotations, owned by the Node, with kubeadm's command line, requests and
probes. `kube_proxy_daemonset()` and `coredns_deployment(replicas)` are kubeadm's add-on manifests;
`storage_provisioner()` is minikube's bare provisioner pod; `config_maps()` and `service_accounts()`
what they mount and run as. Pure data: no store, no randomness.

Read by: cluster.systempods. Reads: cluster.clock (the config.seen stamp), runtime.images_catalog_system.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kubelab.cluster.clock import rfc3339
from kubelab.cluster.runtime.images_catalog_system import IMAGES
from kubelab.cluster.scheduling.taints import CONTROL_PLANE

Obj = dict[str, Any]
NAMESPACE = "kube-system"
CONTROL_PLANE_LABEL = CONTROL_PLANE  # the kubeadm node-role label (same key as the control plane's taint)
PKI = "/etc/kubernetes/pki"
SERVICE_CIDR, POD_CIDR = "10.96.0.0/16", "10.244.0.0/16"
COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
"""


def _probe(path: str, port: int, host: str, scheme: str, failures: int, period: int, delay: int = 0) -> Obj:
    probe: Obj = {"httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
                  "failureThreshold": failures, "periodSeconds": period, "timeoutSeconds": 15}
    if delay:
        probe["initialDelaySeconds"] = delay
    return probe


def _host_path(name: str, path: str, kind: str = "DirectoryOrCreate") -> Obj:
    return {"name": name, "hostPath": {"path": path, "type": kind}}


def _mount(name: str, path: str, read_only: bool = False) -> Obj:
    return {"name": name, "mountPath": path, **({"readOnly": True} if read_only else {})}


def _node_ip(node: Obj) -> str:
    return next((a["address"] for a in (node.get("status") or {}).get("addresses") or ()
                 if a.get("type") == "InternalIP"), "127.0.0.1")


def _etcd(name: str, ip: str) -> tuple[list[str], Obj, Obj]:
    certs = f"{PKI}/etcd"
    command = ["etcd", f"--advertise-client-urls=https://{ip}:2379", f"--cert-file={certs}/server.crt",
               "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--feature-gates=InitialCorruptCheck=true",
               f"--initial-advertise-peer-urls=https://{ip}:2380", f"--initial-cluster={name}=https://{ip}:2380",
               f"--key-file={certs}/server.key", f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
               "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{ip}:2380",
               f"--name={name}", f"--peer-cert-file={certs}/peer.crt", "--peer-client-cert-auth=true",
               f"--peer-key-file={certs}/peer.key", f"--peer-trusted-ca-file={certs}/ca.crt",
               "--snapshot-count=10000", f"--trusted-ca-file={certs}/ca.crt",
               "--watch-progress-notify-interval=5s"]
    probes = {"livenessProbe": _probe("/livez", 2381, "127.0.0.1", "HTTP", 8, 10, 10),
              "readinessProbe": _probe("/readyz", 2381, "127.0.0.1", "HTTP", 3, 1),
              "startupProbe": _probe("/readyz", 2381, "127.0.0.1", "HTTP", 24, 10, 10),
              "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
              "volumeMounts": [_mount("etcd-data", "/var/lib/etcd"), _mount("etcd-certs", certs)]}
    volumes = {"volumes": [_host_path("etcd-certs", certs), _host_path("etcd-data", "/var/lib/etcd")]}
    return command, probes, volumes


def _pki_volumes(extra: list[tuple[str, str, str]]) -> tuple[list[Obj], list[Obj]]:
    """The host paths every control-plane component mounts read-only (certificates), plus its own."""
    common = [("ca-certs", "/etc/ssl/certs", "DirectoryOrCreate"),
              ("etc-ca-certificates", "/etc/ca-certificates", "DirectoryOrCreate"),
              ("k8s-certs", PKI, "DirectoryOrCreate"),
              ("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates", "DirectoryOrCreate"),
              ("usr-share-ca-certificates", "/usr/share/ca-certificates", "DirectoryOrCreate")]
    entries = sorted(common + extra)
    volumes = [_host_path(n, p, t) for n, p, t in entries]
    mounts = [_mount(n, p, read_only=t != "FileOrCreate" or n == "kubeconfig") for n, p, t in entries]
    return volumes, mounts


def _apiserver(ip: str) -> tuple[list[str], Obj, Obj]:
    command = ["kube-apiserver", f"--advertise-address={ip}", "--allow-privileged=true",
               "--authorization-mode=Node,RBAC", f"--client-ca-file={PKI}/ca.crt",
               "--enable-admission-plugins=NodeRestriction", "--enable-bootstrap-token-auth=true",
               f"--etcd-cafile={PKI}/etcd/ca.crt", f"--etcd-certfile={PKI}/apiserver-etcd-client.crt",
               f"--etcd-keyfile={PKI}/apiserver-etcd-client.key", "--etcd-servers=https://127.0.0.1:2379",
               f"--kubelet-client-certificate={PKI}/apiserver-kubelet-client.crt",
               f"--kubelet-client-key={PKI}/apiserver-kubelet-client.key",
               "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
               "--runtime-config=", "--secure-port=6443",
               "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
               f"--service-account-key-file={PKI}/sa.pub", f"--service-account-signing-key-file={PKI}/sa.key",
               f"--service-cluster-ip-range={SERVICE_CIDR}", f"--tls-cert-file={PKI}/apiserver.crt",
               f"--tls-private-key-file={PKI}/apiserver.key"]
    volumes, mounts = _pki_volumes([])
    probes = {"livenessProbe": _probe("/livez", 6443, ip, "HTTPS", 8, 10, 10),
              "readinessProbe": _probe("/readyz", 6443, ip, "HTTPS", 3, 1),
              "startupProbe": _probe("/livez", 6443, ip, "HTTPS", 24, 10, 10),
              "resources": {"requests": {"cpu": "250m"}}, "volumeMounts": mounts}
    return command, probes, {"volumes": volumes}


def _controller_manager(name: str) -> tuple[list[str], Obj, Obj]:
    kubeconfig = "/etc/kubernetes/controller-manager.conf"
    command = ["kube-controller-manager", "--allocate-node-cidrs=true",
               f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
               "--bind-address=127.0.0.1", f"--client-ca-file={PKI}/ca.crt", f"--cluster-cidr={POD_CIDR}",
               f"--cluster-name={name}", f"--cluster-signing-cert-file={PKI}/ca.crt",
               f"--cluster-signing-key-file={PKI}/ca.key", "--controllers=*,bootstrapsigner,tokencleaner",
               f"--kubeconfig={kubeconfig}", "--leader-elect=true",
               f"--requestheader-client-ca-file={PKI}/front-proxy-ca.crt",
               f"--root-ca-file={PKI}/ca.crt", f"--service-account-private-key-file={PKI}/sa.key",
               f"--service-cluster-ip-range={SERVICE_CIDR}", "--use-service-account-credentials=true"]
    volumes, mounts = _pki_volumes([("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
                                     "DirectoryOrCreate"), ("kubeconfig", kubeconfig, "FileOrCreate")])
    for mount in mounts:
        if mount["name"] == "flexvolume-dir":
            mount.pop("readOnly", None)
    probes = {"livenessProbe": _probe("/healthz", 10257, "127.0.0.1", "HTTPS", 8, 10, 10),
              "startupProbe": _probe("/healthz", 10257, "127.0.0.1", "HTTPS", 24, 10, 10),
              "resources": {"requests": {"cpu": "200m"}}, "volumeMounts": mounts}
    return command, probes, {"volumes": volumes}


def _scheduler() -> tuple[list[str], Obj, Obj]:
    kubeconfig = "/etc/kubernetes/scheduler.conf"
    command = ["kube-scheduler", f"--authentication-kubeconfig={kubeconfig}",
               f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
               f"--kubeconfig={kubeconfig}", "--leader-elect=true"]
    probes = {"livenessProbe": _probe("/livez", 10259, "127.0.0.1", "HTTPS", 8, 10, 10),
              "readinessProbe": _probe("/readyz", 10259, "127.0.0.1", "HTTPS", 3, 1),
              "startupProbe": _probe("/livez", 10259, "127.0.0.1", "HTTPS", 24, 10, 10),
              "resources": {"requests": {"cpu": "100m"}},
              "volumeMounts": [_mount("kubeconfig", kubeconfig, read_only=True)]}
    return command, probes, {"volumes": [_host_path("kubeconfig", kubeconfig, "FileOrCreate")]}


def static_pod(component: str, node: Obj, now: float) -> Obj:
    """The mirror pod the kubelet on `node` posts for kubeadm's `component` manifest."""
    name, ip = node["metadata"]["name"], _node_ip(node)
    if component == "etcd":
        command, container, pod_extra = _etcd(name, ip)
    elif component == "kube-apiserver":
        command, container, pod_extra = _apiserver(ip)
    elif component == "kube-controller-manager":
        command, container, pod_extra = _controller_manager(name.rsplit("-control-plane", 1)[0])
    else:
        command, container, pod_extra = _scheduler()
    spec: Obj = {"containers": [{"name": component, "image": IMAGES[component], "imagePullPolicy": "IfNotPresent",
                                 "command": command, **container}],
                 "hostNetwork": True, "priority": 2000001000, "priorityClassName": "system-node-critical",
                 "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                 "tolerations": [{"operator": "Exists", "effect": "NoExecute"}], **pod_extra}
    # The kubelet names a static pod's source by the hash of its manifest (the same file → the same hash).
    config_hash = hashlib.md5(json.dumps([name, spec], sort_keys=True).encode()).hexdigest()
    annotations = {"kubernetes.io/config.hash": config_hash, "kubernetes.io/config.mirror": config_hash,
                   "kubernetes.io/config.seen": rfc3339(now).replace("Z", ".000000000Z"),
                   "kubernetes.io/config.source": "file"}
    if component == "etcd":
        annotations["kubeadm.kubernetes.io/etcd.advertise-client-urls"] = f"https://{ip}:2379"
    elif component == "kube-apiserver":
        annotations["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] = f"{ip}:6443"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{component}-{name}", "namespace": NAMESPACE,
                         "labels": {"component": component, "tier": "control-plane"}, "annotations": annotations,
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                              "uid": node["metadata"]["uid"], "controller": True}]},
            "spec": dict(spec, nodeName=name)}


def kube_proxy_daemonset() -> Obj:
    labels = {"k8s-app": "kube-proxy"}
    container = {"name": "kube-proxy", "image": IMAGES["kube-proxy"], "imagePullPolicy": "IfNotPresent",
                 "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                             "--hostname-override=$(NODE_NAME)"],
                 "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                 "securityContext": {"privileged": True},
                 "volumeMounts": [_mount("kube-proxy", "/var/lib/kube-proxy"),
                                  _mount("xtables-lock", "/run/xtables.lock"),
                                  _mount("lib-modules", "/lib/modules", read_only=True)]}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-proxy", "namespace": NAMESPACE, "labels": labels},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [container], "hostNetwork": True,
                                           "nodeSelector": {"kubernetes.io/os": "linux"},
                                           "priorityClassName": "system-node-critical",
                                           "serviceAccountName": "kube-proxy",
                                           "tolerations": [{"operator": "Exists"}],
                                           "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
                                                       _host_path("xtables-lock", "/run/xtables.lock",
                                                                  "FileOrCreate"),
                                                       {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}]}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}}}


def coredns_deployment(replicas: int) -> Obj:
    labels = {"k8s-app": "kube-dns"}
    container = {
        "name": "coredns", "image": IMAGES["coredns"], "imagePullPolicy": "IfNotPresent",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                  {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                  {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 60,
                          "timeoutSeconds": 5, "successThreshold": 1, "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}},
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}},
        "volumeMounts": [_mount("config-volume", "/etc/coredns", read_only=True)]}
    affinity = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": {
            "labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
            "topologyKey": "kubernetes.io/hostname"}}]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": NAMESPACE, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"affinity": affinity, "containers": [container], "dnsPolicy": "Default",
                                           "nodeSelector": {"kubernetes.io/os": "linux"},
                                           "priorityClassName": "system-cluster-critical",
                                           "serviceAccountName": "coredns",
                                           "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                                           {"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}],
                                           "volumes": [{"name": "config-volume", "configMap": {
                                               "name": "coredns",
                                               "items": [{"key": "Corefile", "path": "Corefile"}]}}]}}}}


def config_maps() -> list[Obj]:
    proxy_config = ("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\n"
                    f"clusterCIDR: {POD_CIDR}\nhealthzBindAddress: \"\"\nkind: KubeProxyConfiguration\n"
                    "metricsBindAddress: \"\"\nmode: iptables\n")
    kubeconfig = ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: "
                  "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n    server: https://kubernetes.default.svc:443\n"
                  "  name: default\n")
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": NAMESPACE},
             "data": {"Corefile": COREFILE}},
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "kube-proxy", "namespace": NAMESPACE, "labels": {"app": "kube-proxy"}},
             "data": {"config.conf": proxy_config, "kubeconfig.conf": kubeconfig}}]


def storage_provisioner() -> Obj:
    """minikube's hostpath provisioner: a bare pod its addon manager keeps (no controller owns it)."""
    container = {"name": "storage-provisioner", "image": IMAGES["storage-provisioner"],
                 "imagePullPolicy": "IfNotPresent", "command": ["/storage-provisioner"],
                 "volumeMounts": [_mount("tmp", "/tmp")]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "storage-provisioner", "namespace": NAMESPACE,
                         "labels": {"addonmanager.kubernetes.io/mode": "Reconcile",
                                    "integration-test": "storage-provisioner"}},
            "spec": {"containers": [container], "hostNetwork": True, "serviceAccountName": "storage-provisioner",
                     "volumes": [_host_path("tmp", "/tmp", "Directory")]}}


def service_accounts(minikube: bool = False) -> list[Obj]:
    names = ("coredns", "kube-proxy", *(("storage-provisioner",) if minikube else ()))
    return [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": n, "namespace": NAMESPACE}}
            for n in names]
