"""Every node's verdict and weighted score for the pods being scheduled, kept up to date node by node.

A burst of similar pods (a ReplicaSet's replicas, a density test's bare pods) is scheduled one
after another, and between two cycles usually only the node the previous pod went to changed.
A `Board` keeps, per pod shape and spreading selector, what a full cycle computes — each node's
rejection or raw scores, its PodTopologySpread score and weighted total — with the feasible
nodes grouped by total (each group sorted by name). A cycle re-filters and re-scores only the
nodes the cache's journal names, then reads the best total and its tie off the groups. What a
patch cannot follow node by node — a node turning feasible or infeasible, another Node object
(`SchedulerCache.epoch`), spreading over zones, a journal too old — is rebuilt with the full
pass (scheduling.memo, scoring.totals), so the answer is always what computing afresh gives.

Read by: cluster.scheduler. Reads: scheduling.cache, scheduling.filters, scheduling.memo, scheduling.scoring.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from kubelab.api.selectors import LabelSelector
from kubelab.cluster.scheduling import filters, scoring
from kubelab.cluster.scheduling.cache import NodeInfo, SchedulerCache
from kubelab.cluster.scheduling.memo import NodeMemo
from kubelab.cluster.scheduling.podfacts import PodFacts

Obj = dict[str, Any]
MAX_STATES = 16  # pod shapes × selectors kept at once; more are dropped (and rebuilt when they come back)


@dataclass
class Outcome:
    """One cycle's answer: fresh containers the caller may keep in its decision."""

    rejected: dict[str, filters.Rejection]
    tied: list[str]  # the feasible nodes with the best total, sorted; [] when no node is feasible
    scores: Callable[[], dict[str, dict[str, int]]] | None  # None: fewer than two feasible nodes, no scoring


class _State:
    """What the full pass gave for one (shape, selector) key, patched since at the nodes that changed."""

    def __init__(self, mark: int, infos: list[NodeInfo], feasible: list[NodeInfo],
                 rejected: dict[str, filters.Rejection], raw: dict[str, scoring.Raw] | None) -> None:
        self.mark = mark  # the cache journal position this state is up to date with
        self.infos = infos
        self.index = {info.name: info for info in infos}
        self.feasible = feasible
        self.rejected = rejected
        self.raw = raw  # None: fewer than two feasible nodes
        self.raw_kept = _Kept(raw or {})  # `raw`, with what it held at each cycle for the decisions
        self.images: tuple[scoring.Images | None] | None = None  # ImageLocality's PreScore, once needed
        self.tops = (0, 0)
        self.spread_raw: dict[str, int] = {}  # empty when no selector applies
        self.spread_values: dict[int, int] = {}  # raw spreading score → how many nodes have it (its min, max)
        self.spread: dict[str, int] | None = None
        self.spread_kept = _Kept({})  # `spread`, as `raw_kept` (replaced with it)
        self.totals: dict[str, int] = {}
        self.groups: dict[int, list[str]] = {}  # total → feasible nodes with it, sorted


class Board:
    def __init__(self, cache: SchedulerCache, memo: NodeMemo) -> None:
        self._cache = cache
        self._memo = memo
        self._epoch = cache.epoch
        self._states: dict[tuple[str, str | None], _State] = {}

    def cycle(self, pod: Obj, facts: PodFacts, shape: str, selector: LabelSelector | None,
              spread_key: str | None) -> Outcome:
        """Filter and score every node for `pod` (`shape`: memo.shape_of(facts); `selector`: the default
        spreading selector, None when nothing selects the pod; `spread_key`: scoring.spread_key for it)."""
        cache = self._cache
        if cache.epoch != self._epoch:  # other Node objects: nothing kept is valid
            self._states.clear()
            self._epoch = cache.epoch
        key = (shape, spread_key)
        state = self._states.get(key)
        changed = None if state is None else cache.changed_since(state.mark)
        # A long journal (repeats included) is cheap to read: only a very stale state is rebuilt outright.
        if state is None or changed is None or len(changed) > 2 * len(state.index) + 64 \
                or not self._patch(state, pod, facts, shape, selector, spread_key, changed):
            state, zoned = self._build(pod, facts, shape, selector, spread_key)
            if zoned:  # a node's spreading score depends on its zone's other nodes: not patched, not kept
                self._states.pop(key, None)
            else:
                if key not in self._states and len(self._states) >= MAX_STATES:
                    self._states.clear()
                self._states[key] = state
        return self._answer(state)

    # ------------------------------------------------------------------ full pass
    def _build(self, pod: Obj, facts: PodFacts, shape: str, selector: LabelSelector | None,
               spread_key: str | None) -> tuple[_State, bool]:
        cache = self._cache
        infos = cache.nodes()
        feasible, rejected, raw = self._memo.evaluate(pod, facts, shape, cache.epoch, infos)
        state = _State(cache.mark, infos, feasible, rejected, raw)
        zoned = False
        if raw is not None:
            if selector is not None:
                assert spread_key is not None
                counts = scoring.spread_counts(facts.namespace, selector, spread_key, feasible)
                state.spread_raw, zoned = scoring.spread_raw(counts, len(feasible))
                state.spread = scoring.spread_normalised(state.spread_raw)
                state.spread_kept = _Kept(state.spread)
                for value in state.spread_raw.values():
                    state.spread_values[value] = state.spread_values.get(value, 0) + 1
            state.tops = scoring.tops(raw)
            self._retotal(state)
        return state, zoned

    @staticmethod
    def _retotal(state: _State) -> None:
        assert state.raw is not None
        spread = state.spread if state.spread is not None else dict.fromkeys(state.raw, 0)
        state.totals = scoring.totals(state.raw, spread)
        groups: dict[int, list[str]] = {}
        for name, total in state.totals.items():
            groups.setdefault(total, []).append(name)
        for names in groups.values():
            names.sort()
        state.groups = groups

    @staticmethod
    def _answer(state: _State) -> Outcome:
        if state.raw is None:
            return Outcome(dict(state.rejected), [state.feasible[0].name] if state.feasible else [], None)
        # The plugin scores, and the totals (which the raw and spreading scores give), are built only if read,
        # from snapshots of the raw and spreading scores as they are now (later cycles patch them in place).
        spread = None if state.spread is None else state.spread_kept.snapshot()
        return Outcome(dict(state.rejected), list(state.groups[max(state.groups)]),
                       partial(_plugin_scores, state.raw_kept.snapshot(), spread))

    # ------------------------------------------------------------------ patching
    def _patch(self, state: _State, pod: Obj, facts: PodFacts, shape: str, selector: LabelSelector | None,
               spread_key: str | None, changed: list[str]) -> bool:
        """Bring `state` up to date for the nodes in `changed`; False when only a full pass can."""
        index, rejected, raw = state.index, state.rejected, state.raw
        rescored: list[NodeInfo] = []
        for name in dict.fromkeys(changed):
            info = index.get(name)
            if info is None:
                continue  # a pod bound to a node that has no Node object
            rejection = filters.run_filters(pod, info, facts)
            if name in rejected:
                if rejection is None:
                    return False  # became feasible: the feasible list, spreading weights… all move
                rejected[name] = rejection  # same key: the node keeps its place in the order
            elif rejection is not None:
                return False  # no longer feasible
            elif raw is not None:
                rescored.append(info)
        state.mark = self._cache.mark
        if rescored:
            assert raw is not None
            if state.images is None:
                state.images = (self._memo.images(facts, shape, self._cache.epoch, state.infos),)
            images = state.images[0]
            tops_moved = False
            kept = state.raw_kept
            for info in rescored:
                old = raw[info.name]
                new = scoring.raw_scores(facts, info, images)
                kept.set(info.name, new)  # raw[info.name] = new, remembered for the decisions kept
                tops_moved = tops_moved or new[0] != old[0] or new[1] != old[1]
            everything = False
            if tops_moved:
                tops = scoring.tops(raw)
                everything, state.tops = tops != state.tops, tops
            if state.spread is not None:
                assert selector is not None and spread_key is not None
                everything = self._respread(state, facts.namespace, selector, spread_key, rescored) or everything
            if everything:
                self._retotal(state)
            else:
                self._regroup(state, rescored)
        return True

    @staticmethod
    def _respread(state: _State, namespace: str, selector: LabelSelector, spread_key: str,
                  rescored: list[NodeInfo]) -> bool:
        """PodTopologySpread for the changed nodes (no zones: a node's raw score is its own count). True when
        the lowest or highest raw score moved: then every node's normalised score may have changed."""
        (host_key, host_skew), _ = scoring.DEFAULT_SPREAD
        w_host = math.log(len(state.feasible) + 2)
        values, spread_raw = state.spread_values, state.spread_raw
        bounds = (min(values), max(values))
        for info in rescored:
            score = 0.0  # as scoring.spread_raw computes it, without the zone term
            if host_key in info.labels:
                score += info.matching(namespace, selector, spread_key) * w_host + (host_skew - 1)
            new, old = int(round(score)), spread_raw[info.name]
            if new != old:
                spread_raw[info.name] = new
                values[old] -= 1
                if not values[old]:
                    del values[old]
                values[new] = values.get(new, 0) + 1
        assert state.spread is not None
        if (min(values), max(values)) != bounds:
            state.spread = scoring.spread_normalised(spread_raw)
            state.spread_kept = _Kept(state.spread)
            return True
        low, high = bounds
        kept = state.spread_kept
        for info in rescored:  # as scoring.spread_normalised, for the nodes that changed
            kept.set(info.name, scoring.MAX_SCORE if high == 0
                     else scoring.MAX_SCORE * (high + low - spread_raw[info.name]) // high)
        return False

    @staticmethod
    def _regroup(state: _State, rescored: list[NodeInfo]) -> None:
        assert state.raw is not None
        taint_top, affinity_top = state.tops
        totals, groups, raw, spread = state.totals, state.groups, state.raw, state.spread
        for info in rescored:
            name = info.name
            new = scoring.node_total(raw[name], 0 if spread is None else spread[name], taint_top, affinity_top)
            old = totals[name]
            if new == old:
                continue
            totals[name] = new
            names = groups[old]
            del names[bisect.bisect_left(names, name)]
            if not names:
                del groups[old]
            bisect.insort(groups.setdefault(new, []), name)


class _Kept:
    """A dict the board patches in place (`set`), and cheap snapshots of what it held, for the decisions.

    A copy of every node's raw scores per decision would cost ~4.7 KB, and a microsecond to copy and as
    much to free, per pod in a 100-node cluster, for records rarely read. A snapshot is a copy taken now
    and then (`_base`) and the changes made since (`_edits`, shared by the snapshots, which remember how
    many of them they saw): reading one rebuilds the very dict a copy would have been."""

    __slots__ = ("live", "_base", "_edits")

    def __init__(self, live: dict[str, Any]) -> None:
        self.live = live
        self._base: dict[str, Any] | None = None  # `live` as it was when `_edits` began; None: no snapshot yet
        self._edits: list[tuple[str, Any]] = []

    def set(self, name: str, value: Any) -> None:
        """`live[name] = value` for a name it has (its place in the order stays)."""
        self.live[name] = value
        if self._base is not None:
            self._edits.append((name, value))

    def snapshot(self) -> tuple[dict[str, Any], list[tuple[str, Any]], int]:
        # A fresh copy once the edits outnumber the entries: a snapshot never costs more than a copy would.
        if self._base is None or len(self._edits) >= len(self.live):
            self._base, self._edits = dict(self.live), []
        return self._base, self._edits, len(self._edits)


def _restore(snapshot: tuple[dict[str, Any], list[tuple[str, Any]], int]) -> dict[str, Any]:
    base, edits, count = snapshot
    value = dict(base)
    value.update(edits[:count])
    return value


def _plugin_scores(raw_kept: tuple, spread_kept: tuple | None) -> dict[str, dict[str, int]]:
    """scoring.plugin_scores for a kept cycle, its totals computed again as `_regroup` computes them."""
    raw: dict[str, scoring.Raw] = _restore(raw_kept)
    spread: dict[str, int] | None = None if spread_kept is None else _restore(spread_kept)
    taint_top, affinity_top = scoring.tops(raw)
    totals = {name: scoring.node_total(scores, 0 if spread is None else spread[name], taint_top, affinity_top)
              for name, scores in raw.items()}
    return scoring.plugin_scores(raw, spread, totals)
