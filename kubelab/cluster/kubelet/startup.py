"""SyncPod's way up: volumes, sandbox, then init containers one by one, then the app containers.

`sync_pod(worker)` is one SyncPod, written as a coroutine that yields the simulated seconds each
stage takes (stages.STAGES): mount the volumes (a missing ConfigMap stops here with FailedMount),
create the sandbox (pod IP from the node's podCIDR), then for each container to (re)start: the
crash back-off check, the image (present, pulled through the node's puller, or failing into
ErrImagePull/ImagePullBackOff), the container's config (env from ConfigMaps and Secrets, or
CreateContainerConfigError), create (filesystem, mounts, `Created`) and start (the runtime's
process, `Started`, probes, postStart hook). The events carry the kubelet's exact words.

Read by: kubelet.worker. Reads: images, env, volumes, containers, probes, stages, cluster.runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from kubelab.cluster.kubelet import env as env_vars
from kubelab.cluster.kubelet import images, probes, volumes
from kubelab.cluster.kubelet.containers import Container, Instance, Process, container_id
from kubelab.cluster.kubelet.probes import exec_probe, http_probe
from kubelab.cluster.kubelet.stages import STAGES, seconds_for
from kubelab.cluster.runtime import (
    FileSystem,
    Image,
    ProcessContext,
    StartError,
    kubernetes_hosts,
    kubernetes_resolv_conf,
    start,
)
from kubelab.cluster.scheduling.resources import amount

if TYPE_CHECKING:
    from kubelab.cluster.kubelet.worker import PodWorker

Obj = dict[str, Any]
Steps = Generator[float, None, bool]


def should_restart(worker: PodWorker, c: Container) -> bool:
    """Whether a finished container runs again under its restart policy."""
    if c.current is None or not c.current.finished:
        return True
    if c.force_restart or c.kind == "sidecar":
        return True
    policy = worker.restart_policy
    if c.kind == "init":
        return policy != "Never" and c.current.exit_code != 0
    return policy == "Always" or (policy == "OnFailure" and c.current.exit_code != 0)


def sync_pod(w: PodWorker) -> Steps:
    """One SyncPod. Returns True when another sync may do more at once."""
    if w.volumes is None and not mount_volumes(w):
        return False
    if not w.sandbox_ready:
        yield seconds_for("sandbox")
        if not create_sandbox(w):
            return False
    for c in w.apps:
        if c.running and c.spec.get("image", "") != c.spec_image and not c.stopping:
            from kubelab.cluster.kubelet import termination

            c.force_restart = True
            termination.kill_container(w, c, float(w.spec.get("terminationGracePeriodSeconds", 30)),
                                       f"Container {c.name} definition changed, will be restarted", w.request_sync)
    initialized = any(c.current is not None for c in w.apps)  # init containers never run twice
    for c in w.inits:
        if c.kind == "sidecar":
            if c.running or c.stopping:
                if not c.started and not initialized:
                    return False  # the next init container waits for this sidecar's startup probe
                continue
            started = yield from start_container(w, c)
            if (not started or not c.started) and not initialized:
                return False
            continue
        if c.succeeded or initialized:
            continue
        if c.running or c.stopping or not should_restart(w, c):
            return False
        yield from start_container(w, c)
        return False  # one init container at a time: the next sync starts the next
    for c in w.apps:
        if c.running or c.stopping or not should_restart(w, c):
            continue
        yield from start_container(w, c)
    return False


# ---------------------------------------------------------------------------------- volumes
def facts(w: PodWorker) -> dict[str, Any]:
    return {"pod_ip": w.pod_ip, "host_ip": w.kubelet.host_ip, "allocatable": w.kubelet.allocatable,
            "now": w.clock.now()}


def mount_volumes(w: PodWorker) -> bool:
    try:
        w.volumes = volumes.setup(w.cluster.store, w.pod, w.kubelet.shared, w.kubelet.node, facts(w))
    except volumes.MountError as err:
        _watch_sources(w, w.pod)
        w.mount_failures += 1
        failures = w.mount_failures
        w.event("Warning", "FailedMount", str(err))
        curve = w.kubelet.backoffs["mount"].curve
        delay = min(curve.initial * 2 ** (failures - 1), curve.maximum)
        w.later("mount", w.now + delay, background=True)
        return False
    w.kubelet.watch_sources(w, w.volumes.watched)
    return True


def _watch_sources(w: PodWorker, pod: Obj) -> None:
    """Wake this pod when a ConfigMap or Secret its volumes name appears."""
    wanted = set()
    namespace = pod["metadata"]["namespace"]
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        if "configMap" in volume:
            wanted.add(("configmaps", namespace, volume["configMap"].get("name", "")))
        if "secret" in volume:
            wanted.add(("secrets", namespace, volume["secret"].get("secretName", "")))
        for source in (volume.get("projected") or {}).get("sources") or ():
            if "configMap" in source:
                wanted.add(("configmaps", namespace, source["configMap"].get("name", "")))
            if "secret" in source:
                wanted.add(("secrets", namespace, source["secret"].get("name", "")))
        if "persistentVolumeClaim" in volume:
            wanted.add(("persistentvolumeclaims", namespace, volume["persistentVolumeClaim"].get("claimName", "")))
    w.kubelet.watch_sources(w, wanted)


def create_sandbox(w: PodWorker) -> bool:
    if w.spec.get("hostNetwork"):
        w.pod_ip = w.kubelet.host_ip
    else:
        ip = w.kubelet.ipam.allocate(w.uid)
        if ip is None:
            w.event("Warning", "FailedCreatePodSandBox",
                    "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for "
                    'sandbox: plugin type="ptp" failed (add): failed to allocate for range 0: no IP addresses '
                    f"available in range set: {w.kubelet.ipam.range_text}")
            w.later("sandbox", w.now + STAGES["resync"].seconds, background=True)
            return False
        w.pod_ip = ip
    w.sandbox_ready = True
    w.listening = {}
    return True


# -------------------------------------------------------------------------------- containers
def start_container(w: PodWorker, c: Container) -> Steps:
    """Back-off check, image, config, create, start. Returns True once the process runs."""
    kubelet, now = w.kubelet, w.clock.now()
    if c.current is not None and c.current.finished:
        backoff = kubelet.backoffs["crash"]
        key = (w.uid, c.name)
        finished = c.current.finished_at or now
        if backoff.in_backoff_since(key, finished, now):
            delay = backoff.get(key)
            c.waiting = ("CrashLoopBackOff", f"back-off {images.go_duration(delay)} restarting failed "
                                             f"container={c.name} pod={w.ref}")
            w.event("Warning", "BackOff", f"Back-off restarting failed container {c.name} in pod {w.ref}", c)
            w.later(f"restart:{c.name}", finished + delay, background=True)
            return False
        backoff.next(key, finished, now)
    image = images.present_image(w, c)  # most starts: the image is on the node (no generator needed)
    if image is None:
        image = yield from images.ensure_image(w, c)
    if image is None:
        return False
    try:
        env = env_vars.container_env(w.cluster.store, w.pod, c.spec, services=kubelet.services(w.key[0]),
                                     pod_ip=w.pod_ip, host_ip=kubelet.host_ip, allocatable=kubelet.allocatable)
        ctx_user, groups = security(w.spec, c.spec)
        _check_non_root(w, c, image, ctx_user)
    except env_vars.ConfigError as err:
        _watch_env_sources(w, c)
        c.waiting = ("CreateContainerConfigError", str(err))
        w.event("Warning", "Failed", f"Error: {err}", c)
        w.later(f"config:{c.name}", w.now + STAGES["resync"].seconds, background=True)
        return False
    argv = env_vars.command_line(c.spec, image.entrypoint, image.cmd, env)
    yield seconds_for("create")
    instance = create(w, c, image, env, ctx_user, groups)
    w.event("Normal", "Created", "Container created", c)
    if not w.created_containers:
        w.created_containers = True
        w.trace("asked the container runtime to create containers for",
                ", ".join(f"{x.name}: {x.spec.get('image', '')}" for x in (*w.inits, *w.apps)))
    yield seconds_for("start", image.start_seconds)
    if instance is not c.current or w.terminating:
        return False
    return run(w, c, instance, argv)


def security(pod_spec: Obj, container: Obj) -> tuple[str | None, tuple[int, ...]]:
    """(runAsUser[:runAsGroup] or None for the image's USER, supplementary groups) from securityContexts."""
    pod_sc, own = pod_spec.get("securityContext") or {}, container.get("securityContext") or {}
    user = own.get("runAsUser", pod_sc.get("runAsUser"))
    group = own.get("runAsGroup", pod_sc.get("runAsGroup"))
    spec = None
    if user is not None:
        spec = f"{user}:{group}" if group is not None else str(user)
    groups = tuple(pod_sc.get("supplementalGroups") or ()) + ((pod_sc["fsGroup"],) if "fsGroup" in pod_sc else ())
    return spec, groups


def _check_non_root(w: PodWorker, c: Container, image: Image, user: str | None) -> None:
    own, pod_sc = c.spec.get("securityContext") or {}, w.spec.get("securityContext") or {}
    if not own.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
        return
    name = (user or image.user or "0").partition(":")[0]
    where = f'(pod: "{w.ref}", container: {c.name})'
    if not name.isdigit():
        raise env_vars.ConfigError(f"container has runAsNonRoot and image has non-numeric user ({name}), "
                                   f"cannot verify user is non-root {where}")
    if int(name) == 0:
        raise env_vars.ConfigError(f"container has runAsNonRoot and image will run as root {where}")


def _watch_env_sources(w: PodWorker, c: Container) -> None:
    namespace = w.key[0]
    wanted = set()
    for source in c.spec.get("envFrom") or ():
        for field, resource in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
            if field in source:
                wanted.add((resource, namespace, source[field].get("name", "")))
    for var in c.spec.get("env") or ():
        source = var.get("valueFrom") or {}
        for field, resource in (("configMapKeyRef", "configmaps"), ("secretKeyRef", "secrets")):
            if field in source:
                wanted.add((resource, namespace, source[field].get("name", "")))
    w.kubelet.watch_sources(w, wanted)


def create(w: PodWorker, c: Container, image: Image, env: dict[str, str], user: str | None,
           groups: tuple[int, ...]) -> Instance:
    """CreateContainer: the instance, its filesystem with the kubelet's files and the pod's volumes."""
    kubelet, now = w.kubelet, w.clock.now()
    attempt = c.restart_count + (1 if c.current is not None else 0)
    instance = Instance(container_id(w.uid, c.name, attempt), attempt, image, now, kubelet.runtime)
    spec = w.spec
    hostname = spec.get("hostname") or w.key[1]
    fqdn = f"{hostname}.{spec['subdomain']}.{w.key[0]}.svc.cluster.local" if spec.get("subdomain") else ""
    host_aliases = spec.get("hostAliases")
    aliases = (tuple(f"{a.get('ip')}\t{chr(9).join(a.get('hostnames') or ())}" for a in host_aliases)
               if host_aliases else ())
    files = {"/etc/hostname": hostname + "\n",
             "/etc/hosts": kubernetes_hosts(w.pod_ip, hostname, subdomain_fqdn=fqdn, aliases=aliases),
             "/etc/resolv.conf": kubernetes_resolv_conf(w.key[0])}
    fs = kubelet.images.filesystem(image, now, c.mountpoints(), files)
    fs.now = w.clock.now
    if w.volumes is not None:
        volumes.mount_all(fs, c.spec, w.volumes, w.pod)
    if (c.spec.get("securityContext") or {}).get("readOnlyRootFilesystem"):
        fs.mounts[0].read_only = True
    instance.fs = fs
    instance.clock = clock = w.clock
    instance.ctx = ProcessContext(
        env=env, fs=fs, hostname=hostname, now=clock.now, stdout=instance.stdout, stderr=instance.stderr,
        network=_network_for(kubelet.network(), w.pod_ip), listening=w.listening, user=user, groups=groups,
        pod_ip=w.pod_ip,
        workdir=c.spec.get("workingDir") or "")
    c.new_instance(instance)
    c.spec_image = c.spec.get("image", "")
    c.force_restart = False
    c.waiting = None
    w.release_previous(c)
    return instance


def memory_limit(container: Obj) -> int | None:
    value = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    return amount("memory", value) if value is not None else None


def run(w: PodWorker, c: Container, instance: Instance, argv: list[str]) -> bool:
    """StartContainer: the main process runs; a runtime refusal is a StartError (exit 128)."""
    assert instance.ctx is not None
    try:
        gen = start(argv, instance.image, instance.ctx)
    except StartError as err:
        instance.reason, instance.message = "StartError", str(err)
        c.waiting = ("RunContainerError", str(err))
        w.event("Warning", "Failed", f"Error: {err}", c)
        waiting = c.waiting
        w.container_exited(c, instance, StartError.exit_code)
        c.waiting = waiting
        return False
    instance.started_at = w.clock.now()
    instance.user = w.kubelet.images.user(instance.image, instance.ctx)
    w.event("Normal", "Started", "Container started", c)
    hooks = _Hooks(w, c, instance)
    process = Process(w.clock, gen, hooks.exited, background=instance.settled, on_error=hooks.failed)
    limit = memory_limit(c.spec)
    if limit is not None and instance.fs is not None:
        process.on_step = _oom_check(instance, instance.fs, limit, process)
    instance.process = process
    probes.start(w, c, instance)
    process.begin()
    if instance.running:
        post_start(w, c, instance)
    return instance.running


def _runtime_failed(w: PodWorker, c: Container, err: Exception) -> None:
    w.cluster.trace_log.add("kubelet", "container runtime failed", w.pod, f"{c.name}: {err!r}")


class _Hooks:
    """A container process's exit and failure callbacks, as bound methods of one small object: two
    closures (and the cells `run` then needed for every variable they read) cost more per start."""

    __slots__ = ("w", "c", "instance")

    def __init__(self, w: PodWorker, c: Container, instance: Instance) -> None:
        self.w, self.c, self.instance = w, c, instance

    def exited(self, code: int) -> None:
        self.w.container_exited(self.c, self.instance, code)

    def failed(self, err: Exception) -> None:
        _runtime_failed(self.w, self.c, err)


def _oom_check(instance: Instance, fs: FileSystem, limit: int, process: Process) -> Callable[[], None]:
    """Kill the process (137, OOMKilled) once its container's working set passes the memory limit."""
    def oom_check() -> None:
        if fs.procs.memory_bytes() > limit:
            instance.oom = True
            process.kill(137)

    return oom_check


def post_start(w: PodWorker, c: Container, instance: Instance) -> None:
    hook = (c.spec.get("lifecycle") or {}).get("postStart")
    if not hook:
        return
    ok = run_hook(w, c, instance, hook)
    if not ok:
        from kubelab.cluster.kubelet import termination

        w.event("Warning", "FailedPostStartHook", "PostStartHook failed", c)
        termination.kill_container(w, c, float(w.spec.get("terminationGracePeriodSeconds", 30)),
                                   "FailedPostStartHook", w.request_sync)


def run_hook(w: PodWorker, c: Container, instance: Instance, hook: Obj, timeout: float = 30.0) -> bool:
    """A lifecycle handler run at once (exec in the container, or an HTTP GET to it)."""
    if "exec" in hook:
        ok, _ = exec_probe(list(hook["exec"].get("command") or []), instance, timeout, w.now)
        return ok
    if "httpGet" in hook:
        ok, _ = http_probe(hook["httpGet"], c.spec, w.listening, w.pod_ip, w.kubelet.probe_source)
        return ok
    return True


def _network_for(network: Any, pod_ip: str | None) -> Any:
    """The cluster network as seen from this pod (its address is the source of its requests)."""
    for_pod = getattr(network, "for_pod", None)
    return for_pod(pod_ip) if for_pod is not None and pod_ip else network
