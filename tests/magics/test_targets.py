"""Choosing the cluster: `auto`, `%kube use`, `%kube target`, and local-only words on a real target."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from IPython.core.error import UsageError

import kubelab
from kubelab.server import kubeconfig
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
