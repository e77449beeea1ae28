"""Building a container's filesystem from its image, plus the files the kubelet writes into it.

`container_fs(image, hostname=…)` lays out the family's directories and tools, the image's own
programs and files, /etc/hostname, /etc/hosts and /etc/resolv.conf (texts the kubelet supplies;
`kubernetes_hosts` and `kubernetes_resolv_conf` produce the kubelet's usual ones).

Read by: the kubelet, runner (when no filesystem is given), programs (`Image.http`). Reads:
families, filesystem, images, commands.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from functools import lru_cache

from kubelab.cluster.runtime.commands import UTILITIES, executable
from kubelab.cluster.runtime.families import SHELLS, family, foreign_package_managers, tool_path
from kubelab.cluster.runtime.filesystem import FileSystem
from kubelab.cluster.runtime.images import Image

BASE_DIRS = [
    "/bin",
    "/sbin",
    "/lib",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/share",
    "/etc",
    "/home",
    "/root",
    "/var",
    "/var/log",
    "/var/tmp",
    "/var/lib",
    "/run",
    "/opt",
    "/srv",
    "/mnt",
    "/media",
    "/dev",
    "/tmp",
]


_HOSTS_HEAD = (
    "# Kubernetes-managed hosts file.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)


def kubernetes_hosts(pod_ip: str, hostname: str, *, subdomain_fqdn: str = "", aliases: tuple[str, ...] = ()) -> str:
    """The kubelet-managed /etc/hosts of a pod (its fixed lines are one constant: written per container)."""
    text = _HOSTS_HEAD
    if pod_ip:
        text += f"{pod_ip}\t{subdomain_fqdn + chr(9) if subdomain_fqdn else ''}{hostname}\n"
    return text + "".join(alias + "\n" for alias in aliases) if aliases else text


@lru_cache(maxsize=256)  # one text per namespace, written into every container
def kubernetes_resolv_conf(
    namespace: str = "default", *, nameserver: str = "10.96.0.10", cluster_domain: str = "cluster.local"
) -> str:
    """The /etc/resolv.conf the kubelet writes for dnsPolicy ClusterFirst."""
    return (
        f"search {namespace}.svc.{cluster_domain} svc.{cluster_domain} {cluster_domain}\n"
        f"nameserver {nameserver}\noptions ndots:5\n"
    )


def _put(fs: FileSystem, path: str, data: bytes, mode: int) -> None:
    fs.write(path, data, mode=mode, force=True)


def available_tools(image: Image) -> set[str]:
    fam = family(image.family)
    if "*" in fam.missing:
        return set(image.tools_add)
    tools = (set(UTILITIES) | set(SHELLS)) - fam.missing - set(image.tools_remove) - foreign_package_managers(fam)
    return tools | set(image.tools_add)


def container_fs(
    image: Image,
    *,
    hostname: str = "localhost",
    hosts: str | None = None,
    resolv_conf: str | None = None,
    now: Callable[[], float] | float = 0.0,
    read_only_root: bool = False,
) -> FileSystem:
    """A new container filesystem for `image`; `now` (a clock or a time) stamps file mtimes."""
    fam = family(image.family)
    fs = FileSystem()
    fs.now = now if callable(now) else (lambda: float(now))  # type: ignore[assignment]
    for d in BASE_DIRS:
        if fam.usrmerge and d in ("/bin", "/sbin", "/lib"):
            fs.symlink("usr" + d, d)
            continue
        if fam.name == "scratch" and d not in ("/etc", "/dev", "/tmp"):
            continue
        fs.mkdir(d, parents=True, mode=0o1777 if d in ("/tmp", "/var/tmp") else 0o700 if d == "/root" else 0o755)
    tools = available_tools(image)
    for tool in sorted(tools):
        if tool == "sh" and fam.dialect in ("dash", "bash") and fam.dialect in tools:
            fs.symlink(fam.dialect, tool_path(fam, "sh"), force=True)  # Debian's /bin/sh -> dash
            continue
        impl = fam.dialect if tool == "sh" and fam.dialect else tool
        _put(fs, tool_path(fam, tool), executable(impl), 0o755)
    version = image.options.get("os_version", "3.20.3")
    if fam.os_release:
        text = fam.os_release.replace("{version}", version).replace("{short}", ".".join(version.split(".")[:2]))
        _put(fs, "/etc/os-release", text.encode(), 0o644)
    for path, text in fam.extra_files:
        _put(fs, path, text.replace("{version}", version).encode(), 0o644)
    if fam.passwd:
        _put(fs, "/etc/passwd", (fam.passwd + "".join(u + "\n" for u in image.users)).encode(), 0o644)
        _put(fs, "/etc/group", (fam.group + "".join(g + "\n" for g in image.groups)).encode(), 0o644)
    for path, impl in image.executables.items():
        fs.mkdir(posixpath.dirname(path), parents=True)
        _put(fs, path, executable(impl), 0o755)
    for path, content in image.files.items():
        fs.mkdir(posixpath.dirname(path), parents=True)
        data = content.encode() if isinstance(content, str) else content
        _put(fs, path, data, 0o755 if path.endswith(".sh") or data.startswith(b"#!") else 0o644)
    _put(fs, "/etc/hostname", (hostname + "\n").encode(), 0o644)
    _put(fs, "/etc/hosts", (hosts if hosts is not None else kubernetes_hosts("", hostname)).encode(), 0o644)
    _put(fs, "/etc/resolv.conf", (resolv_conf if resolv_conf is not None else kubernetes_resolv_conf()).encode(), 0o644)
    if image.workdir and image.workdir != "/":
        fs.mkdir(image.workdir, parents=True)
    if read_only_root:
        fs.mounts[0].read_only = True
    return fs
