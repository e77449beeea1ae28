"""Finding and running the real command-line tools, and choosing the cluster they talk to.

`kubectl` finds the kubectl binary; `runner` runs a tool from an argv list (never a shell),
capturing or streaming its output; `target` decides which cluster a command goes to (the
user's kubeconfig context or the kernel's local cluster); `session` owns the kernel's local
cluster, its served API and the per-kernel kubeconfig. `errors` and `result` are the values
commands return or raise.

Read by: kubelab.magics, kubelab.widgets. Reads: kubelab.cluster, kubelab.server, kubelab.api.
"""
