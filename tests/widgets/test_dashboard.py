"""The browser dashboard: a loopback page under a secret path, its SVG views and events, updating on change."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

import kubelab
from kubelab.widgets import dashboard as dashboards


@pytest.fixture
def board(web: kubelab.Cluster) -> Iterator[dashboards.Dashboard]:
    d = dashboards.serve(web)
    try:
        yield d
    finally:
        d.stop()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def wait_for(predicate, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_url_is_loopback_under_a_secret_path_and_serves_the_page(board):
    assert board.url.startswith("http://127.0.0.1:")
    token = board.url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 20
    status, headers, body = get(board.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert 'fetch(url' in body and "svg?view=ownership" in body and "svg?view=placement" in body
    assert headers["Referrer-Policy"] == "no-referrer"
    assert get(board.url.rstrip("/"))[2] == body  # redirected to the trailing slash the page's fetches need


def test_other_paths_are_404_including_a_wrong_token(board):
    root = board.url.rsplit("/", 2)[0]
    for path in ("/", "/svg?view=ownership", "/not-the-token/", "/not-the-token/svg?view=ownership",
                 "/" + board.token[:-1] + "/svg"):
        status, _, body = get(root + path)
        assert (status, body) == (404, "404 page not found\n"), path


def test_svg_endpoint_draws_each_view_and_answers_304_when_unchanged(board):
    status, headers, svg = get(board.url + "svg?view=ownership")
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    assert "<svg" in svg and "web" in svg
    again, _, _ = get(board.url + "svg?view=ownership", {"If-None-Match": headers["ETag"]})
    assert again == 304
    placement, _, body = get(board.url + "svg?view=placement")
    assert placement == 200 and ("kubelab&#45;worker" in body or "kubelab-worker" in body)  # Graphviz escapes "-"
    bad, _, message = get(board.url + "svg?view=sideways")
    assert bad == 400 and "choose one of ownership, placement" in message


def test_a_change_in_the_cluster_gives_a_new_picture_and_an_unchanged_one_renders_nothing(board, web):
    _, first, _ = get(board.url + "svg?view=ownership")
    get(board.url + "svg?view=ownership")
    assert board.renders["ownership"] == 1
    web.scale("replicaset", "web", 3)
    web.settle()
    wait_for(lambda: get(board.url + "svg?view=ownership", {"If-None-Match": first["ETag"]})[0] == 200)
    assert board.renders["ownership"] == 2


def test_events_endpoint_lists_the_clusters_events(board):
    status, _, html = get(board.url + "events")
    assert status == 200
    assert "<th" in html and "REASON" in html and "SuccessfulCreate" in html


def test_stopped_dashboard_no_longer_answers(web):
    d = dashboards.serve(web)
    d.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(d.url, timeout=2)
