"""Events as `kubectl describe` shows them: names, aggregation of repeats, and a recorder that does not grow forever."""

from __future__ import annotations

import math
from typing import Any

import kubelab
from kubelab.cluster.recorder import AGGREGATE_WINDOW, EventRecorder

START = 1_767_225_600.0


class Recorded:
    """A stand-in for the API server: keeps what the recorder writes, by name."""

    def __init__(self) -> None:
        self.now = START
        self.events: dict[str, dict[str, Any]] = {}
        self.recorder = EventRecorder(lambda: self.now, self.write)

    def write(self, event: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        self.events[event["metadata"]["name"]] = event
        return event


def pod(name: str, uid: str = "u-1") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": uid,
                                                            "resourceVersion": "7"}}


def test_repeated_event_is_counted_on_one_event_with_the_last_timestamp():
    log = Recorded()
    first = log.recorder.record(pod("web"), "Warning", "BackOff", "Back-off restarting", "kubelet", host="n1")
    log.now += 30
    again = log.recorder.record(pod("web"), "Warning", "BackOff", "Back-off restarting", "kubelet", host="n1")
    assert again["metadata"]["name"] == first["metadata"]["name"] == f"web.{int(START * 1e9):x}"
    assert again["count"] == 2
    assert again["firstTimestamp"] == "2026-01-01T00:00:00Z" and again["lastTimestamp"] == "2026-01-01T00:00:30Z"
    assert list(again) == list(first)  # same field order as the first write: kubectl prints in dict order
    assert again["involvedObject"] == {"kind": "Pod", "apiVersion": "v1", "name": "web", "namespace": "default",
                                       "uid": "u-1", "resourceVersion": "7"}


def test_repeat_after_the_window_is_a_new_event():
    log = Recorded()
    first = log.recorder.record(pod("web"), "Normal", "Pulled", "already present", "kubelet")
    log.now += AGGREGATE_WINDOW + 1
    later = log.recorder.record(pod("web"), "Normal", "Pulled", "already present", "kubelet")
    assert later["metadata"]["name"] != first["metadata"]["name"] and later["count"] == 1


def test_two_events_of_one_object_in_the_same_instant_get_distinct_names():
    log = Recorded()
    nanos = int(START * 1e9)
    a = log.recorder.record(pod("web"), "Normal", "Pulled", "already present", "kubelet")
    b = log.recorder.record(pod("web"), "Normal", "Created", "Created container app", "kubelet")
    # The second one is offset by the number of events created so far, as it always was.
    assert (a["metadata"]["name"], b["metadata"]["name"]) == (f"web.{nanos:x}", f"web.{nanos + 1:x}")


def test_a_name_given_ahead_of_time_is_not_given_again_after_the_recorder_forgot_older_names():
    log = Recorded()
    nanos = int(START * 1e9)
    later = START
    for _ in range(20):  # a float instant a few microseconds on (floats this large step by ~238 ns)
        later = math.nextafter(later, math.inf)
    offset = int(later * 1e9) - nanos  # the creations it takes for an offset name to hit `later`'s name
    for i in range(offset - 1):
        log.recorder.record(pod(f"p{i}"), "Normal", "Pulled", "already present", "kubelet")
    log.recorder.record(pod("web"), "Normal", "Pulled", "already present", "kubelet")
    ahead = log.recorder.record(pod("web"), "Normal", "Created", "Created container app", "kubelet")
    assert ahead["metadata"]["name"] == f"web.{int(later * 1e9):x}"
    log.now = math.nextafter(START, math.inf)  # time moves on: names from START may be forgotten now
    for i in range(5000):
        log.recorder.record(pod(f"q{i}"), "Normal", "Pulled", "already present", "kubelet")
    assert len(log.recorder._names) < 5000 + offset  # (it did forget some)
    log.now = later
    clash = log.recorder.record(pod("web"), "Normal", "Started", "Started container app", "kubelet")
    assert clash["metadata"]["name"] != ahead["metadata"]["name"]
    assert len(log.events) == offset + 1 + 5000 + 1


def test_recorder_memory_stays_bounded_as_time_goes_on():
    log = Recorded()
    for i in range(20_000):
        log.now = START + i
        log.recorder.record(pod(f"p{i}", uid=f"u{i}"), "Normal", "Pulled", "already present", "kubelet")
    assert len(log.recorder._names) <= 8192
    assert len(log.recorder._recent) <= 8192


def test_cluster_events_of_a_pod_are_named_after_it_and_counted():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=3)
    cluster.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo"},
                        "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}})
    cluster.settle()
    events, _ = cluster.store.list(("", "events"), "default")
    mine = [e for e in events if e["involvedObject"]["name"] == "solo"]
    assert [e["reason"] for e in mine] == ["Scheduled", "Pulled", "Created", "Started"]
    assert all(e["metadata"]["name"].startswith("solo.") and e["count"] == 1 for e in mine)
    assert len({e["metadata"]["uid"] for e in mine}) == 4


def test_cluster_event_carries_system_metadata_and_a_repeat_updates_that_same_event():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=3)
    cm = cluster.api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}})
    first = cluster.record_event(cm, "Warning", "Lesson", "something happened", "kubelab")
    assert list(first["metadata"]) == ["name", "namespace", "uid", "creationTimestamp", "resourceVersion"]
    assert first["metadata"]["resourceVersion"] == str(cluster.store.revision)
    cluster.advance(5)
    again = cluster.record_event(cm, "Warning", "Lesson", "something happened", "kubelab")
    assert again["count"] == 2 and again["metadata"]["uid"] == first["metadata"]["uid"]
    assert int(again["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert first["count"] == 1  # the first version, as stored then, is unchanged
    assert cluster.store.get(("", "events"), "default", first["metadata"]["name"]) is again


def test_events_name_the_object_version_and_source_they_were_recorded_for_even_from_one_changing_dict():
    log = Recorded()
    obj = pod("web")
    first = log.recorder.record(obj, "Normal", "Pulled", "already present", "kubelet", host="n1",
                                field_path="spec.containers{app}")
    log.now += 1
    obj["metadata"]["resourceVersion"] = "8"  # a caller that changes its dict between two events
    second = log.recorder.record(obj, "Normal", "Created", "Container created", "kubelet", host="n2",
                                 field_path="spec.containers{app}")
    log.now += 1
    third = log.recorder.record(obj, "Normal", "Started", "Container started", "kubelet", host="n2")
    log.now += 1
    node = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "n2"}}
    fourth = log.recorder.record(node, "Normal", "Starting", "Starting kubelet.", "kubelet", host="n2")
    assert first["involvedObject"] == {"kind": "Pod", "apiVersion": "v1", "name": "web", "namespace": "default",
                                       "uid": "u-1", "resourceVersion": "7", "fieldPath": "spec.containers{app}"}
    assert second["involvedObject"] == dict(first["involvedObject"], resourceVersion="8")
    assert third["involvedObject"] == {"kind": "Pod", "apiVersion": "v1", "name": "web", "namespace": "default",
                                       "uid": "u-1", "resourceVersion": "8"}
    assert fourth["involvedObject"] == {"kind": "Node", "apiVersion": "v1", "name": "n2"}
    assert fourth["metadata"]["namespace"] == "default"
    assert [e["source"] for e in (first, second, third)] == [
        {"component": "kubelet", "host": "n1"}, {"component": "kubelet", "host": "n2"},
        {"component": "kubelet", "host": "n2"}]
    assert (first["reportingInstance"], second["reportingInstance"]) == ("n1", "n2")
