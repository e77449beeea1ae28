"""Loading manifests from text, objects, files and directories, and the errors a learner sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubelab.api.errors import ApiError
from kubelab.api.manifests import load

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
       "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
SVC = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}

TWO_DOCS = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
"""


def error_of(source, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as err:
        load(source, **kwargs)
    assert err.value.reason == "BadRequest" and err.value.code == 400
    return err.value


# ---------------------------------------------------------------- what loads
def test_multi_document_yaml_gives_one_object_per_document():
    assert load(TWO_DOCS) == [POD, SVC]


def test_empty_and_comment_only_documents_are_skipped():
    text = "---\n# the pod\n---\n\n---\n" + TWO_DOCS.replace("---\n", "---\n# nothing here\n---\n~\n---\n")
    assert load(text) == [POD, SVC]


def test_json_object_and_json_stream_load():
    assert load(json.dumps(POD)) == [POD]
    assert load(json.dumps(POD, indent=2) + "\n" + json.dumps(SVC)) == [POD, SVC]


def test_dicts_and_lists_of_dicts_load_as_fresh_copies():
    loaded = load(POD)
    loaded[0]["metadata"]["name"] = "changed"
    assert POD["metadata"]["name"] == "web"
    assert load([POD, SVC]) == [POD, SVC]


def test_list_objects_are_expanded_to_their_items():
    assert load({"apiVersion": "v1", "kind": "List", "items": [POD, SVC]}) == [POD, SVC]


def test_typed_lists_from_the_api_give_their_items_a_kind():
    items = [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]
    loaded = load({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items})
    assert [(o["apiVersion"], o["kind"], o["metadata"]["name"]) for o in loaded] == [("v1", "Pod", "a"),
                                                                                    ("v1", "Pod", "b")]


def test_file_paths_load_as_path_objects_or_strings(tmp_path: Path):
    file = tmp_path / "app.yaml"
    file.write_text(TWO_DOCS)
    assert load(file) == [POD, SVC]
    assert load(str(file)) == [POD, SVC]


def test_directory_loads_its_manifest_files_in_name_order(tmp_path: Path):
    (tmp_path / "b-svc.yml").write_text(json.dumps(SVC))
    (tmp_path / "a-pod.json").write_text(json.dumps(POD))
    (tmp_path / "README.md").write_text("# not a manifest: kind: Pod")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text(json.dumps(POD))  # kubectl -f dir does not recurse
    assert load(tmp_path) == [POD, SVC]


def test_missing_file_says_the_path_does_not_exist():
    assert str(error_of("deploy.yaml")) == 'the path "deploy.yaml" does not exist'


def test_utf8_and_utf16_files_with_byte_order_marks_load(tmp_path: Path):
    (tmp_path / "a.yaml").write_bytes(b"\xef\xbb\xbf" + TWO_DOCS.encode())
    (tmp_path / "b.yaml").write_bytes(TWO_DOCS.encode("utf-16"))
    assert load(tmp_path) == [POD, SVC, POD, SVC]


@pytest.mark.parametrize(("value", "expected"), [
    ("yes", True),
    ("on", True),
    ("n", False),
    ("'yes'", "yes"),
    ("0777", 511),
    ("0x1F", 31),
    ("1_000", 1000),
    ("1.0", 1),  # JSON has one number type: kubectl sends 1
    ("1e3", 1000),
    ("2.5", 2.5),
    ("12:30", "12:30"),  # not YAML 1.1 base-60
    ("2024-01-01", "2024-01-01"),  # timestamps stay text
    ("=", "="),
    ("~", None),
])
def test_scalars_read_as_kubectl_reads_them(value, expected):
    assert load(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\nx: {value}\n")[0]["x"] == expected


def test_merge_keys_and_anchors_are_resolved():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbase: &b {a: 1, b: 2}\ndata:\n  <<: *b\n  b: 3\n"
    assert load(text)[0]["data"] == {"a": 1, "b": 3}


def test_non_string_keys_become_strings():
    assert load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  80: http\n  true: x\n")[0]["data"] == \
        {"80": "http", "true": "x"}


# ---------------------------------------------------------------- parse errors
def test_yaml_error_names_file_document_and_file_line():
    bad = TWO_DOCS.replace("  name: web\nspec:\n  ports", "  name: web\n  labels: app: web\nspec:\n  ports")
    err = error_of(bad, filename="deploy.yaml")
    assert str(err).splitlines()[0] == ("error parsing deploy.yaml (document 2): yaml: line 14, column 14: "
                                        "mapping values are not allowed in this context")
    assert "hint: a value that contains ': ' must be quoted" in str(err)


def test_text_without_a_name_is_called_string_or_stdin():
    assert str(error_of("a: b: c")).startswith("error parsing <string> (document 1): yaml: line 1, column 5:")
    assert str(error_of("a: b: c", filename="<stdin>")).startswith("error parsing <stdin> (document 1)")


def test_tabs_in_indentation_get_a_hint():
    err = error_of("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: web\n")
    assert str(err) == ("error parsing <string> (document 1): yaml: line 4, column 1: found character that cannot "
                        "start any token\nhint: YAML does not allow tabs for indentation — use spaces")


def test_misindented_key_reports_the_offending_line(tmp_path: Path):
    file = tmp_path / "pod.yaml"
    file.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n labels: {}\n")
    err = error_of(file)
    assert str(err).startswith(f"error parsing {file} (document 1): yaml: line 5, column 2: did not find expected key")
    assert "keys of one mapping must start in the same column" in str(err)


def test_unclosed_quote_is_reported():
    err = error_of('apiVersion: v1\nkind: Pod\nmetadata:\n  name: "web\n')
    assert "found unexpected end of stream\nhint: a quoted string is not closed" in str(err)


@pytest.mark.parametrize(("text", "message"), [
    ('{"apiVersion": "v1", "kind": "Pod",, }', "json: line 1, column 36: invalid character ',' looking for "
                                               "beginning of object key string"),
    ('{"apiVersion": "v1" "kind": "Pod"}', "json: line 1, column 21: invalid character '\"' after object "
                                           "key:value pair"),
    ('{"a": [1 2]}', "json: line 1, column 10: invalid character '2' after array element"),
    ('{"apiVersion": "v1",\n "kind": "Pod"', "json: line 2, column 15: unexpected EOF"),
])
def test_json_errors_use_go_wording_with_line_and_column(text, message):
    assert str(error_of(text, filename="pod.json")) == f"error parsing pod.json (document 1): {message}"


def test_yaml_flow_mapping_read_as_json_gets_a_hint():
    err = error_of("{apiVersion: v1, kind: Pod, metadata: {name: a}}")
    assert str(err) == ("error parsing <string> (document 1): json: line 1, column 2: invalid character 'a' looking "
                        "for beginning of object key string\nhint: text that starts with '{' is read as JSON, where "
                        "keys need double quotes — quote them, or drop the outer braces and write YAML")


def test_json_stream_error_names_the_document():
    assert "(document 2)" in str(error_of(json.dumps(POD) + '\n{"kind": }'))


# ---------------------------------------------------------------- not an object / no apiVersion or kind
STOP = "; if you choose to ignore these errors, turn validation off with --validate=false"


def test_document_without_apiversion_and_kind_gets_kubectls_validation_message():
    err = error_of("---\n" + TWO_DOCS.replace("apiVersion: v1\nkind: Service\n", ""), filename="app.yaml")
    first, hint = str(err).splitlines()
    assert first == 'error validating "app.yaml": error validating data: [apiVersion not set, kind not set]' + STOP
    assert hint.startswith("hint: document 2 (line 11) has no apiVersion and no kind")


@pytest.mark.parametrize(("text", "problem"), [
    ("apiVersion: v1\nmetadata: {name: a}\n", "kind not set"),
    ("kind: Pod\nmetadata: {name: a}\n", "apiVersion not set"),
    ("apiVersion: 1\nkind: Pod\n", "apiVersion isn't string type"),
    ("apiVersion: v1\nkind: [Pod]\n", "kind isn't string type"),
    ("- apiVersion: v1\n  kind: Pod\n", "invalid object to validate"),
    ("hello\n", "invalid object to validate"),
])
def test_validation_problems_use_kubectls_words(text, problem):
    assert str(error_of(text)).splitlines()[0] == f'error validating "<string>": error validating data: {problem}{STOP}'


def test_a_list_document_gets_a_hint_about_separators():
    assert "put each object in its own document, separated by a line '---'" in str(error_of("- a\n- b\n"))


def test_list_item_without_kind_is_named_in_the_hint():
    err = error_of({"apiVersion": "v1", "kind": "List", "items": [POD, {"apiVersion": "v1", "metadata": {}}]})
    assert str(err).splitlines()[1].startswith("hint: item 2 of the List in document 1 has no kind")


def test_without_validation_the_decoder_reports_the_missing_kind():
    err = error_of("apiVersion: v1\nmetadata:\n  name: a\n", filename="nokind.yaml", validate=False)
    assert str(err).splitlines()[0] == ('unable to decode "nokind.yaml": Object \'Kind\' is missing in '
                                        '\'{"apiVersion":"v1","metadata":{"name":"a"}}\'')


def test_other_sources_are_rejected():
    assert "cannot read manifests from a int" in str(error_of(42))
