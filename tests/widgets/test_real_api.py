"""The widgets on a real Kubernetes API: a served local cluster read by the official client."""

from __future__ import annotations

import time

import pytest

from kubelab.widgets import EventsTimeline, LiveGraph, SequenceTrace
from kubelab.widgets.trace import NO_TRACE


@pytest.fixture
def context(web, tmp_path, monkeypatch) -> str:
    handle = web.serve(kubeconfig=tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", handle.kubeconfig)
    return "kubelab"


def test_livegraph_by_context_name_draws_and_follows_the_cluster(web, context):
    graph = LiveGraph(context, namespace="default")
    try:
        assert graph.source.name == "context kubelab"
        names = sorted(p["metadata"]["name"] for p in web.list("pods", selector="app=web"))
        assert all(f'"Pod/default/{n}"' in graph.dot for n in names)
        web.scale("replicaset", "web", 3)
        web.advance(5)
        deadline = time.monotonic() + 10
        while len(web.list("pods", selector="app=web")) != 3 or not all(
                f'"Pod/default/{p["metadata"]["name"]}"' in graph.dot for p in web.list("pods", selector="app=web")):
            assert time.monotonic() < deadline, "the watch did not bring the new pod"
            time.sleep(0.05)
        assert graph.changed
    finally:
        graph.close()


def test_events_and_inferred_sequence_through_the_api(web, context):
    timeline = EventsTimeline(context, namespace="default", live=False)
    assert any(row[2] == "SuccessfulCreate" and row[3] == "replicaset/web" for row in timeline.rows)
    trace = SequenceTrace(context, live=False)
    assert any("scheduler → API server: Pod default/web-" in step for step in trace.steps)
    assert NO_TRACE.split(":")[0] in trace.svg
