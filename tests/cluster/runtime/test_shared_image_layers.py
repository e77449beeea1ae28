"""Containers of one image share its file nodes copy-on-write; what one changes, the others never see.

Also the per-content caches on the container start path (/etc/passwd fields, formatted times) and
the collector pause around a pump: each must give what the uncached code gave.
"""

from __future__ import annotations

import gc

from kubelab.cluster.gcpause import paused_gc
from kubelab.cluster.kubelet.images import ImageStore
from kubelab.cluster.runtime import ProcessContext, lookup
from kubelab.cluster.runtime.clock import _format, strftime
from kubelab.cluster.runtime.filesystem import ROOT, Cred
from kubelab.cluster.runtime.runner import container_env, credentials

T0 = 1764099798.0


def two_containers(image_name: str = "nginx:1.25"):  # noqa: ANN201
    store = ImageStore()
    image = lookup(image_name)
    return image, store.filesystem(image, T0), store.filesystem(image, T0 + 5)


def test_a_file_written_in_one_container_is_not_seen_in_another_of_the_same_image():
    _, a, b = two_containers()
    a.write("/etc/passwd", "x:x:7:7::/:/bin/sh\n", append=True)
    a.write("/usr/share/new", "hello")
    assert a.read_text("/etc/passwd").endswith("x:x:7:7::/:/bin/sh\n")
    assert "x:x:7" not in b.read_text("/etc/passwd")
    assert not b.exists("/usr/share/new")


def test_chmod_and_touch_change_only_the_container_that_did_them():
    _, a, b = two_containers()
    before = b.stat("/etc/group").mtime
    a.chmod("/etc/passwd", 0o600)
    a.touch("/etc/group", T0 + 99)
    assert (a.stat("/etc/passwd").mode, a.stat("/etc/group").mtime) == (0o600, T0 + 99)
    assert (b.stat("/etc/passwd").mode, b.stat("/etc/group").mtime) == (0o644, before)
    assert a.stat("/etc/passwd").data == b.stat("/etc/passwd").data


def test_removing_a_file_in_one_container_keeps_it_in_the_others():
    _, a, b = two_containers()
    a.remove("/etc/passwd")
    assert not a.exists("/etc/passwd") and b.exists("/etc/passwd")


def test_credentials_and_home_follow_an_edited_passwd_file():
    image, fs, _ = two_containers("busybox:1.36")
    ctx = ProcessContext(env={}, fs=fs, hostname="h", now=lambda: T0, stdout=lambda t: None,
                         stderr=lambda t: None, user="1234")
    assert credentials(image, ctx) == (Cred(1234, (0,)), "1234")
    fs.write("/etc/passwd", "app:x:1234:50:app:/home/app:/bin/sh\n", append=True)
    cred, name = credentials(image, ctx)
    assert (cred, name) == (Cred(1234, (50,)), "app")
    assert container_env(image, ctx, cred)["HOME"] == "/home/app"
    assert container_env(image, ctx, ROOT)["HOME"] == "/root"


def test_remembered_time_texts_match_freshly_formatted_ones():
    for fmt in ("%Y_%m_%d_%H_%M_%S", "%s", "%N", "%c", "%%N %s"):
        for epoch in (T0, T0 + 0.25, T0 + 0.75, T0 + 1, -1.5, 0.0):
            assert strftime(fmt, epoch) == _format(fmt, epoch)


def test_a_long_pause_resumes_the_collector_without_a_young_collection_of_everything():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        keep = [{} for _ in range(100_000)]
    assert gc.isenabled() and gc.get_count()[0] < 1000 and gc.get_freeze_count() == 0
    del keep
