"""The image catalog: what can be pulled, and what each image is (command, ports, size, programs).

Images are data (`images_catalog.py`); lessons add their own with `register({...})`. A reference
is normalised the way containerd does (`nginx` → `docker.io/library/nginx:latest`); a repository
or tag that is not in the catalog fails to pull with containerd's own message (`pull_error`).

Read by: the kubelet (pull, start), runner, rootfs, programs. Reads: images_catalog.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

DOCKER_HUB = "docker.io"
KNOWN_REGISTRIES = {
    "docker.io",
    "registry.k8s.io",
    "k8s.gcr.io",
    "gcr.io",
    "quay.io",
    "ghcr.io",
    "mcr.microsoft.com",
    "public.ecr.aws",
    "us-docker.pkg.dev",
    "registry.gitlab.com",
}
_NAME_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


@dataclass
class Image:
    """One pulled image (a repository at a tag). `lookup` returns a fresh copy each time."""

    repository: str
    tag: str = "latest"
    tags: tuple[str, ...] = ("latest",)
    version: str = ""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = ""
    ports: list[int] = field(default_factory=list)
    size_bytes: int = 10_000_000
    pull_seconds: float = 1.0
    start_seconds: float = 0.2
    memory_bytes: int = 1_000_000
    family: str = "debian"  # busybox | alpine | debian | ubuntu | oraclelinux | scratch
    program: str = ""  # the main program's name in `programs` (its http answers, `Image.http`)
    executables: dict[str, str] = field(default_factory=dict)  # path → implementation
    files: dict[str, str | bytes] = field(default_factory=dict)
    tools_add: tuple[str, ...] = ()
    tools_remove: tuple[str, ...] = ()
    users: tuple[str, ...] = ()  # extra /etc/passwd lines
    groups: tuple[str, ...] = ()  # extra /etc/group lines
    options: dict[str, Any] = field(default_factory=dict)  # the program's knobs (log style, routes…)
    processes: list[str] = field(default_factory=list)  # ps titles: [main, workers…]
    stop_signal: int = 15
    digest: str = ""

    # Memos of `reference` and `repo_digest` (ClassVars, so not dataclass fields; an instance sets
    # its own): each container's every status carries both, so one string per image rather than
    # two per status write (the store keeps them). Checked by identity: a caller may replace a field.
    _reference: ClassVar[tuple[str, str, str] | None] = None
    _repo_digest: ClassVar[tuple[str, str, str] | None] = None

    @property
    def reference(self) -> str:
        memo = self._reference
        if memo is None or memo[0] is not self.repository or memo[1] is not self.tag:
            memo = self._reference = (self.repository, self.tag, f"{self.repository}:{self.tag}")  # type: ignore[misc]
        return memo[2]

    @property
    def image_id(self) -> str:
        """`sha256:…` as containerd shows it in `imageID` (stable, derived from the reference)."""
        return "sha256:" + hashlib.sha256(f"config {self.repository}:{self.version or self.tag}".encode()).hexdigest()

    @property
    def repo_digest(self) -> str:
        memo = self._repo_digest
        if memo is None or memo[0] is not self.repository or memo[1] is not self.digest:
            memo = self._repo_digest = (  # type: ignore[misc]
                self.repository, self.digest, f"{self.repository}@{self.digest}")
        return memo[2]

    def http(
        self, port: int, method: str = "GET", path: str = "/", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes] | None:
        """What the image's default program answers on `port` (None = nothing listens there)."""
        from kubelab.cluster.runtime.programs import static_http

        return static_http(self, port, method, path, headers or {})


_REGISTRY: dict[str, dict[str, Any]] = {}
_LOADED = False


def _ensure_catalog() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from kubelab.cluster.runtime.images_catalog import CATALOG
        from kubelab.cluster.runtime.images_catalog_base import BASES
        from kubelab.cluster.runtime.images_catalog_db import DATABASES

        for spec in CATALOG + BASES + DATABASES:
            register(spec)


def parse_reference(ref: str) -> tuple[str, str, str | None]:
    """`nginx` → ("docker.io/library/nginx", "latest", None); raises ValueError with containerd's text.

    A digest-only reference (`nginx@sha256:…`) has tag "".
    """
    ref = ref.strip()
    if not ref:
        raise ValueError("invalid reference format")
    name, _, digest = ref.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise ValueError("invalid reference format")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
        if not _TAG.fullmatch(tag):
            raise ValueError("invalid reference format")
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        domain, path = parts[0], parts[1:]
    else:
        domain, path = DOCKER_HUB, parts
    if domain in ("index.docker.io", "registry-1.docker.io"):
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and len(path) == 1:
        path = ["library"] + path
    joined = "/".join(path)
    if joined != joined.lower():
        raise ValueError(f"invalid reference format: repository name ({joined}) must be lowercase")
    if not path or not all(_NAME_COMPONENT.fullmatch(p) for p in path):
        raise ValueError("invalid reference format")
    if not tag and not digest:
        tag = "latest"
    return f"{domain}/{joined}", tag, digest or None


def _canonical(repository: str, tag: str, digest: str | None) -> str:
    return f"{repository}:{tag}" if tag else f"{repository}@{digest}"


def lookup(ref: str) -> Image | None:
    """The image for a reference, or None for an unknown repository, tag or a malformed reference."""
    _ensure_catalog()
    try:
        repository, tag, digest = parse_reference(ref)
    except ValueError:
        return None
    spec = _REGISTRY.get(repository)
    if spec is None:
        return None
    variants: dict[str, dict[str, Any]] = spec["variants"]
    if digest and not tag:
        tag_spec = variants.get("latest") or next(iter(variants.values()))
        tag_name = "latest"
    elif tag in variants:
        tag_spec, tag_name = variants[tag], tag
    else:
        return None
    values = {k: copy.deepcopy(v) for k, v in spec["base"].items()}
    values.update(copy.deepcopy(tag_spec))
    version = values.get("version", "")
    values["env"] = {k: v.replace("{version}", version) for k, v in values.get("env", {}).items()}
    image = Image(repository=repository, tag=tag_name, tags=tuple(variants), **values)
    image.digest = (
        digest or "sha256:" + hashlib.sha256(f"manifest {repository}:{version or tag_name}".encode()).hexdigest()
    )
    return image


_FIELDS = {f.name for f in fields(Image)} - {"repository", "tag", "tags", "digest"}


def register(image: Image | dict[str, Any]) -> None:
    """Add (or extend) a repository in the catalog.

    A dict takes Image's fields plus `tags`: a list of tag names or {tag: {field overrides}}.
    Keys that are not Image fields (`logs`, `http`, `exit_code`, `requires_env`…) become the
    generic program's options, so a lesson image needs no Python: see `programs.generic`.
    """
    if isinstance(image, Image):
        spec: dict[str, Any] = {f.name: getattr(image, f.name) for f in fields(Image)}
        spec["tags"] = list(image.tags) if image.tag in image.tags else [image.tag, *image.tags]
    else:
        spec = dict(image)
    repository, _, _ = parse_reference(spec.pop("repository"))
    tags = spec.pop("tags", None) or ["latest"]
    variants = {t: {} for t in tags} if isinstance(tags, (list, tuple)) else {t: dict(v or {}) for t, v in tags.items()}
    for key in ("tag", "digest"):
        spec.pop(key, None)
    options = dict(spec.pop("options", {}) or {})
    for key in list(spec):
        if key not in _FIELDS:
            options[key] = spec.pop(key)
    if options:
        spec["options"] = options
    if "program" not in spec and options:
        spec["program"] = "generic"
    entry = _REGISTRY.setdefault(repository, {"base": {}, "variants": {}})
    entry["base"].update(spec)
    entry["variants"].update(variants)


def repositories() -> list[str]:
    _ensure_catalog()
    return sorted(_REGISTRY)


def pull_failure(ref: str) -> tuple[str, str]:
    """(gRPC code, containerd message) for a failed pull; the kubelet shows
    `Failed to pull image "REF": rpc error: code = CODE desc = MESSAGE`."""
    _ensure_catalog()
    try:
        repository, tag, digest = parse_reference(ref)
    except ValueError as e:
        return "InvalidArgument", f'couldn\'t parse image name "{ref}": {e}'
    full = _canonical(repository, tag, digest)
    domain, _, path = repository.partition("/")
    prefix = f'failed to pull and unpack image "{full}": failed to resolve reference "{full}": '
    if domain not in KNOWN_REGISTRIES:
        host = domain.split(":")[0]
        what = tag or digest
        return "Unknown", (
            prefix + f'failed to do request: Head "https://{domain}/v2/{path}/manifests/{what}": '
            f"dial tcp: lookup {host}: no such host"
        )
    if repository in _REGISTRY or domain != DOCKER_HUB:
        return "NotFound", prefix + f"{full}: not found"
    return "Unknown", (
        prefix + "pull access denied, repository does not exist or may require authorization: "
        "server message: insufficient_scope: authorization failed"
    )


def pull_error(ref: str) -> str:
    """containerd's message for a failed pull of `ref` (see `pull_failure` for the gRPC code)."""
    return pull_failure(ref)[1]
