"""ReplicaSet status counts and scale-down order stay right while a sync reads its pods from the store's
indexes in no particular order and reuses what it read of unchanged pod versions."""

from __future__ import annotations

import kubelab
from tests.cluster.test_replicaset import events, pods, replicaset


def status_counts(c: kubelab.Cluster) -> tuple[int, int, int, int, int]:
    s = c.get("rs", "web")["status"]
    return (s["replicas"], s.get("fullyLabeledReplicas", 0), s.get("readyReplicas", 0),
            s.get("availableReplicas", 0), s["terminatingReplicas"])


def test_counts_follow_a_pod_losing_a_template_label_then_terminating_and_its_replacement_turning_ready():
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    c.create(replicaset())
    c.settle()
    assert status_counts(c) == (3, 3, 3, 3, 0)
    first, second, _ = sorted(p["metadata"]["name"] for p in pods(c))
    pod = c.get("pods", first)
    del pod["metadata"]["labels"]["tier"]  # still selected by app=web, no longer fully labeled
    c.update(pod)
    assert status_counts(c) == (3, 2, 3, 3, 0)
    c.delete("pods", second)  # terminating; its replacement is created but not ready yet
    assert status_counts(c) == (3, 2, 2, 2, 1)
    c.settle()
    assert status_counts(c) == (3, 2, 3, 3, 0)


def test_scale_down_between_equal_pods_deletes_them_in_name_order():
    c = kubelab.Cluster(nodes=0, clock="stepped", seed=1)  # nothing schedules: the pods rank equal
    c.create(replicaset(replicas=4))
    names = sorted(p["metadata"]["name"] for p in pods(c))
    c.scale("rs", "web", 1)
    assert events(c)[-3:] == [("SuccessfulDelete", f"Deleted pod: {n}") for n in names[:3]]
    assert [p["metadata"]["name"] for p in pods(c)] == names[3:]


def test_pods_of_another_replicaset_and_bare_pods_with_the_same_labels_elsewhere_are_not_counted():
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    c.create(replicaset(name="web", replicas=2))
    other = replicaset(name="api", replicas=2)
    other["spec"]["template"]["metadata"]["labels"]["app"] = "api"
    c.create(other)
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare", "labels": {"app": "other"}},
              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}})
    c.settle()
    assert status_counts(c) == (2, 2, 2, 2, 0)
    assert "ownerReferences" not in c.get("pods", "bare")["metadata"]
