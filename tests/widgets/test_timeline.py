"""EventsTimeline: a cluster's events as `kubectl get events` rows."""

from __future__ import annotations

from kubelab.widgets import EventsTimeline


def test_rows_follow_kubectl_get_events_columns(web):
    timeline = EventsTimeline(web, namespace="default", live=False)
    reasons = [row[2] for row in timeline.rows]
    assert "SuccessfulCreate" in reasons and "Scheduled" in reasons and "Started" in reasons
    created = next(row for row in timeline.rows if row[2] == "SuccessfulCreate")
    assert created[1] == "Normal"
    assert created[3] == "replicaset/web"
    assert created[4].startswith("Created pod: web-")
    assert "<th" in timeline.svg and ">LAST SEEN<" in timeline.svg and ">MESSAGE<" in timeline.svg


def test_new_events_arrive_as_rows_and_the_fallback_is_html(web):
    timeline = EventsTimeline(web, namespace="default", live=False)
    before = len(timeline.rows)
    web.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "broken"},
               "spec": {"containers": [{"name": "c", "image": "no-such-image-kubelab"}]}})
    web.advance(30)
    assert timeline.refresh()
    assert len(timeline.rows) > before
    warnings = [row for row in timeline.rows if row[1] == "Warning" and row[3] == "pod/broken"]
    assert warnings, timeline.rows
    bundle = timeline._repr_mimebundle_()
    assert "pod/broken" in bundle["text/html"]
    assert "image/svg+xml" not in bundle
    assert bundle["text/plain"].startswith("<EventsTimeline: ")


def test_all_namespaces_adds_the_namespace_column(web):
    timeline = EventsTimeline(web, live=False)
    assert ">NAMESPACE<" in timeline.svg
    assert all(len(row) == 6 for row in timeline.rows)
