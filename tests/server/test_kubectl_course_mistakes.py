"""The course's own YAML mistakes through the real kubectl: the messages a learner sees.

The seed notes' CronJob uses the removed `batch/v1beta1` and its Deployment is mis-indented; kubectl
must print what it prints against a real cluster, and a rejected write leaves kubelab's hint in the
component trace for the magics to show under kubectl's own (rebuilt) message."""

from __future__ import annotations

from apiserver_client import Served

from kubelab import seed

MISMATCHED_LABELS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: mismatched}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers: [{name: web, image: nginx}]
"""


def test_removed_cronjob_version_is_a_mapping_error_as_on_a_real_cluster(served: Served) -> None:
    result = served.kubectl("apply", "-f", "-", input=seed.HELLO_CRONJOB)
    assert result.rc == 1
    assert 'no matches for kind "CronJob" in version "batch/v1beta1"' in result.err
    assert "ensure CRDs are installed first" in result.err
    assert served.kubectl("get", "cronjobs").err.startswith("No resources found")


def test_misindented_deployment_gets_strict_decoding_error_and_hint(served: Served) -> None:
    result = served.kubectl("apply", "-f", "-", input=seed.HELLOWORLD_DEPLOYMENT)
    assert result.rc == 1
    assert 'unknown field "spec.matchLabels"' in result.err
    assert 'hint: "matchLabels" belongs under "spec.selector"' in result.err


def test_invalid_write_leaves_its_hint_in_the_trace(served: Served) -> None:
    mark = served.cluster.trace()[-1].seq
    result = served.kubectl("apply", "-f", "-", input=MISMATCHED_LABELS)
    assert result.rc == 1
    assert 'The Deployment "mismatched" is invalid' in result.err
    rejected = [r for r in served.cluster.trace(since=mark) if r.action == "rejected"]
    assert [r.detail for r in rejected] == [
        "hint: every label in spec.selector must also be set in spec.template.metadata.labels"]
