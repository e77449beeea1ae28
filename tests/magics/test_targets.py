"""Choosing the cluster: `auto`, `%kube use`, `%kube target`, and local-only words on a real target."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from IPython.core.error import UsageError

import kubelab
from kubelab.server import kubeconfig
from kubelab.tools import session as sessions
from kubelab.tools import target as targets


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[kubelab.Cluster, object, str]]:
    """Another served cluster, standing in for a real one, in a kubeconfig as context "classroom"."""
    cluster = kubelab.Cluster(clock="stepped", seed=2, profile="minikube")
    handle = cluster.serve()
    path = tmp_path_factory.mktemp("user") / "config"
    path.write_text(yaml.safe_dump(kubeconfig.config(handle.url, handle.ca_pem, handle.token, name="classroom")))
    try:
        yield cluster, handle, str(path)
    finally:
        cluster.close()


def test_target_before_the_first_command_says_why(run, shell):
    ran = run("%kube target")
    assert ran.out.startswith('target: the local cluster "kubelab" (context kubelab; ')
    assert 'why: KubeMagic.target is "auto"' not in ran.out  # auto explains itself:
    assert 'why: target is "auto" and there is no kubeconfig' in ran.out


def test_use_local_and_target_report_the_local_cluster(run):
    run("%kube get nodes")
    ran = run("%kube use local")
    assert ran.out == ('target: the local cluster "kubelab" (context kubelab; 1 node, stepped clock, seed 1)\n'
                       "why: %kube use local\n")


def test_use_an_unknown_context_is_an_error_naming_the_known_ones(run):
    ran = run("%kube use prod")
    assert isinstance(ran.error, UsageError)
    assert 'context "prod" not found in' in ran.err and "(contexts: none)" in ran.err


def test_use_a_context_of_the_users_kubeconfig(run, other, monkeypatch):
    _, _, path = other
    monkeypatch.setenv("KUBECONFIG", path)
    ran = run("%kube use classroom")
    assert ran.out.startswith('target: the context "classroom" (https://127.0.0.1:')
    assert "minikube   Ready    control-plane" in run("%kube get nodes").out
    ran = run("%kube advance 10s")
    assert ran.out.startswith('%kube advance applies only to the local cluster; the target is the context "classroom"')
    run("%kube use local")
    assert "kubelab-control-plane" in run("%kube get nodes").out


def test_auto_takes_the_users_context_when_it_answers(other, monkeypatch):
    _, handle, path = other
    monkeypatch.setenv("KUBECONFIG", path)
    chosen = targets.choose_auto()
    assert chosen.kind == "context" and chosen.context == "classroom"
    assert chosen.reason.startswith('target is "auto" and the current context of ')


def test_auto_falls_back_to_local_when_the_server_does_not_answer(tmp_path, monkeypatch):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(kubeconfig.config("https://127.0.0.1:1", b"ca", "t", name="gone")))
    monkeypatch.setenv("KUBECONFIG", str(path))
    chosen = targets.choose_auto()
    assert chosen.is_local
    assert 'the current context "gone" of' in chosen.reason and "connection refused" in chosen.reason


def test_config_target_setting_is_resolved_again(run, shell, other, monkeypatch):
    _, _, path = other
    monkeypatch.setenv("KUBECONFIG", path)
    shell.run_line_magic("config", "KubeMagic.target = 'classroom'")
    try:
        assert 'why: KubeMagic.target is "classroom"' in run("%kube target").out
    finally:
        shell.run_line_magic("config", "KubeMagic.target = 'auto'")
        run("%kube use local")


def _two_contexts(path, handle, current: str) -> None:
    doc = kubeconfig.config(handle.url, handle.ca_pem, handle.token, name="classroom")
    gone = kubeconfig.config("https://127.0.0.1:1", b"ca", "t", name="gone")
    for section in ("clusters", "users", "contexts"):
        doc[section] += gone[section]
    doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))


def test_config_use_context_retargets_the_magics_like_use(run, other, tmp_path, monkeypatch):
    _, handle, _ = other
    user = tmp_path / "config"
    _two_contexts(user, handle, current="gone")
    monkeypatch.setenv("KUBECONFIG", str(user))
    run("%kube use local")
    ran = run("%kube config use-context classroom")
    assert ran.error is None and ran.result.result.stdout == 'Switched to context "classroom".\n'
    assert yaml.safe_load(user.read_text())["current-context"] == "classroom"  # kubectl's own edit
    shown = run("%kube target").out
    assert shown.startswith('target: the context "classroom" (https://127.0.0.1:')
    assert "why: %kube config use-context classroom" in shown
    assert "minikube   Ready    control-plane" in run("%kube get nodes").out
    # Back to the kernel's local cluster: its context is switched in the per-kernel file only.
    ran = run("%kube config use-context kubelab")
    assert ran.error is None and ran.result.result.stdout == 'Switched to context "kubelab".\n'
    assert yaml.safe_load(user.read_text())["current-context"] == "classroom"
    assert run("%kube target").out.startswith('target: the local cluster "kubelab"')
    assert "kubelab-control-plane" in run("%kube get nodes").out
    assert run("%kube config current-context").result.result.stdout == "kubelab\n"


def test_config_use_context_of_an_unknown_name_fails_and_keeps_the_target(run, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    run("%kube use local")
    ran = run("%kube config use-context nowhere")
    assert ran.error._render_traceback_() == ['error: no context exists with the name: "nowhere"']
    assert run("%kube target").out.startswith('target: the local cluster "kubelab"')


def test_auto_follows_the_current_context_changed_outside_the_magics(other, tmp_path, monkeypatch):
    _, handle, _ = other
    user = tmp_path / "config"
    _two_contexts(user, handle, current="gone")
    monkeypatch.setenv("KUBECONFIG", str(user))
    session = sessions.Session(target="auto")
    try:
        assert session.target.is_local and 'current context "gone"' in session.target.reason
        _two_contexts(user, handle, current="classroom")  # as `kubectl config use-context` in a terminal
        assert session.target.context == "classroom" and not session.target.is_local
        session.use("local")  # a chosen target stays chosen
        _two_contexts(user, handle, current="gone")
        assert session.target.is_local and session.target.reason == "%kube use local"
    finally:
        session.close()
