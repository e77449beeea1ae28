"""The rest of issue 6's real-kubectl list: `get all`, `logs -f` on a stepped clock, and the error
paths a learner meets first, each printed in kubectl's usual words."""

from __future__ import annotations

import re
import time

import pytest

CLOCK_LOOP = "while true; do date; sleep 5; done"


@pytest.fixture(scope="module", autouse=True)
def objects(served):
    served.ok("create", "deployment", "hello", "--image=nginx", "--replicas=2")
    served.ok("expose", "deployment", "hello", "--port=80")
    served.cluster.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "clock"},
                           "spec": {"containers": [{"name": "clock", "image": "busybox",
                                                    "command": ["sh", "-c", CLOCK_LOOP]}]}})
    served.cluster.advance(30)


def test_get_all_lists_every_kind_of_the_all_category(served):
    out = served.ok("get", "all")
    sections = [block.splitlines() for block in out.strip().split("\n\n")]
    assert [block[0].split()[:2] for block in sections] == [
        ["NAME", "READY"], ["NAME", "TYPE"], ["NAME", "READY"], ["NAME", "DESIRED"]]
    names = [line.split()[0] for block in sections for line in block[1:]]
    assert [n.split("/")[0] for n in names] == ["pod", "pod", "pod", "service", "service", "deployment.apps",
                                                 "replicaset.apps"]
    assert "service/hello" in names and "deployment.apps/hello" in names


def test_logs_follow_on_a_stepped_clock_keeps_the_loop_writing_until_the_timeout(served):
    start = served.cluster.clock.now()
    began = time.monotonic()
    result = served.kubectl("logs", "-f", "clock", "--request-timeout=2s")
    assert time.monotonic() - began < 10
    lines = result.out.splitlines()
    assert len(lines) > 10  # far more than the 7 lines of the first 30 simulated seconds
    assert all(re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC 2026", line) for line in lines)
    clock = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in (line.split()[3].split(":") for line in lines)]
    assert {b - a for a, b in zip(clock, clock[1:], strict=False)} == {5}  # one line per `sleep 5` of simulated time
    assert served.cluster.clock.now() - start > 30  # the follower moved time forward
    assert result.rc == 1 and result.err.splitlines()[-1].startswith("error: ")


def test_logs_follow_of_a_finished_container_ends_by_itself(served):
    served.cluster.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "once"},
                           "spec": {"restartPolicy": "Never", "containers": [
                               {"name": "once", "image": "busybox", "command": ["sh", "-c", "echo done"]}]}})
    served.ok("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/once", "--timeout=30s")
    result = served.kubectl("logs", "-f", "once", "--request-timeout=20s")
    assert (result.rc, result.out) == (0, "done\n")


@pytest.mark.parametrize(("args", "message"), [
    (("scale", "deploy/nope", "--replicas=2"), 'Error from server (NotFound): deployments.apps "nope" not found'),
    (("logs", "nope"), 'error: error from server (NotFound): pods "nope" not found in namespace "default"'),
    (("logs", "clock", "-c", "nope"), "error: container nope is not valid for pod clock out of: clock"),
    (("rollout", "undo", "deploy/hello", "--to-revision=5"), "error: unable to find specified revision 5 in history"),
    (("annotate", "deploy", "nope", "a=b"), 'Error from server (NotFound): deployments.apps "nope" not found'),
    (("cordon", "node-nope"), 'Error from server (NotFound): nodes "node-nope" not found'),
    (("wait", "--for=condition=Ready", "pod/nope", "--timeout=2s"),
     'Error from server (NotFound): pods "nope" not found'),
    (("get", "pods", "-l", "app in (hello"),
     'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "app in (hello", '
     "field selector \"\": unable to parse requirement: found '', expected: ',' or ')'"),
], ids=["scale", "logs-pod", "logs-container", "rollout-undo", "annotate", "cordon", "wait", "selector"])
def test_error_paths_print_kubectls_usual_message(served, args, message):
    result = served.kubectl(*args)
    assert (result.rc, result.err.strip().splitlines()[-1]) == (1, message)
