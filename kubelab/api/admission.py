"""Mutating admission for new Pods: what kube-apiserver's default plugins add on CREATE.

`admit_pod(pod, rng)` runs, in upstream's order, the ServiceAccount plugin (serviceAccountName
`default`, the projected `kube-api-access-xxxxx` token volume mounted into every container, the
account's imagePullSecrets), DefaultTolerationSeconds (300s for not-ready/unreachable nodes) and
Priority (priority and preemptionPolicy from the PriorityClass, 0/PreemptLowerPriority without one).
Only Pods are admitted this way; pod templates in workloads are left as written. Randomness (the
volume's suffix) comes from the caller's seeded generator.

Read by: api.defaults (re-export), cluster.apiserver. Reads: api.names, api.errors.
"""

from __future__ import annotations

from typing import Any

from kubelab.api.errors import ApiError
from kubelab.api.names import random_suffix

Obj = dict[str, Any]

DEFAULT_SERVICE_ACCOUNT = "default"
TOKEN_VOLUME_PREFIX = "kube-api-access-"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
# One hour plus 7 seconds: kube-apiserver's marker for tokens that only warn when used after 1h.
TOKEN_EXPIRATION_SECONDS = 3607
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
DEFAULT_TOLERATION_SECONDS = 300
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
DEFAULT_PREEMPTION_POLICY = "PreemptLowerPriority"


def admit_pod(
    pod: Obj,
    rng: Any,
    *,
    service_account: Obj | None = None,
    priority_classes: dict[str, Obj] | None = None,
) -> str | None:
    """Mutate a Pod being created as the default admission chain would; return the token volume name
    drawn from `rng` for it (None when none was drawn), the one per-pod part api.podspecs replays.

    `rng` is the cluster's seeded `random.Random`; `service_account` the pod's ServiceAccount object
    when the caller has it (its `automountServiceAccountToken` and `imagePullSecrets` matter);
    `priority_classes` maps names to PriorityClass objects besides the two built-in system classes.
    Raises the Forbidden errors the Priority plugin raises.
    """
    if not isinstance(pod, dict):
        return None
    spec = pod.setdefault("spec", {})
    if not isinstance(spec, dict):
        return None
    meta: Obj = pod["metadata"] if isinstance(pod.get("metadata"), dict) else {}
    drawn = None
    if MIRROR_POD_ANNOTATION not in (meta.get("annotations") or {}):
        drawn = _service_account(spec, rng, service_account or {})
    _default_toleration_seconds(spec)
    _priority(meta, spec, priority_classes or {})
    return drawn


# ---------------------------------------------------------------- ServiceAccount
def _service_account(spec: Obj, rng: Any, account: Obj) -> str | None:
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
    spec["serviceAccount"] = spec["serviceAccountName"]  # the deprecated alias mirrors it
    # The pod's own preference wins, then the account's; mounting is the default.
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = account.get("automountServiceAccountToken")
    drawn = _mount_token(spec, rng) if automount is not False else None
    if not spec.get("imagePullSecrets") and account.get("imagePullSecrets"):
        spec["imagePullSecrets"] = [{"name": ref.get("name")} for ref in account["imagePullSecrets"]
                                    if isinstance(ref, dict)]
    return drawn


def _mount_token(spec: Obj, rng: Any) -> str | None:
    volumes: list[Any] = spec["volumes"] if isinstance(spec.get("volumes"), list) else []
    existing: str | None = next((v["name"] for v in volumes if isinstance(v, dict)
                                 and str(v.get("name", "")).startswith(TOKEN_VOLUME_PREFIX)), None)
    name = existing
    needed = False
    for field in ("initContainers", "containers"):
        containers = spec.get(field)
        for container in containers if isinstance(containers, list) else ():
            if not isinstance(container, dict):
                continue
            mounts = container.get("volumeMounts")
            if not isinstance(mounts, list):
                mounts = []
            # A container that already mounts something at the token path keeps it.
            if any(isinstance(m, dict) and m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
                continue
            if name is None:
                name = TOKEN_VOLUME_PREFIX + random_suffix(rng)
            mounts.append({"mountPath": TOKEN_MOUNT_PATH, "name": name, "readOnly": True})
            container["volumeMounts"] = mounts
            needed = True
    if needed and existing is None and name is not None:
        volumes.append(token_volume(name))
        spec["volumes"] = volumes
    return name if existing is None else None


def token_volume(name: str) -> Obj:
    """The projected volume holding the bound token, the cluster CA and the namespace."""
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [
                    {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}},
            ],
        },
    }


# ---------------------------------------------------------------- DefaultTolerationSeconds
def _default_toleration_seconds(spec: Obj) -> None:
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    tolerated = {NOT_READY_TAINT: False, UNREACHABLE_TAINT: False}
    for toleration in tolerations:
        if not isinstance(toleration, dict):
            continue
        # An empty key (with Exists) tolerates every taint; an empty effect every effect.
        if toleration.get("effect") not in (None, "", "NoExecute"):
            continue
        for taint in tolerated:
            if toleration.get("key") in (None, "", taint):
                tolerated[taint] = True
    for taint, done in tolerated.items():
        if not done:
            tolerations.append({"effect": "NoExecute", "key": taint, "operator": "Exists",
                                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS})
    spec["tolerations"] = tolerations


# ---------------------------------------------------------------- Priority
def _priority(meta: Obj, spec: Obj, classes: dict[str, Obj]) -> None:
    name = spec.get("priorityClassName") or ""
    policy: str | None = DEFAULT_PREEMPTION_POLICY
    if not name:
        default = _global_default(classes)
        if default is None:
            value = 0
        else:
            name, value, policy = default["metadata"]["name"], default.get("value", 0), \
                default.get("preemptionPolicy", DEFAULT_PREEMPTION_POLICY)
            spec["priorityClassName"] = name
    elif name in SYSTEM_PRIORITY_CLASSES:
        value = SYSTEM_PRIORITY_CLASSES[name]
    elif name in classes:
        value = classes[name].get("value", 0)
        policy = classes[name].get("preemptionPolicy", DEFAULT_PREEMPTION_POLICY)
    else:
        raise _forbidden(meta, f"no PriorityClass with name {name} was found")
    given = spec.get("priority")
    if given is not None and given != value:
        raise _forbidden(meta, f"the integer value of priority ({given}) must not be provided in pod spec; "
                               f"priority admission controller computed {value} from the given PriorityClass name")
    spec["priority"] = value
    if policy is not None:
        given_policy = spec.get("preemptionPolicy")
        if given_policy is not None and given_policy != policy:
            raise _forbidden(meta, f"the string value of PreemptionPolicy ({given_policy}) must not be provided in "
                                   f"pod spec; priority admission controller computed {policy} from the given "
                                   "PriorityClass name")
        spec["preemptionPolicy"] = policy


def _global_default(classes: dict[str, Obj]) -> Obj | None:
    """The PriorityClass marked globalDefault (the lowest value wins if several claim it)."""
    defaults = [pc for pc in classes.values() if isinstance(pc, dict) and pc.get("globalDefault")]
    return min(defaults, key=lambda pc: pc.get("value", 0)) if defaults else None


def _forbidden(meta: Obj, reason: str) -> ApiError:
    name = meta.get("name") or meta.get("generateName") or ""
    return ApiError("Forbidden", f'pods "{name}" is forbidden: {reason}', details={"name": name, "kind": "pods"})
