"""What the decoder hands the API server: a private copy in the store's compact form."""

from __future__ import annotations

import sys

import pytest

from kubelab.api import kinds
from kubelab.api.decoding import decode


def interned_throughout(value) -> bool:
    if type(value) is dict:
        return all(k is sys.intern(k) and interned_throughout(v) for k, v in value.items())
    if type(value) is list:
        return all(interned_throughout(v) for v in value)
    if type(value) is str and len(value) <= 64:
        return value is sys.intern(value)
    return True


def revision(data: object) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "web-1", "labels": {
        "app": "".join(["w", "eb"])}}, "revision": 1, "data": data}


def test_free_form_data_is_copied_so_later_edits_to_the_manifest_do_not_leak_in():
    manifest = revision({"spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}})
    out, _ = decode(manifest, kinds.resolve("controllerrevisions"))
    manifest["data"]["spec"]["template"]["spec"]["containers"][0]["name"] = "changed"
    manifest["metadata"]["labels"]["app"] = "changed"
    assert out["data"]["spec"]["template"]["spec"]["containers"][0]["name"] == "app"
    assert out["metadata"]["labels"] == {"app": "web"}
    assert interned_throughout(out)


def test_decoded_pod_is_interned_like_the_store_keeps_it():
    text = "".join(["registry.k8s.io/", "pause:3.10"])
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "".join(["p", "1"])},
           "spec": {"containers": [{"name": "app", "image": text, "args": ["x" * 100, "".join(["-", "v"])]}]}}
    out, _ = decode(pod, kinds.resolve("pods"))
    assert out == pod and interned_throughout(out)


def test_free_form_data_with_a_non_string_key_fails_after_the_structural_errors():
    # A Python caller can put any key in free-form data; structural errors are still reported first.
    manifest = revision({1: "one"})
    manifest["revision"] = "one"
    with pytest.raises(Exception) as info:
        decode(manifest, kinds.resolve("controllerrevisions"))
    assert "cannot unmarshal string into Go struct field ControllerRevision.revision of type int64" in str(
        info.value)
