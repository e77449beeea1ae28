"""Namespace housekeeping: the default ServiceAccount and the kube-root-ca.crt ConfigMap."""

from __future__ import annotations

import base64

import kubelab

DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")


def make(seed: int = 1) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=1, clock="stepped", seed=seed)


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def test_a_new_namespace_gets_a_default_service_account_and_the_root_ca():
    c = make()
    c.create(namespace("dev"))
    account = c.get("serviceaccounts", "default", "dev")
    assert set(account) == {"apiVersion", "kind", "metadata"}
    cm = c.get("configmaps", "kube-root-ca.crt", "dev")
    assert cm["metadata"]["annotations"] == {"kubernetes.io/description": DESCRIPTION}
    pem = cm["data"]["ca.crt"]
    assert pem.startswith("-----BEGIN CERTIFICATE-----\nMIID") and pem.endswith("\n-----END CERTIFICATE-----\n")
    assert all(len(line) <= 64 for line in pem.splitlines())
    base64.b64decode("".join(pem.splitlines()[1:-1]), validate=True)
    assert pem == c.get("configmaps", "kube-root-ca.crt", "kube-system")["data"]["ca.crt"]


def test_every_system_namespace_has_them_from_the_start():
    c = make()
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert c.get("serviceaccounts", "default", ns)
        assert c.get("configmaps", "kube-root-ca.crt", ns)


def test_a_deleted_default_service_account_comes_back():
    c = make()
    first = c.get("serviceaccounts", "default")["metadata"]["uid"]
    c.delete("serviceaccounts", "default")
    assert c.get("serviceaccounts", "default")["metadata"]["uid"] != first


def test_the_root_ca_config_map_is_recreated_and_restored_after_edits():
    c = make()
    original = c.get("configmaps", "kube-root-ca.crt")["data"]
    cm = c.get("configmaps", "kube-root-ca.crt")
    cm["data"] = {"ca.crt": "tampered"}
    c.update(cm)
    assert c.get("configmaps", "kube-root-ca.crt")["data"] == original
    c.delete("configmaps", "kube-root-ca.crt")
    assert c.get("configmaps", "kube-root-ca.crt")["data"] == original


def test_the_ca_follows_the_seed():
    pems = [make(seed).get("configmaps", "kube-root-ca.crt")["data"]["ca.crt"] for seed in (1, 1, 2)]
    assert pems[0] == pems[1] != pems[2]


def test_a_terminating_namespace_is_not_refilled():
    c = make()
    c.create(namespace("dev"))
    c.delete("namespaces", "dev", None)
    c.settle()
    assert [n["metadata"]["name"] for n in c.list("namespaces", None)].count("dev") == 0
    assert c.list("serviceaccounts", "dev") == [] and c.list("configmaps", "dev") == []
