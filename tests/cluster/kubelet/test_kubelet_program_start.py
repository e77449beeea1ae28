"""A container whose main process is an image program (pause, nginx, python, node's entrypoint)
gets its shell only when the program asks for it: what it then sees (working directory, env,
the name a runaway loop is reported under) must be what it would have been at the start."""

from __future__ import annotations

import pytest
from kubelet_helpers import container, make, pod

from kubelab.api.errors import ApiError


def logs_after(c, name: str) -> str:  # noqa: ANN001
    c.settle()
    c.advance(5)
    return c.logs(name)


def test_a_python_script_is_looked_up_in_the_containers_working_dir():
    c = make()
    c.apply(pod("py", container("py", "python:3.12", "python", "app.py", workingDir="/srv")))
    assert logs_after(c, "py") == "python: can't open file '/srv/app.py': [Errno 2] No such file or directory\n"


def test_node_reports_a_missing_module_under_the_working_dir():
    c = make()
    c.apply(pod("n", container("n", "node:20", args=["server.js"], workingDir="/app")))
    assert "Error: Cannot find module '/app/server.js'" in logs_after(c, "n")


def test_an_entrypoint_exec_runs_the_command_with_the_containers_env_home_and_working_dir():
    c = make()
    c.apply(pod("n", container("n", "node:20", args=["sh", "-c", "echo $0 $HOME $A; pwd; id"], workingDir="/tmp",
                               env=[{"name": "A", "value": "x"}])))
    assert logs_after(c, "n") == "sh /root x\n/tmp\nuid=0(root) gid=0(root) groups=0(root)\n"


def test_a_runaway_loop_under_an_image_entrypoint_is_reported_under_the_entrypoints_name():
    c = make()
    c.apply(pod("n", container("n", "node:20", args=["sh", "-c", "while true; do :; done"])))
    assert logs_after(c, "n") == ("docker-entrypoint.sh: kubelab stopped this process: it ran 50000 commands "
                                  "without letting simulated time pass (a loop with no sleep?)\n")


def test_python_http_server_serves_the_working_dir():
    c = make()
    c.apply(pod("web", container("py", "python:3.12", "python", "-m", "http.server", "8080", workingDir="/etc")))
    c.settle()
    assert c.exec("web", ["sh", "-c", "wget -qO- http://localhost:8080/hostname"]).stdout == "web\n"


def test_nginx_as_pid_1_shows_its_process_env_and_command_line_to_exec():
    c = make()
    c.apply(pod("web", container("web", "nginx:1.25", env=[{"name": "A", "value": "1"}])))
    c.settle()
    env = c.exec("web", ["env"]).stdout.splitlines()
    assert env[0] == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert "HOSTNAME=web" in env and "A=1" in env and env[-1] == "HOME=/root"
    assert c.exec("web", ["cat", "/proc/1/cmdline"]).stdout.startswith("nginx")
    assert "Configuration complete; ready for start up" in c.logs("web")


def test_pause_stops_at_once_on_sigterm_not_after_the_grace_period():
    c = make()
    c.apply(pod("p", container("p", "registry.k8s.io/pause:3.10")))
    c.settle()
    assert c.get("pods", "p")["status"]["containerStatuses"][0]["state"].get("running")
    c.delete("pods", "p")
    c.advance(3)  # well within the 30 s grace period: pause traps SIGTERM and exits
    with pytest.raises(ApiError):
        c.get("pods", "p")
