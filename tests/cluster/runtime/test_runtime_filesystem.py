"""The container filesystem: volumes as the kubelet mounts them, permissions, and the sandbox."""

from __future__ import annotations

import builtins
import io
import os
import socket
import subprocess
import time

import pytest
from runtime_box import Box

from kubelab.cluster.runtime import FileSystem, FsError, Volume


def test_cat_of_a_mounted_configmap_file():
    box = Box("busybox")
    box.fs.mount("/etc/config", {"app.properties": "color=blue\nsize=3\n"})
    r = box.sh("cat /etc/config/app.properties; grep size /etc/config/app.properties")
    assert (r.code, r.stdout) == (0, "color=blue\nsize=3\nsize=3\n")


def test_configmap_volume_is_projected_with_data_symlinks():
    box = Box("busybox")
    box.fs.mount("/etc/config", {"key": "v1"})
    r = box.sh("ls -a /etc/config; readlink_target=$(ls -l /etc/config | grep ' key '); echo \"$readlink_target\"")
    names = r.stdout.splitlines()[:5]
    assert names[:2] == [".", ".."] and names[2].startswith("..2025_11_25_19_43_18.") and names[3:] == ["..data", "key"]
    assert r.stdout.rstrip().endswith("key -> ..data/key")


def test_updating_a_projected_volume_changes_what_the_container_reads():
    box = Box("busybox")
    volume = box.fs.mount("/etc/config", {"key": "v1"})
    volume.project({"key": "v2"}, now=box.now + 60)
    assert box.sh("cat /etc/config/key").stdout == "v2"


@pytest.mark.parametrize(
    "script, message",
    [
        ("echo x > /etc/config/new", "sh: can't create /etc/config/new: Read-only file system\n"),
        ("touch /etc/config/new", "touch: /etc/config/new: Read-only file system\n"),
        ("rm /etc/config/key", "rm: can't remove '/etc/config/key': Read-only file system\n"),
        ("mkdir /etc/config/d", "mkdir: can't create directory '/etc/config/d': Read-only file system\n"),
    ],
)
def test_writes_to_a_read_only_mount_fail(script, message):
    box = Box("busybox")
    box.fs.mount("/etc/config", {"key": "v"})
    r = box.sh(script)
    assert (r.code, r.stderr) == (1, message)


def test_gnu_tools_word_read_only_errors_their_way():
    box = Box("nginx")
    box.fs.mount("/etc/config", {"key": "v"})
    r = box.sh("echo x > /etc/config/new; touch /etc/config/y; sed -i s/v/w/ /etc/config/key")
    assert r.stderr == (
        "sh: 1: cannot create /etc/config/new: Read-only file system\n"
        "touch: cannot touch '/etc/config/y': Read-only file system\n"
        "sed: couldn't open temporary file /etc/config/key: Read-only file system\n"
    )


def test_filesystem_api_refuses_writes_under_a_read_only_mount():
    box = Box("busybox")
    box.fs.mount("/etc/secret", {"password": "s3cr3t"})
    with pytest.raises(FsError) as err:
        box.fs.write("/etc/secret/password", "x")
    assert err.value.strerror == "Read-only file system"
    assert box.fs.read("/etc/secret/password") == b"s3cr3t"
    assert box.fs.is_read_only("/etc/secret/password") and not box.fs.is_read_only("/tmp")


def test_an_emptydir_volume_is_shared_between_containers():
    shared = Volume()
    writer, reader = Box("busybox"), Box("alpine")
    writer.fs.mount("/data", shared, read_only=False)
    reader.fs.mount("/cache", shared, read_only=True)
    writer.sh("date > /data/now.txt")
    assert reader.sh("cat /cache/now.txt").stdout == "Tue Nov 25 19:43:18 UTC 2025\n"
    assert "Read-only file system" in reader.sh("echo x > /cache/y").stderr


def test_read_only_root_filesystem():
    from kubelab.cluster.runtime import container_fs, lookup

    box = Box("busybox")
    box.fs = container_fs(lookup("busybox"), read_only_root=True)
    r = box.sh("touch /tmp/x")
    assert r.stderr == "touch: /tmp/x: Read-only file system\n"


def test_non_root_user_cannot_write_root_owned_directories():
    box = Box("busybox", user="1000:3000")
    r = box.sh("id; touch /etc/x; touch /tmp/ok && echo tmp-ok; whoami")
    assert r.stdout == "uid=1000 gid=3000 groups=3000\ntmp-ok\n"
    assert r.stderr == "touch: /etc/x: Permission denied\nwhoami: unknown uid 1000\n"


def test_secret_mounted_0400_is_unreadable_for_another_user():
    box = Box("busybox", user="1000")
    box.fs.mount("/etc/secret", {"token": "abc"}, mode=0o400)
    r = box.sh("cat /etc/secret/token")
    assert (r.code, r.stderr) == (1, "cat: can't open '/etc/secret/token': Permission denied\n")


def test_nginx_serves_a_configmap_mounted_over_its_html_directory():
    box = Box("nginx")
    box.fs.mount("/usr/share/nginx/html", {"index.html": "<h1>custom</h1>\n"})
    gen, _ = box.boot()
    status, headers, body = box.listening[80]("GET", "/", {"Host": "web"}, "10.244.0.1")
    assert (status, body) == (200, b"<h1>custom</h1>\n")
    gen.close()


def test_image_files_are_the_images_not_the_hosts():
    box = Box("busybox")
    r = box.sh("cat /etc/passwd | head -1; ls /; ls /work; cat /etc/hostname; cat /etc/os-release")
    assert r.stdout.startswith("root:x:0:0:root:/root:/bin/sh\n")
    listing = r.stdout.splitlines()[1:]
    assert "work" not in listing and "bin" in listing and "etc" in listing
    assert "ls: /work: No such file or directory\n" in r.stderr
    assert "pod-1\n" in r.stdout
    assert "cat: can't open '/etc/os-release': No such file or directory\n" in r.stderr  # busybox has none
    assert 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' in Box("nginx").sh("cat /etc/os-release").stdout


def test_nothing_reaches_the_host(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError(f"the simulated runtime touched the host: {args!r}")

    for owner, name in [
        (subprocess, "Popen"),
        (subprocess, "run"),
        (os, "system"),
        (os, "popen"),
        (os, "fork"),
        (os, "execv"),
        (os, "execve"),
        (os, "listdir"),
        (os, "scandir"),
        (socket, "socket"),
        (socket, "create_connection"),
        (socket, "getaddrinfo"),
        (builtins, "open"),
        (io, "open"),
        (time, "time"),
        (time, "monotonic"),
        (time, "sleep"),
    ]:
        monkeypatch.setattr(owner, name, forbidden)
    monkeypatch.setenv("KUBELAB_HOST_SECRET", "leaked")
    box = Box("busybox")
    r = box.sh(
        "env; cat /etc/passwd; ls -la / /etc /tmp; wget -qO- http://example.com; nslookup kubernetes; "
        "date; sleep 2; ps aux; uname -a; hostname; id; echo hi > /tmp/f; cat /tmp/f; "
        "cat /proc/1/cmdline; sh -c 'exit 0'; printenv HOME"
    )
    assert r.code == 0
    assert "KUBELAB_HOST_SECRET" not in r.output and "leaked" not in r.output
    assert "/work" not in r.output


def test_long_listing_names_owners_from_the_containers_passwd_and_group():
    box = Box("busybox")
    r = box.sh("ls -l /etc/passwd")
    assert r.stdout.split()[2:4] == ["root", "root"]
    box.sh("echo 'root:x:0:0:admin:/root:/bin/sh' > /etc/passwd; echo 'wheel:x:0:' > /etc/group")
    assert box.sh("ls -l /etc/hostname").stdout.split()[2:4] == ["root", "wheel"]


def test_paths_resolve_through_links_into_mounts_and_through_mounts_nested_in_mounts():
    box = Box("busybox")
    box.fs.mount("/mnt/vol", Volume(), read_only=False)
    box.fs.mount("/mnt/vol/conf", {"key": "v1"})
    r = box.sh("mkdir /mnt/vol/data && echo hi > /mnt/vol/data/f && ln -s /mnt/vol/data /shortcut && "
               "cat /shortcut/f /mnt/vol/conf/key; echo; ls /mnt/vol; cat /mnt/volume/f")
    assert r.stdout == "hi\nv1\nconf\ndata\n" and "No such file or directory" in r.stderr
    assert box.fs.read("/shortcut/f") == b"hi\n" and box.fs.is_read_only("/mnt/vol/conf/key")
    assert not box.fs.is_read_only("/shortcut/f")


def test_read_if_exists_gives_none_only_for_a_missing_file():
    fs = FileSystem()
    fs.mkdir("/etc")
    fs.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    assert fs.read_if_exists("/etc/passwd") == b"root:x:0:0::/root:/bin/sh\n"
    assert fs.read_if_exists("/etc/group") is None
    with pytest.raises(FsError, match="Is a directory"):
        fs.read_if_exists("/etc")
    with pytest.raises(FsError, match="No such file or directory"):
        fs.read("/etc/group")


def test_a_mount_inside_another_mount_makes_its_directory_in_that_volume():
    box = Box("busybox")
    outer = box.fs.mount("/data", Volume(mode=0o777), read_only=False)
    box.fs.mount("/data/cache", Volume(mode=0o777), read_only=False)
    assert outer.nodes["cache"].kind == "dir"
    assert box.sh("ls /data").stdout == "cache\n"


def test_a_mount_through_a_symlink_makes_its_directory_where_the_link_points():
    box = Box("busybox")
    box.sh("mkdir /real; ln -s /real /alias")
    box.fs.mount("/alias/config", {"key": "v"})
    assert box.sh("ls /real").stdout == "config\n"


def test_reads_go_through_mounts_and_symlinks_not_the_files_they_hide():
    box = Box("busybox")
    box.sh("mkdir -p /etc/config /real; echo old > /etc/config/key; echo linked > /real/f; ln -s /real /alias")
    box.fs.mount("/etc/config", {"key": "new"})
    assert box.fs.read("/etc/config/key") == b"new"  # the mounted file, not the root file under it
    assert box.fs.read("/alias/f") == b"linked\n"
    assert box.fs.read_if_exists("/etc/config/missing") is None


def test_read_if_exists_tells_a_missing_file_from_a_missing_directory():
    box = Box("busybox")
    assert box.fs.read_if_exists("/etc/nothing") is None
    with pytest.raises(FsError):
        box.fs.read_if_exists("/nodir/file")
    assert box.fs.read_if_exists("/dev/null") == b""


def test_volumes_projected_alike_at_the_same_instant_stay_separate_when_one_is_written():
    # Alike projections share their nodes copy-on-write: a write, chmod or touch in one is not seen by the other.
    a, b = Box("busybox"), Box("busybox")
    a.fs.mount("/etc/config", {"key": "v1", "other": "o"}, read_only=False)
    b.fs.mount("/etc/config", {"key": "v1", "other": "o"}, read_only=False)
    listing = b.sh("ls -la --full-time /etc/config/..data/ /etc/config/").stdout
    assert a.sh("echo changed > /etc/config/key; chmod 600 /etc/config/other; touch -d @0 /etc/config/..data").code == 0
    assert a.sh("cat /etc/config/key").stdout == "changed\n"
    assert b.sh("cat /etc/config/key; cat /etc/config/other").stdout == "v1o"
    assert b.sh("ls -la --full-time /etc/config/..data/ /etc/config/").stdout == listing


def test_a_re_projection_of_a_shared_layout_changes_only_its_own_volume():
    a, b = Box("busybox"), Box("busybox")
    volume = a.fs.mount("/etc/config", {"key": "v1"})
    b.fs.mount("/etc/config", {"key": "v1"})
    volume.project({"key": "v2", "new": "n"}, now=a.now + 60)
    assert a.sh("cat /etc/config/key /etc/config/new").stdout == "v2n"
    assert b.sh("cat /etc/config/key; ls /etc/config").stdout == "v1key\n"
