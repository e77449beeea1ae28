"""How objects leave the server: time-shifted JSON, lists with resourceVersion, or Tables.

kubectl's `get` asks for a server-side Table (`Accept: application/json;as=Table;…;
g=meta.k8s.io`); the columns and cells come from server.tables, each row carrying the object
as PartialObjectMetadata (`includeObject=Metadata`, the default), the full object (`Object`)
or nothing (`None`).
Every object on its way out has its times shifted into kubectl's clock (server.timeshift),
and every object coming in is shifted back. Row facts and row metadata of stored objects are cached per
object (tables.RowCache): the 20 pages of `kubectl get pods` over 10,000 pods, and the gets after them,
recompute only what changed.

Read by: server.resources, server.watching, server.patching, server.subresources.
Reads: server.timeshift, server.tables.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kubelab.api.errors import ApiError
from kubelab.api.kinds import Kind
from kubelab.server import tables, timeshift
from kubelab.store.memory import Obj, thaw

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster


def wants_table(accept: str) -> bool:
    compact = accept.replace(" ", "")
    return "as=Table" in compact and "g=meta.k8s.io" in compact


class Presenter:
    """Shifts times by (wall now − simulated now), whole seconds so second-precision stamps stay exact."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.rows = tables.RowCache()
        self.partials = tables.RowCache()

    def offset(self) -> int:
        return int(round(time.time() - self.cluster.clock.now()))

    # ------------------------------------------------------------------ objects
    def object(self, kind: Kind, obj: Obj, seconds: int) -> Obj:
        out = timeshift.shift_object(obj, kind, seconds)
        if "apiVersion" not in out or "kind" not in out:
            out = {"apiVersion": kind.api_version, "kind": kind.kind, **out}
        return out

    def incoming(self, kind: Kind, obj: Any, seconds: int) -> Any:
        """A request body shifted back into simulated time (a private mutable copy)."""
        if not isinstance(obj, dict):
            return obj
        return thaw(timeshift.shift_object(obj, kind, -seconds))

    def listing(self, kind: Kind, objs: list[Obj], seconds: int, metadata: dict[str, Any]) -> dict[str, Any]:
        return {"kind": f"{kind.kind}List", "apiVersion": kind.api_version, "metadata": metadata,
                "items": [self.object(kind, o, seconds) for o in objs]}

    def partial(self, obj: Obj, seconds: int) -> dict[str, Any]:
        """The object as PartialObjectMetadata (shared between answers: callers must not change it)."""
        return self.partials.lookup("", obj, seconds, lambda o: self._partial(o, seconds))

    @staticmethod
    def _partial(obj: Obj, seconds: int) -> dict[str, Any]:
        meta = timeshift.shift({"metadata": obj["metadata"]}, timeshift.meta_plan(), seconds)["metadata"]
        return {"kind": "PartialObjectMetadata", "apiVersion": tables.TABLE_API_VERSION, "metadata": meta}

    # ------------------------------------------------------------------- tables
    def table(self, kind: Kind, objs: list[Obj], seconds: int, include: str | None,
              metadata: dict[str, Any]) -> dict[str, Any]:
        include = include or "Metadata"
        if include not in tables.INCLUDE_OBJECT:
            raise ApiError("BadRequest", f'includeObject: Unsupported value: "{include}": supported values: '
                                         '"Metadata", "None", "Object"')
        # Cells are computed in simulated time (ages against simulated now); only dates need shifting.
        table = tables.table_for(kind, objs, self.cluster.clock.now(), cache=self.rows)
        table["kind"], table["apiVersion"] = "Table", tables.TABLE_API_VERSION
        table["metadata"] = metadata
        dates = [i for i, c in enumerate(table["columnDefinitions"]) if c.get("type") == "date"]
        for row, obj in zip(table["rows"], objs, strict=True):
            for i in dates:
                if isinstance(row["cells"][i], str):
                    row["cells"][i] = timeshift.shift_text(row["cells"][i], seconds)
            if include == "Object":
                row["object"] = self.object(kind, obj, seconds)
            elif include == "Metadata":
                row["object"] = self.partial(obj, seconds)
            else:
                row.pop("object", None)
        return table

