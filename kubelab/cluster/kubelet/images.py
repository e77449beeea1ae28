"""One node's image store: which images it has, its serialized puller, and the kubelet's pull messages.

The store starts with the pause image (kind and minikube nodes have it preloaded) and gains an
image when a pull finishes. Pulls are serialized, as the kubelet's default `serializeImagePulls`
makes them: a pull waits for the one before it, which is what the "(… including waiting)" part
of the `Pulled` event measures. Unknown images fail with containerd's message from the runtime
catalog. Each pulled image also keeps an unpacked filesystem whose nodes its containers share
copy-on-write instead of a fresh build — containerd's snapshots, and much cheaper for thousands of pods.

`present_image` and `ensure_image` are SyncPod's image step (events, back-off, ErrImagePull…).

Read by: kubelet.startup (image and create steps), kubelet.agent, kubelet.worker. Reads: cluster.runtime, stages.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from kubelab.cluster.kubelet.stages import STAGES, seconds_for
from kubelab.cluster.runtime import (
    FileSystem,
    Image,
    ProcessContext,
    Volume,
    container_fs,
    lookup,
    parse_reference,
    pull_failure,
)
from kubelab.cluster.runtime.filesystem import Node
from kubelab.cluster.runtime.runner import credentials
from kubelab.cluster.runtime.volumes import SharedNode

if TYPE_CHECKING:
    from kubelab.cluster.kubelet.containers import Container
    from kubelab.cluster.kubelet.worker import PodWorker

PRELOADED = ("registry.k8s.io/pause:3.10",)


@dataclass(frozen=True)
class PullResult:
    """A pull as the node's puller schedules it: when it finishes, and the kubelet's words for it."""

    started_at: float  # when the puller took it (after the pulls queued before it)
    done_at: float
    image: Image | None
    error: str = ""  # `rpc error: code = … desc = …` when the registry refuses

    @property
    def ok(self) -> bool:
        return self.image is not None


def go_duration(seconds: float) -> str:
    """A Go time.Duration truncated to milliseconds, as the kubelet prints it: `2.1s`, `520ms`, `1m5.2s`."""
    millis = int(round(seconds * 1000))  # whole milliseconds (the simulated clock's floats carry noise)
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    minutes, rest = divmod(millis, 60_000)
    text = f"{rest // 1000}.{rest % 1000:03d}".rstrip("0").rstrip(".") + "s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        text = (f"{hours}h" if hours else "") + f"{minutes}m" + text
    return text


class ImageStore:
    def __init__(self) -> None:
        self._images: dict[str, Image | None] = {}  # what a reference resolves to (catalog look-ups are deep copies)
        self.present: dict[str, float] = {}  # canonical reference → when its pull finished
        self.free_at = 0.0  # when the serialized puller takes the next pull
        # an image's unpacked filesystem, and the mount points already made in it
        self._templates: dict[str, tuple[FileSystem, set[str]]] = {}
        # the last node of each kubelet file (/etc/hosts…): (instant, text, node)
        self._last_files: dict[str, tuple[float, str, Node]] = {}
        self._users: dict[tuple, dict] = {}
        for ref in PRELOADED:
            image = self.resolve(ref)
            if image is not None:
                self.present[image.reference] = 0.0

    def resolve(self, ref: str) -> Image | None:
        if ref not in self._images:
            self._images[ref] = lookup(ref)
        return self._images[ref]

    def remember(self, ref: str) -> None:
        """An image the node had before the kubelet restarted (a cluster reopened from its state file)."""
        image = self.resolve(ref)
        if image is not None:
            self.present.setdefault(image.reference, 0.0)

    def has(self, image: Image, now: float) -> bool:
        done = self.present.get(image.reference)
        return done is not None and done <= now

    def pull(self, ref: str, now: float) -> PullResult:
        """Queue a pull of `ref` behind the node's other pulls; the image is present once it is done."""
        image = self.resolve(ref)
        start = max(now, self.free_at)
        if image is None:
            done = start + seconds_for("pull-failure")
            self.free_at = done
            code, message = pull_failure(ref)
            return PullResult(start, done, None, f"rpc error: code = {code} desc = {message}")
        known = image.reference in self.present  # layers on disk, or a pull of them already queued
        done = start + (seconds_for("repull") if known else seconds_for("pull", image.pull_seconds))
        self.free_at = done
        self.present[image.reference] = min(self.present.get(image.reference, done), done)
        return PullResult(start, done, image)

    def filesystem(self, image: Image, now: float, mountpoints: tuple[str, ...] = (),
                   files: dict[str, str] | None = None) -> FileSystem:
        """A container's root filesystem: the image's unpacked snapshot, shared copy-on-write, with the
        directories its volumes mount on already made (once per image, not once per container) and
        the kubelet's own `files` (/etc/hosts…) in place. A kubelet file equal to the last one written
        at the same instant (resolv.conf of a namespace, /etc/hosts of a pod's containers) is that
        node, shared copy-on-write as the image's are (a `SharedNode`)."""
        found = self._templates.get(image.reference)
        if found is None:
            template = container_fs(image, hostname="localhost", now=now)
            found = self._templates[image.reference] = (template, set())
        template, made = found
        for path in mountpoints:
            if path not in made:
                if not template.exists(path):
                    template.mkdir(path, parents=True, force=True)
                made.add(path)
        root = Volume.layered(template.root.nodes)  # the image's nodes, copied only when written
        if files:
            nodes, last = root.nodes, self._last_files
            for path, text in files.items():
                seen = last.get(path)
                if seen is not None and seen[0] == now and seen[1] == text:
                    node = seen[2]
                else:
                    node = SharedNode("file", text.encode(), 0o644, 0, 0, now)  # positional: cheaper
                    last[path] = (now, text, node)
                nodes[path[1:]] = node
        return FileSystem(root)

    def user(self, image: Image, ctx: ProcessContext) -> dict:
        """The container's `user` status (uid, gid, supplementalGroups), read once per image and securityContext."""
        key = (image.reference, ctx.user, ctx.groups)
        found = self._users.get(key)
        if found is None:
            cred, _ = credentials(image, ctx)
            found = self._users[key] = {"linux": {"uid": cred.uid, "gid": cred.gids[0] if cred.gids else 0,
                                                  "supplementalGroups": list(cred.gids)}}
        return found


def canonical(ref: str) -> str:
    """`nginx` → `docker.io/library/nginx:latest` (what containerd reports as the container's image)."""
    try:
        repository, tag, digest = parse_reference(ref)
    except ValueError:
        return ref
    return f"{repository}:{tag}" if tag else f"{repository}@{digest}"


@lru_cache(maxsize=1024)  # a pure function of the text, asked at every container start
def invalid_reference(ref: str) -> str | None:
    """The kubelet's InvalidImageName message, or None for a well-formed reference."""
    try:
        parse_reference(ref)
    except ValueError as err:
        return f'Failed to apply default image tag "{ref}": couldn\'t parse image name "{ref}": {err}'
    return None


def pulled_message(ref: str, image: Image, pull_seconds: float, waited_seconds: float) -> str:
    return (f'Successfully pulled image "{ref}" in {go_duration(pull_seconds)} '
            f"({go_duration(waited_seconds)} including waiting). Image size: {image.size_bytes} bytes.")


@lru_cache(maxsize=256)  # one text per image, in every pod's `Pulled` event: one string for all of them
def present_message(ref: str) -> str:
    return f'Container image "{ref}" already present on machine and can be accessed by the pod'


def never_pull_message(ref: str) -> str:
    return f'Container image "{ref}" is not present with pull policy of Never'


# ------------------------------------------------------------------ the kubelet's image step
def present_image(w: PodWorker, c: Container) -> Image | None:
    """The image when the node has it and the pull policy takes it as it is (`Pulled`, already
    present), else None: then `ensure_image` decides, its events included."""
    ref = c.spec.get("image", "")
    if c.spec.get("imagePullPolicy") not in (None, "", "IfNotPresent", "Never") or invalid_reference(ref):
        return None
    store = w.kubelet.images
    image = store.resolve(ref)
    if image is None or not store.has(image, w.clock.now()):
        return None
    w.event("Normal", "Pulled", present_message(ref), c)
    return image


def ensure_image(w: PodWorker, c: Container) -> Generator[float, None, Image | None]:
    """The whole image step (present_image's case included): the image, or None with the container
    waiting (InvalidImageName, ErrImageNeverPull, ImagePullBackOff, ErrImagePull); yields a pull's seconds."""
    ref = c.spec.get("image", "")
    store, now = w.kubelet.images, w.now
    bad = invalid_reference(ref)
    if bad is not None:
        c.waiting = ("InvalidImageName", bad)
        w.event("Warning", "InspectFailed", bad, c)
        w.event("Warning", "Failed", "Error: InvalidImageName", c)
        return None
    policy = c.spec.get("imagePullPolicy") or "IfNotPresent"
    image = store.resolve(ref)
    present = image is not None and store.has(image, now)
    if policy == "Never" or (policy == "IfNotPresent" and present):
        if present:
            w.event("Normal", "Pulled", present_message(ref), c)
            return image
        message = never_pull_message(ref)
        c.waiting = ("ErrImageNeverPull", message)
        w.event("Warning", "ErrImageNeverPull", message, c)
        w.event("Warning", "Failed", "Error: ErrImageNeverPull", c)
        w.later(f"image:{c.name}", now + STAGES["resync"].seconds, background=True)
        return None
    backoff = w.kubelet.backoffs["image"]
    key = (w.uid, ref)
    if backoff.in_backoff_since_update(key, now):
        message = f'Back-off pulling image "{ref}"'
        w.event("Normal", "BackOff", message, c)
        w.event("Warning", "Failed", "Error: ImagePullBackOff", c)
        previous = w.pull_errors.get(ref)
        c.waiting = ("ImagePullBackOff", f"{message}: {previous}" if previous else message)
        w.later(f"image:{c.name}", backoff.until_update(key), background=True)
        return None
    w.event("Normal", "Pulling", f'Pulling image "{ref}"', c)
    result = store.pull(ref, now)
    yield result.done_at - now
    if not result.ok:
        w.event("Warning", "Failed", f'Failed to pull image "{ref}": {result.error}', c)
        w.event("Warning", "Failed", "Error: ErrImagePull", c)
        backoff.next(key, w.now, w.now)
        w.pull_errors[ref] = f"ErrImagePull: {result.error}"
        c.waiting = ("ErrImagePull", result.error)
        w.later(f"image:{c.name}", w.now + STAGES["relist"].seconds)
        return None
    w.pull_errors.pop(ref, None)
    assert result.image is not None
    pulled = result.done_at - result.started_at
    w.event("Normal", "Pulled", pulled_message(ref, result.image, pulled, result.done_at - now), c)
    return result.image
