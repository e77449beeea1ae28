"""kube-scheduler's decision logic as pure functions over plain Pod and Node dicts.

`resources` turns quantities and pod specs into the integer requests the scheduler compares;
`taints` matches tolerations; `cache` holds per-node state (what is already bound where);
`filters` and `scoring` are the default profile's Filter and Score plugins in upstream order and
with upstream weights; `messages` renders the FitError text `kubectl describe pod` shows;
`decision` keeps a readable record of each scheduling attempt for lessons.

Read by: cluster.scheduler, cluster.controllers (taint matching), cluster.nodeops (drain).
Reads: api (quantities, selectors).
"""
