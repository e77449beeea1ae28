"""`kubelab demo`, the README's main job, shows the course's errors and a running cluster."""

from kubelab.cli import main


def run_demo(capsys) -> str:
    assert main(["demo"]) == 0
    return capsys.readouterr().out


def test_demo_shows_the_course_errors_then_pods_running_and_is_the_same_every_run(capsys):
    first = run_demo(capsys)
    assert 'unknown field "spec.matchLabels"' in first
    assert 'hint: "matchLabels" belongs under "spec.selector"' in first
    assert 'no matches for kind "CronJob" in version "batch/v1beta1"' in first
    assert "2/2  Running" in first  # the go-demo-2 pods, both containers ready
    assert "the ReplicaSet made a new one" in first
    assert "Hello, World!" in first
    assert run_demo(capsys) == first
