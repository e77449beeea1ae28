"""`%kube graph`, `%kube events`, `%kube trace`: the words the dispatcher hands to magics.graphs."""

from __future__ import annotations

import pytest

from kubelab.magics import graphs


def test_graph_words_choose_view_namespace_and_selector(web):
    widget = graphs.graph(["placement", "-n", "default", "-l", "app=web"], source=web)
    assert (widget.view, widget.namespace, widget.selector) == ("placement", "default", "app=web")
    widget.close()
    every = graphs.graph(["-A"], source=web)
    assert every.view == "ownership" and every.namespace is None
    every.close()


def test_trace_last_n(web):
    widget = graphs.trace(["--last", "3"], source=web)
    assert [s.split(".")[0] for s in widget.steps] == ["1", "2", "3"]
    widget.close()


def test_events_namespace_flag(web):
    widget = graphs.events(["--namespace=kube-system"], source=web)
    assert widget.namespace == "kube-system"
    widget.close()


@pytest.mark.parametrize("words, message", [
    (["tree"], 'unknown view "tree"'),
    (["-n"], "flag needs an argument: -n"),
    (["--bogus"], 'unknown argument "--bogus"'),
])
def test_bad_graph_words_say_what_was_wrong(web, words, message):
    with pytest.raises(ValueError, match=message) as err:
        graphs.graph(words, source=web)
    assert "usage: %kube graph" in str(err.value)


def test_trace_last_must_be_a_number(web):
    with pytest.raises(ValueError, match='--last takes a whole number, not "x"'):
        graphs.trace(["--last", "x"], source=web)
