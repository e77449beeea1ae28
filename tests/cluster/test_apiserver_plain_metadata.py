"""A Pod whose spec was prepared before is decoded as its metadata alone (api.decoding's fast path for
plain metadata): whatever that metadata holds, the outcome — the pod, its warnings, or the error — must be
exactly what the full decode of the whole pod gives."""

from __future__ import annotations

import copy
import json

import pytest

import kubelab
from kubelab import ApiError
from kubelab.api import podspecs

SPEC = {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}

METADATA = [
    {"name": "plain", "namespace": "default", "labels": {"app": "web", "tier": "x" * 70}},
    {"generateName": "gen-", "annotations": {"note": "y" * 100}},
    {"name": "int-label", "labels": {"app": 1}},
    {"name": "bool-annotation", "annotations": {"on": True}},
    {"name": "list-label", "labels": {"app": ["web"]}},
    {"name": "null-label", "labels": {"app": None}},
    {"name": "null-labels", "labels": None},
    {"name": None, "generateName": "null-name-"},
    {"name": "null-namespace", "namespace": None},
    {"name": 7},
    {"name": "unknown", "nmae": "typo"},
    {"name": "known-but-not-plain", "finalizers": ["example.com/keep"]},
    {"name": "bad-label", "labels": {"-bad": "v"}},
    {"name": "Upper_Case"},
    {"name": "int-key", "labels": {1: "one"}},
]


def outcome(cluster: kubelab.Cluster, meta: dict, field_validation: str, *, extra: dict | None = None) -> str:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": copy.deepcopy(meta), "spec": copy.deepcopy(SPEC),
           **(extra or {})}
    try:
        kind, obj, warnings = cluster.api.prepare(pod, field_validation=field_validation)
    except ApiError as e:
        return f"error {e.reason} {e}"
    obj = dict(obj, metadata={k: v for k, v in obj["metadata"].items() if k not in ("uid", "creationTimestamp")})
    return json.dumps([obj, warnings])


def outcomes(*, prepared: bool, field_validation: str, extra: dict | None = None) -> list[str]:
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=5)
    podspecs._PREPARED.clear()
    out = []
    for meta in METADATA:
        # A pod with this spec and plain metadata makes the spec's entry (drawing from the rng either way).
        cluster.api.prepare({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "seed"},
                             "spec": copy.deepcopy(SPEC)}, field_validation=field_validation)
        if not prepared:
            podspecs._PREPARED.clear()
        out.append(outcome(cluster, meta, field_validation, extra=extra))
    return out


@pytest.mark.parametrize("field_validation", ["Strict", "Warn", "Ignore"])
def test_metadata_decodes_alike_whether_or_not_the_spec_was_prepared(field_validation):
    assert outcomes(prepared=True, field_validation=field_validation) == \
        outcomes(prepared=False, field_validation=field_validation)


def test_a_label_value_that_is_not_a_string_is_refused_with_go_s_message_after_a_prepared_spec():
    i = METADATA.index({"name": "int-label", "labels": {"app": 1}})
    got = outcomes(prepared=True, field_validation="Strict")[i]
    assert got.startswith("error BadRequest ")
    assert "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string" in got


def test_an_unknown_metadata_field_is_refused_under_strict_and_warned_under_warn_after_a_prepared_spec():
    i = METADATA.index({"name": "unknown", "nmae": "typo"})
    strict = outcomes(prepared=True, field_validation="Strict")[i]
    assert 'strict decoding error: unknown field "metadata.nmae"' in strict
    assert 'unknown field \\"metadata.nmae\\"' in outcomes(prepared=True, field_validation="Warn")[i]


def test_a_status_or_unknown_top_level_field_beside_plain_metadata_decodes_alike():
    for extra in ({"status": {"phase": "Running"}}, {"extra": 1}):
        assert outcomes(prepared=True, field_validation="Strict", extra=extra) == \
            outcomes(prepared=False, field_validation="Strict", extra=extra)
