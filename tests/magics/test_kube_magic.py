"""`%kube` and `%%kube` in a real IPython shell against the stepped local cluster."""

from __future__ import annotations

import urllib.request

import pytest

import kubelab
from kubelab import seed as course
from kubelab.tools import urls
from kubelab.tools.errors import KubectlError
from kubelab.tools.result import KubectlResult

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ name }}
data:
  greeting: "{{ greeting }}"
"""


def test_kube_runs_kubectl_and_shows_its_table(run):
    ran = run("%kube get nodes")
    assert ran.error is None
    assert "NAME                    STATUS   ROLES           AGE   VERSION" in ran.out
    assert "kubelab-control-plane   Ready    control-plane" in ran.out


def test_result_is_returned_with_json_and_objects(run, shell):
    run("%kube create deployment web --image=nginx --replicas=2\n%kube settle")
    ran = run("pods = %kube get pods -l app=web -o json")
    assert ran.out == ""  # an assigned result shows nothing, like any Python assignment
    pods = shell.user_ns["pods"]
    assert isinstance(pods, KubectlResult) and pods.returncode == 0
    assert pods.args == ["kubectl", "get", "pods", "-l", "app=web", "-o", "json"]
    assert pods.json()["kind"] == "List"
    assert sorted(p["status"]["phase"] for p in pods.objects) == ["Running", "Running"]
    one = shell.run_line_magic("kube", "get deployment web -o yaml")
    assert [o["metadata"]["name"] for o in one.objects] == ["web"]
    assert repr(one) == one.stdout.rstrip("\n") and one.stdout.startswith("apiVersion: apps/v1")


def test_json_of_a_table_says_to_use_o_json(shell):
    table = shell.run_line_magic("kube", "get nodes")
    with pytest.raises(ValueError, match="run the command with -o json"):
        table.json()


def test_every_bare_kube_line_of_a_cell_shows_its_output(run):
    ran = run("%kube create configmap one --from-literal=a=1\nx = %kube get configmap one\n%kube get configmap one")
    assert ran.out.count("configmap/one created") == 1
    assert ran.out.count("one    1      ") == 1  # only the bare line's table, not the assigned one


def test_failed_command_raises_kubectl_error_with_kubectls_message(run):
    ran = run("%kube get pod nope")
    assert isinstance(ran.error, kubelab.KubectlError)
    assert ran.error.returncode == 1 and ran.error.argv == ["kubectl", "get", "pod", "nope"]
    # The cell shows kubectl's line, not a Python traceback.
    assert ran.error._render_traceback_() == ['Error from server (NotFound): pods "nope" not found']
    assert 'Error from server (NotFound): pods "nope" not found' in ran.out
    assert "Traceback" not in ran.out


def test_no_raise_error_returns_the_failed_result(run, shell):
    ran = run("r = %kube get pod nope --no-raise-error")
    assert ran.error is None
    assert 'pods "nope" not found' in ran.err
    assert shell.user_ns["r"].returncode == 1


def test_raise_on_error_false_lets_cells_go_on(run, shell):
    shell.run_line_magic("config", "KubeMagic.raise_on_error = False")
    try:
        ran = run("%kube delete configmap nope")
        assert ran.error is None and 'configmaps "nope" not found' in ran.err
    finally:
        shell.run_line_magic("config", "KubeMagic.raise_on_error = True")


def test_cell_is_applied_with_variables_from_the_notebook(run, shell):
    shell.user_ns.update(name="greetings", greeting="hello")
    ran = run(f"%%kube\n{CONFIGMAP}")
    assert ran.error is None and "configmap/greetings created" in ran.out
    got = shell.run_line_magic("kube", "get configmap greetings -o json").json()
    assert got["data"] == {"greeting": "hello"}


def test_cell_args_replace_apply(run, shell):
    shell.user_ns.update(name="temp", greeting="hi")
    assert "configmap/temp created" in run(f"%%kube create\n{CONFIGMAP}").out
    assert 'configmap "temp" deleted' in run(f"%%kube delete\n{CONFIGMAP}").out


def test_missing_template_variable_is_named(run, shell):
    shell.user_ns.pop("greeting", None)
    shell.user_ns["name"] = "x"
    ran = run(f"%%kube\n{CONFIGMAP}")
    assert ran.error is not None
    assert "{{ greeting }}" in ran.err and "no variable named 'greeting'" in ran.err


def test_line_variables_are_expanded_by_ipython(run, shell):
    shell.user_ns["cm"] = "expanded"
    assert "configmap/expanded created" in run("%kube create configmap {cm}").out


def test_server_hint_is_shown_under_kubectls_error(run):
    ran = run(f"%%kube\n{course.HELLOWORLD_DEPLOYMENT}")
    lines = ran.error._render_traceback_()
    assert lines[0].startswith('Error from server (BadRequest): error when creating "STDIN"')
    assert lines[-1].startswith('hint: "matchLabels" belongs under "spec.selector"')


def test_removed_api_version_gets_a_hint_on_the_local_cluster(run):
    ran = run(f"%%kube\n{course.HELLO_CRONJOB}")  # kubectl's default (strict) validation, as a learner runs it
    lines = ran.error._render_traceback_()
    assert 'no matches for kind "CronJob" in version "batch/v1beta1"' in lines[0]
    assert "ensure CRDs are installed first" in lines
    assert lines[-1] == "hint: use apiVersion batch/v1 (batch/v1beta1 was removed from Kubernetes)"


def test_port_forward_runs_beside_the_notebook_until_stopped(run, shell):
    run("%kube run pf-web --image=nginx")
    run("%kube wait --for=condition=Ready pod/pf-web --timeout=60s")
    ran = run("forward = %kube port-forward pod/pf-web :80\nforward")
    assert ran.error is None
    assert "Forwarding from 127.0.0.1:" in ran.out and "(running in the background: .stop() ends it)" in ran.out
    assert "from your browser on this hub" not in ran.out  # not on a hub: kubectl's lines only
    forward = shell.user_ns["forward"]
    with urllib.request.urlopen(forward.url, timeout=10) as answer:
        assert b"Welcome to nginx!" in answer.read()
    with pytest.MonkeyPatch.context() as hub:  # the same tunnel seen from a JupyterHub (Binder)
        hub.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
        hub.setattr(urls, "proxy_installed", lambda: True)
        shown = run("forward").out.splitlines()
        assert shown[-2:] == [f"(from your browser on this hub: /user/ada/proxy/{forward.local_port}/)",
                              "(running in the background: .stop() ends it)"]
        assert forward.browser_url == f"/user/ada/proxy/{forward.local_port}/"
    forward.stop()
    assert not forward.running
    with pytest.raises(OSError):
        urllib.request.urlopen(forward.url, timeout=2)


def test_port_forward_to_a_missing_pod_raises_kubectls_error(run):
    ran = run("%kube port-forward pod/nope :80")
    assert isinstance(ran.error, KubectlError)
    assert ran.error._render_traceback_() == ['Error from server (NotFound): pods "nope" not found']


def test_watch_streams_into_the_cell_until_for_seconds(run):
    run("%kube create configmap watched")
    ran = run("%kube get configmaps -w --for 1")
    assert ran.error is None
    assert ran.out.startswith("NAME ") and "watched " in ran.out
    assert "Out[" not in ran.out  # a streamed command returns nothing to display again


def test_trailing_semicolon_hides_the_result(run):
    ran = run("%kube get nodes;")
    assert ran.error is None and ran.out == ""
