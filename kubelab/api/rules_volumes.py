"""Pod volume validation (ValidateVolumes): one source per volume, unique DNS-label names.

The sources a course uses are checked in depth (emptyDir, hostPath, configMap, secret,
persistentVolumeClaim, downwardAPI, projected, nfs, csi, ephemeral, image); the others are
counted, so "may not specify more than 1 volume type" and "must specify a volume type" come
out exactly as apiserver words them, with its field paths (even its `downwarAPI` typo).

Read by: api.rules_pod. Reads: api.rules, api._quantity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubelab.api import _quantity
from kubelab.api.rules import Errors, dns_label, duplicate, forbidden, invalid, not_supported, required

# validateVolumeSource's order, with the path name its "more than 1" error uses when it differs.
SOURCES = (("emptyDir", "emptyDir"), ("hostPath", "hostPath"), ("gitRepo", "gitRepo"),
           ("gcePersistentDisk", "gcePersistentDisk"), ("awsElasticBlockStore", "awsElasticBlockStore"),
           ("secret", "secret"), ("nfs", "nfs"), ("iscsi", "iscsi"), ("glusterfs", "glusterfs"),
           ("flocker", "flocker"), ("persistentVolumeClaim", "persistentVolumeClaim"), ("rbd", "rbd"),
           ("cinder", "cinder"), ("cephfs", "cephFS"), ("quobyte", "quobyte"), ("downwardAPI", "downwarAPI"),
           ("fc", "fc"), ("flexVolume", "flexVolume"), ("configMap", "configMap"), ("azureFile", "azureFile"),
           ("vsphereVolume", "vsphereVolume"), ("photonPersistentDisk", "photonPersistentDisk"),
           ("portworxVolume", "portworxVolume"), ("azureDisk", "azureDisk"), ("storageos", "storageos"),
           ("projected", "projected"), ("scaleIO", "scaleIO"), ("csi", "csi"), ("ephemeral", "ephemeral"),
           ("image", "image"))
_ORDER = {key: (i, error_name) for i, (key, error_name) in enumerate(SOURCES)}
HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate",
                   "Socket")
FILE_MODE = "must be a number between 0 and 0777 (octal), both inclusive"


def _mode(mode: Any, path: str, errs: Errors) -> None:
    if mode is not None and not 0 <= mode <= 0o777:
        errs.append(invalid(path, mode, FILE_MODE))


def _relative_path_errors(target: str) -> list[str]:
    errors = []
    if target.startswith("/"):
        errors.append("must be a relative path")
    parts = target.split("/")
    if ".." in parts:
        errors.append("must not contain '..'")
    elif target.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _items(items: Iterable[dict[str, Any]], path: str, errs: Errors) -> None:
    for i, item in enumerate(items):
        here = f"{path}[{i}]"
        if not item.get("key"):
            errs.append(required(f"{here}.key"))
        target = item.get("path", "")
        if not target:
            errs.append(required(f"{here}.path"))
        else:
            errs.extend(invalid(f"{here}.path", target, m) for m in _relative_path_errors(target))
        _mode(item.get("mode"), f"{here}.mode", errs)


def _source(kind: str, source: dict[str, Any], path: str, is_pod: bool, errs: Errors) -> None:
    if kind == "emptyDir":
        limit = source.get("sizeLimit")
        if limit is not None:
            try:
                negative = _quantity.parse_json(limit).value < 0
            except _quantity.QuantityError:
                negative = False
            if negative:
                errs.append(forbidden(f"{path}.sizeLimit", "SizeLimit field must be a valid resource quantity"))
    elif kind == "hostPath":
        if not source.get("path"):
            errs.append(required(f"{path}.path"))
            return
        if ".." in source["path"].split("/"):
            errs.append(invalid(f"{path}.path", source["path"], "must not contain '..'"))
        kind_type = source.get("type")
        if kind_type is not None and kind_type not in HOST_PATH_TYPES:
            errs.append(not_supported(f"{path}.type", kind_type, HOST_PATH_TYPES))
    elif kind in ("secret", "configMap"):
        key = "secretName" if kind == "secret" else "name"
        if not source.get(key):
            errs.append(required(f"{path}.{key}"))
        _mode(source.get("defaultMode"), f"{path}.defaultMode", errs)
        _items(source.get("items") or (), f"{path}.items", errs)
    elif kind == "persistentVolumeClaim":
        if not source.get("claimName"):
            errs.append(required(f"{path}.claimName"))
    elif kind == "nfs":
        if not source.get("server"):
            errs.append(required(f"{path}.server"))
        nfs_path = source.get("path", "")
        if not nfs_path:
            errs.append(required(f"{path}.path"))
        elif not nfs_path.startswith("/"):
            errs.append(invalid(f"{path}.path", nfs_path, "must be an absolute path"))
    elif kind == "downwardAPI":
        _mode(source.get("defaultMode"), f"{path}.defaultMode", errs)
        for i, item in enumerate(source.get("items") or ()):
            target = item.get("path", "")
            here = f"{path}.items[{i}]"
            if not target:
                errs.append(required(f"{here}.path"))
            else:
                errs.extend(invalid(f"{here}.path", target, m) for m in _relative_path_errors(target))
    elif kind == "projected":
        _mode(source.get("defaultMode"), f"{path}.defaultMode", errs)
        for i, projection in enumerate(source.get("sources") or ()):
            here = f"{path}.sources[{i}]"
            for sub in ("secret", "configMap"):
                if sub in projection:
                    _items(projection[sub].get("items") or (), f"{here}.{sub}.items", errs)
    elif kind == "csi":
        if not source.get("driver"):
            errs.append(required(f"{path}.driver"))
    elif kind == "ephemeral":
        if not source.get("volumeClaimTemplate"):
            errs.append(required(f"{path}.volumeClaimTemplate"))
    elif kind == "image":
        if is_pod and not source.get("reference"):
            errs.append(required(f"{path}.reference"))


def validate_volumes(volumes: list[dict[str, Any]] | None, path: str, is_pod: bool, errs: Errors) -> dict[str, Any]:
    """ValidateVolumes: returns the valid volumes by name, for volumeMounts to refer to."""
    found: dict[str, Any] = {}
    for i, volume in enumerate(volumes or ()):
        here = f"{path}[{i}]"
        volume_errs: Errors = []
        count = 0
        present = sorted((_ORDER[key], key) for key in volume if key in _ORDER and volume[key] is not None)
        for (_, error_name), key in present:
            source = volume[key]
            if count:
                volume_errs.append(forbidden(f"{here}.{error_name}", "may not specify more than 1 volume type"))
                continue
            count += 1
            _source(key, source, f"{here}.{key}", is_pod, volume_errs)
        if count == 0:
            volume_errs.append(required(here, "must specify a volume type"))
        name = volume.get("name", "")
        if not name:
            volume_errs.append(required(f"{here}.name"))
        else:
            volume_errs.extend(invalid(f"{here}.name", name, m) for m in dns_label(name))
        if name in found:
            volume_errs.append(duplicate(f"{here}.name", name))
        if volume_errs:
            errs.extend(volume_errs)
        else:
            found[name] = volume
    return found

