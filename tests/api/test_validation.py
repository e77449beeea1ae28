"""Structural decoding against the real 1.37 schemas: what apiserver answers to a malformed manifest."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
import yaml

from kubelab import seed
from kubelab.api import kinds
from kubelab.api.decoding import decode
from kubelab.api.defaults import apply_defaults
from kubelab.api.errors import ApiError
from kubelab.api.validation import validate

SEED_NOTES = Path("/work/shared/seed-notes.md")
# The seed notes' YAML, as kubelab.seed keeps it (the notes file itself may not be on this machine).
HELLO_WORLD = "# 2. Hello world\n" + seed.HELLOWORLD_DEPLOYMENT + "\n"
CRON_JOB = "# 3. cron job\n" + seed.HELLO_CRONJOB


def kind_of(obj: dict) -> kinds.Kind:
    return kinds.for_object(obj["apiVersion"], obj["kind"])


def decode_error(text: str, **kwargs) -> ApiError:
    obj = yaml.safe_load(text)
    with pytest.raises(ApiError) as info:
        decode(obj, kind_of(obj), **kwargs)
    assert info.value.code == 400 and info.value.reason == "BadRequest"
    return info.value


def message(error: ApiError) -> str:
    return error.message.split("\nhint: ")[0]


def seed_document(text: str) -> dict:
    (doc,) = list(yaml.safe_load_all(text))
    return doc


@pytest.mark.skipif(not SEED_NOTES.exists(), reason="the seed notes are not on this machine")
def test_seed_copies_match_the_notes():
    notes = SEED_NOTES.read_text(encoding="utf-8")
    assert HELLO_WORLD + CRON_JOB in notes


# --- the seed notes' broken manifests -----------------------------------------------------------

def test_seed_hello_world_deployment_lists_every_unknown_field_and_where_they_belong():
    doc = seed_document(HELLO_WORLD)
    with pytest.raises(ApiError) as info:
        decode(doc, kind_of(doc))
    assert message(info.value) == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.matchLabels", unknown field "spec.metadata", unknown field "spec.spec"')
    assert info.value.hint == ('"matchLabels" belongs under "spec.selector"; "metadata" and "spec" belong under '
                               '"spec.template" — check the indentation')


def test_seed_cron_job_unknown_spec_belongs_under_job_template():
    doc = seed_document(CRON_JOB)
    assert doc["apiVersion"] == "batch/v1beta1"  # refused earlier by kinds.for_object; the structure is v1's
    doc["apiVersion"] = "batch/v1"
    with pytest.raises(ApiError) as info:
        decode(doc, kind_of(doc))
    assert message(info.value) == ('CronJob in version "v1" cannot be handled as a CronJob: strict decoding error: '
                                   'unknown field "spec.spec"')
    assert info.value.hint == '"spec" belongs under "spec.jobTemplate" — check the indentation'


def test_one_misplaced_field_gets_the_single_line_hint():
    error = decode_error("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {}
  matchLabels: {app: web}
""")
    assert error.hint == '"matchLabels" belongs under "spec.selector" — check the indentation'


def test_fields_left_one_level_too_deep_point_back_up():
    error = decode_error("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      replicas: 2
""")
    assert message(error).endswith('unknown field "spec.template.spec.replicas"')
    assert error.hint == '"replicas" belongs under "spec" — check the indentation'


# --- unknown fields ---------------------------------------------------------------------------

def test_typo_gets_did_you_mean_and_path_keeps_the_list_index():
    error = decode_error("""
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: web
    imagee: nginx
""")
    assert message(error) == ('Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
                              'unknown field "spec.containers[0].imagee"')
    assert error.hint == 'did you mean "image"?'


def test_field_names_are_case_sensitive():
    error = decode_error("""
apiVersion: v1
kind: Pod
metadata: {name: p}
Spec: {}
""")
    assert message(error).endswith('unknown field "Spec"')
    assert error.hint == 'did you mean "spec"?'


def test_unknown_fields_in_metadata_and_status_are_checked_too():
    error = decode_error("""
apiVersion: v1
kind: Pod
metadata: {name: p, label: {app: web}}
status: {phaze: Running}
""")
    assert message(error).endswith('strict decoding error: unknown field "metadata.label", unknown field '
                                   '"status.phaze"')


def test_warn_mode_prunes_unknown_fields_and_returns_warnings():
    obj = yaml.safe_load("""
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: web, image: nginx, colour: blue}]
  zzz: 1
""")
    out, warnings = decode(obj, kind_of(obj), "Warn")
    assert warnings == ['unknown field "spec.containers[0].colour"', 'unknown field "spec.zzz"']
    assert out["spec"] == {"containers": [{"name": "web", "image": "nginx"}]}


def test_ignore_mode_prunes_silently():
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dta": {"a": "b"}}
    out, warnings = decode(obj, kind_of(obj), "Ignore")
    assert (out, warnings) == ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, [])


# --- wrong JSON types -------------------------------------------------------------------------

TYPE_ERRORS = [
    ("replicas_as_string", "apps/v1", "Deployment", {"spec": {"replicas": "3"}},
     "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
     '"replicas" must be a number: remove the quotes around "3"'),
    ("containers_as_mapping", "apps/v1", "Deployment",
     {"spec": {"template": {"spec": {"containers": {"name": "web", "image": "nginx"}}}}},
     "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type "
     "[]v1.Container", '"containers" must be a list: start each item with "- "'),
    ("container_port_in_quotes", "apps/v1", "Deployment",
     {"spec": {"template": {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": "80"}]}]}}}},
     "json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports."
     "containerPort of type int32", '"containerPort" must be a number: remove the quotes around "80"'),
    ("env_value_number", "v1", "Pod", {"spec": {"containers": [{"name": "a", "env": [{"name": "P", "value": 8080}]}]}},
     "json: cannot unmarshal number into Go struct field EnvVar.spec.containers.env.value of type string",
     '"value" must be a string: put quotes around it ("8080")'),
    ("label_value_number", "v1", "Pod", {"metadata": {"labels": {"version": 2}}},
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
     '"version" must be a string: put quotes around it ("2")'),
    ("args_as_string", "v1", "Pod", {"spec": {"containers": [{"name": "a", "args": "sleep 10"}]}},
     "json: cannot unmarshal string into Go struct field Container.spec.containers.args of type []string",
     '"args" must be a list: put each item on its own line starting with "- " (or write [a, b])'),
    ("container_as_string", "v1", "Pod", {"spec": {"containers": ["nginx"]}},
     "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container",
     'each item of "containers" must be a mapping of fields (e.g. "- name: …"), not a single value'),
    ("named_string_type", "v1", "Pod", {"spec": {"restartPolicy": 1}},
     "json: cannot unmarshal number into Go struct field PodSpec.spec.restartPolicy of type v1.RestartPolicy", None),
    ("resource_list_as_list", "v1", "Pod",
     {"spec": {"containers": [{"name": "a", "resources": {"limits": ["cpu"]}}]}},
     "json: cannot unmarshal array into Go struct field ResourceRequirements.spec.containers.resources.limits of "
     "type v1.ResourceList", None),
    ("int_or_string_bool", "v1", "Service", {"spec": {"ports": [{"port": 80, "targetPort": True}]}},
     "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32",
     '"targetPort" must be a number (like 8080) or a name (like "http")'),
    ("fraction_into_int", "v1", "Service", {"spec": {"ports": [{"port": 80.5}]}},
     "json: cannot unmarshal number 80.5 into Go struct field ServicePort.spec.ports.port of type int32", None),
    ("int32_overflow", "v1", "Service", {"spec": {"ports": [{"port": 3000000000}]}},
     "json: cannot unmarshal number 3000000000 into Go struct field ServicePort.spec.ports.port of type int32", None),
    ("selector_as_string", "apps/v1", "Deployment", {"spec": {"selector": "app=web"}},
     "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.selector of type v1.LabelSelector",
     '"selector" must be a mapping with its fields indented under it, not a single value'),
    ("bool_into_string", "v1", "ConfigMap", {"data": {"enabled": True}},
     "json: cannot unmarshal bool into Go struct field ConfigMap.data of type string", None),
]


@pytest.mark.parametrize(("api_version", "kind", "body", "expected", "hint"),
                         [case[1:] for case in TYPE_ERRORS], ids=[case[0] for case in TYPE_ERRORS])
def test_wrong_json_type_is_rejected_with_go_unmarshal_message(api_version, kind, body, expected, hint):
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **copy.deepcopy(body)}
    if "metadata" in body:
        obj["metadata"] = {"name": "x", **body["metadata"]}
    with pytest.raises(ApiError) as info:
        decode(obj, kind_of(obj))
    assert message(info.value) == f'{kind} in version "v1" cannot be handled as a {kind}: {expected}'
    if hint is not None:
        assert info.value.hint == hint


def test_type_errors_win_over_unknown_fields_and_the_first_in_document_order_is_reported():
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"selector": "app=web", "replicas": "x", "bogus": 1}}
    with pytest.raises(ApiError) as info:
        decode(obj, kind_of(obj))
    # kubectl sends keys sorted, and Go keeps the first type error: replicas comes before selector.
    assert message(info.value).endswith("spec.replicas of type int32")


def test_a_malformed_quantity_aborts_decoding_with_apimachinery_message():
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "a", "image": 5, "resources": {"limits": {"memory": "1Gb"}}}]}}
    with pytest.raises(ApiError) as info:
        decode(obj, kind_of(obj))
    # The earlier image type error is only "saved"; the quantity's UnmarshalJSON error is returned at once.
    assert message(info.value) == ('Pod in version "v1" cannot be handled as a Pod: quantities must match the '
                                   "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    assert info.value.hint == '"memory" must be a quantity such as 500m, 2, 128Mi or 1Gi'


def test_secret_data_must_be_base64():
    error = decode_error("""
apiVersion: v1
kind: Secret
metadata: {name: s}
data: {password: hello world}
""")
    assert message(error) == 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 5'
    assert "stringData" in error.hint


def test_timestamps_must_be_rfc3339():
    error = decode_error("""
apiVersion: v1
kind: Pod
metadata: {name: p, creationTimestamp: yesterday}
""")
    assert message(error).endswith(
        'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"')


# --- what decoding returns --------------------------------------------------------------------

def test_decode_returns_a_fresh_object_the_way_go_reencodes_it():
    obj = yaml.safe_load("""
apiVersion: v1
kind: Pod
metadata: {name: p, labels: null, annotations: {note: null}}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 80.0}]
    resources: {limits: {cpu: 0.5, memory: 1024Mi}, requests: {cpu: 1500m, memory: "1e3"}}
  nodeSelector: null
""")
    original = copy.deepcopy(obj)
    out, warnings = decode(obj, kind_of(obj))
    assert obj == original and warnings == []
    assert out["metadata"] == {"name": "p", "annotations": {"note": ""}}
    container = out["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 80}]
    assert container["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"},
                                      "requests": {"cpu": "1500m", "memory": "1e3"}}
    assert "nodeSelector" not in out["spec"]


def test_int_or_string_fields_take_both():
    obj = yaml.safe_load("""
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 80, targetPort: http}, {name: alt, port: 81, targetPort: 8081}]}
""")
    out, _ = decode(obj, kind_of(obj))
    assert [p["targetPort"] for p in out["spec"]["ports"]] == ["http", 8081]


def test_secret_string_data_is_folded_into_data():
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "YQ=="},
           "stringData": {"password": "hunter2"}}
    out, _ = decode(obj, kind_of(obj))
    assert out["data"] == {"a": "YQ==", "password": "aHVudGVyMg=="} and "stringData" not in out


# --- speed ------------------------------------------------------------------------------------

POD = yaml.safe_load("""
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: default, labels: {app: web, tier: frontend}}
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports: [{containerPort: 80, name: http}]
    env: [{name: MODE, value: prod}]
    resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}}
    readinessProbe: {httpGet: {path: /, port: http}}
    volumeMounts: [{name: html, mountPath: /usr/share/nginx/html}]
  volumes: [{name: html, emptyDir: {}}]
""")


def test_thousand_pods_decode_and_validate_in_under_a_second():
    kind = kind_of(POD)
    defaulted, _ = decode(POD, kind)
    apply_defaults(defaulted, kind)
    validate(defaulted, kind)  # warm the schema caches: the first decode compiles the definitions
    start = time.perf_counter()
    for _ in range(1000):
        decode(POD, kind)
        validate(defaulted, kind)
    assert time.perf_counter() - start < 1.0
