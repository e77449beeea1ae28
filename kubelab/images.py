"""`kubelab.images`: the simulated runtime's image catalog, for lessons that bring their own image.

`register({...})` adds an image (its command, ports, HTTP answers, logs, required env) so pods
and Compose services can run it; `lookup("nginx:1.25")` shows what kubelab knows about one.

Read by: users and lessons. Reads: cluster.runtime.images.
"""

from kubelab.cluster.runtime.images import Image, lookup, register, repositories

__all__ = ["Image", "lookup", "register", "repositories"]
