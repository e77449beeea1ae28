"""kube-scheduler's FitError text: `0/3 nodes are available: …. preemption: 0/3 nodes are available: ….`

The first sentence is a histogram of the filter reasons over all nodes ("2 Insufficient cpu"),
sorted as strings the way upstream's sortReasonsHistogram does (so "1 …" before "2 …", and
"10 …" before "2 …"). The second is DefaultPreemption's verdict: nodes whose rejection
preemption cannot fix count as "Preemption is not helpful for scheduling"; nodes it could fix
but where no lower-priority pod could make room count as "No preemption victims found for
incoming pod".

Read by: cluster.scheduler. Reads: scheduling.filters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kubelab.cluster.scheduling.filters import Rejection

NO_NODES = "no nodes available to schedule pods"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


def histogram(reasons: Iterable[str]) -> str:
    counts = Counter(reasons)
    return ", ".join(sorted(f"{count} {reason}" for reason, count in counts.items()))


def fit_error(total_nodes: int, rejections: dict[str, Rejection], post_filter: str = "") -> str:
    """The FailedScheduling message: the filter histogram, then DefaultPreemption's own message when it
    found no way (`post_filter`, without its "preemption: " prefix)."""
    if total_nodes == 0:
        return NO_NODES
    reasons = [reason for rejection in rejections.values() for reason in rejection.reasons]
    text = f"0/{total_nodes} nodes are available: {histogram(reasons)}."
    if post_filter:
        text += f" preemption: {post_filter}"
    return text


def no_candidates(total_nodes: int, verdicts: dict[str, tuple[str, ...]]) -> str:
    """DefaultPreemption's FitError when no node can make room: nodes it did not try (their rejection
    is unresolvable) count as not helpful, the others carry their dry-run reasons."""
    reasons = [reason for node_reasons in verdicts.values() for reason in node_reasons]
    return f"0/{total_nodes} nodes are available: {histogram(reasons)}."
