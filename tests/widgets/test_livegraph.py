"""LiveGraph on a stepped local cluster: what it draws, what it highlights, when it does not redraw."""

from __future__ import annotations

import time

import pytest

from kubelab.widgets import LiveGraph


def pod_names(cluster) -> list[str]:
    return sorted(p["metadata"]["name"] for p in cluster.list("pods", selector="app=web"))


def drawn_pods(dot: str) -> int:
    return sum(1 for line in dot.splitlines() if line.strip().startswith('"Pod/default/web-') and " [" in line)


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the widget did not update in time"
        time.sleep(0.02)


def test_deleted_pod_is_replaced_and_the_replacement_is_highlighted(web):
    graph = LiveGraph(web, namespace="default", live=False)
    old, kept = pod_names(web)
    assert f'"Pod/default/{old}"' in graph.dot
    assert graph.changed == frozenset()  # the first picture highlights nothing

    web.delete("pod", old)
    web.advance(5)
    assert graph.refresh()

    replacement = next(name for name in pod_names(web) if name not in (old, kept))
    assert f'"Pod/default/{old}"' not in graph.dot
    assert f'"Pod/default/{replacement}"' in graph.dot
    uid = web.get("pod", replacement)["metadata"]["uid"]
    assert uid in graph.changed
    assert web.get("pod", kept)["metadata"]["uid"] not in graph.changed
    line = next(line for line in graph.dot.splitlines() if f'"Pod/default/{replacement}" [' in line)
    assert "penwidth" in line  # drawn with the "just changed" outline
    assert graph.svg.lstrip().startswith(("<?xml", "<svg"))


def test_unchanged_cluster_is_not_redrawn(web):
    graph = LiveGraph(web, live=False)
    assert graph.renders == 1
    web.advance(30)  # heartbeats and leases move, the picture does not
    assert not graph.refresh()
    assert not graph.refresh()
    assert (graph.renders, graph.skipped) == (1, 2)


def test_background_thread_follows_the_cluster_as_the_notebook_advances_time(web):
    graph = LiveGraph(web, namespace="default")
    try:
        web.scale("replicaset", "web", 3)
        web.advance(5)
        wait_for(lambda: drawn_pods(graph.dot) == 3)
        assert graph.renders >= 2
    finally:
        graph.close()
    assert graph._thread is None


def test_burst_of_changes_is_coalesced_into_few_renders(web):
    graph = LiveGraph(web, namespace="default")
    try:
        first = pod_names(web)[0]
        for i in range(50):
            pod = web.get("pod", first)
            pod["metadata"]["labels"]["step"] = str(i)
            web.update(pod)
        final = web.get("pod", first)["metadata"]
        wait_for(lambda: graph.renders >= 2 and graph._versions.get(final["uid"]) == final["resourceVersion"])
        time.sleep(0.3)  # anything still queued would show up as more renders
        assert final["uid"] in graph.changed
        assert 2 <= graph.renders <= 10  # 50 writes, a handful of pictures
    finally:
        graph.close()


def test_refresh_while_a_render_is_busy_is_dropped_and_redone(web, monkeypatch):
    graph = LiveGraph(web, namespace="default", live=False)
    calls = []

    def busy_draw():
        calls.append(1)
        if len(calls) == 1:
            assert graph.refresh() is False  # a second caller arrives while this render runs
        return None

    monkeypatch.setattr(graph, "_draw", busy_draw)
    graph.refresh()
    assert graph.dropped == 1
    assert len(calls) == 2  # the busy render went round once more for the dropped one


def test_mimebundle_carries_the_svg_fallback_and_a_short_text(web):
    graph = LiveGraph(web, namespace="default", live=False)
    bundle = graph._repr_mimebundle_()
    assert bundle["image/svg+xml"] == graph.svg
    assert "<svg" in bundle["image/svg+xml"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("<LiveGraph ownership: ")
    assert "in default" in bundle["text/plain"]


def test_placement_view_and_kinds_filter(web):
    graph = LiveGraph(web, view="placement", kinds=["pods"], live=False)
    assert graph.dot.startswith('digraph "placement"')
    assert "kubelab-worker" in graph.dot
    only_services = LiveGraph(web, namespace="default", kinds=["svc"], live=False)
    assert '"Service/default/kubernetes"' in only_services.dot
    assert "Pod/default/web-" not in only_services.dot


def test_unknown_view_is_refused():
    with pytest.raises(ValueError, match="unknown view 'tree'"):
        LiveGraph(object(), view="tree", live=False)
