"""kubelab.viz: pictures of a cluster, as pure functions of a snapshot (DESIGN decision 10).

`Snapshot` reads the objects (local cluster, real cluster through the official client, or
plain dicts); `status_of` buckets each into ok / pending / error / terminating / succeeded;
`relations` computes owner, selector and Endpoints edges; `to_dot` writes the ownership or
placement view as stable DOT text; `to_svg` renders it with whatever Graphviz is here, or a
text outline when there is none.

Read by: widgets, magics, lessons. Reads: api.selectors (label selector filters).
"""

from kubelab.viz.dot import VIEWS, to_dot
from kubelab.viz.relations import Edge, endpoint_edges, owner_edges, selector_edges
from kubelab.viz.render import available as renderers_available
from kubelab.viz.render import to_svg
from kubelab.viz.snapshot import Snapshot, ref
from kubelab.viz.status import PALETTE, Status, status_of

__all__ = ["PALETTE", "VIEWS", "Edge", "Snapshot", "Status", "endpoint_edges", "owner_edges", "ref",
           "renderers_available", "selector_edges", "status_of", "to_dot", "to_svg"]
