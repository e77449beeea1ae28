"""Server-side defaulting and pod admission, checked as golden pairs: manifest in, defaulted object out."""

from __future__ import annotations

import copy
import random

import pytest
import yaml

from kubelab import seed
from kubelab.api import kinds
from kubelab.api.defaults import admit_pod, apply_defaults, image_pull_policy
from kubelab.api.errors import ApiError
from kubelab.api.names import SAFE_ALPHABET

UID = "863452e6-270d-420e-9b94-53a54146c223"

POD_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}
CONTAINER_DEFAULTS = {
    "resources": {},
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}


def defaulted(text: str) -> dict:
    obj = yaml.safe_load(text)
    apply_defaults(obj, kinds.for_object(obj["apiVersion"], obj["kind"]))
    return obj


def admitted(text: str, seed: int = 7, **kwargs) -> dict:
    pod = defaulted(text)
    admit_pod(pod, random.Random(seed), **kwargs)
    return pod


# ---------------------------------------------------------------- golden pairs
GO_DEMO_2 = seed.GO_DEMO_2_REPLICASET  # the course's ReplicaSet, verbatim


def test_go_demo_2_replicaset_is_defaulted_like_the_apiserver():
    labels = {"type": "backend", "service": "go-demo-2", "db": "mongo", "language": "go"}
    assert defaulted(GO_DEMO_2) == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "go-demo-2"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"type": "backend", "service": "go-demo-2"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {"name": "db", "image": "mongo:3.3", "imagePullPolicy": "IfNotPresent", **CONTAINER_DEFAULTS},
                        {
                            "name": "api",
                            "image": "vfarcic/go-demo-2",
                            "imagePullPolicy": "Always",
                            "env": [{"name": "DB", "value": "localhost"}],
                            "livenessProbe": {
                                "httpGet": {"path": "/demo/hello", "port": 8080, "scheme": "HTTP"},
                                "timeoutSeconds": 1,
                                "periodSeconds": 10,
                                "successThreshold": 1,
                                "failureThreshold": 3,
                            },
                            **CONTAINER_DEFAULTS,
                        },
                    ],
                    **POD_SPEC_DEFAULTS,
                },
            },
        },
    }


def test_service_gets_cluster_ip_defaults_and_target_port_from_port():
    svc = defaulted("""
apiVersion: v1
kind: Service
metadata: {name: go-demo-2}
spec:
  selector: {type: backend, service: go-demo-2}
  ports:
  - port: 28017
""")
    assert svc["spec"] == {
        "selector": {"type": "backend", "service": "go-demo-2"},
        "ports": [{"port": 28017, "protocol": "TCP", "targetPort": 28017}],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }


def test_job_gets_generated_selector_and_labels_from_its_uid():
    job = defaulted(f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: pi, uid: {UID}}}
spec:
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34.0
        command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]
      restartPolicy: Never
  backoffLimit: 4
""")
    labels = {"job-name": "pi", "batch.kubernetes.io/job-name": "pi",
              "controller-uid": UID, "batch.kubernetes.io/controller-uid": UID}
    assert job == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "uid": UID, "labels": labels},
        "spec": {
            "backoffLimit": 4,
            "completionMode": "NonIndexed",
            "completions": 1,
            "manualSelector": False,
            "parallelism": 1,
            "podReplacementPolicy": "TerminatingOrFailed",
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}},
            "suspend": False,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{
                        "name": "pi",
                        "image": "perl:5.34.0",
                        "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                        "imagePullPolicy": "IfNotPresent",
                        **CONTAINER_DEFAULTS,
                    }],
                    **POD_SPEC_DEFAULTS,
                    "restartPolicy": "Never",
                },
            },
        },
    }


def test_cronjob_from_the_seed_notes_is_defaulted_without_job_defaults_in_its_template():
    cron = defaulted(seed.HELLO_CRONJOB_FIXED)
    assert cron["spec"] == {
        "schedule": "*/1 * * * *",
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {
            "metadata": {},
            "spec": {
                "template": {
                    "metadata": {},
                    "spec": {
                        "containers": [{
                            "name": "hello",
                            "image": "busybox",
                            "args": ["/bin/sh", "-c", 'date; echo "Hello, World!"'],
                            "imagePullPolicy": "Always",
                            **CONTAINER_DEFAULTS,
                        }],
                        **POD_SPEC_DEFAULTS,
                        "restartPolicy": "OnFailure",
                    },
                },
            },
        },
    }


def test_deployment_gets_rolling_update_strategy_and_history_defaults():
    deploy = defaulted(seed.HELLOWORLD_DEPLOYMENT_FIXED)  # the course's Deployment, indentation fixed
    assert deploy["spec"] == {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "helloworld"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        "template": {
            "metadata": {"labels": {"app": "helloworld"}},
            "spec": {
                "containers": [{
                    "name": "helloworld",
                    "image": "karthequian/helloworld:latest",
                    "imagePullPolicy": "Always",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    **CONTAINER_DEFAULTS,
                }],
                **POD_SPEC_DEFAULTS,
            },
        },
    }


# ---------------------------------------------------------------- images
@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("library/nginx:1.25-alpine", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ("nginx:latest@sha256:" + "a" * 64, "Always"),
    ("localhost:5000/app", "Always"),
    ("localhost:5000/app:v1", "IfNotPresent"),
    ("registry.example.com/team/app:2.0", "IfNotPresent"),
    ("NGINX", "IfNotPresent"),  # not a valid reference: kubelet cannot read a tag
    ("", "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image, policy):
    assert image_pull_policy(image) == policy


# ---------------------------------------------------------------- never overwrite, idempotent
def test_values_the_user_set_are_kept():
    deploy = defaulted("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  revisionHistoryLimit: 2
  strategy: {rollingUpdate: {maxSurge: 1}}
  template:
    spec:
      restartPolicy: OnFailure
      terminationGracePeriodSeconds: 0
      containers:
      - name: web
        image: nginx
        imagePullPolicy: Never
        readinessProbe: {timeoutSeconds: 5, httpGet: {port: 80, scheme: HTTPS, path: /ready}}
        ports: [{containerPort: 53, protocol: UDP}]
""")
    spec = deploy["spec"]
    assert spec["replicas"] == 0
    assert spec["revisionHistoryLimit"] == 2
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["terminationGracePeriodSeconds"]) == ("OnFailure", 0)
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "Never"
    assert container["readinessProbe"]["timeoutSeconds"] == 5
    assert container["readinessProbe"]["httpGet"] == {"port": 80, "scheme": "HTTPS", "path": "/ready"}
    assert container["ports"] == [{"containerPort": 53, "protocol": "UDP"}]


def test_recreate_deployment_gets_no_rolling_update_parameters():
    deploy = defaulted("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {strategy: {type: Recreate}}")
    assert deploy["spec"]["strategy"] == {"type": "Recreate"}


STATEFULSET = ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec: {serviceName: web, template: "
               "{spec: {containers: [{name: c, image: nginx}]}}, volumeClaimTemplates: [{metadata: {name: www}, "
               "spec: {accessModes: [ReadWriteOnce]}}]}")
HPA = ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {maxReplicas: 5, "
       "behavior: {scaleDown: {stabilizationWindowSeconds: 60}}}")

MANIFESTS = [
    GO_DEMO_2,
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostNetwork: true, containers: [{name: c, image: "
    "nginx, ports: [{containerPort: 80}], resources: {limits: {cpu: 1}}}], volumes: [{name: v}]}",
    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, ports: [{port: 80}]}",
    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: None, ports: [{port: 80}]}",
    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {sessionAffinity: ClientIP, selector: {a: b}}",
    "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec: {template: {metadata: "
    "{labels: {app: x}}, spec: {containers: [{name: c, image: nginx}]}}}",
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: dev}",
    "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}",
    "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteOnce]}",
    "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: v}\nspec: {hostPath: {path: /data}}",
    "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {capacity: {cpu: '2', pods: '110'}}",
    "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets: [{ports: [{port: 80}]}]",
    "apiVersion: v1\nkind: Event\nmetadata: {name: e}\ninvolvedObject: {kind: Pod, name: p}\nreason: Pulled",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec: {template: {spec: {containers: "
    "[{name: c, image: fluentd}]}}}",
    STATEFULSET,
    f"apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, uid: {UID}}}\nspec: {{parallelism: 3, template: "
    "{metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: busybox}]}}}",
    "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv4\n"
    "ports: [{port: 80}]\nendpoints: []",
    HPA,
]


@pytest.mark.parametrize("text", MANIFESTS, ids=lambda text: text.split("kind: ")[1].split("\n")[0])
def test_defaulting_twice_changes_nothing(text):
    once = defaulted(text)
    twice = copy.deepcopy(once)
    apply_defaults(twice, kinds.for_object(once["apiVersion"], once["kind"]))
    assert twice == once


@pytest.mark.parametrize("kind", kinds.all_kinds(), ids=repr)
def test_every_kind_accepts_a_bare_object(kind):
    obj = {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": {"name": "x", "uid": UID}}
    apply_defaults(obj, kind)
    again = copy.deepcopy(obj)
    apply_defaults(again, kind)
    assert again == obj


# ---------------------------------------------------------------- pods and templates
def test_pod_only_defaults_stay_out_of_pod_templates():
    pod = defaulted("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: a:1, "
                    "resources: {limits: {memory: 64Mi}}}]}")
    assert pod["spec"]["enableServiceLinks"] is True
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}}
    deploy = defaulted("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: "
                       "{containers: [{name: c, image: a:1, resources: {limits: {memory: 64Mi}}}]}}}")
    template = deploy["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in template
    assert template["containers"][0]["resources"] == {"limits": {"memory": "64Mi"}}


def test_host_network_pods_get_host_ports():
    pod = defaulted("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostNetwork: true, containers: "
                    "[{name: c, image: a:1, ports: [{containerPort: 8080}]}]}")
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}]


def test_volumes_env_and_lifecycle_get_their_defaults():
    pod = defaulted("""
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes:
  - name: scratch
  - name: cache
    emptyDir:
  - {name: config, configMap: {name: app}}
  - {name: creds, secret: {secretName: app, defaultMode: 256}}
  - {name: data, hostPath: {path: /data}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  containers:
  - name: c
    image: a:1
    env:
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    lifecycle: {preStop: {httpGet: {port: 80}}}
    startupProbe: {grpc: {port: 9000}}
""")
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["scratch"] == {"name": "scratch", "emptyDir": {}}
    assert volumes["cache"] == {"name": "cache", "emptyDir": {}}
    assert volumes["config"]["configMap"] == {"name": "app", "defaultMode": 420}
    assert volumes["creds"]["secret"] == {"secretName": "app", "defaultMode": 256}
    assert volumes["data"]["hostPath"] == {"path": "/data", "type": ""}
    assert volumes["info"]["downwardAPI"] == {"defaultMode": 420, "items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"}}]}
    container = pod["spec"]["containers"][0]
    assert container["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}
    assert container["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/", "scheme": "HTTP"}
    assert container["startupProbe"]["grpc"] == {"port": 9000, "service": ""}


def test_deprecated_service_account_field_mirrors_the_new_one():
    deploy = defaulted("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: "
                       "{serviceAccount: builder, containers: [{name: c, image: a:1}]}}}")
    template = deploy["spec"]["template"]["spec"]
    assert (template["serviceAccountName"], template["serviceAccount"]) == ("builder", "builder")


# ---------------------------------------------------------------- services
def test_nodeport_service_gets_external_traffic_policy_and_keeps_named_target_port():
    svc = defaulted("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, ports: "
                    "[{port: 80, targetPort: http}]}")
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"
    assert svc["spec"]["ports"] == [{"port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_load_balancer_service_allocates_node_ports_by_default():
    svc = defaulted("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, ports: "
                    "[{port: 80}]}")
    assert svc["spec"]["allocateLoadBalancerNodePorts"] is True
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"


def test_headless_services_get_ip_families_like_kube_apiserver():
    with_selector = defaulted("apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {clusterIP: None, "
                              "selector: {app: db}, ports: [{port: 27017}]}")
    assert with_selector["spec"]["clusterIPs"] == ["None"]
    assert (with_selector["spec"]["ipFamilyPolicy"], with_selector["spec"]["ipFamilies"]) == ("SingleStack", ["IPv4"])
    selectorless = defaulted("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {clusterIP: None}")
    assert selectorless["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert selectorless["spec"]["ipFamilies"] == ["IPv4", "IPv6"]


def test_external_name_service_gets_no_ip_families_or_traffic_policies():
    svc = defaulted("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ExternalName, externalName: "
                    "example.com}")
    assert svc["spec"] == {"type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"}


def test_client_ip_affinity_gets_a_three_hour_timeout():
    svc = defaulted("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {sessionAffinity: ClientIP}")
    assert svc["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


# ---------------------------------------------------------------- workloads
def test_replication_controller_takes_selector_and_labels_from_its_template():
    rc = defaulted("apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec: {template: "
                   "{metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: a:1}]}}}")
    assert rc["spec"]["selector"] == {"app": "x"}
    assert rc["metadata"]["labels"] == {"app": "x"}
    assert rc["spec"]["replicas"] == 1


def test_daemonset_rolls_one_pod_at_a_time_by_default():
    ds = defaulted("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec: {}")
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10


def test_statefulset_defaults_include_its_volume_claim_templates():
    sts = defaulted(STATEFULSET)
    spec = sts["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert (spec["replicas"], spec["revisionHistoryLimit"]) == (1, 10)
    assert spec["volumeClaimTemplates"] == [{
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "www"},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}]


@pytest.mark.parametrize(("given", "completions", "parallelism"), [
    ({}, 1, 1),
    ({"completions": 5}, 5, 1),
    ({"parallelism": 3}, None, 3),
    ({"completions": 4, "parallelism": 2}, 4, 2),
])
def test_job_completions_and_parallelism_follow_the_job_api_rules(given, completions, parallelism):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "uid": UID},
           "spec": {**given, "template": {"spec": {"containers": [{"name": "c", "image": "a:1"}]}}}}
    apply_defaults(job, kinds.for_object("batch/v1", "Job"))
    assert job["spec"].get("completions") == completions
    assert job["spec"]["parallelism"] == parallelism


def test_job_with_manual_selector_keeps_its_own_selector_and_labels():
    job = defaulted("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, uid: u1}\nspec: {manualSelector: true, "
                    "selector: {matchLabels: {app: x}}, template: {metadata: {labels: {app: x}}, spec: "
                    "{containers: [{name: c, image: a:1}]}}}")
    assert job["spec"]["selector"] == {"matchLabels": {"app": "x"}}
    assert job["spec"]["template"]["metadata"]["labels"] == {"app": "x"}


def test_job_with_pod_failure_policy_replaces_only_failed_pods():
    job = defaulted("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, uid: u1}\nspec: {backoffLimitPerIndex: 1, "
                    "completionMode: Indexed, podFailurePolicy: {rules: [{action: Ignore, onPodConditions: "
                    "[{type: DisruptionTarget}]}]}, template: {spec: {containers: [{name: c, image: a:1}]}}}")
    spec = job["spec"]
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["backoffLimit"] == 2147483647
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"] == [{"type": "DisruptionTarget", "status": "True"}]


def test_labelled_job_keeps_its_labels():
    job = defaulted(f"apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, uid: {UID}, labels: {{team: a}}}}\n"
                    "spec: {template: {spec: {containers: [{name: c, image: a:1}]}}}")
    assert job["metadata"]["labels"] == {"team": "a"}


# ---------------------------------------------------------------- other kinds
def test_namespace_gets_finalizer_phase_and_name_label():
    ns = defaulted("apiVersion: v1\nkind: Namespace\nmetadata: {name: dev, labels: {team: a}}")
    assert ns["metadata"]["labels"] == {"team": "a", "kubernetes.io/metadata.name": "dev"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}


def test_namespace_being_deleted_does_not_get_its_finalizer_back():
    ns = defaulted("apiVersion: v1\nkind: Namespace\nmetadata: {name: dev, deletionTimestamp: '2026-01-01T00:00:00Z'}"
                   "\nspec: {finalizers: []}\nstatus: {phase: Terminating}")
    assert ns["spec"] == {"finalizers": []}
    assert ns["status"] == {"phase": "Terminating"}


@pytest.mark.parametrize(("text", "path", "value"), [
    ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}", ("type",), "Opaque"),
    ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {}", ("spec", "volumeMode"),
     "Filesystem"),
    ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {}", ("status", "phase"), "Pending"),
    ("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: v}\nspec: {}", ("spec", "persistentVolumeReclaimPolicy"),
     "Retain"),
    ("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {capacity: {cpu: '2'}}", ("status", "allocatable"),
     {"cpu": "2"}),
    ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets: [{ports: [{port: 80}]}]",
     ("subsets", 0, "ports", 0, "protocol"), "TCP"),
    ("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\nports: [{port: 80}]",
     ("ports", 0), {"port": 80, "name": "", "protocol": "TCP"}),
    ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {maxReplicas: 3}",
     ("spec", "minReplicas"), 1),
    ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {maxReplicas: 3}",
     ("spec", "metrics"), [{"type": "Resource", "resource": {"name": "cpu", "target": {
         "type": "Utilization", "averageUtilization": 80}}}]),
    ("apiVersion: v1\nkind: Event\nmetadata: {name: e}", ("reportingComponent",), ""),
    ("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: n}\nspec: {parameters: "
     "{kind: X, name: y}}", ("spec", "parameters", "scope"), "Cluster"),
])
def test_kind_specific_defaults(text, path, value):
    obj = defaulted(text)
    for step in path:
        obj = obj[step]
    assert obj == value


def test_ingress_path_type_gets_no_default():
    ing = defaulted("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: [{http: "
                    "{paths: [{path: /, backend: {service: {name: s, port: {number: 80}}}}]}}]}")
    assert "pathType" not in ing["spec"]["rules"][0]["http"]["paths"][0]


def test_hpa_behavior_is_completed_only_when_given():
    without = defaulted(HPA.replace("behavior: {scaleDown: {stabilizationWindowSeconds: 60}}", "x: 1"))
    assert "behavior" not in without["spec"]
    behavior = defaulted(HPA)["spec"]["behavior"]
    assert behavior["scaleDown"] == {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                                     "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
    assert behavior["scaleUp"] == {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}


# ---------------------------------------------------------------- admission
POD = """
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  initContainers: [{name: init, image: busybox}]
  containers: [{name: web, image: nginx:1.25}]
"""


def test_admitted_pod_gets_the_default_service_account_token_volume():
    pod = admitted(POD)
    spec = pod["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")
    volume = spec["volumes"][-1]
    name = volume["name"]
    assert name.startswith("kube-api-access-") and len(name) == len("kube-api-access-") + 5
    assert set(name[len("kube-api-access-"):]) <= set(SAFE_ALPHABET)
    assert volume["projected"]["defaultMode"] == 420
    assert volume["projected"]["sources"][0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    mount = {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": name, "readOnly": True}
    assert spec["initContainers"][0]["volumeMounts"] == [mount]
    assert spec["containers"][0]["volumeMounts"] == [mount]


def test_token_volume_name_comes_from_the_seeded_generator():
    name = admitted(POD, seed=3)["spec"]["volumes"][-1]["name"]
    assert admitted(POD, seed=3)["spec"]["volumes"][-1]["name"] == name


@pytest.mark.parametrize(("pod_setting", "account"), [
    ("automountServiceAccountToken: false", None),
    ("", {"automountServiceAccountToken": False}),
])
def test_automount_false_leaves_the_pod_without_a_token(pod_setting, account):
    pod = admitted(POD.replace("spec:\n", f"spec:\n  {pod_setting}\n"), service_account=account)
    assert "volumes" not in pod["spec"]
    assert "volumeMounts" not in pod["spec"]["containers"][0]


def test_pod_setting_wins_over_the_service_account():
    pod = admitted(POD.replace("spec:\n", "spec:\n  automountServiceAccountToken: true\n"),
                   service_account={"automountServiceAccountToken": False})
    assert pod["spec"]["volumes"][-1]["name"].startswith("kube-api-access-")


def test_container_with_its_own_mount_at_the_token_path_keeps_it():
    pod = admitted(POD.replace("[{name: web, image: nginx:1.25}]", "[{name: web, image: nginx:1.25, volumeMounts: "
                               "[{name: mine, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}]}]"))
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "mine", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    assert len(pod["spec"]["initContainers"][0]["volumeMounts"]) == 1


def test_service_account_image_pull_secrets_are_copied():
    pod = admitted(POD, service_account={"imagePullSecrets": [{"name": "regcred"}]})
    assert pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}]


def test_admitted_pod_tolerates_unready_and_unreachable_nodes_for_five_minutes():
    assert admitted(POD)["spec"]["tolerations"] == [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
         "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
         "tolerationSeconds": 300},
    ]


def test_existing_tolerations_are_respected():
    own = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
    pod = yaml.safe_load(POD)
    pod["spec"]["tolerations"] = [own]
    admit_pod(pod, random.Random(1))
    assert pod["spec"]["tolerations"] == [own, {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
                                                "operator": "Exists", "tolerationSeconds": 300}]
    everything = yaml.safe_load(POD)
    everything["spec"]["tolerations"] = [{"operator": "Exists"}]
    admit_pod(everything, random.Random(1))
    assert everything["spec"]["tolerations"] == [{"operator": "Exists"}]


def test_pod_without_priority_class_gets_priority_zero():
    spec = admitted(POD)["spec"]
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    assert "priorityClassName" not in spec


def test_system_priority_class_sets_its_priority():
    spec = admitted(POD.replace("spec:\n", "spec:\n  priorityClassName: system-node-critical\n"))["spec"]
    assert spec["priority"] == 2000001000


def test_unknown_priority_class_is_forbidden():
    with pytest.raises(ApiError) as err:
        admitted(POD.replace("spec:\n", "spec:\n  priorityClassName: gold\n"))
    assert err.value.reason == "Forbidden"
    assert str(err.value) == 'pods "web" is forbidden: no PriorityClass with name gold was found'


def test_priority_given_in_the_spec_must_match_the_class():
    with pytest.raises(ApiError) as err:
        admitted(POD.replace("spec:\n", "spec:\n  priority: 5\n"))
    assert str(err.value) == ('pods "web" is forbidden: the integer value of priority (5) must not be provided in pod '
                              "spec; priority admission controller computed 0 from the given PriorityClass name")


def test_global_default_priority_class_is_used():
    classes = {"low": {"metadata": {"name": "low"}, "value": 10, "globalDefault": True, "preemptionPolicy": "Never"}}
    spec = admitted(POD, priority_classes=classes)["spec"]
    assert (spec["priorityClassName"], spec["priority"], spec["preemptionPolicy"]) == ("low", 10, "Never")


def test_admitted_pod_is_unchanged_by_defaulting_again():
    pod = admitted(POD)
    again = copy.deepcopy(pod)
    apply_defaults(again, kinds.for_object("v1", "Pod"))
    assert again == pod
