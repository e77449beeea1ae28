"""The session under the magics: its kubeconfig, settings, the MinikubeHost side, and loading."""

from __future__ import annotations

import os
import stat
import sys
import types
from typing import TextIO

import pytest
from IPython.core.error import UsageError

from kubelab.magics import config
from kubelab.magics.argv import cell_args, parse, parse_duration, streams
from kubelab.magics.kube import KubeMagic
from kubelab.tools import kubectl
from kubelab.tools import session as sessions
from kubelab.tools.errors import MinikubeError


class FakeMinikube:
    """Stands in for kubelab.minikube.Minikube: drives the host as its interface says."""

    def __init__(self, host) -> None:
        self.host = host

    def run(self, argv: list[str], out: TextIO, err: TextIO) -> int:
        if argv[:1] == ["start"]:
            self.host.start("minikube", 2 if "--nodes=2" in argv else 1)
            out.write("🏄  Done! kubectl is now configured to use \"minikube\" cluster\n")
            return 0
        if argv[:1] == ["stop"]:
            self.host.stop("minikube")
            return 0
        if argv[:1] == ["delete"]:
            self.host.delete("minikube")
            return 0
        if argv[:1] == ["kubectl"]:
            return self.host.kubectl(argv[2:], out, err)
        err.write(f'Error: unknown command "{argv[0]}" for "minikube"\n')
        return 1


@pytest.fixture
def fake_minikube(monkeypatch):
    module = types.ModuleType("kubelab.minikube")
    module.Minikube = FakeMinikube
    monkeypatch.setitem(sys.modules, "kubelab.minikube", module)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))  # no real minikube on PATH


def test_kubeconfig_is_per_kernel_private_and_never_the_users(run, shell):
    run("%kube get nodes")
    session = sessions.current()
    path = session.kubeconfig_path
    assert os.path.basename(os.path.dirname(path)).startswith(f"kubelab-kernel-{os.getpid()}-")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(os.path.join(os.environ["HOME"], ".kube", "config"))
    assert session.context == "kubelab" and session.local_cluster is not None
    assert "KUBECONFIG" not in os.environ or os.environ["KUBECONFIG"] != path


def test_minikube_emulator_gets_the_session_as_its_host(run, fake_minikube):
    ran = run("%minikube start --nodes=2")
    assert ran.error is None and 'kubectl is now configured to use "minikube"' in ran.out
    session = sessions.current()
    assert session.target.profile == "minikube" and session.context == "minikube"
    nodes = run("%kube get nodes").out
    assert "minikube       Ready    control-plane" in nodes and "minikube-m02   Ready" in nodes
    assert "minikube   " in run("%kube config get-contexts").out
    assert "minikube-m02" in run("%minikube kubectl -- get nodes").out
    cluster = session.cluster("minikube")
    run("%minikube stop")
    assert session.cluster("minikube") is None
    assert run("%kube get nodes").error is not None  # stopped: nothing answers at its address
    run("%minikube start")
    assert session.cluster("minikube") is cluster  # resumed, not recreated
    run("%minikube delete")
    assert session.cluster("minikube") is None and "minikube" not in session.clusters
    assert session.target.profile == "kubelab"
    assert "minikube" not in run("%kube config get-contexts").out


def test_minikube_failure_raises_like_kube(run, fake_minikube):
    ran = run("%minikube frobnicate")
    assert isinstance(ran.error, MinikubeError)
    assert 'unknown command "frobnicate" for "minikube"' in ran.err
    assert ran.error._render_traceback_() == ["MinikubeError: minikube frobnicate exited with status 1"]
    assert run("%minikube frobnicate --no-raise-error").error is None


def test_env_clock_and_seed_win_over_settings(monkeypatch):
    session = sessions.Session(clock="realtime", seed=3)
    monkeypatch.setenv("KUBELAB_CLOCK", "stepped")
    monkeypatch.setenv("KUBELAB_SEED", "1")
    assert (session.clock_mode, session.seed_value) == ("stepped", 1)


def test_namespace_setting_is_passed_unless_the_command_names_one(shell):
    session = sessions.Session(target="local", namespace="dev")
    session.ensure_local = lambda: None  # type: ignore[method-assign]  # no cluster needed to build argv
    assert session.kubectl_command(["get", "pods"])[0][1:] == ["get", "pods", "--namespace", "dev"]
    assert session.kubectl_command(["get", "pods", "-A"])[0][1:] == ["get", "pods", "-A"]
    assert session.kubectl_command(["config", "view"])[0][1:] == ["config", "view"]


def test_pyproject_tool_kubelab_sets_defaults(tmp_path, shell):
    (tmp_path / "pyproject.toml").write_text('[tool.kubelab]\ntarget = "local"\nseed = 5\nnodes = 3\n')
    (tmp_path / "lesson").mkdir()
    magic = KubeMagic(shell=None)
    assert config.apply(magic, tmp_path / "lesson") == {"target": "local", "seed": 5, "nodes": 3}
    assert (magic.session.setting, magic.session.seed, magic.session.nodes) == ("local", 5, 3)


def test_pyproject_unknown_setting_is_named(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kubelab]\nclok = "stepped"\n')
    with pytest.warns(UserWarning, match="unknown setting 'clok'.*settings are: clock"):
        config.apply(KubeMagic(shell=None), tmp_path)


def test_kubectl_is_kubectl_cli_bins(tmp_path):
    assert kubectl.find() == os.path.join(os.path.dirname(sys.executable), "kubectl")
    with pytest.raises(kubectl.KubectlNotFound, match="is not an executable file"):
        kubectl.find(str(tmp_path / "nope"))


def test_line_parsing_keeps_kubectls_own_for():
    assert parse("wait --for=condition=Ready pod/x").args == ["wait", "--for=condition=Ready", "pod/x"]
    parsed = parse("get pods -w --for 2m --no-raise-error")
    assert (parsed.args, parsed.for_seconds, parsed.raise_error) == (["get", "pods", "-w"], 120.0, False)
    assert [parse_duration(t) for t in ("90", "90s", "2m", "1h", "1m30s", "x")] == [90, 90, 120, 3600, 90, None]
    assert streams(["logs", "-f", "web"]) and streams(["rollout", "status", "deploy/web"])
    assert not streams(["get", "pods"]) and not streams(["logs", "web"])
    assert cell_args([]) == ["apply", "-f", "-"] and cell_args(["apply", "--server-side"])[-2:] == ["-f", "-"]


def test_unload_removes_the_magics_and_stops_the_local_cluster(shell, run):
    run("%kube get nodes")
    cluster = sessions.current().local_cluster
    shell.run_line_magic("unload_ext", "kubelab")
    try:
        assert "kube" not in shell.magics_manager.magics["line"]
        assert "minikube" not in shell.magics_manager.magics["line"]
        assert cluster._closed
        ran = run("%kube get nodes")
        assert isinstance(ran.error, UsageError)
    finally:
        shell.run_line_magic("load_ext", "kubelab")
        shell.run_line_magic("config", "KubeMagic.clock = 'stepped'")


def test_hint_from_the_servers_trace_is_added_when_kubectl_rebuilt_the_message():
    stderr = 'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: ...\n'
    trace = ['Deployment.apps "web" is invalid: ...\nhint: every label in spec.selector must also be set in '
             "spec.template.metadata.labels"]
    assert kubectl.local_hints(stderr, trace) == [
        "hint: every label in spec.selector must also be set in spec.template.metadata.labels"]
    assert kubectl.local_hints(stderr + trace[0].splitlines()[1] + "\n", trace) == []  # already shown
