"""Table printers of the workload kinds, as kube-apiserver prints them.

Deployment (READY `2/3`, UP-TO-DATE, AVAILABLE), ReplicaSet and ReplicationController (DESIRED, CURRENT,
READY), DaemonSet, StatefulSet, Job (STATUS `Running`/`Complete`/`Failed`/`Suspended`, COMPLETIONS `1/1`,
DURATION), CronJob (SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE), HorizontalPodAutoscaler (REFERENCE,
TARGETS `cpu: 40%/80%`, MINPODS, MAXPODS, REPLICAS) and ControllerRevision. Each kind is a pair
(columns(), row(obj, now)); every column is printed, wide ones carry priority 1.

Read by: server.tables. Reads: server.printers_common.
"""

from __future__ import annotations

from typing import Any

from kubelab.server.printers_common import (
    APPS,
    BATCH,
    CONTAINERS_DOC,
    CORE,
    IMAGES_DOC,
    age,
    age_column,
    bool_text,
    column,
    condition_true,
    dig,
    doc,
    format_labels,
    format_selector,
    human_age,
    layout_containers,
    meta,
    name,
    name_column,
    parse_time,
    selector_text,
    since,
)

Obj = dict[str, Any]
_HPA = "io.k8s.api.autoscaling.v2."


def _wide(template: Obj, selector: str = "", *, with_selector: bool = True) -> list[str]:
    """The wide cells of a pod template: CONTAINERS, IMAGES and (usually) SELECTOR."""
    names, images = layout_containers(dig(template, "spec", "containers"))
    return [names, images, selector] if with_selector else [names, images]


def _template_columns(selector_doc: str, *, with_selector: bool = True) -> list[Obj]:
    cols = [column("Containers", priority=1, description=CONTAINERS_DOC),
            column("Images", priority=1, description=IMAGES_DOC)]
    if with_selector:
        cols.append(column("Selector", priority=1, description=selector_doc))
    return cols


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


# --- Deployment, ReplicaSet, ReplicationController, DaemonSet, StatefulSet ------------------------------------------

def deployment_columns() -> list[Obj]:
    return [name_column(),
            column("Ready", description="Number of the pod with ready state"),
            column("Up-to-date", description=doc(APPS + "DeploymentStatus", "updatedReplicas")),
            column("Available", description=doc(APPS + "DeploymentStatus", "availableReplicas")),
            age_column(),
            *_template_columns(doc(APPS + "DeploymentSpec", "selector"))]


def deployment_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [name(obj), f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'), 1)}",
            _int(status.get("updatedReplicas")), _int(status.get("availableReplicas")), age(obj, now),
            *_wide(spec.get("template") or {}, selector_text(spec.get("selector")))]


def replica_set_columns() -> list[Obj]:
    return [name_column(),
            column("Desired", "integer", doc(APPS + "ReplicaSetSpec", "replicas")),
            column("Current", "integer", doc(APPS + "ReplicaSetStatus", "replicas")),
            column("Ready", "integer", doc(APPS + "ReplicaSetStatus", "readyReplicas")),
            age_column(),
            *_template_columns(doc(APPS + "ReplicaSetSpec", "selector"))]


def replica_set_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [name(obj), _int(spec.get("replicas"), 1), _int(status.get("replicas")), _int(status.get("readyReplicas")),
            age(obj, now), *_wide(spec.get("template") or {}, format_selector(spec.get("selector")))]


def replication_controller_columns() -> list[Obj]:
    return [name_column(),
            column("Desired", "integer", doc(CORE + "ReplicationControllerSpec", "replicas")),
            column("Current", "integer", doc(CORE + "ReplicationControllerStatus", "replicas")),
            column("Ready", "integer", doc(CORE + "ReplicationControllerStatus", "readyReplicas")),
            age_column(),
            *_template_columns(doc(CORE + "ReplicationControllerSpec", "selector"))]


def replication_controller_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [name(obj), _int(spec.get("replicas"), 1), _int(status.get("replicas")), _int(status.get("readyReplicas")),
            age(obj, now), *_wide(spec.get("template") or {}, format_labels(spec.get("selector")))]


def daemon_set_columns() -> list[Obj]:
    status = APPS + "DaemonSetStatus"
    return [name_column(),
            column("Desired", "integer", doc(status, "desiredNumberScheduled")),
            column("Current", "integer", doc(status, "currentNumberScheduled")),
            column("Ready", "integer", doc(status, "numberReady")),
            column("Up-to-date", "integer", doc(status, "updatedNumberScheduled")),
            column("Available", "integer", doc(status, "numberAvailable")),
            column("Node Selector", description=doc(CORE + "PodSpec", "nodeSelector")),
            age_column(),
            *_template_columns(doc(APPS + "DaemonSetSpec", "selector"))]


def daemon_set_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = spec.get("template") or {}
    counts = [_int(status.get(k)) for k in ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                                             "updatedNumberScheduled", "numberAvailable")]
    return [name(obj), *counts, format_labels(dig(template, "spec", "nodeSelector")), age(obj, now),
            *_wide(template, format_selector(spec.get("selector")))]


def stateful_set_columns() -> list[Obj]:
    return [name_column(), column("Ready", description="Number of the pod with ready state"), age_column(),
            *_template_columns("", with_selector=False)]


def stateful_set_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [name(obj), f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'), 1)}", age(obj, now),
            *_wide(spec.get("template") or {}, with_selector=False)]


# --- Job and CronJob -----------------------------------------------------------------------------------------------

def job_columns() -> list[Obj]:
    return [name_column(),
            column("Status", description="Status of the job."),
            column("Completions", description=doc(BATCH + "JobStatus", "succeeded")),
            column("Duration", description="Time required to complete the job."),
            age_column(),
            *_template_columns(doc(BATCH + "JobSpec", "selector"))]


def job_status(obj: Obj) -> str:
    conditions = dig(obj, "status", "conditions")
    if condition_true(conditions, "Complete"):
        return "Complete"
    if condition_true(conditions, "Failed"):
        return "Failed"
    if meta(obj).get("deletionTimestamp"):
        return "Terminating"
    if condition_true(conditions, "Suspended"):
        return "Suspended"
    if condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def job_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = _int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{_int(spec['completions'])}"
    elif _int(spec.get("parallelism")) > 1:
        completions = f"{succeeded}/1 of {_int(spec['parallelism'])}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_age((now if end is None else end) - start)
    return [name(obj), job_status(obj), completions, duration, age(obj, now),
            *_wide(spec.get("template") or {}, format_selector(spec.get("selector")))]


def cron_job_columns() -> list[Obj]:
    return [name_column(),
            column("Schedule", description=doc(BATCH + "CronJobSpec", "schedule")),
            column("Timezone", description=doc(BATCH + "CronJobSpec", "timeZone")),
            column("Suspend", "boolean", doc(BATCH + "CronJobSpec", "suspend")),
            column("Active", "integer", doc(BATCH + "CronJobStatus", "active")),
            column("Last Schedule", description=doc(BATCH + "CronJobStatus", "lastScheduleTime")),
            age_column(),
            *_template_columns(doc(BATCH + "JobSpec", "selector"))]


def cron_job_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    job_spec = dig(spec, "jobTemplate", "spec") or {}
    last = status.get("lastScheduleTime")
    return [name(obj), spec.get("schedule") or "", spec.get("timeZone") or "<none>", bool_text(spec.get("suspend")),
            len(status.get("active") or []), since(last, now) if last else "<none>", age(obj, now),
            *_wide(job_spec.get("template") or {}, format_selector(job_spec.get("selector")))]


# --- HorizontalPodAutoscaler ---------------------------------------------------------------------------------------

def hpa_columns() -> list[Obj]:
    spec, status = _HPA + "HorizontalPodAutoscalerSpec", _HPA + "HorizontalPodAutoscalerStatus"
    return [name_column(),
            column("Reference", description=doc(spec, "scaleTargetRef")),
            column("Targets", description=doc(spec, "metrics")),
            column("MinPods", description=doc(spec, "minReplicas")),
            column("MaxPods", description=doc(spec, "maxReplicas")),
            column("Replicas", description=doc(status, "currentReplicas")),
            age_column()]


def _v2_metrics(obj: Obj) -> tuple[list[Obj], list[Obj]]:
    """spec.metrics and status.currentMetrics, converting an autoscaling/v1 HPA the way apiserver does."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if "metrics" in spec or "targetCPUUtilizationPercentage" not in spec:
        return spec.get("metrics") or [], status.get("currentMetrics") or []
    target = {"type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}
    specs = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    statuses = []
    if status.get("currentCPUUtilizationPercentage") is not None:
        current = {"averageUtilization": status["currentCPUUtilizationPercentage"]}
        statuses = [{"type": "Resource", "resource": {"name": "cpu", "current": current}}]
    return specs, statuses


def _quantity(value: Any) -> str:
    return "<unknown>" if value is None else str(value)


def _metric_text(spec: Obj, status: Obj | None) -> str:
    kind = spec.get("type")
    source_key = {"External": "external", "Pods": "pods", "Object": "object", "Resource": "resource",
                  "ContainerResource": "containerResource"}.get(kind or "")
    if source_key is None:
        return "<unknown type>"
    source = spec.get(source_key) or {}
    target = source.get("target") or {}
    current_of = (status or {}).get(source_key)
    current = (current_of or {}).get("current") or {}
    if kind in ("External", "Object"):
        if target.get("averageValue") is not None:
            now = current.get("averageValue") if current_of else None
            return f"{_quantity(now)}/{target['averageValue']} (avg)"
        now = current.get("value") if current_of else None
        return f"{_quantity(now)}/{_quantity(target.get('value'))}"
    if kind == "Pods":
        now = current.get("averageValue") if current_of else None
        return f"{_quantity(now)}/{_quantity(target.get('averageValue'))}"
    resource = source.get("name") or ""
    if target.get("averageValue") is not None:
        now = current.get("averageValue") if current_of else None
        return f"{resource}: {_quantity(now)}/{target['averageValue']}"
    utilization = current.get("averageUtilization") if current_of else None
    now_text = "<unknown>" if utilization is None else f"{utilization}%"
    goal = target.get("averageUtilization")
    return f"{resource}: {now_text}/{'<auto>' if goal is None else f'{goal}%'}"


def format_hpa_metrics(specs: list[Obj], statuses: list[Obj]) -> str:
    """formatHPAMetrics: the first two metrics as `current/target`, then `+ N more...`."""
    if not specs:
        return "<none>"
    texts = [_metric_text(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs)]
    if len(texts) > 2:
        return f"{', '.join(texts[:2])} + {len(texts) - 2} more..."
    return ", ".join(texts)


def hpa_row(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [name(obj), f"{ref.get('kind') or ''}/{ref.get('name') or ''}", format_hpa_metrics(*_v2_metrics(obj)),
            "<unset>" if minimum is None else str(minimum), _int(spec.get("maxReplicas")),
            _int(status.get("currentReplicas")), age(obj, now)]


# --- ControllerRevision --------------------------------------------------------------------------------------------

def controller_revision_columns() -> list[Obj]:
    return [name_column(), column("Controller", description="Controller of the object"),
            column("Revision", description=doc(APPS + "ControllerRevision", "revision")), age_column()]


def controller_revision_row(obj: Obj, now: float) -> list[Any]:
    controller = "<none>"
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            group = (ref.get("apiVersion") or "").rpartition("/")[0]
            kind = ref.get("kind") or ""
            group_kind = f"{kind}.{group}" if group else kind
            controller = f"{group_kind.lower()}/{ref.get('name') or ''}" if group_kind else ref.get("name") or ""
            break
    return [name(obj), controller, _int(obj.get("revision")), age(obj, now)]
