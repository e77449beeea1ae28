"""The pod lifecycle as data: each step the kubelet takes, what it costs in simulated time, and what
the pod shows meanwhile (DESIGN decision 5, after kwok's stages).

`STAGES` is the table the pod worker walks: sandbox → image (present, pull, or fail) → create →
start, and on the way down kill → teardown. Each row says how long the step takes, the waiting
reason `kubectl get pods` shows during it, and the event it leaves. Delays that depend on the
image (pull and start times) come from the runtime's catalog; the rest are here. `BACKOFFS` holds
the kubelet's back-off curves (crash loops, image pulls, volume mounts), upstream's numbers.

Read by: every module of cluster.kubelet (the one place a delay is decided), tests. Reads: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float  # how long the step takes on the simulated clock (image steps: see `seconds_for`)
    shows: str  # the container's waiting reason (or the pod's STATUS column) while the step runs
    does: str  # what the kubelet asks of the runtime, in Kubernetes' words


STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("sandbox", 0.5, "ContainerCreating",
          "RunPodSandbox: the pause container, its network namespace and an IP from the node's podCIDR"),
    Stage("mount", 0.0, "ContainerCreating",
          "MountVolume.SetUp for every volume (ConfigMaps, Secrets, emptyDirs, the service-account token)"),
    Stage("image-present", 0.0, "ContainerCreating", "the image is in the node's store: nothing to pull"),
    Stage("pull", 0.0, "ContainerCreating",
          "PullImage through the node's serialized puller (the image's own pull time, from the catalog)"),
    Stage("repull", 0.5, "ContainerCreating",
          "PullImage of an image whose layers the node already has (imagePullPolicy Always)"),
    Stage("pull-failure", 1.2, "ContainerCreating", "PullImage that the registry refuses"),
    Stage("create", 0.1, "ContainerCreating", "CreateContainer: the container's filesystem, mounts and env"),
    Stage("start", 0.0, "ContainerCreating",
          "StartContainer: the image's main process begins (the image's own start time, from the catalog)"),
    Stage("relist", 1.0, "CrashLoopBackOff",
          "PLEG relists containers every second: a failed start shows its back-off at the next sync"),
    Stage("resync", 10.0, "CreateContainerConfigError",
          "a sync that failed is retried after the pod worker's back-off period"),
    Stage("project", 30.0, "Running",
          "a changed ConfigMap or Secret reaches mounted files at the kubelet's next periodic sync"),
    Stage("kill", 0.0, "Terminating", "StopContainer: preStop hook, stop signal, SIGKILL after the grace period"),
    Stage("teardown", 0.3, "Terminating", "StopPodSandbox and RemovePodSandbox: the pod's IP is released"),
)}

MINIMUM_GRACE_PERIOD = 2.0  # kuberuntime never kills a container faster (minimumGracePeriodInSeconds)
STARTUP_WINDOW = 60.0  # a container's own timers are progress during its first minute, keep-alive after
STATUS_RESYNC = 10.0  # the status manager re-posts a status the API server lost


@dataclass(frozen=True)
class Backoff:
    initial: float
    maximum: float

    @property
    def stable_after(self) -> float:
        """flowcontrol.Backoff forgets an entry unused for twice the maximum (a container that ran
        10 minutes restarts at once again)."""
        return 2 * self.maximum


BACKOFFS = {
    "crash": Backoff(10.0, 300.0),  # CrashLoopBackOff: 10 s doubling to 5 min
    "image": Backoff(10.0, 300.0),  # ImagePullBackOff
    "mount": Backoff(0.5, 122.0),  # the volume manager's exponential back-off (500 ms to 2m2s)
}


def seconds_for(stage: str, image_seconds: float = 0.0) -> float:
    """The duration of a step; image-bound steps take the image's own time."""
    if stage in ("pull", "start"):
        return image_seconds
    return STAGES[stage].seconds


class BackoffTable:
    """Per-key back-off, with client-go flowcontrol.Backoff's rules: the first failure waits
    `initial`, each next one twice as long up to `maximum`, and an entry left alone for twice the
    maximum starts over."""

    def __init__(self, curve: Backoff) -> None:
        self.curve = curve
        self._entries: dict[object, tuple[float, float]] = {}  # key → (current back-off, last update)

    def get(self, key: object) -> float:
        return self._entries.get(key, (0.0, 0.0))[0]

    def _expired(self, event_time: float, last_update: float) -> bool:
        return event_time - last_update > self.curve.stable_after

    def in_backoff_since(self, key: object, event_time: float, now: float) -> bool:
        """Is `now` within the back-off window that began at `event_time` (a container's exit)?"""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry[1]):
            return False
        return now - event_time < entry[0] - 1e-9

    def in_backoff_since_update(self, key: object, now: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry[1]):
            return False
        return now - entry[1] < entry[0] - 1e-9

    def until_update(self, key: object) -> float:
        backoff, last = self._entries.get(key, (0.0, 0.0))
        return last + backoff

    def next(self, key: object, event_time: float, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry[1]):
            backoff = self.curve.initial
        else:
            backoff = min(entry[0] * 2, self.curve.maximum)
        self._entries[key] = (backoff, now)

    def forget(self, prefix: object) -> None:
        """Drop every entry of a pod (keys are (pod uid, …))."""
        for key in [k for k in self._entries if isinstance(k, tuple) and k and k[0] == prefix]:
            del self._entries[key]
