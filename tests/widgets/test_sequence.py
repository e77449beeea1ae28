"""SequenceTrace: the component trace of a real run as the seed notes' numbered sequences."""

from __future__ import annotations

from kubelab.cluster.recorder import TraceRecord
from kubelab.widgets import SequenceTrace
from kubelab.widgets.sequence import steps, steps_from_events
from kubelab.widgets.sequence_svg import sequence_svg

DB_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "labels": {"app": "db"}},
          "spec": {"containers": [{"name": "db", "image": "mongo"}]}}
DB_SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
              "spec": {"selector": {"app": "db"}, "ports": [{"port": 27017}]}}


def in_order(lines: list[str], expected: list[str]) -> list[str]:
    """The expected fragments matched in order, one line each; returns the lines that matched."""
    matched, i = [], 0
    for line in lines:
        if i < len(expected) and expected[i] in line:
            matched.append(line)
            i += 1
    assert i == len(expected), f"missing {expected[i]!r} (in order) in:\n" + "\n".join(lines)
    return matched


def test_creating_one_pod_draws_the_seed_pod_scheduling_sequence(cluster):
    trace = SequenceTrace(cluster, since="now", live=False)
    cluster.apply(DB_POD)
    cluster.settle()
    trace.refresh()
    in_order(trace.steps, [
        "1. kubectl → API server: create Pod default/db",                  # 1. kubectl asks the API server
        "API server → scheduler: watch: Pod default/db has no node",       # 2. the scheduler sees it unassigned
        "scheduler → API server: bind Pod default/db",                     # 3. … and sends its node choice
        "API server → kubelet: watch: Pod default/db assigned",            # 4. the kubelet sees the assignment
        "kubelet → container runtime: create containers for Pod default/db (db: mongo)",  # 5. asks the runtime
        "kubelet → API server: Pod default/db is running",                 # 6. reports success
    ])
    assert len(trace.steps) == 6
    assert "<svg" in trace.svg and ">kubectl<" in trace.svg and ">container runtime<" in trace.svg


def test_creating_a_service_draws_the_seed_service_sequence(cluster):
    cluster.apply(DB_POD)
    cluster.settle()
    mark = cluster.trace()[-1].seq
    cluster.apply(DB_SERVICE)
    cluster.settle()
    trace = SequenceTrace(cluster, since=mark, live=False)
    in_order(trace.steps, [
        "kubectl → API server: create Service default/db",                 # 1
        "API server → controller-manager: watch: Service default/db",      # 2. the endpoint controller sees it
        "controller-manager → API server: endpoint-controller: created Endpoints default/db",  # 3
        "API server → kube-proxy: watch: Service default/db",              # 4
        "kube-proxy → kube-proxy: added rules for Service default/db",     # 5. rules to the endpoints
        "API server → DNS: watch: Service default/db",                     # 6
        "DNS → DNS: added record db.default.svc.cluster.local",            # 7
    ])


def test_a_deleted_replicaset_pod_shows_the_controller_creating_its_replacement(web):
    old = web.list("pods", selector="app=web")[0]["metadata"]["name"]
    trace = SequenceTrace(web, since="now", live=False)
    web.delete("pod", old)
    web.settle()
    trace.refresh()
    in_order(trace.steps, [
        f"kubectl → API server: delete Pod default/{old}",
        "controller-manager → controller-manager: replicaset-controller: too few replicas ReplicaSet default/web",
        "controller-manager → API server: replicaset-controller: create Pod default/web-",
        "scheduler → API server: bind Pod default/web-",
        f"kubelet → API server: delete Pod default/{old}",
    ])


def test_last_n_keeps_the_newest_steps_numbered_from_one(cluster):
    cluster.apply(DB_POD)
    cluster.settle()
    trace = SequenceTrace(cluster, last=2, live=False)
    assert trace.steps == ["1. kubelet → container runtime: create containers for Pod default/db (db: mongo)",
                           "2. kubelet → API server: Pod default/db is running"]


def test_unchanged_trace_is_not_redrawn(cluster):
    trace = SequenceTrace(cluster, since="now", live=False)
    assert not trace.refresh()
    cluster.apply(DB_POD)
    assert trace.refresh()
    assert trace.renders == 2 and trace.skipped == 1


def test_steps_pair_each_api_write_with_the_component_that_made_it():
    records = [
        TraceRecord(1, 0.0, "api-server", "stored", "ReplicaSet default/web", ""),
        TraceRecord(2, 0.0, "replicaset-controller", "too few replicas", "ReplicaSet default/web",
                    "need 1, creating 1"),
        TraceRecord(3, 0.0, "api-server", "stored", "Pod default/web-abcde", ""),
        TraceRecord(4, 0.0, "api-server", "stored", "Endpoints default/web", ""),
        TraceRecord(5, 0.0, "endpoint-controller", "created", "Endpoints default/web", "0 addresses"),
    ]
    assert [str(s) for s in steps(records)] == [
        "1. kubectl → API server: create ReplicaSet default/web",
        "2. API server → controller-manager: watch: ReplicaSet default/web",
        "3. controller-manager → controller-manager: replicaset-controller: too few replicas "
        "ReplicaSet default/web (need 1, creating 1)",
        "4. controller-manager → API server: replicaset-controller: create Pod default/web-abcde",
        "5. controller-manager → API server: endpoint-controller: created Endpoints default/web (0 addresses)",
    ]


def test_events_give_a_coarser_sequence_without_a_trace():
    events = [
        {"source": {"component": "default-scheduler"}, "reason": "Scheduled",
         "message": "Successfully assigned default/db to node-1",
         "involvedObject": {"kind": "Pod", "namespace": "default", "name": "db"}},
        {"source": {"component": "kubelet", "host": "node-1"}, "reason": "Pulling", "message": 'Pulling image "mongo"',
         "involvedObject": {"kind": "Pod", "namespace": "default", "name": "db"}},
    ]
    assert [str(s) for s in steps_from_events(events)] == [
        "1. scheduler → API server: Pod default/db Scheduled: Successfully assigned default/db to node-1",
        '2. kubelet → container runtime: Pod default/db Pulling: Pulling image "mongo"',
    ]


def test_sequence_svg_is_deterministic_and_escapes_text():
    records = [TraceRecord(1, 0.0, "api-server", "stored", "ConfigMap default/<a&b>", "")]
    first = sequence_svg(steps(records), title="x")
    assert first == sequence_svg(steps(records), title="x")
    assert "&lt;a&amp;b&gt;" in first and "<a&b>" not in first
    assert first.startswith("<svg xmlns=")
