"""Pod creates skip the spec rules for a spec already seen clean: the errors must be what a full run gives."""

from __future__ import annotations

import copy
import random

import pytest

from kubelab.api import kinds
from kubelab.api.admission import admit_pod
from kubelab.api.decoding import decode
from kubelab.api.defaults import apply_defaults
from kubelab.api.errors import ApiError
from kubelab.api.validation import validate

POD = kinds.resolve("pods")


def pod(name: str, seed: int, **container: object) -> dict:
    """A pod as the apiserver validates it: decoded, defaulted, admitted (with its own token volume name)."""
    obj, _ = decode({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                     "spec": {"containers": [{"name": "app", "image": "nginx:1.25", **container}]}}, POD)
    obj["metadata"]["uid"] = "3f2a1c9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
    apply_defaults(obj, POD)
    admit_pod(obj, random.Random(seed))
    return obj


def errors_of(obj: dict) -> str | None:
    try:
        validate(obj, POD)
    except ApiError as err:
        return err.message
    return None


def test_a_bad_name_is_reported_after_a_pod_with_the_same_spec_passed():
    assert errors_of(pod("web-1", 1)) is None
    message = errors_of(pod("Web_2", 2))
    assert message is not None and message.splitlines()[0] == (
        'Pod "Web_2" is invalid: metadata.name: Invalid value: "Web_2": a lowercase RFC 1123 subdomain must '
        "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def test_a_bad_spec_is_reported_every_time():
    first, second = pod("db-1", 3, ports=[{"containerPort": 0}]), pod("db-2", 4, ports=[{"containerPort": 0}])
    assert errors_of(first) is not None
    assert errors_of(second) == errors_of(first).replace("db-1", "db-2")


def test_a_spec_that_differs_beyond_its_token_volume_is_checked_again():
    good = pod("ok", 5)
    assert errors_of(good) is None
    bad = copy.deepcopy(good)
    bad["spec"]["containers"][0]["volumeMounts"].append({"name": "missing", "mountPath": "/x"})
    with pytest.raises(ApiError, match="spec.containers\\[0\\].volumeMounts\\[1\\].name: Not found"):
        validate(bad, POD)
