"""The widgets on a real Kubernetes API: a served local cluster read by the official client."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from kubelab.widgets import EventsTimeline, LiveGraph, SequenceTrace
from kubelab.widgets.live import LiveView
from kubelab.widgets.trace import NO_TRACE
from tests.widgets.test_sequence import DB_POD

# A bound for a broken widget only: the widget redraws as soon as its watch brings the change, but
# a machine busy with other work (CI, parallel runs) may take many seconds to get there.
PATIENCE = 60.0


@pytest.fixture
def context(web, tmp_path, monkeypatch) -> str:
    handle = web.serve(kubeconfig=tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", handle.kubeconfig)
    return "kubelab"


def wait_until(widget: LiveView, condition: Callable[[], bool], what: str) -> None:
    """Return once `condition()` holds, checking after each new picture (and twice a second)."""
    drawn = threading.Event()
    widget.observe(lambda _: drawn.set(), names="renders")
    waited = 0.0
    while not condition():
        assert waited < PATIENCE, what
        drawn.wait(0.5)
        drawn.clear()
        waited += 0.5


def shows_every_web_pod(cluster, graph: LiveGraph, count: int) -> Callable[[], bool]:
    def check() -> bool:
        pods = cluster.list("pods", selector="app=web")
        return len(pods) == count and all(f'"Pod/default/{p["metadata"]["name"]}"' in graph.dot for p in pods)
    return check


def test_livegraph_by_context_name_draws_and_follows_the_cluster(web, context):
    graph = LiveGraph(context, namespace="default")
    try:
        assert graph.source.name == "context kubelab"
        assert shows_every_web_pod(web, graph, 2)()
        web.scale("replicaset", "web", 3)
        web.advance(5)
        wait_until(graph, shows_every_web_pod(web, graph, 3), "the watch did not bring the new pod")
        assert graph.changed
    finally:
        graph.close()


def test_a_change_made_before_the_watch_starts_still_reaches_the_picture(web, context):
    """The watch threads start after the first picture; on a busy machine the cell's next command
    can come first. They watch from the version read before that picture, so it is not lost."""
    graph = LiveGraph(context, namespace="default", live=False)
    try:
        web.scale("replicaset", "web", 3)
        web.advance(5)
        graph.start()  # as if the threads were scheduled only now
        wait_until(graph, shows_every_web_pod(web, graph, 3), "a change before the watch started was missed")
    finally:
        graph.close()


def test_events_and_inferred_sequence_through_the_api(web, context):
    timeline = EventsTimeline(context, namespace="default", live=False)
    assert any(row[2] == "SuccessfulCreate" and row[3] == "replicaset/web" for row in timeline.rows)
    trace = SequenceTrace(context, live=False)
    assert any("scheduler → API server: Pod default/web-" in step for step in trace.steps)
    assert NO_TRACE.split(":")[0] in trace.svg


def test_sequence_since_now_through_the_api_draws_only_later_events(web, context):
    trace = SequenceTrace(context, since="now", live=False)
    assert trace.steps == []  # the web pods' events all came before
    web.advance(30)  # simulated time runs on: old events' shown times move, they must stay out
    web.apply(DB_POD)
    web.settle()
    trace.refresh()
    assert any("scheduler → API server: Pod default/db Scheduled" in step for step in trace.steps), trace.steps
    assert not any("web-" in step for step in trace.steps), trace.steps
