"""The real kubectl drives workloads on the local cluster (stepped clock: the server fast-forwards
while kubectl waits): run and wait, describe with events, logs, rollouts, expose, create, edit,
cordon and drain, graceful delete."""

from __future__ import annotations

import base64
import re
import sys

import pytest

from kubelab.api.errors import ApiError

EDITOR = """\
import re, sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(re.sub(r"(?m)^  replicas: \\d+", "  replicas: 3", text, count=1))
"""


def test_run_then_wait_until_ready_and_get_shows_running(served):
    assert served.ok("run", "x", "--image=nginx").strip() == "pod/x created"
    assert served.ok("wait", "--for=condition=Ready", "pod/x", "--timeout=30s").strip() == "pod/x condition met"
    row = served.ok("get", "pod", "x").splitlines()[1].split()
    assert row[:4] == ["x", "1/1", "Running", "0"]


def test_describe_pod_lists_the_lifecycle_events_in_order(served):
    served.ok("wait", "--for=condition=Ready", "pod/x", "--timeout=30s")
    out = served.ok("describe", "pod", "x")
    events = out.split("\nEvents:\n", 1)[1].splitlines()
    assert events[0].split() == ["Type", "Reason", "Age", "From", "Message"]
    reasons = [line.split()[1] for line in events[2:]]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    assert re.search(r"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/x to kubelab-",
                     out)
    assert 'Pulling image "nginx"' in out


def test_logs_previous_shows_the_instance_before_the_restart(served):
    served.ok("run", "crash", "--image=busybox", "--", "sh", "-c", "echo starting; sleep 2; echo failing; exit 1")
    served.ok("wait", "--for=jsonpath={.status.containerStatuses[0].restartCount}=1", "pod/crash", "--timeout=30s")
    assert served.ok("logs", "crash", "--previous") == "starting\nfailing\n"
    never = served.kubectl("logs", "x", "--previous")
    assert never.err.strip() == ('Error from server (BadRequest): previous terminated container "x" in pod "x" '
                                 "not found")


def test_create_deployment_rolls_out_and_describe_names_the_new_replicaset(served):
    out = served.ok("create", "deployment", "hello", "--image=nginx:1.25", "--replicas=2")
    assert out.strip() == "deployment.apps/hello created"
    status = served.ok("rollout", "status", "deploy/hello", "--timeout=30s")
    assert status.splitlines()[-1] == 'deployment "hello" successfully rolled out'
    described = served.ok("describe", "deployment", "hello")
    assert re.search(r"^NewReplicaSet:\s+hello-[a-z0-9]{9,10} \(2/2 replicas created\)$", described, re.M)
    assert re.search(r"ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set hello-\w+ from 0 to 2",
                     described)


def test_rollout_history_undo_and_restart(served):
    served.ok("set", "image", "deploy/hello", "nginx=nginx:1.26")
    served.ok("rollout", "status", "deploy/hello", "--timeout=30s")
    history = served.ok("rollout", "history", "deploy/hello").split("\n", 1)[1]
    assert [line.split()[0] for line in history.strip().splitlines()[1:]] == ["1", "2"]
    assert served.ok("rollout", "undo", "deploy/hello").strip() == "deployment.apps/hello rolled back"
    served.ok("rollout", "status", "deploy/hello", "--timeout=30s")
    image = served.ok("get", "deploy", "hello", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image == "nginx:1.25"
    assert served.ok("rollout", "restart", "deploy/hello").strip() == "deployment.apps/hello restarted"
    served.ok("rollout", "status", "deploy/hello", "--timeout=30s")
    template = served.cluster.get("deploy", "hello")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    history = served.ok("rollout", "history", "deploy/hello").split("\n", 1)[1]
    assert [line.split()[0] for line in history.strip().splitlines()[1:]] == ["2", "3", "4"]


def test_expose_deployment_as_nodeport_creates_the_service(served):
    out = served.ok("expose", "deployment", "hello", "--type=NodePort", "--port=80")
    assert out.strip() == "service/hello exposed"
    svc = served.cluster.get("svc", "hello")
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["selector"] == {"app": "hello"}
    port = svc["spec"]["ports"][0]
    assert port["port"] == 80 and 30000 <= port["nodePort"] <= 32767
    row = served.ok("get", "svc", "hello").splitlines()[1].split()
    assert row[1] == "NodePort" and row[4] == f"80:{port['nodePort']}/TCP"


def test_create_secret_generic_from_literals(served):
    out = served.ok("create", "secret", "generic", "creds", "--from-literal=user=admin", "--from-literal=pw=s3cret")
    assert out.strip() == "secret/creds created"
    data = served.cluster.get("secret", "creds")["data"]
    assert {k: base64.b64decode(v).decode() for k, v in data.items()} == {"user": "admin", "pw": "s3cret"}


def test_create_cronjob_and_get_it(served):
    out = served.ok("create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *", "--", "echo", "hi")
    assert out.strip() == "cronjob.batch/tick created"
    row = served.ok("get", "cronjob", "tick").splitlines()[1].split()
    assert row[:5] == ["tick", "*/1", "*", "*", "*"]
    job = served.cluster.get("cronjob", "tick")["spec"]["jobTemplate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]


def test_edit_with_kube_editor_changes_replicas(served, tmp_path):
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    result = served.kubectl("edit", "deploy/hello", env={"KUBE_EDITOR": f"{sys.executable} {script}"})
    assert (result.rc, result.out.strip()) == (0, "deployment.apps/hello edited"), result.err
    assert served.cluster.get("deploy", "hello")["spec"]["replicas"] == 3
    served.ok("rollout", "status", "deploy/hello", "--timeout=30s")


def test_drain_refuses_unmanaged_pods_then_evicts_the_selected_ones(served):
    node = served.cluster.get("pod", "x")["spec"]["nodeName"]
    assert node == "kubelab-worker"  # the control plane is tainted NoSchedule, as kind's is
    assert served.ok("cordon", node).strip() == f"node/{node} cordoned"
    refused = served.kubectl("drain", node, "--ignore-daemonsets", "--timeout=30s")
    assert refused.rc == 1
    assert "cannot delete Pods that declare no controller (use --force to override): default/" in refused.err
    out = served.ok("drain", node, "--ignore-daemonsets", "--pod-selector=app=hello", "--timeout=30s")
    assert out.splitlines()[-1] == f"node/{node} drained"
    rows = served.ok("get", "pods", "-l", "app=hello").splitlines()[1:]
    assert len(rows) == 3 and all(row.split()[2] == "Pending" for row in rows)
    described = served.ok("describe", "pod", rows[0].split()[0])
    assert "FailedScheduling" in described and "1 node(s) were unschedulable" in described
    assert served.ok("get", "node", node).splitlines()[1].split()[1] == "Ready,SchedulingDisabled"
    assert served.ok("uncordon", node).strip() == f"node/{node} uncordoned"
    status = served.ok("rollout", "status", "deploy/hello", "--timeout=30s")
    assert status.splitlines()[-1] == 'deployment "hello" successfully rolled out'


def test_delete_waits_for_the_graceful_termination(served):
    before = served.cluster.clock.now()
    assert served.ok("delete", "pod", "x").strip() == 'pod "x" deleted from default namespace'
    with pytest.raises(ApiError):
        served.cluster.get("pod", "x")
    assert served.cluster.clock.now() > before  # the server moved the clock while kubectl waited
