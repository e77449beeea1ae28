"""Namespace housekeeping every real cluster does: the `default` ServiceAccount and `kube-root-ca.crt`.

`ServiceAccountsController` (kube-controller-manager's serviceaccount-controller) makes sure every
active namespace has a ServiceAccount named `default`, and recreates it when someone deletes it.
`RootCACertPublisher` (root-ca-cert-publisher) keeps a ConfigMap `kube-root-ca.crt` in every
active namespace whose `ca.crt` is the cluster's CA certificate — the one pods mount through their
`kube-api-access-…` volume — with upstream's `kubernetes.io/description` annotation; it is
recreated when deleted and restored when edited. The certificate only looks like one: PEM armour
around DER-shaped bytes drawn once from the cluster's seeded generator (and read back from the
cluster's state when it is reopened), so the same seed gives the same CA.

Read by: cluster.components. Reads: controllers.base.
"""

from __future__ import annotations

import base64
from typing import Any

from kubelab.api.errors import ApiError
from kubelab.cluster.controllers.base import Controller, Key
from kubelab.store.memory import thaw
from kubelab.store.watch import Event

Obj = dict[str, Any]

DEFAULT_ACCOUNT = "default"
ROOT_CA_NAME = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")
# The opening of a kubeadm CA certificate: a 773-byte SEQUENCE, a 493-byte tbsCertificate, version 3,
# an 8-byte serial; then sha256WithRSAEncryption and the issuer CN=kubernetes.
_DER_HEAD = bytes.fromhex("30820305" "308201ed" "a003020102" "0208")
_DER_ALGORITHM = bytes.fromhex("300d06092a864886f70d01010b0500" "3015311330110603550403130a") + b"kubernetes"
_DER_LENGTH = 777


def _active(ns: Obj | None) -> bool:
    return ns is not None and not ns["metadata"].get("deletionTimestamp") \
        and (ns.get("status") or {}).get("phase", "Active") == "Active"


def _namespace_keys(event: Event, name: str) -> list[Key]:
    if event.object["metadata"]["name"] != name:
        return []
    return [("", event.object["metadata"].get("namespace", ""))]


def ca_certificate(rng: Any) -> str:
    """A PEM block shaped like a kubeadm cluster CA, from `rng` (the cluster's seeded generator)."""
    serial = bytes(rng.getrandbits(8) for _ in range(8))
    body = _DER_HEAD + serial + _DER_ALGORITHM
    body += bytes(rng.getrandbits(8) for _ in range(_DER_LENGTH - len(body)))
    text = base64.b64encode(body).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


class ServiceAccountsController(Controller):
    name = "serviceaccount-controller"
    primary = ("", "namespaces")
    secondary = (("", "serviceaccounts"),)

    def keys_for(self, event: Event) -> list[Key]:
        return _namespace_keys(event, DEFAULT_ACCOUNT) if event.type == "DELETED" else []

    def reconcile(self, key: Key) -> float | None:
        namespace = key[1]
        if not _active(self.store.get(("", "namespaces"), "", namespace)):
            return None
        if self.store.get(("", "serviceaccounts"), namespace, DEFAULT_ACCOUNT) is not None:
            return None
        account = {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": DEFAULT_ACCOUNT, "namespace": namespace}}
        try:
            created = self.api.create(account)
        except ApiError as err:
            if err.reason == "Forbidden":
                return None  # the namespace started terminating meanwhile
            raise
        self.cluster.trace_log.add(self.name, "created", created)
        return None


class RootCACertPublisher(Controller):
    name = "root-ca-cert-publisher"
    primary = ("", "namespaces")
    secondary = (("", "configmaps"),)

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._ca: str | None = None

    def keys_for(self, event: Event) -> list[Key]:
        return _namespace_keys(event, ROOT_CA_NAME)

    def root_ca(self) -> str:
        """The cluster's CA: the one already published (a reopened cluster), else a new one."""
        if self._ca is None:
            for cm in self.store.list(("", "configmaps"), "kube-system")[0]:
                if cm["metadata"]["name"] == ROOT_CA_NAME and (cm.get("data") or {}).get("ca.crt"):
                    self._ca = cm["data"]["ca.crt"]
            if self._ca is None:
                self._ca = ca_certificate(self.cluster.rng)
        return self._ca

    def reconcile(self, key: Key) -> float | None:
        namespace = key[1]
        if not _active(self.store.get(("", "namespaces"), "", namespace)):
            return None
        data = {"ca.crt": self.root_ca()}
        live = self.store.get(("", "configmaps"), namespace, ROOT_CA_NAME)
        try:
            if live is None:
                created = self.api.create({"apiVersion": "v1", "kind": "ConfigMap",
                                           "metadata": {"name": ROOT_CA_NAME, "namespace": namespace,
                                                        "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
                                           "data": data})
                self.cluster.trace_log.add(self.name, "created", created)
                return None
            annotations = live["metadata"].get("annotations") or {}
            if live.get("data") == data and annotations.get(DESCRIPTION_ANNOTATION):
                return None
            fresh = thaw(live)
            fresh["data"] = data
            fresh.pop("binaryData", None)
            fresh["metadata"]["annotations"] = {**annotations, DESCRIPTION_ANNOTATION: DESCRIPTION}
            self.api.update(fresh)
        except ApiError as err:
            if err.reason == "Forbidden":
                return None  # the namespace started terminating meanwhile
            raise
        return None
