"""The component trace as numbered steps between lifelines: the sequence diagrams of the course.

`steps(records)` turns `cluster.trace()` records (`TraceRecord`: seq, time, component, action,
object, detail) into `Step`s — "3. scheduler → API server: bind Pod default/db to node-1" — so
the seed notes' pod-scheduling and Service sequences come out of a real run. The API server
traces each write *and* the component that made it traces its reason; `steps` pairs them, so one
write is one arrow, and a write nobody claims came from the client (kubectl). A component that
reacts to a change first gets a "watch" arrow from the API server, as the course draws it.
`steps_from_events(events)` infers a coarser sequence from core/v1 Events (a real cluster has no
trace). Pure: no I/O, no widgets.

Read by: widgets.trace (SequenceTrace), widgets.sequence_svg. Reads: nothing of kubelab.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

KUBECTL = "kubectl"
API = "API server"
SCHEDULER = "scheduler"
CONTROLLERS = "controller-manager"
KUBELET = "kubelet"
RUNTIME = "container runtime"
PROXY = "kube-proxy"
DNS = "DNS"
# Left to right, as the course draws them; a diagram shows only the lifelines its steps use.
LIFELINES = (KUBECTL, API, SCHEDULER, CONTROLLERS, KUBELET, RUNTIME, PROXY, DNS)

# API-server trace actions and the request verb a client sent to cause them.
_VERBS = {"stored": "create", "marked for deletion": "delete", "deleted": "delete", "bound": "bind"}
_CREATING = re.compile(r"\bcreating (\d+)")
_DELETING = re.compile(r"\bdeleting (\d+)")
CLAIM_WINDOW = 4  # a component traces its write within a few records of the API server's own line
# Component actions that are themselves a write (the rest are decisions or observations).
_WRITES = re.compile(r"^(created|deleted|bound|evicted|force-deleted|confirmed the deletion|scaled|rolled back|"
                     r"restarted|removed|updated|cordoned|uncordoned|paused|resumed)")


@dataclass(frozen=True)
class Step:
    number: int
    source: str  # a lifeline
    target: str  # a lifeline (== source for a note on one lifeline)
    text: str
    time: float = 0.0

    def __str__(self) -> str:
        return f"{self.number}. {self.source} → {self.target}: {self.text}"


def lifeline_of(component: str) -> str | None:
    """The lifeline a trace component (or an Event's source component) is drawn on; None: not drawn."""
    name = component.split("(")[0]
    if name in ("api-server", "kube-apiserver"):
        return API
    if name in ("kubectl", "kubectl-client-side-apply", "kubectl-create", "kubectl-edit"):
        return KUBECTL
    if name in ("scheduler", "default-scheduler"):
        return SCHEDULER
    if name == "kubelet":
        return KUBELET
    if name == "kube-proxy":
        return PROXY
    if name in ("kube-dns", "coredns"):
        return DNS
    if name == "kubelab" or not name:
        return None  # the simulator's own failures are not a Kubernetes component
    return CONTROLLERS


def _said(action: str, obj: str, detail: str) -> str:
    return f"{action} {obj}" + (f" ({detail})" if detail else "")


class _Builder:
    """Collects arrows in order; numbers them at the end."""

    def __init__(self) -> None:
        self.arrows: list[tuple[str, str, str, float]] = []
        self.trigger = ""  # the object of the client's last request: what a controller reacts to

    def add(self, source: str, target: str, text: str, time: float) -> None:
        self.arrows.append((source, target, text, time))

    def watched_by(self, lifeline: str, text: str, time: float) -> None:
        """A watch notification, unless the previous arrow already involved that lifeline."""
        if self.arrows and lifeline in self.arrows[-1][:2]:
            return
        self.add(API, lifeline, f"watch: {text}", time)


def _claims(records: Sequence[Any]) -> dict[int, str]:
    """Index of an API-server record → the component that made that write."""
    actor: dict[int, str] = {}
    for i, r in enumerate(records):
        if r.component != "api-server":
            continue
        who = _claimer(records, i)
        if who is not None:
            actor[i] = who
    # "too few replicas … creating 2": the next unclaimed creations are that controller's.
    for i, r in enumerate(records):
        m = (_CREATING.search(r.detail), "stored") if r.component != "api-server" else (None, "")
        if m[0] is None and r.component != "api-server":
            m = (_DELETING.search(r.detail), "marked for deletion")
        if m[0] is None:
            continue
        wanted, action = int(m[0].group(1)), m[1]
        for j in range(i + 1, len(records)):
            if wanted == 0:
                break
            other = records[j]
            if other.component == "api-server" and other.action == action and j not in actor:
                actor[j] = r.component
                wanted -= 1
    return actor


def steps(records: Iterable[Any]) -> list[Step]:
    """Numbered steps from component trace records (oldest first)."""
    records = list(records)
    actor = _claims(records)
    claimed_by_later = {i for i, who in actor.items() if _writes_own(records, i, who)}
    b = _Builder()
    i = 0
    while i < len(records):
        r = records[i]
        line = lifeline_of(r.component)
        if r.component == "api-server":
            if i not in claimed_by_later:
                who = actor.get(i, "kubectl")
                source = lifeline_of(who) or KUBECTL
                verb = _VERBS.get(r.action, r.action)
                text = _said(verb, r.object, r.detail)
                if source == CONTROLLERS:
                    text = f"{who}: {text}"
                if source == KUBECTL:
                    b.trigger = r.object
                b.add(source, API, text, r.time)
        elif line == PROXY:
            # Every node's kube-proxy does the same thing: one arrow, "on N nodes".
            same = 1
            while (i + same < len(records) and lifeline_of(records[i + same].component) == PROXY
                   and (records[i + same].action, records[i + same].object, records[i + same].detail)
                   == (r.action, r.object, r.detail)):
                same += 1
            b.watched_by(PROXY, r.object, r.time)
            b.add(PROXY, PROXY, _said(r.action, r.object, r.detail) + (f" on {same} nodes" if same > 1 else ""),
                  r.time)
            i += same
            continue
        elif line is not None:
            _component_step(b, r, line, wrote=any(actor.get(j) == r.component and j in claimed_by_later
                                                  and records[j].object == r.object
                                                  for j in range(max(0, i - CLAIM_WINDOW), i)))
        i += 1
    return [Step(n, s, t, text, time) for n, (s, t, text, time) in enumerate(b.arrows, start=1)]


def _claimer(records: Sequence[Any], i: int) -> str | None:
    """The component that traced API-server record `i`'s write itself, just after it (it draws the arrow)."""
    r = records[i]
    for later in records[i + 1 : i + 1 + CLAIM_WINDOW]:
        if later.object != r.object or later.time != r.time:
            continue
        if later.component == "api-server":
            return None  # the next write of the same object: nobody claimed this one
        return later.component if _WRITES.match(later.action) else None
    return None


def _writes_own(records: Sequence[Any], i: int, who: str) -> bool:
    return _claimer(records, i) == who


def _component_step(b: _Builder, r: Any, line: str, *, wrote: bool) -> None:
    """The arrow(s) one non-API-server record stands for."""
    if line == KUBECTL:
        b.trigger = r.object
        b.add(KUBECTL, API, _said(r.action, r.object, r.detail), r.time)
    elif line == SCHEDULER:
        b.watched_by(SCHEDULER, f"{r.object} has no node", r.time)
        if r.action == "bound":
            b.add(SCHEDULER, API, _said("bind", r.object, r.detail), r.time)
        else:
            b.add(SCHEDULER, SCHEDULER, _said(r.action, r.object, r.detail), r.time)
    elif line == KUBELET:
        _kubelet_step(b, r)
    elif line == DNS:
        b.watched_by(DNS, b.trigger or r.object, r.time)
        b.add(DNS, DNS, _said(r.action, r.object, r.detail), r.time)
    else:  # a controller of kube-controller-manager
        b.watched_by(CONTROLLERS, b.trigger or r.object, r.time)
        text = f"{r.component}: {_said(r.action, r.object, r.detail)}"
        b.add(CONTROLLERS, API if wrote else CONTROLLERS, text, r.time)


def _kubelet_step(b: _Builder, r: Any) -> None:
    if r.action == "saw":
        b.add(API, KUBELET, f"watch: {r.object} {r.detail or 'assigned to this node'}", r.time)
    elif r.action.startswith("asked the container runtime"):
        b.add(KUBELET, RUNTIME, _said("create containers for", r.object, r.detail), r.time)
    elif r.action == "reported":
        state = r.detail.split(",")[0] if r.detail else "status"
        b.add(KUBELET, API, f"{r.object} is {state}", r.time)
    elif r.action == "stopping":
        b.watched_by(KUBELET, f"{r.object} is terminating", r.time)
        b.add(KUBELET, RUNTIME, _said("stop containers of", r.object, r.detail), r.time)
    elif r.action == "confirmed the deletion of":
        b.add(KUBELET, API, f"delete {r.object} (containers stopped)", r.time)
    else:
        b.add(KUBELET, KUBELET, _said(r.action, r.object, r.detail), r.time)


# Event reasons the kubelet reports about talking to its container runtime.
_RUNTIME_REASONS = {"Pulling", "Pulled", "Created", "Started", "Killing", "BackOff", "Failed", "ErrImagePull"}


def steps_from_events(events: Iterable[dict[str, Any]]) -> list[Step]:
    """A coarser sequence inferred from core/v1 Events (oldest first), for clusters with no trace."""
    b = _Builder()
    for e in events:
        source = e.get("source") or {}
        component = source.get("component") or e.get("reportingComponent") or ""
        line = lifeline_of(component)
        if line is None or line == API:
            continue
        involved = e.get("involvedObject") or {}
        where = f"{involved['namespace']}/" if involved.get("namespace") else ""
        obj = f"{involved.get('kind', '?')} {where}{involved.get('name', '')}"
        text = f"{e.get('reason', '')}: {e.get('message', '')}"
        when = 0.0
        if line == KUBELET and e.get("reason") in _RUNTIME_REASONS:
            b.add(KUBELET, RUNTIME, f"{obj} {text}", when)
        elif line in (PROXY, DNS):
            b.add(line, line, f"{obj} {text}", when)
        else:
            b.add(line, API, f"{obj} {text}", when)
    return [Step(n, s, t, text, time) for n, (s, t, text, time) in enumerate(b.arrows, start=1)]


def renumbered(chosen: Sequence[Step]) -> list[Step]:
    """The same steps numbered 1, 2, 3 … (for a window such as the last N)."""
    return [Step(n, s.source, s.target, s.text, s.time) for n, s in enumerate(chosen, start=1)]
