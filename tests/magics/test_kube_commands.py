"""kubelab's own `%kube` words on the stepped local cluster: time, snapshots, nodes."""

from __future__ import annotations

from IPython.core.error import UsageError


def test_advance_accepts_seconds_minutes_and_hours(run):
    before = run("%kube clock").out
    assert "stepped clock: time moves with %kube advance" in before
    assert run("%kube advance 90").out.startswith("advanced 1m30s: now 2026-01-01T00:01:")
    assert run("%kube advance 2m").out.startswith("advanced 2m0s: now 2026-01-01T00:03:")
    assert run("%kube advance 1h").out.startswith("advanced 1h0m0s: now 2026-01-01T01:03:")
    assert ", 1h3m" in run("%kube clock").out


def test_advance_rejects_what_is_not_a_duration(run):
    ran = run("%kube advance soon")
    assert isinstance(ran.error, UsageError)
    assert '"soon" is not a duration: use seconds (90), or 90s, 2m, 1h' in ran.err


def test_settle_runs_pending_work_and_says_how_long_it_took(run):
    run("%kube create deployment api --image=nginx")
    ran = run("%kube settle")
    assert ran.out.startswith("settled after ") and "now 2026-01-01T" in ran.out
    pods = run("%kube get pods -l app=api").out
    assert "1/1     Running" in pods


def test_snapshot_restore_and_reset(run):
    run("%kube create configmap keep --from-literal=a=1")
    assert run("%kube snapshot before").out == 'snapshot "before" taken\n'
    run("%kube delete configmap keep")
    assert run("%kube restore before").out == 'restored snapshot "before"\n'
    assert "keep" in run("%kube get configmap keep").out
    assert run("%kube reset").out == 'the local cluster "kubelab" is back to the state it started in\n'
    assert isinstance(run("%kube get configmap keep").error, Exception)
    assert "No resources found in default namespace." in run("%kube get deployments").err


def test_restore_of_an_unknown_snapshot_lists_the_known_ones(run):
    ran = run("%kube restore nope")
    assert isinstance(ran.error, UsageError)
    assert 'no snapshot named "nope" (snapshots: before)' in ran.err


def test_nodes_add_fail_recover_remove(run):
    assert run("%kube nodes add").out == "node/kubelab-worker added\n"
    assert run("%kube nodes add extra").out == "node/extra added\n"
    assert run("%kube nodes fail extra").out.startswith("node/extra failed: its kubelet stopped")
    run("%kube advance 2m")
    assert "extra                   NotReady" in run("%kube get nodes").out
    assert run("%kube nodes recover extra").out == "node/extra recovered: its kubelet is back\n"
    assert "extra                   Ready" in run("%kube get nodes").out
    assert run("%kube nodes remove extra").out == "node/extra removed\n"
    assert "extra" not in run("%kube get nodes").out


def test_nodes_errors_are_the_apiservers(run):
    ran = run("%kube nodes fail ghost")
    assert 'Error from server (NotFound): nodes "ghost" not found' in ran.err
    assert "usage: %kube nodes add [NAME]" in run("%kube nodes").err
