"""Container logs (current, previous, tail, since, timestamps, follow) and exec into running containers."""

from __future__ import annotations

import pytest
from kubelet_helpers import container, make, phase, pod, sh

from kubelab.api.errors import ApiError


def hello() -> dict:
    return pod("hello", container("hello", "busybox", args=["/bin/sh", "-c", 'date; echo "Hello, World!"']),
               restartPolicy="OnFailure")


def test_the_seed_busybox_job_logs_its_two_lines_and_completes():
    c = make()
    c.apply(hello())
    c.settle()
    assert phase(c, "hello") == "Succeeded"
    assert c.logs("hello") == "Thu Jan  1 00:00:01 UTC 2026\nHello, World!\n"


def test_timestamps_are_rfc3339_nano_of_the_simulated_clock():
    c = make()
    c.apply(hello())
    c.settle()
    assert c.logs("hello", timestamps=True).splitlines() == [
        "2026-01-01T00:00:01.400000000Z Thu Jan  1 00:00:01 UTC 2026",
        "2026-01-01T00:00:01.400000000Z Hello, World!",
    ]


def test_tail_lines_and_since_seconds_select_lines():
    c = make()
    c.apply(pod("ticker", sh("tick", "busybox", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 10; done")))
    c.advance(100)
    assert c.logs("ticker", tail_lines=2) == "tick 9\ntick 10\n"
    assert c.logs("ticker", since_seconds=30) == "tick 8\ntick 9\ntick 10\n"  # ticks at 71.4, 81.4, 91.4 s
    assert c.logs("ticker", tail_lines=0) == ""


def test_a_multi_container_pod_needs_a_container_name():
    c = make()
    c.apply(pod("go-demo-2", container("db", "mongo:3.3"), container("api", "vfarcic/go-demo-2")))
    c.settle()
    with pytest.raises(ApiError) as err:
        c.logs("go-demo-2")
    assert err.value.code == 400
    assert str(err.value) == "a container name must be specified for pod go-demo-2, choose one of: [db api]"
    with pytest.raises(ApiError, match="container web is not valid for pod go-demo-2"):
        c.logs("go-demo-2", "web")
    assert "waiting for connections on port 27017" in c.logs("go-demo-2", "db")


def test_previous_logs_need_a_terminated_container():
    c = make()
    c.apply(pod("web", container("nginx", "nginx:1.25")))
    c.settle()
    with pytest.raises(ApiError) as err:
        c.logs("web", previous=True)
    assert str(err.value) == 'previous terminated container "nginx" in pod "web" not found'
    c.apply(pod("crash", sh("app", "busybox", "echo attempt; exit 1")))
    c.settle()
    assert c.logs("crash", previous=True) == "attempt\n"
    assert c.logs("crash") == "attempt\n"  # in CrashLoopBackOff the last terminated instance is shown


def test_logs_of_a_container_that_never_started_say_why():
    c = make()
    c.apply(pod("typo", container("web", "ngnix")))
    c.settle()
    with pytest.raises(ApiError) as err:
        c.logs("typo")
    assert str(err.value) == 'container "web" in pod "typo" is waiting to start: trying and failing to pull image'
    c.apply(pod("slow", container("db", "mongo")))
    c.advance(1)
    with pytest.raises(ApiError, match='container "db" in pod "slow" is waiting to start: ContainerCreating'):
        c.logs("slow")


def test_log_stream_follows_lines_until_the_container_ends():
    c = make()
    c.apply(pod("count", sh("count", "busybox", "for i in 1 2 3; do echo line $i; sleep 5; done"),
                restartPolicy="Never"))
    c.advance(2)
    stream = c.log_stream("count", timestamps=False)
    lines = list(stream)
    assert lines == ["line 1\n", "line 2\n", "line 3\n"]
    assert stream.done and phase(c, "count") == "Succeeded"


def test_exec_ps_aux_lists_the_containers_processes():
    c = make()
    c.apply(pod("db", container("db", "mongo:3.3")))
    c.settle()
    result = c.exec("db", ["ps", "aux"])
    rows = result.stdout.splitlines()
    assert rows[0].split() == ["USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"]
    assert rows[1].split()[0:2] == ["mongodb", "1"] and rows[1].endswith("mongod")
    assert rows[-1].endswith("ps aux") and result.exit_code == 0


def test_exec_returns_the_exit_code_and_moves_the_stepped_clock_while_it_sleeps():
    c = make()
    c.apply(pod("box", container("box", "busybox", "sleep", "3600")))
    c.settle()
    start = c.now
    result = c.exec("box", ["sh", "-c", "echo out; echo err >&2; sleep 5; exit 3"])
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 3)
    assert c.now - start == pytest.approx(5.0)
    assert c.exec("box", ["cat"], stdin="piped\n").stdout == "piped\n"


def test_exec_of_a_missing_binary_is_the_runtimes_error():
    c = make()
    c.apply(pod("box", container("box", "busybox", "sleep", "3600")))
    c.settle()
    with pytest.raises(ApiError) as err:
        c.exec("box", ["bash"])
    assert err.value.code == 500
    assert 'exec: "bash": executable file not found in $PATH: unknown' in str(err.value)


def test_exec_into_a_completed_pod_or_a_waiting_container_is_refused():
    c = make()
    c.apply(pod("once", sh("main", "busybox", "echo done"), restartPolicy="Never"))
    c.apply(pod("typo", container("web", "ngnix")))
    c.settle()
    with pytest.raises(ApiError, match="cannot exec into a container in a completed pod; current phase is Succeeded"):
        c.exec("once", ["ls"])
    with pytest.raises(ApiError, match=r'unable to upgrade connection: container not found \("web"\)'):
        c.exec("typo", ["ls"])


def test_files_written_by_exec_are_seen_by_the_container():
    c = make()
    c.apply(pod("box", container("box", "busybox", "sleep", "3600")))
    c.settle()
    c.exec("box", ["sh", "-c", "echo hi > /tmp/note"])
    assert c.exec("box", ["cat", "/tmp/note"]).stdout == "hi\n"
    assert c.exec("box", ["hostname"]).stdout == "box\n"
    hosts = c.exec("box", ["cat", "/etc/hosts"]).stdout
    assert f"{c.get('pods', 'box')['status']['podIP']}\tbox" in hosts
