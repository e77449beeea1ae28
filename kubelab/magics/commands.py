"""kubelab's own `%kube` words — the ones kubectl does not have — one function each.

Time and state of the local cluster: `advance DURATION`, `settle`, `clock`, `reset`,
`snapshot NAME`, `restore NAME`, `nodes add|fail|recover|remove NAME`; on a real cluster they
say they apply only to the local one. Targets: `use local|auto|<context>` and `target`.
Each prints one or two plain lines and returns None.

Read by: magics.kube. Reads: tools.session, kubelab.cluster.clock (timestamps), magics.argv.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from kubelab.api.errors import ApiError
from kubelab.magics.argv import format_duration, parse_duration
from kubelab.tools.session import Session


def _say(text: str) -> None:
    print(text, flush=True)


def _local(session: Session, word: str) -> Any:
    """The target's local cluster (started if needed), or None after saying this needs one."""
    target = session.target
    if not target.is_local:
        where = f" ({target.server})" if target.server else ""
        _say(f'%kube {word} applies only to the local cluster; the target is the context "{target.context}"{where}')
        return None
    return session.ensure_local()


def _stamp(t: float) -> str:
    from kubelab.cluster.clock import rfc3339

    return rfc3339(t)


def _one(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise UsageError(f"usage: %kube {usage}")
    return args[0]


def advance(session: Session, args: list[str]) -> None:
    """%kube advance 90 | 90s | 2m | 1h: move simulated time forward, running what falls due."""
    text = _one(args, "advance DURATION (e.g. 90, 90s, 2m, 1h)")
    seconds = parse_duration(text)
    if seconds is None or seconds < 0:
        raise UsageError(f'"{text}" is not a duration: use seconds (90), or 90s, 2m, 1h')
    cluster = _local(session, "advance")
    if cluster is not None:
        cluster.advance(seconds)
        _say(f"advanced {format_duration(seconds)}: now {_stamp(cluster.now)}")


def settle(session: Session, args: list[str]) -> None:
    """%kube settle: advance until nothing more is pending (pods started, rollouts done)."""
    if args:
        raise UsageError("usage: %kube settle")
    cluster = _local(session, "settle")
    if cluster is not None:
        moved = cluster.settle()
        _say(f"settled after {format_duration(moved)}: now {_stamp(cluster.now)}")


def clock(session: Session, args: list[str]) -> None:
    """%kube clock: the clock's mode and speed, and simulated now."""
    if args:
        raise UsageError("usage: %kube clock")
    cluster = _local(session, "clock")
    if cluster is None:
        return
    sim = cluster.clock
    if sim.mode == "stepped":
        _say("stepped clock: time moves with %kube advance and %kube settle, and while kubectl waits on a watch")
    else:
        _say(f"realtime clock at {sim.speed:g}x wall-clock speed")
    since = cluster.now - session.started_at.get(session.target.profile or "", cluster.now)
    _say(f"now {_stamp(cluster.now)}, {format_duration(since)} after the cluster started")


def reset(session: Session, args: list[str]) -> None:
    """%kube reset: every object back to the state the local cluster started in."""
    if args:
        raise UsageError("usage: %kube reset")
    if _local(session, "reset") is not None:
        session.reset()
        _say(f'the local cluster "{session.target.profile}" is back to the state it started in')


def snapshot(session: Session, args: list[str]) -> None:
    """%kube snapshot NAME: remember every object now, for %kube restore NAME."""
    name = _one(args, "snapshot NAME")
    if _local(session, "snapshot") is not None:
        session.snapshot(name)
        _say(f'snapshot "{name}" taken')


def restore(session: Session, args: list[str]) -> None:
    """%kube restore NAME: every object back to snapshot NAME (time keeps going forward)."""
    name = _one(args, "restore NAME")
    if _local(session, "restore") is not None:
        try:
            session.restore(name)
        except KeyError as err:
            raise UsageError(err.args[0]) from None
        _say(f'restored snapshot "{name}"')


_NODE_USAGE = "nodes add [NAME] | nodes fail NAME | nodes recover NAME | nodes remove NAME"


def nodes(session: Session, args: list[str]) -> None:
    """%kube nodes add [NAME] | fail NAME | recover NAME | remove NAME: change the local cluster's nodes."""
    if not args or args[0] not in ("add", "fail", "recover", "remove") or len(args) > 2 or (
            args[0] != "add" and len(args) != 2):
        raise UsageError(f"usage: %kube {_NODE_USAGE}")
    cluster = _local(session, "nodes")
    if cluster is None:
        return
    op, name = args[0], (args[1] if len(args) > 1 else None)
    try:
        if op == "add":
            name = cluster.add_node(name)["metadata"]["name"]
            _say(f"node/{name} added")
        elif op == "fail":
            cluster.fail_node(name)
            _say(f"node/{name} failed: its kubelet stopped (NotReady once the node-monitor grace period ends)")
        elif op == "recover":
            cluster.recover_node(name)
            _say(f"node/{name} recovered: its kubelet is back")
        else:
            cluster.remove_node(name)
            _say(f"node/{name} removed")
    except ApiError as err:
        raise UsageError(f"Error from server ({err.reason}): {err.message}") from None


def use(session: Session, args: list[str]) -> None:
    """%kube use local | auto | CONTEXT: switch the target."""
    word = _one(args, "use local | auto | CONTEXT")
    try:
        session.use(word)
    except ValueError as err:
        raise UsageError(str(err)) from None
    target(session, [])


def target(session: Session, args: list[str]) -> None:
    """%kube target: which cluster commands go to, and why."""
    if args:
        raise UsageError("usage: %kube target")
    chosen = session.target
    if chosen.is_local:
        cluster = session.clusters.get(chosen.profile or "")
        if cluster is None:
            state = "starts on the first command"
        else:
            count = len(cluster.list("nodes", None))
            seed = "" if cluster.seed is None else f", seed {cluster.seed}"
            state = f"{count} node{'s' if count != 1 else ''}, {cluster.clock.mode} clock{seed}"
        _say(f'target: the local cluster "{chosen.profile}" (context {chosen.context}; {state})')
    else:
        _say(f'target: the context "{chosen.context}" ({chosen.server})')
    _say(f"why: {chosen.reason}")


COMMANDS: dict[str, Callable[[Session, list[str]], None]] = {
    "advance": advance, "settle": settle, "clock": clock, "reset": reset, "snapshot": snapshot,
    "restore": restore, "nodes": nodes, "use": use, "target": target,
}
