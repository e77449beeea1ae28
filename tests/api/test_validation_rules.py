"""Semantic validation: the 422 Invalid messages kube-apiserver gives for objects that decode fine."""

from __future__ import annotations

import copy

import pytest
import yaml

from kubelab.api import kinds
from kubelab.api.decoding import decode
from kubelab.api.defaults import apply_defaults
from kubelab.api.errors import ApiError
from kubelab.api.validation import validate

UID = "3f2a1c9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


def prepared(text: str) -> tuple[dict, kinds.Kind]:
    """A manifest as the apiserver validates it: decoded, placed in a namespace, given a uid, defaulted."""
    obj = yaml.safe_load(text)
    kind = kinds.for_object(obj["apiVersion"], obj["kind"])
    obj, _ = decode(obj, kind)
    meta = obj.setdefault("metadata", {})
    if kind.namespaced:
        meta.setdefault("namespace", "default")
    meta.setdefault("uid", UID)
    apply_defaults(obj, kind)
    return obj, kind


def invalid_message(text: str, old: str | None = None) -> str:
    obj, kind = prepared(text)
    previous = prepared(old)[0] if old else None
    with pytest.raises(ApiError) as info:
        validate(obj, kind, previous)
    assert info.value.code == 422 and info.value.reason == "Invalid"
    return info.value.message.split("\nhint: ")[0]


def assert_valid(text: str, old: str | None = None) -> None:
    obj, kind = prepared(text)
    validate(obj, kind, prepared(old)[0] if old else None)


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""


def deployment(**changes) -> str:
    obj = yaml.safe_load(DEPLOYMENT)
    for path, value in changes.items():
        node = obj
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return yaml.safe_dump(obj)


# --- workloads --------------------------------------------------------------------------------

def test_valid_deployment_passes():
    assert_valid(DEPLOYMENT)


def test_deployment_without_selector_reports_every_error_like_apiserver():
    assert invalid_message(deployment(spec__selector=None, spec__template__spec__restartPolicy="OnFailure")) == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid '
        'value: {"app":"web"}: `selector` does not match template `labels`, spec.template.spec.restartPolicy: '
        'Unsupported value: "OnFailure": supported values: "Always"]')


def test_invalid_error_carries_status_causes_and_a_hint():
    obj, kind = prepared(deployment(spec__selector=None))
    with pytest.raises(ApiError) as info:
        validate(obj, kind)
    causes = info.value.status["details"]["causes"]
    assert causes[0] == {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"}
    assert info.value.hint == "add spec.selector.matchLabels with the same labels as spec.template.metadata.labels"


def test_selector_must_match_template_labels():
    assert invalid_message(deployment(spec__template__metadata={"labels": {"app": "api"}})) == (
        'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"api"}: '
        "`selector` does not match template `labels`")


def test_negative_replicas_and_bad_rolling_update():
    message = invalid_message(deployment(spec__replicas=-1, spec__strategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}))
    assert message == (
        'Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, '
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0]')


def test_percentages_must_look_like_percentages():
    message = invalid_message(deployment(spec__strategy={"type": "RollingUpdate",
                                                          "rollingUpdate": {"maxSurge": "50", "maxUnavailable": 1}}))
    assert message == ('Deployment.apps "web" is invalid: spec.strategy.rollingUpdate.maxSurge: Invalid value: "50": '
                       "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
                       "'93%', regex used for validation is '[0-9]+%')")


def test_progress_deadline_must_exceed_min_ready_seconds():
    message = invalid_message(deployment(spec__minReadySeconds=30, spec__progressDeadlineSeconds=20))
    assert message == ('Deployment.apps "web" is invalid: spec.progressDeadlineSeconds: Invalid value: 20: must be '
                       "greater than minReadySeconds")


def test_deployment_selector_is_immutable():
    changed = deployment(spec__selector={"matchLabels": {"app": "web2"}},
                         spec__template__metadata={"labels": {"app": "web2"}})
    assert invalid_message(changed, old=DEPLOYMENT) == (
        'Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web2"}}: '
        "field is immutable")
    assert_valid(deployment(spec__replicas=5), old=DEPLOYMENT)


@pytest.mark.parametrize("kind", ["ReplicaSet", "DaemonSet"])
def test_replica_set_and_daemon_set_selectors_are_immutable(kind):
    obj = yaml.safe_load(DEPLOYMENT)
    obj["kind"] = kind
    obj["spec"].pop("replicas")
    old = yaml.safe_dump(obj)
    obj["spec"]["selector"]["matchLabels"]["tier"] = "front"
    obj["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    assert invalid_message(yaml.safe_dump(obj), old=old).endswith(
        'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable')


def test_stateful_set_spec_updates_are_limited():
    sts = yaml.safe_load(DEPLOYMENT)
    sts.update(kind="StatefulSet")
    sts["spec"]["serviceName"] = "web"
    old = yaml.safe_dump(sts)
    sts["spec"]["serviceName"] = "other"
    assert invalid_message(yaml.safe_dump(sts), old=old) == (
        "StatefulSet.apps \"web\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than "
        "'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden")


def test_replication_controller_template_must_restart_always():
    message = invalid_message("""
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc}}
    spec: {restartPolicy: Never, containers: [{name: c, image: nginx}]}
""")
    assert message == ('ReplicationController "rc" is invalid: spec.template.spec.restartPolicy: Unsupported value: '
                       '"Never": supported values: "Always"')


JOB = """
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: perl}]
"""


def test_job_template_needs_on_failure_or_never():
    message = invalid_message(JOB.replace("restartPolicy: Never", "restartPolicy: Always").replace(
        "spec:\n  template", "spec:\n  completions: -1\n  template"))
    assert message == ('Job.batch "pi" is invalid: [spec.completions: Invalid value: -1: must be greater than or '
                       'equal to 0, spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", '
                       '"Never"]')


def test_job_template_is_immutable():
    obj, kind = prepared(JOB)
    changed = copy.deepcopy(obj)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5"
    with pytest.raises(ApiError) as info:
        validate(changed, kind, obj)
    assert "spec.template: Invalid value: " in info.value.message
    assert info.value.message.split("\n")[0].endswith(": field is immutable")


def test_cron_job_schedule_and_policy_are_checked():
    message = invalid_message("""
apiVersion: batch/v1
kind: CronJob
metadata: {name: a-name-that-is-definitely-longer-than-fifty-two-characters}
spec:
  schedule: bad
  concurrencyPolicy: Sometimes
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
""")
    assert message == (
        'CronJob.batch "a-name-that-is-definitely-longer-than-fifty-two-characters" is invalid: ['
        'spec.schedule: Invalid value: "bad": expected exactly 5 fields, found 1: [bad], '
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace", '
        'metadata.name: Invalid value: "a-name-that-is-definitely-longer-than-fifty-two-characters": must be no more '
        "than 52 characters]")


# --- pods -------------------------------------------------------------------------------------

def pod(spec: str) -> str:
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + spec


def test_pod_needs_a_container():
    assert invalid_message(pod("  containers: []\n")) == 'Pod "p" is invalid: spec.containers: Required value'


def test_pod_spec_errors_come_all_at_once_in_apiserver_order():
    message = invalid_message(pod("""
  restartPolicy: Sometimes
  volumes: [{name: data, emptyDir: {}}, {name: data, emptyDir: {}}]
  containers:
  - name: Web
    image: ""
    ports: [{containerPort: 70000, name: http}, {containerPort: 80, name: http}]
    volumeMounts: [{name: logs, mountPath: /logs}]
    resources: {requests: {cpu: "2"}, limits: {cpu: "1"}}
    livenessProbe: {httpGet: {path: /, port: 80}, exec: {command: ["true"]}}
  - name: web2
    image: nginx
    env: [{name: A=B, value: x}]
    readinessProbe: {periodSeconds: 5}
"""))
    label_error = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                   "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    assert message == (
        'Pod "p" is invalid: ['
        'spec.volumes[1].name: Duplicate value: "data", '
        f'spec.containers[0].name: Invalid value: "Web": {label_error}, '
        "spec.containers[0].image: Required value, "
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive, "
        'spec.containers[0].ports[1].name: Duplicate value: "http", '
        'spec.containers[0].volumeMounts[0].name: Not found: "logs", '
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1, '
        "spec.containers[0].livenessProbe.httpGet: Forbidden: may not specify more than 1 handler type, "
        'spec.containers[1].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only '
        "of printable ASCII characters other than '=', "
        "spec.containers[1].readinessProbe: Required value: must specify a handler type, "
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"]')


def test_pod_template_errors_carry_the_template_prefix():
    message = invalid_message(deployment(spec__template__spec={"containers": [{"name": "web"}]}))
    assert message == 'Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value'


def test_pod_updates_may_only_change_images():
    old = pod("  containers: [{name: web, image: nginx, imagePullPolicy: Always}]\n")
    assert_valid(old.replace("image: nginx", "image: nginx:1.25"), old=old)
    message = invalid_message(old.replace("image: nginx,", "image: nginx, ports: [{containerPort: 80}],"), old=old)
    assert message.startswith(
        'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,'
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n")
    assert "containers[0].ports" in message


# --- metadata ---------------------------------------------------------------------------------

def test_name_is_required_unless_generate_name_is_given():
    assert invalid_message("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n") == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required')


def test_names_follow_each_kinds_rule():
    assert invalid_message("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Web_Config}\n") == (
        'ConfigMap "Web_Config" is invalid: metadata.name: Invalid value: "Web_Config": a lowercase RFC 1123 '
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for validation is "
        r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    assert invalid_message("apiVersion: v1\nkind: Namespace\nmetadata: {name: dev.team}\n") == (
        'Namespace "dev.team" is invalid: metadata.name: Invalid value: "dev.team": must not contain dots')
    assert invalid_message("apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {clusterIP: None}\n") == (
        'Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower '
        "case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
        "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")


def test_label_values_and_annotation_size_are_checked():
    big = "x" * (256 * 1024)
    message = invalid_message(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, labels: {{app: 'a b'}}, "
                              f"annotations: {{note: {big}}}}}\n")
    assert message == (
        'ConfigMap "c" is invalid: [metadata.labels: Invalid value: "a b": a valid label must be an empty string or '
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), metadata.annotations: Too long: may not be more than "
        "262144 bytes]")


# --- services, config, storage ----------------------------------------------------------------

def service(spec: str) -> str:
    return "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n" + spec


def test_service_needs_ports_unless_headless_or_external_name():
    message = invalid_message(service("  selector: {app: web}\n"))
    assert message == 'Service "web" is invalid: spec.ports: Required value'
    assert_valid(service("  clusterIP: None\n  selector: {app: web}\n"))
    assert_valid(service("  type: ExternalName\n  externalName: db.example.com\n"))


def test_service_ports_need_names_when_several_and_valid_protocols():
    message = invalid_message(service("  ports: [{port: 80}, {port: 0, protocol: HTTP, name: web}]\n"))
    assert message == (
        'Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[1].port: Invalid value: 0: must '
        'be between 1 and 65535, inclusive, spec.ports[1].protocol: Unsupported value: "HTTP": supported values: '
        '"SCTP", "TCP", "UDP", spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]')


def test_node_port_outside_the_range_is_refused_like_the_allocator():
    message = invalid_message(service("  type: NodePort\n  ports: [{port: 80, nodePort: 80}]\n"))
    assert message == ('Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in '
                       "the valid range. The range of valid ports is 30000-32767")
    assert invalid_message(service("  ports: [{port: 80, nodePort: 30080}]\n")) == (
        "Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'")


def test_cluster_ip_syntax_and_immutability():
    assert invalid_message(service("  clusterIP: 10.0.0.300\n  ports: [{port: 80}]\n")) == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, '
        "(e.g. 10.9.8.7 or 2001:db8::ffff)")
    old = service("  clusterIP: 10.96.0.10\n  ports: [{port: 80}]\n")
    assert invalid_message(old.replace("10.96.0.10", "10.96.0.11"), old=old) == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set')


def test_config_map_keys_and_immutability():
    assert invalid_message("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {'a b': x}\n") == (
        'ConfigMap "c" is invalid: data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric '
        "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
        "is '[-._a-zA-Z0-9]+')")
    old = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nimmutable: true\ndata: {a: b}\n"
    assert invalid_message(old.replace("a: b", "a: c"), old=old) == (
        'ConfigMap "c" is invalid: data: Forbidden: field is immutable when `immutable` is set')


def test_secret_type_and_immutable_data():
    old = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nimmutable: true\ndata: {a: YQ==}\n"
    assert invalid_message(old.replace("YQ==", "Yg=="), old=old) == (
        'Secret "s" is invalid: data: Forbidden: field is immutable when `immutable` is set')
    assert invalid_message("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n") == (
        'Secret "s" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]')


def test_claims_need_access_modes_and_storage_and_keep_their_spec():
    assert invalid_message("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {}\n") == (
        'PersistentVolumeClaim "data" is invalid: [spec.accessModes: Required value: at least 1 access mode is '
        "required, spec.resources[storage]: Required value]")
    old = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"
           "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n")
    message = invalid_message(old.replace("ReadWriteOnce", "ReadWriteMany"), old=old)
    assert message.startswith('PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after '
                              "creation except resources.requests and volumeAttributesClassName for bound claims\n")


def test_node_taints_need_a_known_effect():
    message = invalid_message("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
                              "spec: {taints: [{key: gpu, effect: Sometimes}]}\n")
    assert message == ('Node "n1" is invalid: metadata.taints[0].effect: Unsupported value: "Sometimes": supported '
                       'values: "NoSchedule", "PreferNoSchedule", "NoExecute"')


DEFAULTED_MANIFESTS = """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: web, image: nginx, ports: [{containerPort: 80}], livenessProbe: {tcpSocket: {port: 80}}}]
  volumes: [{name: c, configMap: {name: cm}}, {name: s, secret: {secretName: s}}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: hello}
spec:
  schedule: "*/1 * * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: OnFailure, containers: [{name: hello, image: busybox}]}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: mongo}]}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev}
"""


@pytest.mark.parametrize("text", DEFAULTED_MANIFESTS.split("---"), ids=lambda t: yaml.safe_load(t)["kind"])
def test_ordinary_manifests_pass_after_defaulting(text):
    assert_valid(text)
    assert_valid(text, old=text)


def test_a_bad_namespace_name_is_refused_every_time_with_its_message():
    # namespace verdicts are remembered: the second object in that namespace must be refused alike
    messages = []
    for name in ("first", "second"):
        obj, kind = prepared(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n")
        obj["metadata"]["namespace"] = "Bad_Namespace"
        with pytest.raises(ApiError) as err:
            validate(obj, kind)
        messages.append(str(err.value).replace(name, "NAME"))
    assert messages[0] == messages[1]
    assert 'metadata.namespace: Invalid value: "Bad_Namespace": a lowercase RFC 1123 label must consist of' \
        in messages[0]


def test_a_negative_generation_or_bad_annotation_key_is_still_refused():
    obj, kind = prepared("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, annotations: {'-bad': x}}\n")
    obj["metadata"]["generation"] = -1
    with pytest.raises(ApiError) as err:
        validate(obj, kind)
    assert "metadata.generation: Invalid value: -1: must be greater than or equal to 0" in str(err.value)
    assert 'metadata.annotations: Invalid value: "-bad"' in str(err.value)


def test_label_verdicts_remembered_as_valid_never_let_an_invalid_label_through():
    # every key and every value below has been seen valid on its own, but not each pairing
    first, kind = prepared("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {app: web, tier: db}}\n")
    validate(first, kind)
    for labels, bad in (({"app": "web", "tier": "-db"}, '"-db"'), ({"app": "web", "-x": "db"}, '"-x"'),
                        ({"app": "web", "tier": "x" * 64}, "must be no more than 63 bytes")):
        obj = copy.deepcopy(first)
        obj["metadata"]["labels"] = labels
        with pytest.raises(ApiError) as err:
            validate(obj, kind)
        assert "metadata.labels: Invalid value: " in str(err.value) and bad in str(err.value)
