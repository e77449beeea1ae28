"""The Job controller: completions and parallelism, back-off and limits, deadlines, TTL, Indexed Jobs."""

from __future__ import annotations

import podphase

import kubelab
from kubelab.cluster.clock import STEPPED_EPOCH, parse_time

HELLO = ["sh", "-c", 'date; echo "Hello, World!"']
INDEX = "batch.kubernetes.io/job-completion-index"


def make(kubelet: bool = True) -> kubelab.Cluster:
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    if kubelet:
        podphase.install(c)
    return c


def job(name: str = "hello", *, command: list[str] | None = None, image: str = "busybox", **spec) -> dict:
    container = {"name": "main", "image": image}
    if command is not None:
        container["command"] = command
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}, **spec}}


def job_events(c: kubelab.Cluster) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in c.events() if e["involvedObject"]["kind"] == "Job"]


def conditions(c: kubelab.Cluster, name: str = "hello") -> list[tuple[str, str, str]]:
    return [(x["type"], x["status"], x.get("reason", "")) for x in c.get("jobs", name)["status"].get("conditions", [])]


def seconds(stamp: str) -> float:
    return parse_time(stamp) - STEPPED_EPOCH


def test_a_job_runs_its_pod_to_completion_like_kube_controller_manager():
    c = make()
    c.apply(job(command=HELLO))
    pod = c.list("pods")[0]
    assert pod["metadata"]["name"].startswith("hello-") and len(pod["metadata"]["name"]) == len("hello-") + 5
    assert pod["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]
    assert pod["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "hello"
    assert c.get("jobs", "hello")["status"]["active"] == 1
    c.settle()
    status = c.get("jobs", "hello")["status"]
    assert conditions(c) == [("SuccessCriteriaMet", "True", "CompletionsReached"),
                             ("Complete", "True", "CompletionsReached")]
    assert status["conditions"][1]["message"] == "Reached expected number of succeeded pods"
    assert {k: v for k, v in status.items() if k not in ("conditions", "startTime", "completionTime")} == {
        "succeeded": 1, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
    assert seconds(status["completionTime"]) > seconds(status["startTime"])
    assert "finalizers" not in c.get("pods", pod["metadata"]["name"])["metadata"]
    assert job_events(c) == [("Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"),
                             ("Normal", "Completed", "Job completed")]


def test_completions_and_parallelism_bound_the_running_pods():
    c = make()
    c.apply(job(command=HELLO, completions=5, parallelism=2))
    most = 0
    for _ in range(40):
        c.advance(1)
        most = max(most, c.get("jobs", "hello")["status"].get("active", 0))
    c.settle()
    assert most == 2
    assert len(c.list("pods")) == 5
    assert c.get("jobs", "hello")["status"]["succeeded"] == 5
    assert conditions(c)[-1] == ("Complete", "True", "CompletionsReached")


def test_backoff_limit_fails_the_job_after_delays_of_10_and_20_seconds():
    c = make()
    c.apply(job(command=["sh", "-c", "exit 1"], backoffLimit=2))
    c.settle()
    pods = sorted(c.list("pods"), key=lambda p: p["metadata"]["creationTimestamp"])
    assert len(pods) == 3
    starts = [seconds(p["metadata"]["creationTimestamp"]) for p in pods]
    failures = [seconds(p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]) for p in pods]
    assert starts[1] - failures[0] == 10 and starts[2] - failures[1] == 20
    assert conditions(c) == [("FailureTarget", "True", "BackoffLimitExceeded"),
                             ("Failed", "True", "BackoffLimitExceeded")]
    assert c.get("jobs", "hello")["status"]["failed"] == 3
    assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") in job_events(c)
    assert "completionTime" not in c.get("jobs", "hello")["status"]


def test_active_deadline_stops_a_job_that_runs_too_long():
    c = make()
    c.apply(job(image="nginx", activeDeadlineSeconds=30))
    c.advance(29)
    assert conditions(c) == []
    c.advance(1)
    assert conditions(c) == [("FailureTarget", "True", "DeadlineExceeded")]
    assert c.list("pods")[0]["metadata"].get("deletionTimestamp")
    c.settle()
    assert conditions(c)[-1] == ("Failed", "True", "DeadlineExceeded")
    assert c.list("pods") == []
    assert ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline") in job_events(c)


def test_ttl_after_finished_deletes_the_job_and_its_pods():
    c = make()
    c.apply(job(command=HELLO, ttlSecondsAfterFinished=10))
    while "completionTime" not in c.get("jobs", "hello")["status"]:
        c.advance(1)  # settle() would chase the TTL timer as well
    done = seconds(c.get("jobs", "hello")["status"]["completionTime"])
    c.advance(done + 9 - (c.now - STEPPED_EPOCH))
    assert c.list("jobs")
    c.advance(2)
    assert c.list("jobs") == [] and c.list("pods") == []


def test_indexed_job_gives_each_pod_its_completion_index():
    c = make()
    c.apply(job(command=HELLO, completions=3, parallelism=3, completionMode="Indexed"))
    pods = sorted(c.list("pods"), key=lambda p: p["metadata"]["annotations"][INDEX])
    for index, pod in enumerate(pods):
        assert pod["metadata"]["name"].startswith(f"hello-{index}-")
        assert pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == str(index)
        assert pod["spec"]["hostname"] == f"hello-{index}"
        env = pod["spec"]["containers"][0]["env"]
        assert env == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}]
    c.settle()
    status = c.get("jobs", "hello")["status"]
    assert status["completedIndexes"] == "0-2" and status["succeeded"] == 3


def test_a_failed_index_is_retried_under_the_same_index_until_the_backoff_limit():
    c = make()
    c.apply(job(command=["sh", "-c", "exit $JOB_COMPLETION_INDEX"], completions=2, parallelism=1,
                completionMode="Indexed", backoffLimit=1))
    c.settle()
    indexes = [p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
               for p in sorted(c.list("pods"), key=lambda p: p["metadata"]["creationTimestamp"])]
    assert indexes == ["0", "1", "1"]
    status = c.get("jobs", "hello")["status"]
    assert (status["completedIndexes"], status["succeeded"], status["failed"]) == ("0", 1, 2)
    assert conditions(c)[-1] == ("Failed", "True", "BackoffLimitExceeded")


def test_a_suspended_job_starts_no_pods_until_resumed():
    c = make()
    c.apply(job(command=HELLO, suspend=True))
    assert c.list("pods") == []
    assert conditions(c) == [("Suspended", "True", "JobSuspended")]
    assert "startTime" not in c.get("jobs", "hello")["status"]
    c.apply(job(command=HELLO, suspend=False))
    assert len(c.list("pods")) == 1
    assert conditions(c) == [("Suspended", "False", "JobResumed")]
    assert {("Normal", "Suspended", "Job suspended"), ("Normal", "Resumed", "Job resumed")} <= set(job_events(c))


def test_deleting_a_running_pod_counts_as_a_failure_and_it_is_replaced():
    c = make()
    # A shell as PID 1 ignores SIGTERM: the kubelet kills it after the grace period (exit 137).
    c.apply(job(command=["sh", "-c", "sleep 3600"]))
    c.settle()
    first = c.list("pods")[0]["metadata"]["name"]
    c.delete("pods", first)
    c.settle()
    assert c.get("jobs", "hello")["status"]["failed"] == 1
    assert [p["metadata"]["name"] for p in c.list("pods")] != [first] and len(c.list("pods")) == 1


def test_deleting_a_running_job_takes_its_pods_along_despite_their_finalizer():
    c = make()
    c.apply(job(image="nginx", parallelism=2, completions=4))
    c.settle()
    assert len(c.list("pods")) == 2
    c.delete("jobs", "hello")
    c.settle()
    assert c.list("jobs") == [] and c.list("pods") == []


def test_finished_pods_pass_through_uncounted_terminated_pods_before_they_are_counted():
    c = make()
    c.apply(job(command=HELLO))
    watch = c.watch("jobs", "default")
    c.settle()
    statuses = [e["object"].get("status", {}) for e in watch.drain()]
    pod_uid = c.list("pods")[0]["metadata"]["uid"]
    assert {"succeeded": [pod_uid]} in [s.get("uncountedTerminatedPods") for s in statuses]
    final = statuses[-1]
    assert final["uncountedTerminatedPods"] == {} and final["succeeded"] == 1
