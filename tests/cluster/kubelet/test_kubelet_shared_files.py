"""Containers share their image's files and, when equal at one instant, the kubelet's /etc/hosts,
/etc/hostname and /etc/resolv.conf nodes copy-on-write: what one container changes (write, append,
chmod, touch, rm, mv, ln) must never show in another, and listings must read as if each had its own."""

from __future__ import annotations

from kubelet_helpers import container, make, pod

LISTING = "ls -la --full-time /etc/ /etc/hosts /etc/hostname /etc/resolv.conf /bin/sleep"


def started_pair(c, image: str = "busybox") -> None:  # noqa: ANN001
    for name in ("a", "b"):
        c.apply(pod(name, container("box", image, "sleep", "3600")))
    c.settle()


def sh(c, name: str, script: str, which: str | None = None) -> str:  # noqa: ANN001
    return c.exec(name, ["sh", "-c", script], container=which).stdout


def test_a_change_to_the_kubelets_files_in_one_pod_is_not_seen_in_a_pod_started_with_it():
    c = make(nodes=1)
    started_pair(c)
    before = sh(c, "b", LISTING)
    resolv = sh(c, "b", "cat /etc/resolv.conf")
    sh(c, "a", "echo 'nameserver 1.1.1.1' >> /etc/resolv.conf; chmod 600 /etc/hostname; touch -d @0 /etc/hosts")
    sh(c, "a", "echo changed > /etc/hostname; rm /etc/hosts; mv /etc/resolv.conf /etc/resolv.old")
    assert sh(c, "a", "cat /etc/resolv.old /etc/hostname; ls /etc/hosts /etc/resolv.conf 2>&1").endswith(
        "nameserver 1.1.1.1\nchanged\nls: /etc/hosts: No such file or directory\n"
        "ls: /etc/resolv.conf: No such file or directory\n")
    assert sh(c, "b", LISTING) == before
    assert sh(c, "b", "cat /etc/resolv.conf") == resolv and "1.1.1.1" not in resolv
    assert sh(c, "b", "cat /etc/hostname") == "b\n"


def test_the_shared_files_of_pods_started_together_list_as_each_pods_own():
    c = make(nodes=1)
    started_pair(c)
    resolv = [sh(c, name, "ls -l --full-time /etc/resolv.conf; cat /etc/resolv.conf") for name in ("a", "b")]
    assert resolv[0] == resolv[1] and "search default.svc.cluster.local" in resolv[0]
    assert sh(c, "a", "cat /etc/hostname") == "a\n" and sh(c, "b", "cat /etc/hostname") == "b\n"


def test_a_change_to_the_image_files_in_one_container_is_not_seen_in_another_of_the_image():
    c = make(nodes=1)
    started_pair(c)
    before = sh(c, "b", "ls -la --full-time /bin/ /etc/passwd /etc/group; cat /etc/passwd")
    sh(c, "a", "echo 'eve:x:7:7::/:/bin/sh' >> /etc/passwd; chmod 600 /etc/group; rm /bin/sleep; ln -s /x /bin/ls2")
    sh(c, "a", "touch -d @0 /etc/passwd; echo hi > /bin/new")
    assert "eve:x:7" in sh(c, "a", "cat /etc/passwd")
    assert sh(c, "b", "ls -la --full-time /bin/ /etc/passwd /etc/group; cat /etc/passwd") == before
    assert sh(c, "b", "id -u; sleep 0; echo $?") == "0\n0\n"


def test_containers_of_one_pod_keep_their_own_etc_hosts():
    c = make(nodes=1)
    c.apply(pod("two", container("x", "busybox", "sleep", "3600"), container("y", "busybox", "sleep", "3600")))
    c.settle()
    hosts = sh(c, "two", "cat /etc/hosts", "y")
    assert sh(c, "two", "cat /etc/hosts", "x") == hosts
    sh(c, "two", "echo '10.0.0.9 extra' >> /etc/hosts; chmod 600 /etc/resolv.conf", "x")
    assert sh(c, "two", "cat /etc/hosts", "y") == hosts
    assert sh(c, "two", "ls -l /etc/resolv.conf", "y").startswith("-rw-r--r--")


def test_containers_made_at_one_instant_share_equal_kubelet_files_but_never_their_changes():
    from kubelab.cluster.kubelet.images import ImageStore

    store = ImageStore()
    image = store.resolve("busybox")
    files = {"/etc/hostname": "p\n", "/etc/hosts": "127.0.0.1\tlocalhost\n",
             "/etc/resolv.conf": "nameserver 10.96.0.10\n"}
    a, b = (store.filesystem(image, 100.0, (), files) for _ in range(2))
    assert a.stat("/etc/hosts") is b.stat("/etc/hosts")  # one node while neither changes it
    a.write("/etc/hosts", "10.0.0.1\tx\n", append=True)
    a.chmod("/etc/resolv.conf", 0o600)
    a.touch("/etc/hostname", 5.0)
    a.remove("/etc/passwd")
    assert a.read("/etc/hosts") == b"127.0.0.1\tlocalhost\n10.0.0.1\tx\n"
    assert b.read("/etc/hosts") == b"127.0.0.1\tlocalhost\n" and b.stat("/etc/hosts").mtime == 100.0
    assert b.stat("/etc/resolv.conf").mode == 0o644 and b.stat("/etc/hostname").mtime == 100.0
    assert b.exists("/etc/passwd")
    c = store.filesystem(image, 100.0, (), files)  # made after the changes: the files as the kubelet wrote them
    assert c.read("/etc/hosts") == b"127.0.0.1\tlocalhost\n" and c.stat("/etc/resolv.conf").mode == 0o644
    assert c.stat("/etc/hostname").mtime == 100.0 and c.exists("/etc/passwd")
    later = store.filesystem(image, 101.0, (), files)  # another instant: its own nodes, its own mtimes
    assert later.stat("/etc/hosts") is not c.stat("/etc/hosts") and later.stat("/etc/hosts").mtime == 101.0
