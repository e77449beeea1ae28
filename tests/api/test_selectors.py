"""Label and field selectors: what kube-apiserver selects, prints and refuses, and how fast."""

from __future__ import annotations

import time

import pytest

from kubelab.api import kinds
from kubelab.api.errors import ApiError
from kubelab.api.selectors import (
    FieldSelector,
    LabelSelector,
    label_selector_from_spec,
    parse_label_selector,
    validate_label_selector_spec,
)

WEB = {"app": "web", "tier": "frontend", "env": "prod"}
DB = {"app": "db", "tier": "backend"}


def first_line(err: pytest.ExceptionInfo[ApiError]) -> str:
    return err.value.message.splitlines()[0]


# --- label selectors: the string form -------------------------------------------------------------

@pytest.mark.parametrize(("text", "web", "db", "unlabelled"), [
    ("app=web", True, False, False),
    ("app==web", True, False, False),
    ("app!=web", False, True, True),          # != also selects objects without the label
    ("env in (prod,staging)", True, False, False),
    ("env notin (prod)", False, True, True),  # notin too
    ("env", True, False, False),
    ("!env", False, True, True),
    ("app=web,tier=frontend", True, False, False),
    ("app in (web,db),!env", False, True, False),
    ("tier=", False, False, False),           # an empty value is a value, not absence
])
def test_each_string_operator_selects_like_the_apiserver(text, web, db, unlabelled):
    selector = LabelSelector.parse(text)
    assert (selector.matches(WEB), selector.matches(DB), selector.matches({})) == (web, db, unlabelled)
    assert selector.matches(None) == unlabelled


def test_greater_and_less_than_compare_integer_label_values():
    assert LabelSelector.parse("replicas>3").matches({"replicas": "10"})
    assert not LabelSelector.parse("replicas>3").matches({"replicas": "3"})
    assert LabelSelector.parse("replicas<3").matches({"replicas": "2"})
    assert not LabelSelector.parse("replicas<3").matches({"replicas": "two"})
    assert not LabelSelector.parse("replicas<3").matches({})


def test_empty_or_missing_selector_selects_everything():
    for text in (None, "", "   "):
        selector = LabelSelector.parse(text)
        assert selector.empty
        assert selector.matches({}) and selector.matches(WEB)
        assert str(selector) == ""


def test_in_and_notin_are_ordinary_words_where_a_value_stands():
    selector = LabelSelector.parse("in=notin,mode in (in,out)")
    assert selector.matches({"in": "notin", "mode": "in"})
    assert str(selector) == "in=notin,mode in (in,out)"


@pytest.mark.parametrize(("text", "canonical"), [
    ("tier!=db,app=web", "app=web,tier!=db"),
    ("env in (staging, prod)", "env in (prod,staging)"),
    ("env notin (b,a,b)", "env notin (a,b)"),
    ("z, !y, x", "x,!y,z"),
    ("a==b", "a==b"),
    ("x in (), y notin (,a,)", "x in (),y notin (,a)"),
    ("count>3,count<9", "count>3,count<9"),
])
def test_canonical_string_sorts_requirements_and_values(text, canonical):
    assert str(LabelSelector.parse(text)) == canonical
    assert str(LabelSelector.parse(canonical)) == canonical


# --- label selectors: the metav1.LabelSelector form -----------------------------------------------

@pytest.mark.parametrize(("spec", "web", "db"), [
    ({"matchLabels": {"app": "web"}}, True, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, True, False),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False, True),
    ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, True, False),
    ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, False, True),
    ({"matchLabels": {"tier": "frontend"}, "matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]},
     False, False),
])
def test_each_spec_operator_selects_like_label_selector_as_selector(spec, web, db):
    selector = LabelSelector.from_spec(spec)
    assert (selector.matches(WEB), selector.matches(DB)) == (web, db)


def test_nil_spec_selects_nothing_and_empty_spec_selects_everything():
    nothing = LabelSelector.from_spec(None)
    assert not nothing.matches({}) and not nothing.matches(WEB)
    assert not nothing.empty and str(nothing) == ""
    everything = LabelSelector.from_spec({})
    assert everything.empty and everything.matches(WEB)
    assert LabelSelector.from_spec({"matchLabels": {}, "matchExpressions": []}).empty


def test_spec_prints_as_describe_and_scale_status_show_it():
    spec = {
        "matchLabels": {"tier": "frontend", "app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "NotIn", "values": ["qa", "dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "release", "operator": "Exists"},
        ],
    }
    assert str(LabelSelector.from_spec(spec)) == "app=web,!canary,env notin (dev,qa),release,tier=frontend"


def test_spec_and_string_forms_agree():
    spec = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]}
    assert label_selector_from_spec(spec) == parse_label_selector("env in (b,a),app=web")


def test_spec_with_unknown_operator_is_refused():
    with pytest.raises(ApiError) as err:
        LabelSelector.from_spec({"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["web"]}]})
    assert err.value.message == '"Equals" is not a valid label selector operator'


def test_spec_exists_with_values_is_refused_with_new_requirement_text():
    with pytest.raises(ApiError) as err:
        LabelSelector.from_spec({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]})
    assert err.value.message == 'values: Invalid value: ["web"]: values set must be empty for exists and does not exist'


def test_requires_exact_match_names_the_one_value_a_key_must_have():
    assert LabelSelector.parse("app=web,env in (prod)").requires_exact_match("env") == "prod"
    assert LabelSelector.parse("env in (a,b)").requires_exact_match("env") is None
    assert LabelSelector.parse("env!=a").requires_exact_match("env") is None


def test_from_set_is_a_services_plain_map_selector():
    selector = LabelSelector.from_set({"app": "web", "tier": "frontend"})
    assert str(selector) == "app=web,tier=frontend"
    assert selector.matches(WEB) and not selector.matches(DB)
    assert LabelSelector.from_set({}).empty


# --- label selectors: what the apiserver refuses ---------------------------------------------------

VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
              "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
              "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


@pytest.mark.parametrize(("text", "message"), [
    ("env in", "unable to parse requirement: found '' expected: '('"),
    ("env in prod", "unable to parse requirement: found 'prod' expected: '('"),
    ("env in (prod staging)", "unable to parse requirement: found 'staging', expected: ',' or ')'"),
    ("env in (prod", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("env notin (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
    ("env in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
    ("app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"),
    ("app=(", "unable to parse requirement: found '(', expected: identifier"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("app=web,", "found '', expected: identifier after ','"),
    ("app=web,,tier=db", "found ',', expected: identifier after ','"),
    (",app", "found ',', expected: !, identifier, or 'end of string'"),
    ("app=web tier=db", "found 'tier', expected: ',' or 'end of string'"),
    ("!app=web", "found '=', expected: ',' or 'end of string'"),
    ("app=web=x", "found '=', expected: ',' or 'end of string'"),
    ("replicas>three", "unable to parse requirement: values[0]: Invalid value: \"three\": "
                       "for 'Gt', 'Lt' operators, the value must be an integer"),
    ("app=web!", "found '!', expected: ',' or 'end of string'"),
    ("app=we b$", "found 'b$', expected: ',' or 'end of string'"),
    ("app=web$", f'unable to parse requirement: values[0][app]: Invalid value: "web$": {VALUE_RULE}'),
])
def test_invalid_selector_strings_get_the_apiservers_messages(text, message):
    with pytest.raises(ApiError) as err:
        LabelSelector.parse(text)
    assert err.value.reason == "BadRequest" and err.value.code == 400
    assert first_line(err) == message
    assert err.value.status["message"].startswith(message)


def test_invalid_label_key_is_reported_with_the_parsers_nil_field_path():
    with pytest.raises(ApiError) as err:
        LabelSelector.parse("app:web")
    assert first_line(err) == (
        'unable to parse requirement: <nil>: Invalid value: "app:web": name part must consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


def test_several_problems_in_one_requirement_are_listed_together():
    with pytest.raises(ApiError) as err:
        LabelSelector.parse("n<-x")
    assert first_line(err) == (
        "unable to parse requirement: [values[0]: Invalid value: \"-x\": for 'Gt', 'Lt' operators, the value must be "
        f'an integer, values[0][n]: Invalid value: "-x": {VALUE_RULE}]')


# --- metav1.LabelSelector validation ----------------------------------------------------------------

def test_valid_spec_has_no_errors():
    spec = {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]},
                                 {"key": "canary", "operator": "DoesNotExist"}]}
    assert validate_label_selector_spec(spec, "spec.selector") == []
    assert validate_label_selector_spec(None, "spec.selector") == []


def test_spec_validation_uses_apiserver_paths_and_texts():
    spec = {"matchExpressions": [
        {"key": "env", "operator": "In"},
        {"key": "env", "operator": "Exists", "values": ["prod"]},
        {"key": "env", "operator": "Equals", "values": ["prod"]},
    ]}
    assert [str(e) for e in validate_label_selector_spec(spec, "spec.selector")] == [
        "spec.selector.matchExpressions[0].values: Required value: "
        "must be specified when `operator` is 'In' or 'NotIn'",
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or "
        "'DoesNotExist'",
        'spec.selector.matchExpressions[2].operator: Invalid value: "Equals": not a valid selector operator',
    ]


def test_spec_validation_checks_label_syntax_in_keys_and_values():
    spec = {"matchLabels": {"app": "web site"},
            "matchExpressions": [{"key": "bad key", "operator": "In", "values": ["ok", "not ok"]}]}
    errors = [str(e) for e in validate_label_selector_spec(spec, "spec.selector")]
    assert errors[0] == f'spec.selector.matchLabels: Invalid value: "web site": {VALUE_RULE}'
    assert errors[1].startswith('spec.selector.matchExpressions[0].key: Invalid value: "bad key": name part must')
    assert errors[2] == f'spec.selector.matchExpressions[0].values[1]: Invalid value: "not ok": {VALUE_RULE}'
    assert len(errors) == 3


# --- field selectors --------------------------------------------------------------------------------

POD = kinds.resolve("pods")


def pod(name, node=None, phase="Pending", **spec):
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}, "status": {"phase": phase}}
    if node:
        obj["spec"]["nodeName"] = node
    return obj


def names(selector: FieldSelector, objects: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objects if selector.matches(o)]


PODS = [pod("a", "node-1", "Running"), pod("b", "node-2", "Running"), pod("c"), pod("d", "node-1", "Failed")]


@pytest.mark.parametrize(("text", "expected"), [
    ("spec.nodeName=node-1", ["a", "d"]),
    ("spec.nodeName==node-1", ["a", "d"]),
    ("status.phase!=Running", ["c", "d"]),
    ("spec.nodeName=node-1,status.phase=Running", ["a"]),
    ("spec.nodeName=", ["c"]),                  # unscheduled pods: the missing field reads as ""
    ("spec.nodeName!=", ["a", "b", "d"]),
    ("metadata.name=b", ["b"]),
    ("metadata.namespace=default", ["a", "b", "c", "d"]),
    ("spec.hostNetwork=false", ["a", "b", "c", "d"]),  # absent bool reads as Go prints false
    ("spec.host=node-2", ["b"]),                 # old v1 clients' name for spec.nodeName
    ("", ["a", "b", "c", "d"]),
])
def test_pod_field_selectors_select_like_the_apiserver(text, expected):
    assert names(FieldSelector.parse(text, POD), PODS) == expected


def test_pod_ip_comes_from_the_first_pod_ip():
    running = pod("a", "node-1", "Running")
    running["status"]["podIPs"] = [{"ip": "10.244.0.5"}]
    only_old_field = pod("b", "node-1", "Running")
    only_old_field["status"]["podIP"] = "10.244.0.6"
    selector = FieldSelector.parse("status.podIP=10.244.0.5", POD)
    assert names(selector, [running, only_old_field]) == ["a"]
    assert names(FieldSelector.parse("status.podIP=10.244.0.6", POD), [running, only_old_field]) == ["b"]


def test_field_selector_string_is_sorted_and_escaped():
    selector = FieldSelector.parse("status.phase!=Running,metadata.name==a\\,b", POD)
    assert str(selector) == "metadata.name=a\\,b,status.phase!=Running"
    assert selector.matches(pod("a,b"))
    assert FieldSelector.parse("spec.host=n1", POD).requires_exact_match("spec.nodeName") == "n1"


def test_event_field_selectors_find_an_objects_events():
    def event(name, kind, obj, reason, kind_type="Normal", **extra):
        return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": kind, "name": obj, "namespace": "default", "uid": "u-" + obj},
                "reason": reason, "type": kind_type, **extra}
    events = [
        event("e1", "Pod", "web-1", "Scheduled", source={"component": "default-scheduler"}),
        event("e2", "Pod", "web-1", "BackOff", "Warning", source={"component": "kubelet", "host": "node-1"}),
        event("e3", "ReplicaSet", "web", "SuccessfulCreate", reportingComponent="replicaset-controller"),
    ]
    kind = kinds.resolve("events")
    assert names(FieldSelector.parse("involvedObject.kind=Pod,involvedObject.name=web-1", kind), events) == ["e1", "e2"]
    assert names(FieldSelector.parse("type=Warning", kind), events) == ["e2"]
    assert names(FieldSelector.parse("involvedObject.uid=u-web", kind), events) == ["e3"]
    # source falls back to the reporting controller when source.component is empty
    assert names(FieldSelector.parse("source=replicaset-controller", kind), events) == ["e3"]
    assert names(FieldSelector.parse("reportingComponent=", kind), events) == ["e1", "e2"]
    assert names(FieldSelector.parse("involvedObject.fieldPath=", kind), events) == ["e1", "e2", "e3"]


def test_node_field_selectors_read_unschedulable_as_go_prints_it():
    nodes = [{"kind": "Node", "metadata": {"name": "n1"}, "spec": {"unschedulable": True}},
             {"kind": "Node", "metadata": {"name": "n2"}, "spec": {}},
             {"kind": "Node", "metadata": {"name": "n3"}}]
    node = kinds.resolve("nodes")
    assert names(FieldSelector.parse("spec.unschedulable=false", node), nodes) == ["n2", "n3"]
    assert names(FieldSelector.parse("spec.unschedulable=true", node), nodes) == ["n1"]
    assert names(FieldSelector.parse("metadata.name!=n1", node), nodes) == ["n2", "n3"]


def test_other_kinds_select_on_their_own_fields():
    secret = {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}
    assert FieldSelector.parse("type=kubernetes.io/tls", kinds.resolve("secrets")).matches(secret)
    job = {"metadata": {"name": "j"}, "status": {}}
    assert FieldSelector.parse("status.successful=0", kinds.resolve("jobs")).matches(job)
    ns = {"metadata": {"name": "dev"}, "status": {"phase": "Terminating"}}
    assert FieldSelector.parse("status.phase=Terminating", kinds.resolve("namespaces")).matches(ns)
    svc = {"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.10"}}
    assert FieldSelector.parse("spec.type=NodePort,spec.clusterIP=10.96.0.10", kinds.resolve("svc")).matches(svc)
    rc = {"metadata": {"name": "rc"}, "status": {"replicas": 3}}
    assert FieldSelector.parse("status.replicas=3", kinds.resolve("rc")).matches(rc)


@pytest.mark.parametrize(("resource", "text", "message"), [
    ("pods", "spec.foo=bar", "field label not supported: spec.foo"),
    ("pods", "status.phase=Running,spec.containers=x", "field label not supported: spec.containers"),
    ("nodes", "metadata.namespace=default", "field label not supported: metadata.namespace"),
    ("events", "message=x", "field label not supported: message"),
    ("jobs", "status.succeeded=1", 'field label "status.succeeded" not supported for batchv1.Job'),
    ("deployments", "spec.replicas=3", '"spec.replicas" is not a known field selector: only "metadata.name", '
                                       '"metadata.namespace"'),
    # apps/v1 registers no conversion for ReplicaSet, so the real apiserver refuses this (kubernetes#135136).
    ("replicasets", "status.replicas=0", '"status.replicas" is not a known field selector: only "metadata.name", '
                                         '"metadata.namespace"'),
])
def test_unsupported_field_label_is_a_bad_request(resource, text, message):
    with pytest.raises(ApiError) as err:
        FieldSelector.parse(text, kinds.resolve(resource))
    assert (err.value.reason, err.value.code) == ("BadRequest", 400)
    assert first_line(err) == message


def test_unsupported_pod_field_label_hints_at_the_fields_pods_have():
    with pytest.raises(ApiError) as err:
        FieldSelector.parse("spec.foo=bar", POD)
    assert "spec.nodeName" in (err.value.hint or "") and "status.phase" in (err.value.hint or "")


@pytest.mark.parametrize(("text", "message"), [
    ("status.phase", "invalid selector: 'status.phase'; can't understand 'status.phase'"),
    ("status.phase in (Running)", "invalid selector: 'status.phase in (Running)'; "
                                  "can't understand 'status.phase in (Running)'"),
    ("metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
    ("metadata.name=a\\b", "invalid field selector: invalid escape sequence: \\b"),
    ("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
])
def test_malformed_field_selectors_get_the_apiservers_messages(text, message):
    with pytest.raises(ApiError) as err:
        FieldSelector.parse(text, POD)
    assert err.value.reason == "BadRequest"
    assert first_line(err) == message


# --- performance -----------------------------------------------------------------------------------

def best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_matching_ten_thousand_pods_is_fast():
    pods = [pod(f"p{i}", f"node-{i % 10}", "Running" if i % 3 else "Pending") for i in range(10_000)]
    for i, p in enumerate(pods):
        p["metadata"]["labels"] = {"app": f"app-{i % 50}", "tier": "web", "pod-template-hash": "7d4b9c5f8d"}
    labels = LabelSelector.parse("app in (app-1,app-2,app-3),tier=web,!canary")
    fields = FieldSelector.parse("spec.nodeName=node-1,status.phase!=Pending", POD)
    everything = LabelSelector.parse("")

    assert best_of(3, lambda: [labels.matches(p["metadata"]["labels"]) for p in pods]) < 0.2
    assert best_of(3, lambda: [fields.matches(p) for p in pods]) < 0.2
    assert best_of(3, lambda: [everything.matches(p["metadata"]["labels"]) for p in pods]) < 0.2
    assert sum(labels.matches(p["metadata"]["labels"]) for p in pods) == 600
    assert sum(fields.matches(p) for p in pods) == 667
