"""minikube's add-ons on the local cluster: which exist, which are on, and what enabling one creates.

`cluster.addons()` lists them as `minikube addons list` does (name, enabled, maintainer);
`cluster.enable_addon(name)` creates what minikube's manifests create — `ingress`: the
`ingress-nginx` namespace, the controller Deployment (hostPorts 80/443), its NodePort Service,
the admission Service and certificate Jobs, and the default IngressClass `nginx`; `dashboard`:
`kubernetes-dashboard` with the metrics scraper; `metrics-server` in kube-system —
`cluster.disable_addon(name)` deletes it again. `default-storageclass` and `storage-provisioner`
are on from the start: the persistentvolume controller already provisions the `standard` class.

Read by: cluster.network (install attaches the three methods). Reads: api (kinds), store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from kubelab.api import kinds

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster

Obj = dict[str, Any]
INGRESS_NS, DASHBOARD_NS = "ingress-nginx", "kubernetes-dashboard"
_CONTROLLER = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "ingress-nginx",
               "app.kubernetes.io/component": "controller"}
_WEBHOOK = {**_CONTROLLER, "app.kubernetes.io/component": "admission-webhook"}


class AddonStatus(NamedTuple):
    name: str
    enabled: bool
    maintainer: str


def _meta(name: str, namespace: str | None, labels: dict[str, str], **extra: Any) -> Obj:
    return {"name": name, **({"namespace": namespace} if namespace else {}), "labels": dict(labels), **extra}


def _deployment(name: str, namespace: str, labels: dict[str, str], container: Obj, **pod_spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, namespace, labels),
            "spec": {"replicas": 1, "revisionHistoryLimit": 10, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [container], **pod_spec}}}}


def _service(name: str, namespace: str, labels: dict[str, str], ports: list[Obj], kind: str = "ClusterIP") -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, namespace, labels),
            "spec": {"type": kind, "selector": dict(labels), "ports": ports}}


def _namespace(name: str, labels: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _certgen_job(name: str, args: list[str]) -> Obj:
    labels = dict(_WEBHOOK)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(name, INGRESS_NS, labels),
            "spec": {"template": {"metadata": {"name": name, "labels": labels},
                                  "spec": {"restartPolicy": "OnFailure",
                                           "serviceAccountName": "ingress-nginx-admission",
                                           "securityContext": {"runAsNonRoot": True, "runAsUser": 2000},
                                           "containers": [{"name": name.rsplit("-", 1)[1],
                                                           "image": "registry.k8s.io/ingress-nginx/kube-webhook-"
                                                                    "certgen:v1.6.2",
                                                           "imagePullPolicy": "IfNotPresent", "args": args}]}}}}


def ingress_objects() -> list[Obj]:
    """What `minikube addons enable ingress` applies (RBAC and the validating webhook left out)."""
    probe = {"httpGet": {"path": "/healthz", "port": 10254, "scheme": "HTTP"}, "initialDelaySeconds": 10,
             "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1}
    controller = {
        "name": "controller", "image": "registry.k8s.io/ingress-nginx/controller:v1.13.2",
        "imagePullPolicy": "IfNotPresent",
        "args": ["/nginx-ingress-controller", "--election-id=ingress-nginx-leader",
                 "--controller-class=k8s.io/ingress-nginx", "--watch-ingress-without-class=true",
                 "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller", "--report-node-internal-ip-address",
                 "--tcp-services-configmap=$(POD_NAMESPACE)/tcp-services",
                 "--udp-services-configmap=$(POD_NAMESPACE)/udp-services", "--validating-webhook=:8443"],
        "securityContext": {"runAsUser": 101, "allowPrivilegeEscalation": True,
                            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
        "livenessProbe": {**probe, "failureThreshold": 5}, "readinessProbe": {**probe, "failureThreshold": 3},
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP", "hostPort": 80},
                  {"name": "https", "containerPort": 443, "protocol": "TCP", "hostPort": 443},
                  {"name": "webhook", "containerPort": 8443, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "90Mi"}}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"hsts": "false"},
              "metadata": _meta("ingress-nginx-controller", INGRESS_NS, _CONTROLLER)}
    extra_maps = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(n, INGRESS_NS, _CONTROLLER)}
                  for n in ("tcp-services", "udp-services")]
    accounts: list[Obj] = [{"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": True,
                 "metadata": _meta("ingress-nginx", INGRESS_NS, _CONTROLLER)},
                {"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": _meta("ingress-nginx-admission", INGRESS_NS, _WEBHOOK)}]
    return [
        _namespace(INGRESS_NS, {k: v for k, v in _CONTROLLER.items() if k != "app.kubernetes.io/component"}),
        *accounts, config, *extra_maps,
        _service("ingress-nginx-controller-admission", INGRESS_NS, _CONTROLLER,
                 [{"name": "https-webhook", "port": 443, "targetPort": "webhook", "appProtocol": "https"}]),
        _service("ingress-nginx-controller", INGRESS_NS, _CONTROLLER,
                 [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http", "appProtocol": "http"},
                  {"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https", "appProtocol": "https"}],
                 "NodePort"),
        _deployment("ingress-nginx-controller", INGRESS_NS, _CONTROLLER, controller, dnsPolicy="ClusterFirst",
                    serviceAccountName="ingress-nginx", terminationGracePeriodSeconds=0,
                    nodeSelector={"kubernetes.io/os": "linux"}),
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": _meta("nginx", None, _CONTROLLER,
                           annotations={"ingressclass.kubernetes.io/is-default-class": "true"}),
         "spec": {"controller": "k8s.io/ingress-nginx"}},
        _certgen_job("ingress-nginx-admission-create", [
            "create",
            "--host=ingress-nginx-controller-admission,ingress-nginx-controller-admission.$(POD_NAMESPACE).svc",
            "--namespace=$(POD_NAMESPACE)", "--secret-name=ingress-nginx-admission"]),
        _certgen_job("ingress-nginx-admission-patch", [
            "patch", "--webhook-name=ingress-nginx-admission", "--namespace=$(POD_NAMESPACE)",
            "--patch-mutating=false", "--secret-name=ingress-nginx-admission", "--patch-failure-policy=Fail"]),
    ]


def dashboard_objects() -> list[Obj]:
    dash, scraper = {"k8s-app": "kubernetes-dashboard"}, {"k8s-app": "dashboard-metrics-scraper"}
    return [
        _namespace(DASHBOARD_NS, {"kubernetes.io/metadata.name": DASHBOARD_NS}),
        _service("kubernetes-dashboard", DASHBOARD_NS, dash, [{"port": 80, "targetPort": 9090}]),
        _service("dashboard-metrics-scraper", DASHBOARD_NS, scraper, [{"port": 8000, "targetPort": 8000}]),
        _deployment("kubernetes-dashboard", DASHBOARD_NS, dash, {
            "name": "kubernetes-dashboard", "image": "docker.io/kubernetesui/dashboard:v2.7.0",
            "args": ["--namespace=kubernetes-dashboard", "--enable-skip-login", "--disable-settings-authorizer"],
            "ports": [{"containerPort": 9090, "protocol": "TCP"}]}),
        _deployment("dashboard-metrics-scraper", DASHBOARD_NS, scraper, {
            "name": "dashboard-metrics-scraper", "image": "docker.io/kubernetesui/metrics-scraper:v1.0.8",
            "ports": [{"containerPort": 8000, "protocol": "TCP"}]}),
    ]


def metrics_server_objects() -> list[Obj]:
    labels = {"k8s-app": "metrics-server"}
    return [
        _service("metrics-server", "kube-system", labels,
                 [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"}]),
        _deployment("metrics-server", "kube-system", labels, {
            "name": "metrics-server", "image": "registry.k8s.io/metrics-server/metrics-server:v0.8.0",
            "args": ["--cert-dir=/tmp", "--secure-port=4443",
                     "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                     "--kubelet-use-node-status-port", "--metric-resolution=60s", "--kubelet-insecure-tls"],
            "ports": [{"name": "https", "containerPort": 4443, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}}},
            priorityClassName="system-cluster-critical", serviceAccountName="metrics-server"),
    ]


class Addon(NamedTuple):
    maintainer: str
    default: bool
    objects: Any  # () -> list of manifests; None: built into the cluster's controllers


ADDONS: dict[str, Addon] = {
    "dashboard": Addon("Kubernetes", False, dashboard_objects),
    "default-storageclass": Addon("Kubernetes", True, None),
    "ingress": Addon("Kubernetes", False, ingress_objects),
    "metrics-server": Addon("Kubernetes", False, metrics_server_objects),
    "storage-provisioner": Addon("minikube", True, None),
}


class Addons:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.flags = {name for name, addon in ADDONS.items() if addon.default and addon.objects is None}

    def list(self) -> list[AddonStatus]:
        with self.cluster.lock:
            return [AddonStatus(name, self._enabled(name), addon.maintainer) for name, addon in sorted(ADDONS.items())]

    def _enabled(self, name: str) -> bool:
        """An add-on with objects is on while its workload exists (it survives snapshots and state files)."""
        make = ADDONS[name].objects
        if make is None:
            return name in self.flags
        workload = next(o for o in make() if o["kind"] == "Deployment")
        meta = workload["metadata"]
        return self.cluster.store.get(("apps", "deployments"), meta["namespace"], meta["name"]) is not None

    def enable(self, name: str) -> None:
        addon = self._known(name, "enable")
        if addon.objects is None:
            self.flags.add(name)
            return
        with self.cluster.lock:
            self.cluster.pump()
            for obj in addon.objects():
                kind = kinds.for_object(obj["apiVersion"], obj["kind"])
                ns = obj["metadata"].get("namespace", "")
                if self.cluster.store.get((kind.group, kind.plural), ns, obj["metadata"]["name"]) is None:
                    self.cluster.api.create(obj)
            self.cluster.trace_log.add("minikube", "enabled addon", name)
            self.cluster.pump()

    def disable(self, name: str) -> None:
        addon = self._known(name, "disable")
        if addon.objects is None:
            self.flags.discard(name)
            return
        with self.cluster.lock:
            self.cluster.pump()
            for obj in reversed(addon.objects()):
                kind = kinds.for_object(obj["apiVersion"], obj["kind"])
                ns = obj["metadata"].get("namespace", "")
                if self.cluster.store.get((kind.group, kind.plural), ns, obj["metadata"]["name"]) is not None:
                    self.cluster.api.delete(kind, ns, obj["metadata"]["name"], propagation="Background")
            self.cluster.trace_log.add("minikube", "disabled addon", name)
            self.cluster.pump()

    def _known(self, name: str, verb: str) -> Addon:
        if name not in ADDONS:
            raise ValueError(f"{verb} failed: run callbacks: {name} is not a valid addon")
        return ADDONS[name]


def install(cluster: Cluster) -> Addons:
    addons = Addons(cluster)
    cluster.addons = addons.list  # type: ignore[attr-defined]
    cluster.enable_addon = addons.enable  # type: ignore[attr-defined]
    cluster.disable_addon = addons.disable  # type: ignore[attr-defined]
    return addons
