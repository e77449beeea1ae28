"""Defaulting: what kube-apiserver fills into an object before validating and storing it.

`apply_defaults(obj, kind)` mirrors the `SetDefaults_*` functions of pkg/apis/*/v1/defaults.go as the
generated defaulters call them, plus the few values the registry strategies and the Service IP
allocator add on the way in that users see in `kubectl get -o yaml`: the Job's generated selector and
labels, the Namespace's `kubernetes` finalizer, a Service's `ipFamilyPolicy`/`ipFamilies`. Defaults
never overwrite a value the user set and applying them twice changes nothing, so the apiserver may
run them on every create and update. Pod specs live in api.podspec_defaults; what admission adds to
new Pods lives in api.admission (`admit_pod`, re-exported here).

Read by: cluster.apiserver. Reads: api.kinds, api.podspec_defaults, api.admission.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelab.api.admission import admit_pod
from kubelab.api.kinds import Kind
from kubelab.api.podspec_defaults import (
    as_map,
    default_pod_spec,
    default_pod_template,
    fill,
    fill_str,
    image_pull_policy,
    maps,
    parse_image,
)

__all__ = ["admit_pod", "apply_defaults", "image_pull_policy", "parse_image"]

Obj = dict[str, Any]

MAX_INT32 = 2**31 - 1
JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")  # legacy first, as the Job API adds them
CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def apply_defaults(obj: Obj, kind: Kind) -> None:
    """Fill in the server-side defaults of `obj` (a private copy, mutated in place)."""
    if not isinstance(obj, dict):
        return
    defaulter = _DEFAULTERS.get((kind.group, kind.kind))
    if defaulter is not None:
        defaulter(obj, kind)


# ---------------------------------------------------------------- core/v1
def _pod(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is not None:
        default_pod_spec(spec, is_pod=True)


def _service(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    fill_str(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = as_map(as_map(spec, "sessionAffinityConfig", create=True), "clientIP", create=True)
        if client_ip is not None:
            fill(client_ip, "timeoutSeconds", 10800)
    fill_str(spec, "type", "ClusterIP")
    svc_type = spec["type"]
    for port in maps(spec, "ports"):
        fill_str(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    externally_accessible = svc_type in ("NodePort", "LoadBalancer") or (
        svc_type == "ClusterIP" and bool(spec.get("externalIPs")))
    if externally_accessible:
        fill_str(spec, "externalTrafficPolicy", "Cluster")
    if svc_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        fill(spec, "internalTrafficPolicy", "Cluster")
    if svc_type == "LoadBalancer":
        fill(spec, "allocateLoadBalancerNodePorts", True)
        for ingress in maps(as_map(as_map(obj, "status"), "loadBalancer"), "ingress"):
            if ingress.get("ip") and ingress.get("ipMode") is None:
                ingress["ipMode"] = "VIP"
    if svc_type != "ExternalName":
        _service_ip_families(spec)


def _service_ip_families(spec: Obj) -> None:
    """What the Service REST storage decides before allocating a ClusterIP, on a single-stack IPv4
    cluster: the policy, then the families (inferred from given IPs, else the cluster's IPv4)."""
    cluster_ip, cluster_ips = spec.get("clusterIP"), spec.get("clusterIPs")
    if cluster_ip and not cluster_ips:
        spec["clusterIPs"] = cluster_ips = [cluster_ip]
    elif cluster_ips and isinstance(cluster_ips, list) and not cluster_ip:
        spec["clusterIP"] = cluster_ip = cluster_ips[0]
    headless_selectorless = cluster_ip == "None" and not spec.get("selector")
    fill(spec, "ipFamilyPolicy", "RequireDualStack" if headless_selectorless else "SingleStack")
    families = spec.get("ipFamilies")
    if families is None:
        families = []
        for ip in cluster_ips or ():
            if ip == "None" or not isinstance(ip, str):
                break
            families.append("IPv6" if ":" in ip else "IPv4")
        if not families:
            families = ["IPv4"]
        spec["ipFamilies"] = families
    # Headless and selectorless services may name both families even on a single-stack cluster.
    if headless_selectorless and isinstance(families, list) and len(families) == 1 \
            and spec["ipFamilyPolicy"] != "SingleStack":
        families.append("IPv6" if families[0] == "IPv4" else "IPv4")


def _replication_controller(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    template = as_map(spec, "template")
    labels = as_map(as_map(template, "metadata"), "labels")
    if labels is not None:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = as_map(obj, "metadata", create=True)
        if meta is not None and not meta.get("labels"):
            meta["labels"] = dict(labels)
    fill(spec, "replicas", 1)
    default_pod_template(template)


def _namespace(obj: Obj, kind: Kind) -> None:
    meta = as_map(obj, "metadata", create=True)
    if meta is not None and meta.get("name"):
        # Upstream sets this label unconditionally: it always names the namespace.
        labels = as_map(meta, "labels", create=True)
        if labels is not None:
            labels["kubernetes.io/metadata.name"] = meta["name"]
    spec = as_map(obj, "spec", create=True)
    being_deleted = meta is not None and meta.get("deletionTimestamp")
    if spec is not None and not being_deleted:
        # Added on create; only the namespace controller removes it, once deletion has begun.
        finalizers = spec.get("finalizers")
        if not isinstance(finalizers, list):
            spec["finalizers"] = ["kubernetes"]
        elif "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
    status = as_map(obj, "status", create=True)
    if status is not None:
        fill_str(status, "phase", "Active")


def _secret(obj: Obj, kind: Kind) -> None:
    fill_str(obj, "type", "Opaque")


def _claim(obj: Obj) -> None:
    """A PersistentVolumeClaim, standalone or as a StatefulSet's volumeClaimTemplate."""
    spec = as_map(obj, "spec", create=True)
    if spec is not None:
        fill(spec, "volumeMode", "Filesystem")
    status = as_map(obj, "status", create=True)
    if status is not None:
        fill_str(status, "phase", "Pending")


def _pvc(obj: Obj, kind: Kind) -> None:
    _claim(obj)


def _pv(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is not None:
        fill_str(spec, "persistentVolumeReclaimPolicy", "Retain")
        fill(spec, "volumeMode", "Filesystem")
        host_path = as_map(spec, "hostPath")
        if host_path is not None:
            fill(host_path, "type", "")
    status = as_map(obj, "status", create=True)
    if status is not None:
        fill_str(status, "phase", "Pending")


def _node(obj: Obj, kind: Kind) -> None:
    status = as_map(obj, "status")
    if status is not None and status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _endpoints(obj: Obj, kind: Kind) -> None:
    for subset in maps(obj, "subsets"):
        for port in maps(subset, "ports"):
            fill_str(port, "protocol", "TCP")


def _event(obj: Obj, kind: Kind) -> None:
    # No defaulting upstream, but these fields have no omitempty (or are structs), so the apiserver
    # always writes them back. (The zero timestamps it writes as null are left out here.)
    fill(obj, "reportingComponent", "")
    fill(obj, "reportingInstance", "")
    fill(obj, "source", {})


# ---------------------------------------------------------------- apps/v1
def _deployment(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    fill(spec, "replicas", 1)
    strategy = as_map(spec, "strategy", create=True)
    if strategy is not None:
        fill_str(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = as_map(strategy, "rollingUpdate", create=True)
            if rolling is not None:
                fill(rolling, "maxUnavailable", "25%")
                fill(rolling, "maxSurge", "25%")
    fill(spec, "revisionHistoryLimit", 10)
    fill(spec, "progressDeadlineSeconds", 600)
    default_pod_template(spec.get("template"))


def _replica_set(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is not None:
        fill(spec, "replicas", 1)
        default_pod_template(spec.get("template"))


def _daemon_set(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    strategy = as_map(spec, "updateStrategy", create=True)
    if strategy is not None:
        fill_str(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = as_map(strategy, "rollingUpdate", create=True)
            if rolling is not None:
                fill(rolling, "maxUnavailable", 1)
                fill(rolling, "maxSurge", 0)
    fill(spec, "revisionHistoryLimit", 10)
    default_pod_template(spec.get("template"))


def _stateful_set(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    fill_str(spec, "podManagementPolicy", "OrderedReady")
    strategy = as_map(spec, "updateStrategy", create=True)
    if strategy is not None:
        if strategy.get("type") in (None, ""):
            strategy["type"] = "RollingUpdate"
            fill(strategy, "rollingUpdate", {})
        # Upstream defaults the partition only when rollingUpdate is present.
        rolling = as_map(strategy, "rollingUpdate")
        if strategy["type"] == "RollingUpdate" and rolling is not None:
            fill(rolling, "partition", 0)
    retention = as_map(spec, "persistentVolumeClaimRetentionPolicy", create=True)
    if retention is not None:
        fill_str(retention, "whenDeleted", "Retain")
        fill_str(retention, "whenScaled", "Retain")
    fill(spec, "replicas", 1)
    fill(spec, "revisionHistoryLimit", 10)
    default_pod_template(spec.get("template"))
    for claim in maps(spec, "volumeClaimTemplates"):
        # The stored templates carry their own type, as `kubectl get sts -o yaml` shows.
        fill_str(claim, "apiVersion", "v1")
        fill_str(claim, "kind", "PersistentVolumeClaim")
        _claim(claim)


# ---------------------------------------------------------------- batch/v1
def _job(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    # Completions and parallelism: both unset means one pod; completions alone keeps parallelism 1;
    # parallelism alone leaves completions unset (a work queue: any success finishes the Job).
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    fill(spec, "parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    fill(spec, "completionMode", "NonIndexed")
    fill(spec, "suspend", False)
    _pod_failure_policy(spec)
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") is not None \
            else "TerminatingOrFailed"
    fill(spec, "manualSelector", False)
    template = as_map(spec, "template")
    meta = as_map(obj, "metadata", create=True)
    if spec["manualSelector"] is not True and meta is not None:
        _generate_job_selector(spec, template, meta)
    default_pod_template(template)
    # An unlabelled Job takes its pods' labels, generated ones included (the apiserver re-defaults
    # the object when it reads it back from storage).
    labels = as_map(as_map(template, "metadata"), "labels")
    if labels is not None and meta is not None and not meta.get("labels"):
        meta["labels"] = dict(labels)


def _generate_job_selector(spec: Obj, template: Obj | None, meta: Obj) -> None:
    """The Job API's selector: pods are labelled with the Job's name and uid, and selected by uid."""
    uid, name = meta.get("uid"), meta.get("name")
    if not uid or template is None:
        return  # a uid is only known once the apiserver accepts the Job
    labels = as_map(as_map(template, "metadata", create=True), "labels", create=True)
    if labels is None:
        return
    for key in JOB_NAME_LABELS:
        labels.setdefault(key, name)
    for key in CONTROLLER_UID_LABELS:
        labels.setdefault(key, uid)
    selector = as_map(spec, "selector", create=True)
    match_labels = as_map(selector, "matchLabels", create=True)
    if match_labels is not None:
        match_labels.setdefault(CONTROLLER_UID_LABELS[1], uid)


def _pod_failure_policy(job_spec: Obj) -> None:
    for rule in maps(as_map(job_spec, "podFailurePolicy"), "rules"):
        for pattern in maps(rule, "onPodConditions"):
            fill_str(pattern, "status", "True")


def _cron_job(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    fill_str(spec, "concurrencyPolicy", "Allow")
    fill(spec, "suspend", False)
    fill(spec, "successfulJobsHistoryLimit", 3)
    fill(spec, "failedJobsHistoryLimit", 1)
    job_template = as_map(spec, "jobTemplate")
    if job_template is not None:
        fill(job_template, "metadata", {})
        job_spec = as_map(job_template, "spec")
        if job_spec is not None:
            _pod_failure_policy(job_spec)
            default_pod_template(job_spec.get("template"))


# ---------------------------------------------------------------- other groups
def _endpoint_slice(obj: Obj, kind: Kind) -> None:
    for port in maps(obj, "ports"):
        fill(port, "name", "")
        fill(port, "protocol", "TCP")


def _ingress_class(obj: Obj, kind: Kind) -> None:
    parameters = as_map(as_map(obj, "spec"), "parameters")
    if parameters is not None:
        fill(parameters, "scope", "Cluster")


def _hpa(obj: Obj, kind: Kind) -> None:
    spec = as_map(obj, "spec", create=True)
    if spec is None:
        return
    fill(spec, "minReplicas", 1)
    if kind.version == "v1":
        # v1 shows the v2 default metric (80% CPU) through conversion.
        fill(spec, "targetCPUUtilizationPercentage", 80)
        return
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    behavior = as_map(spec, "behavior")
    if behavior is not None:
        # Only a behavior the user gave is completed; the controller's built-in one stays implicit.
        up = as_map(behavior, "scaleUp", create=True)
        if up is not None:
            fill(up, "stabilizationWindowSeconds", 0)
            fill(up, "selectPolicy", "Max")
            fill(up, "policies", [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                  {"type": "Percent", "value": 100, "periodSeconds": 15}])
        down = as_map(behavior, "scaleDown", create=True)
        if down is not None:
            # No stabilization default: the controller's --horizontal-pod-autoscaler-downscale-
            # stabilization flag (300s) applies when it is unset.
            fill(down, "selectPolicy", "Max")
            fill(down, "policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])


_DEFAULTERS: dict[tuple[str, str], Callable[[Obj, Kind], None]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "ReplicationController"): _replication_controller,
    ("", "Namespace"): _namespace,
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "PersistentVolume"): _pv,
    ("", "Node"): _node,
    ("", "Endpoints"): _endpoints,
    ("", "Event"): _event,
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("apps", "DaemonSet"): _daemon_set,
    ("apps", "StatefulSet"): _stateful_set,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cron_job,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("networking.k8s.io", "IngressClass"): _ingress_class,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    # No defaults upstream: ConfigMap (nil data stays absent), ServiceAccount, ComponentStatus,
    # ControllerRevision, Ingress (pathType is required in networking.k8s.io/v1), Lease.
}
