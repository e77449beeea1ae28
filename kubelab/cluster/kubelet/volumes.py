"""A pod's volumes, set up by the kubelet's volume manager and mounted into each container.

`setup(...)` turns every volume of the spec into a runtime `Volume`: emptyDir (shared by the pod's
containers), configMap and secret (projected the kubelet's way, with `..data` symlinks),
downwardAPI, projected (the service-account token volume every pod gets), hostPath (shared on the
node), persistentVolumeClaim (shared through the claim, so data outlives the pod). A ConfigMap,
Secret or claim that does not exist stops the pod in ContainerCreating with the volume manager's
`MountVolume.SetUp failed for volume "x" : configmap "y" not found` (a `MountError`).
`mount_all` mounts them into a container's filesystem at its `volumeMounts` (ConfigMaps and
Secrets always read-only, subPath honoured); `refresh` re-projects a changed ConfigMap or Secret.

Read by: kubelet.startup (mount step), kubelet.worker (refresh), kubelet.agent.
Reads: cluster.runtime (Volume, FileSystem), kubelet.env (values).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from kubelab.cluster.kubelet.env import config_data, config_map, field_value, resource_value, secret, secret_data
from kubelab.cluster.runtime import FileSystem, Volume
from kubelab.cluster.runtime.filesystem import Node
from kubelab.cluster.runtime.volumes import Deferred

Obj = dict[str, Any]
ROOT_CA = "kube-root-ca.crt"
# Until a root-CA publisher writes kube-root-ca.crt into each namespace, pods read this one.
FALLBACK_CA = ("-----BEGIN CERTIFICATE-----\n"
               "MIIDBTCCAe2gAwIBAgIIKubeLabLocalCAMA0GCSqGSIb3DQEBCwUAMBUxEzARBgNV\n"
               "BAMTCmt1YmVybmV0ZXMwHhcNMjYwMTAxMDAwMDAwWhcNMzUxMjMwMDAwMDAwWjAV\n"
               "MRMwEQYDVQQDEwprdWJlcm5ldGVzMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIB\n"
               "-----END CERTIFICATE-----\n")


class MountError(Exception):
    """A volume cannot be set up; `str()` is the FailedMount event's message."""

    def __init__(self, volume: str, reason: str) -> None:
        super().__init__(f'MountVolume.SetUp failed for volume "{volume}" : {reason}')
        self.volume = volume


@dataclass
class PodVolumes:
    volumes: dict[str, Volume] = field(default_factory=dict)
    watched: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, namespace, name) read to build them
    # the files each projection was built from
    sources: dict[str, Mapping[str, str | Deferred]] = field(default_factory=dict)


@dataclass
class Shared:
    """Storage that outlives a pod: hostPath directories per node, claims per cluster."""

    host_paths: dict[tuple[str, str], Volume] = field(default_factory=dict)
    claims: dict[tuple[str, str], Volume] = field(default_factory=dict)


def _mode(value: Any, default: int = 0o644) -> int:
    return value if isinstance(value, int) else default


def _default_mode(spec: Obj) -> int:
    """defaultMode of the volume's configMap/secret/downwardAPI/projected source (the first present)."""
    for kind in _PROJECTED:
        source = spec.get(kind)
        if isinstance(source, dict):
            return _mode(source.get("defaultMode"), 0o644)
    return 0o644


_PROJECTED = ("configMap", "secret", "downwardAPI", "projected")
_KINDS = frozenset(_PROJECTED)


def _items(values: dict[str, str], items: list[Obj] | None, kind: str, name: str, volume: str) -> dict[str, str]:
    if not items:
        return dict(values)
    files = {}
    for item in items:
        key = item.get("key", "")
        if key not in values:
            raise MountError(volume, f"{kind} references non-existent config key: {key}")
        files[item.get("path") or key] = values[key]
    return files


_HEADER = base64.urlsafe_b64encode(json.dumps(
    {"alg": "RS256", "kid": hashlib.sha256(b"kubelab").hexdigest()[:43]}, separators=(",", ":")).encode()
).decode().rstrip("=")


_ISSUER = json.dumps("https://kubernetes.default.svc.cluster.local")


def _json(value: Any) -> str:
    """One JSON value as json.dumps writes it (strings through its own C escaper)."""
    return encode_basestring_ascii(value) if type(value) is str else json.dumps(value)


def deferred_token(pod: Obj, now: float) -> Deferred:
    """A bound service-account token: a JWT whose claims say who it is for (not a real signature),
    made when the file is first read. A pure function of the claims (no generator, no clock), so
    reading it later gives the same bytes as making it now."""
    return Deferred(_token, _claims(pod, now))


def _claims(pod: Obj, now: float) -> tuple[Any, ...]:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    return (meta.get("namespace"), spec.get("serviceAccountName") or "default", spec.get("nodeName"),
            meta.get("name"), meta.get("uid"), int(now))


def _token(namespace: Any, account: str, node: Any, name: Any, uid: Any, t: int) -> bytes:
    # The claims as json.dumps(..., separators=(",", ":")) writes them, keys in order, formatted
    # directly: every pod mounts a token, and the generic encoder was a third of a pod's volume setup.
    raw = (f'{{"aud":[{_ISSUER}],"exp":{t + 3607},"iat":{t},"iss":{_ISSUER},'
           f'"kubernetes.io":{{"namespace":{_json(namespace)},"node":{{"name":{_json(node)}}},'
           f'"pod":{{"name":{_json(name)},"uid":{_json(uid)}}},'
           f'"serviceaccount":{{"name":{_json(account)}}}}},'
           f'"nbf":{t},"sub":{_json(f"system:serviceaccount:{namespace}:{account}")}}}').encode()
    signature = hashlib.sha256(raw).digest() * 8  # 256 bytes, the size of an RS256 signature
    return f"{_HEADER}.{_b64(raw)}.{_b64(signature)}".encode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> str:
    """base64url without padding, as JWTs write it (base64.urlsafe_b64encode's own two steps, inlined)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).decode().rstrip("=")


def _config_map(store: Any, pod_volumes: PodVolumes, namespace: str, source: Obj, volume: str) -> dict[str, str]:
    name = source.get("name", "")
    pod_volumes.watched.add(("configmaps", namespace, name))
    obj = config_map(store, namespace, name)
    if obj is None:
        if name == ROOT_CA:
            return _items({"ca.crt": FALLBACK_CA}, source.get("items"), "configmap", name, volume)
        if source.get("optional"):
            return {}
        raise MountError(volume, f'configmap "{name}" not found')
    return _items(config_data(obj), source.get("items"), "configmap", name, volume)


def _secret(store: Any, pod_volumes: PodVolumes, namespace: str, source: Obj, volume: str) -> dict[str, str]:
    name = source.get("secretName") or source.get("name") or ""
    pod_volumes.watched.add(("secrets", namespace, name))
    obj = secret(store, namespace, name)
    if obj is None:
        if source.get("optional"):
            return {}
        raise MountError(volume, f'secret "{name}" not found')
    return _items(secret_data(obj), source.get("items"), "secret", name, volume)


def _downward(pod: Obj, items: list[Obj], facts: dict[str, Any]) -> dict[str, str]:
    files = {}
    for item in items or ():
        if "fieldRef" in item:
            files[item["path"]] = field_value(pod, item["fieldRef"].get("fieldPath", ""), facts["pod_ip"],
                                              facts["host_ip"])
        elif "resourceFieldRef" in item:
            files[item["path"]] = resource_value(pod, item["resourceFieldRef"], "", facts["allocatable"])
    return files


def projected_files(store: Any, pod: Obj, spec: Obj, name: str, pod_volumes: PodVolumes,
                    facts: dict[str, Any]) -> Mapping[str, str | Deferred] | None:
    """The files of a configMap/secret/downwardAPI/projected volume (None for other kinds)."""
    namespace = pod["metadata"].get("namespace", "default")
    if "configMap" in spec:
        return _config_map(store, pod_volumes, namespace, spec["configMap"], name)
    if "secret" in spec:
        return _secret(store, pod_volumes, namespace, spec["secret"], name)
    if "downwardAPI" in spec:
        return _downward(pod, spec["downwardAPI"].get("items") or [], facts)
    if "projected" in spec:
        files: dict[str, str | Deferred] = {}
        for source in spec["projected"].get("sources") or ():
            if "serviceAccountToken" in source:
                files[source["serviceAccountToken"].get("path", "token")] = deferred_token(pod, facts["now"])
            elif "configMap" in source:
                files.update(_config_map(store, pod_volumes, namespace, source["configMap"], name))
            elif "secret" in source:
                files.update(_secret(store, pod_volumes, namespace, {"secretName": source["secret"].get("name"),
                                                                    **source["secret"]}, name))
            elif "downwardAPI" in source:
                files.update(_downward(pod, source["downwardAPI"].get("items") or [], facts))
        return files
    return None


def setup(store: Any, pod: Obj, shared: Shared, node: str, facts: dict[str, Any]) -> PodVolumes:
    """Every volume of the pod, ready to mount; raises MountError for the first that cannot be."""
    pod_volumes = PodVolumes()
    namespace = pod["metadata"].get("namespace", "default")
    for spec in (pod.get("spec") or {}).get("volumes") or ():
        name = spec.get("name", "")
        files = projected_files(store, pod, spec, name, pod_volumes, facts)
        if files is not None:
            volume = Volume(mode=0o755)
            volume.project(files, mode=_default_mode(spec), now=facts["now"])  # it only reads them
            pod_volumes.sources[name] = files
        elif "hostPath" in spec:
            path = spec["hostPath"].get("path", "/")
            volume = shared.host_paths.setdefault((node, path), Volume(mode=0o755))
        elif "persistentVolumeClaim" in spec:
            claim = spec["persistentVolumeClaim"].get("claimName", "")
            if store.get(("", "persistentvolumeclaims"), namespace, claim) is None:
                raise MountError(name, f'persistentvolumeclaim "{claim}" not found')
            volume = shared.claims.setdefault((namespace, claim), Volume(mode=0o777))
        else:  # emptyDir, and kinds with nothing to simulate (csi, nfs…) behave as empty directories
            volume = Volume(mode=0o777)
        pod_volumes.volumes[name] = volume
    return pod_volumes


def refresh(store: Any, pod: Obj, pod_volumes: PodVolumes, facts: dict[str, Any]) -> bool:
    """Re-project ConfigMap/Secret/downward volumes whose sources changed (the kubelet's periodic sync).
    Returns True when a file changed."""
    changed = False
    for spec in (pod.get("spec") or {}).get("volumes") or ():
        name = spec.get("name", "")
        volume = pod_volumes.volumes.get(name)
        if volume is None:
            continue
        try:
            files = projected_files(store, pod, spec, name, pod_volumes, facts)
        except MountError:
            continue  # a deleted source keeps its last files, as the kubelet does
        before = dict(pod_volumes.sources.get(name) or {})
        before.pop("token", None)  # the token is re-issued on its own schedule, not a change of source
        if files is None or {k: v for k, v in files.items() if k != "token"} == before:
            continue
        volume.project(dict(files), now=facts["now"])
        pod_volumes.sources[name] = files
        changed = True
    return changed



def mount_all(fs: FileSystem, container: Obj, pod_volumes: PodVolumes, pod: Obj) -> None:
    """Mount the container's volumeMounts into its filesystem."""
    projected = {v.get("name") for v in (pod.get("spec") or {}).get("volumes") or () if not _KINDS.isdisjoint(v)}
    for mount in container.get("volumeMounts") or ():
        volume = pod_volumes.volumes.get(mount.get("name", ""))
        if volume is None:
            continue
        sub = mount.get("subPath") or ""
        if mount.get("subPathExpr"):
            sub = mount["subPathExpr"]
            env_like = {"POD_NAME": pod["metadata"]["name"], "POD_NAMESPACE": pod["metadata"].get("namespace", "")}
            for key, value in env_like.items():
                sub = sub.replace(f"$({key})", value)
        read_only = bool(mount.get("readOnly")) or mount.get("name") in projected
        path = mount.get("mountPath", "/")
        if sub and mount.get("name") in projected:
            # A subPath of a projected volume binds the file as it is now: later updates never reach it.
            data = _projected_file(volume, sub)
            if data is not None:
                fs.mount_file(path, data, read_only=True)
            continue
        if sub and sub not in volume.nodes:
            parts = sub.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                volume.nodes.setdefault("/".join(parts[:i]), Node("dir", mode=0o755))
        fs.mount(path, volume, read_only=read_only, sub_path=sub)


def _projected_file(volume: Volume, key: str) -> bytes | None:
    data_link = volume.nodes.get("..data")
    if data_link is None:
        return None
    node = volume.nodes.get(f"{data_link.target}/{key}")
    return node.data if node is not None and node.kind == "file" else None
