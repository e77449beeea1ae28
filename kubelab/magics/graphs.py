"""`%kube graph`, `%kube events`, `%kube trace`: the live widgets behind three `%kube` words.

Each function takes the words after its sub-command and returns a widget for the cell to show:
`graph [ownership|placement] [-n NS | -A] [-l SELECTOR]` → `LiveGraph`, `events [-n NS | -A]` →
`EventsTimeline`, `trace [--last N] [--since SEQ]` → `SequenceTrace`. They read the `%kube`
session's current target (its local cluster, or its kubeconfig context) unless given a source.
Like kubectl, the namespace is the session's (`%config KubeMagic.namespace`) or `default`.

Read by: magics.kube (the dispatcher). Reads: widgets, tools.session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the widgets (and ipywidgets) load when a picture is asked for, not with %load_ext
    from kubelab.widgets import EventsTimeline, LiveGraph, SequenceTrace

GRAPH_USAGE = "usage: %kube graph [ownership|placement] [-n NAMESPACE | -A] [-l SELECTOR]"
EVENTS_USAGE = "usage: %kube events [-n NAMESPACE | -A]"
TRACE_USAGE = "usage: %kube trace [--last N] [--since SEQ]"
DEFAULT_LAST = 30  # steps `%kube trace` shows: one or two commands' worth


def graph(words: list[str], source: Any = None, session: Any = None) -> LiveGraph:
    options = _options(words, GRAPH_USAGE, flags={"-n", "--namespace", "-l", "--selector"}, positional=1)
    view = options.get("", "ownership")
    if view not in ("ownership", "placement"):
        raise ValueError(f'unknown view "{view}": choose ownership or placement\n{GRAPH_USAGE}')
    from kubelab.widgets import LiveGraph

    return LiveGraph(_source(source, session), view=view, namespace=_namespace(options, session),
                     selector=options.get("-l") or options.get("--selector"))


def events(words: list[str], source: Any = None, session: Any = None) -> EventsTimeline:
    options = _options(words, EVENTS_USAGE, flags={"-n", "--namespace"})
    from kubelab.widgets import EventsTimeline

    return EventsTimeline(_source(source, session), namespace=_namespace(options, session))


def trace(words: list[str], source: Any = None, session: Any = None) -> SequenceTrace:
    options = _options(words, TRACE_USAGE, flags={"--last", "--since"})
    last = _number(options.get("--last", str(DEFAULT_LAST)), "--last", TRACE_USAGE)
    since = _number(options["--since"], "--since", TRACE_USAGE) if "--since" in options else None
    from kubelab.widgets import SequenceTrace

    return SequenceTrace(_source(source, session), since=since, last=last)


WORDS = {"graph": graph, "events": events, "trace": trace}


def handles(args: list[str]) -> bool:
    """Is this `%kube` line one of ours? `events` with flags only kubectl knows (`--for`, `-w`, `--types`)
    stays `kubectl events`, so the real command is still there."""
    if not args or args[0] not in WORDS:
        return False
    if args[0] != "events":
        return True
    try:
        _options(args[1:], EVENTS_USAGE, flags={"-n", "--namespace"})
    except ValueError:
        return False
    return True


def run(args: list[str], session: Any = None) -> Any:
    """The dispatcher's entry: `%kube graph …` / `events …` / `trace …` → the widget."""
    return WORDS[args[0]](args[1:], session=session)


def _source(source: Any, session: Any) -> Any:
    if source is not None or session is None:
        return source  # None: the widgets find the kernel's current session themselves
    from kubelab.widgets.sources import from_session

    return from_session(session)


def _options(words: list[str], usage: str, *, flags: set[str], positional: int = 0) -> dict[str, str]:
    """`-n x`, `--namespace=x`, `-A` and up to `positional` bare words (stored under "")."""
    out: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, value = word.partition("=")
        if word in ("-A", "--all-namespaces"):
            out["-A"] = "true"
        elif eq and name in flags:
            out[name] = value
        elif word in flags:
            if i + 1 >= len(words):
                raise ValueError(f"flag needs an argument: {word}\n{usage}")
            out[word] = words[i + 1]
            i += 1
        elif not word.startswith("-") and positional and "" not in out:
            out[""] = word
        else:
            raise ValueError(f'unknown argument "{word}"\n{usage}')
        i += 1
    if "--namespace" in out:
        out["-n"] = out.pop("--namespace")
    return out


def _namespace(options: dict[str, str], session: Any) -> str | None:
    if "-A" in options:
        return None
    if options.get("-n"):
        return options["-n"]
    if session is None:
        from kubelab.tools import session as sessions

        session = sessions.current()
    return getattr(session, "namespace", "") or "default"


def _number(text: str, flag: str, usage: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f'{flag} takes a whole number, not "{text}"\n{usage}')
    if value < 0:
        raise ValueError(f"{flag} must not be negative\n{usage}")
    return value
