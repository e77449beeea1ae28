"""The real kubectl runs commands in the local cluster's containers over WebSocket (exec, attach):
output, stdin, exit codes and the kubelet's errors, as a learner sees them."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest
from apiserver_client import KUBECTL, Served

import kubelab

BUSYBOX_LOOP = "while true; do echo tick; sleep 1; done"


def pod(name: str, image: str, command: list[str] | None = None) -> dict:
    container: dict = {"name": name, "image": image}
    if command:
        container["command"] = command
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}}


@pytest.fixture(scope="module", autouse=True)
def pods(served):
    c = served.cluster
    c.create(pod("web", "nginx"))
    c.create(pod("db", "busybox", ["sh", "-c", BUSYBOX_LOOP]))
    c.create(pod("broken", "example.invalid/nothing:1"))
    c.advance(30)


def test_exec_prints_the_commands_output(served):
    result = served.kubectl("exec", "web", "--", "cat", "/etc/hostname")
    assert (result.rc, result.out, result.err) == (0, "web\n", "")


def test_exec_ps_lists_the_containers_own_processes(served):
    out = served.ok("exec", "db", "--", "ps", "aux")
    lines = out.splitlines()
    assert lines[0].split() == ["PID", "USER", "TIME", "COMMAND"]
    assert lines[1].split()[0] == "1" and lines[1].endswith(f"sh -c {BUSYBOX_LOOP}")
    assert lines[-1].endswith("ps aux")


def test_non_zero_exit_code_becomes_kubectls_exit_code(served):
    result = served.kubectl("exec", "web", "--", "sh", "-c", "echo partial; exit 3")
    assert result.rc == 3
    assert result.out == "partial\n"
    assert result.err.strip() == "command terminated with exit code 3"


def test_exec_with_piped_stdin_runs_a_shell_script(served):
    result = served.kubectl("exec", "-i", "web", "--", "sh", input="echo hi; hostname; echo oops >&2; exit 4\n")
    assert result.rc == 4
    assert result.out == "hi\nweb\n"
    assert result.err.splitlines() == ["oops", "command terminated with exit code 4"]


def test_stdin_reaches_cat(served):
    result = served.kubectl("exec", "-i", "db", "--", "sh", "-c", "cat; echo done", input="line one\nline two\n")
    assert (result.rc, result.out) == (0, "line one\nline two\ndone\n")


def test_unknown_executable_is_the_runtimes_error(served):
    result = served.kubectl("exec", "web", "--", "nosuch")
    assert result.rc == 1
    assert result.err.startswith("error: Internal error occurred: error executing command in container: "
                                 'failed to exec in container: failed to start exec "')
    assert result.err.strip().endswith('OCI runtime exec failed: exec failed: unable to start container process: '
                                       'exec: "nosuch": executable file not found in $PATH: unknown')


def test_exec_into_a_container_that_is_not_running_is_refused_before_the_upgrade(served):
    result = served.kubectl("exec", "broken", "--", "ls")
    assert result.rc == 1
    assert result.err.strip() == 'error: unable to upgrade connection: container not found ("broken")'


def test_exec_into_a_missing_pod_is_not_found(served):
    result = served.kubectl("exec", "ghost", "--", "ls")
    assert (result.rc, result.err.strip()) == (1, 'Error from server (NotFound): pods "ghost" not found')


def test_attach_streams_the_main_process_output_until_interrupted(served):
    process = served.popen("attach", "db")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert lines == ["tick\n"] * 3


def test_piped_shell_runs_each_line_as_it_arrives(served):
    process = subprocess.Popen([KUBECTL or "kubectl", "exec", "-i", "db", "--", "sh"], env=served.env(),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        process.stdin.write("echo one\n")
        process.stdin.flush()
        assert process.stdout.readline() == "one\n"  # answered while stdin is still open
        process.stdin.write("cd /tmp; pwd\n")
        process.stdin.flush()
        assert process.stdout.readline() == "/tmp\n"  # the same shell: its state carries over
        process.stdin.write("exit 5\n")
        process.stdin.flush()
        assert process.wait(timeout=10) == 5
        assert process.stderr.read().strip() == "command terminated with exit code 5"
    finally:
        process.kill()


class Terminal:
    """kubectl with a pseudo-terminal as its stdin and stdout, as a learner's shell gives it."""

    def __init__(self, served, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([KUBECTL or "kubectl", *args], env=served.env(TERM="xterm"), stdin=slave,
                                        stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)

    def read_until(self, token: bytes, timeout: float = 10) -> bytes:
        seen, deadline = b"", time.monotonic() + timeout
        while token not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    seen += os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    break
        return seen

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.master)


def test_exec_it_gives_a_busybox_prompt_with_echo(served):
    term = Terminal(served, "exec", "-it", "db", "--", "sh")
    try:
        assert term.read_until(b"/ # ").endswith(b"/ # ")
        term.type(b"ps aux\r")
        screen = term.read_until(b"/ # ").decode()
        assert screen.startswith("ps aux\r\nPID   USER     TIME  COMMAND\r\n")
        assert f"sh -c {BUSYBOX_LOOP}\r\n" in screen and screen.endswith("ps aux\r\n/ # ")
        term.type(b"cd /etc; echo typo\x7f\x7f\x7f\x7fxx\r")  # Backspace erases on the screen and in the line
        assert term.read_until(b"/etc # ").endswith(b"echo typo" + b"\x08 \x08" * 4 + b"xx\r\nxx\r\n/etc # ")
        term.type(b"exit\r")
        assert term.process.wait(timeout=10) == 0
    finally:
        term.close()


def test_ctrl_c_ends_the_running_command_not_the_shell(served):
    term = Terminal(served, "exec", "-it", "db", "--", "sh")
    try:
        term.read_until(b"/ # ")
        term.type(b"sleep 1000\r")
        term.read_until(b"sleep 1000\r\n")
        term.type(b"\x03")
        assert term.read_until(b"/ # ").endswith(b"^C\r\n/ # ")
        term.type(b"echo $?\r")
        assert term.read_until(b"/ # ").endswith(b"130\r\n/ # ")
        term.type(b"\x04")  # ^D on an empty line: end of input
        assert term.process.wait(timeout=10) == 0  # the last command's status: `echo` succeeded
    finally:
        term.close()


def test_exec_without_websocket_is_a_clean_400(served):
    reply = served.api("GET", "/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true")
    assert reply.status == 400
    assert "needs a WebSocket" in reply.json()["message"]


# --------------------------------------------------------------- realtime clock
@pytest.fixture(scope="module")
def realtime(tmp_path_factory):
    """A realtime cluster (5× wall speed): output arrives while kubectl listens."""
    tmp = tmp_path_factory.mktemp("realtime")
    cluster = kubelab.Cluster(clock="realtime", speed=5, seed=3)
    handle = cluster.serve(kubeconfig=tmp / "kubeconfig")
    (tmp / "home").mkdir()
    served = Served(cluster, handle, tmp / "home")
    cluster.create(pod("counter", "busybox", ["sh", "-c", "i=0; while true; do i=$((i+1)); echo n $i; sleep 1; done"]))
    try:
        served.ok("wait", "--for=condition=Ready", "pod/counter", "--timeout=30s")
        yield served
    finally:
        handle.stop()
        cluster.close()


def test_logs_follow_streams_until_the_request_timeout(realtime):
    result = realtime.kubectl("logs", "-f", "counter", "--request-timeout=1s")
    numbers = [int(line.split()[1]) for line in result.out.splitlines()]
    assert len(numbers) >= 3 and numbers == list(range(1, len(numbers) + 1))
    assert result.rc == 1
    # kubectl's own words for its timeout depend on where its read was when the deadline hit
    # (net/http's "request canceled (Client.Timeout …)" or "context deadline exceeded …")
    last = result.err.splitlines()[-1]
    assert last.startswith("error: ") and ("request canceled" in last or "context deadline exceeded" in last)


def test_exec_output_arrives_while_the_command_runs(realtime):
    process = realtime.popen("exec", "counter", "--", "sh", "-c", "echo first; sleep 3; echo second")
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "first\n"
        assert process.poll() is None  # still sleeping: the first line was not held back
        assert process.stdout.readline() == "second\n"
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
