"""The kernel's kubelab session: its target, its local clusters, and the kubeconfig only it uses.

One `Session` per kernel (`current()`). It resolves the target lazily (tools.target), starts a
local `kubelab.Cluster` the first time a command needs one (nodes, clock and seed from the
settings; $KUBELAB_CLOCK / $KUBELAB_SEED win, so nbval runs are deterministic), serves its API on
127.0.0.1 and writes its context into a per-kernel kubeconfig in a private temporary directory.
kubectl sees that file through $KUBECONFIG in the child's environment only: the user's
~/.kube/config is never written. It keeps each local cluster's starting snapshot (`reset`) and
named snapshots; `tools.profiles` adds the `MinikubeHost` protocol for the `%minikube` emulator.
`kubectl config use-context X` retargets the session as `%kube use X` does (a local profile's
context is switched in the per-kernel file, a user's context in the user's kubeconfig), and an
`auto` target follows the user's current-context when anything else changes it.

Read by: magics, widgets (`current()`). Reads: tools.target, tools.runner, tools.kubectl, tools.portforward, tools.urls,
kubelab.cluster (Cluster), kubelab.server (kubeconfig entries), kubelab.widgets.dashboard (looked up
at call time: widgets sit above tools).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from kubelab.tools import kubectl as kubectl_tool
from kubelab.tools import runner
from kubelab.tools import target as targets
from kubelab.tools.portforward import PortForward
from kubelab.tools.profiles import ProfileHost
from kubelab.tools.target import LOCAL_PROFILE, Target

if TYPE_CHECKING:
    from kubelab.cluster.core import Cluster, ClusterSnapshot

# Verbs whose kubectl takes no --context/--namespace from us: they read or edit the kubeconfig itself.
_NO_CONTEXT_VERBS = {"config", "version", "completion", "plugin", "help", "kustomize"}


class Session(ProfileHost):
    """The kernel's target and local clusters. Settings mirror `KubeMagic`'s traits."""

    def __init__(self, *, target: str = "auto", namespace: str = "", nodes: int = 1, clock: str = "realtime",
                 seed: int | None = None, kubectl: str = "") -> None:
        self.setting = target
        self.namespace = namespace
        self.nodes = nodes
        self.clock = clock
        self.seed = seed
        self.kubectl_path = kubectl
        self.clusters: dict[str, Cluster] = {}
        self.servers: dict[str, Any] = {}  # profile → ServerHandle while it serves
        self.forwards: list[PortForward] = []  # background `kubectl port-forward`s (`port_forward`)
        self.dashboards: dict[str, Any] = {}  # profile → widgets.dashboard.Dashboard while it serves
        self.starts: dict[str, ClusterSnapshot] = {}  # profile → the state it started in (`reset`)
        self.snapshots: dict[tuple[str, str], ClusterSnapshot] = {}
        self.started_at: dict[str, float] = {}  # profile → simulated time it started (`%kube clock`)
        self._file_context = ""  # the per-kernel kubeconfig's current context
        self.chosen: str | None = None  # the last `%kube use` word
        self._target: Target | None = None
        self._followed: tuple[Any, str] | None = None  # (kubeconfig files' stamp, current-context) auto saw
        self._dir: str | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ settings
    def configure(self, **settings: Any) -> None:
        """Change settings (as `%config KubeMagic.x = …` does); a new `target` is resolved again."""
        for name, value in settings.items():
            if name == "target":
                if value != self.setting:
                    self.setting, self._target, self.chosen = value, None, None
            elif name == "kubectl":
                self.kubectl_path = value
            else:
                setattr(self, name, value)

    @property
    def clock_mode(self) -> str:
        return os.environ.get("KUBELAB_CLOCK") or self.clock

    @property
    def seed_value(self) -> int | None:
        env = os.environ.get("KUBELAB_SEED")
        return int(env) if env else self.seed

    # -------------------------------------------------------------------- target
    @property
    def target(self) -> Target:
        """The current target, chosen on first use (for `auto`, probing the user's context once)."""
        with self._lock:
            if self._target is not None and self._kubeconfig_moved():
                self._target = None  # `auto` follows the user's current-context wherever it was changed
            if self._target is None:
                self._target = self._resolve(self.setting, f'KubeMagic.target is "{self.setting}"')
                self._followed = targets.kubeconfig_state() if self.setting == "auto" and self.chosen is None else None
            return self._target

    def _kubeconfig_moved(self) -> bool:
        """An `auto` target (not one `%kube use` chose) whose kubeconfig now names another current-context.
        Only the files' stamps are read on each command; the YAML only when a stamp changed."""
        if self._followed is None or self.chosen is not None:
            return False
        stamp, seen = self._followed
        if targets.kubeconfig_stamp() == stamp:
            return False
        now = targets.kubeconfig_state()
        self._followed = now
        return now[1] != seen

    def use(self, word: str) -> Target:
        """Switch target: `local`, `auto`, a local profile (`minikube`) or a context of the user's kubeconfig."""
        with self._lock:
            self._target = self._resolve(word, f"%kube use {word}")
            self.chosen, self._followed = word, None
            return self._target

    def _resolve(self, word: str, reason: str) -> Target:
        if word == "auto":
            return targets.choose_auto()
        if word == "local":
            return targets.local(reason)
        if word in self.clusters:
            return targets.local(reason, profile=word)
        return targets.named(word, reason)

    @property
    def prefers_local(self) -> bool:
        """The user asked for a local cluster (setting or `%kube use`), so `%minikube` emulates."""
        word = self.chosen or self.setting
        return word == "local" or word in self.clusters

    @property
    def local_cluster(self) -> Cluster | None:
        """The target's local cluster if the target is local and it has started, else None."""
        target = self.target
        return self.clusters.get(target.profile or "") if target.is_local else None

    @property
    def context(self) -> str:
        return self.target.context

    @property
    def kubeconfig_path(self) -> str | None:
        """The kubeconfig kubectl reads for the target: the per-kernel file, or the user's (first) file."""
        if self.target.is_local:
            return os.path.join(self._workdir(), "kubeconfig")
        return str(targets.kubeconfig_paths()[0])

    # ------------------------------------------------------------ local clusters
    def ensure_local(self) -> Cluster:
        """The target's local cluster, started (and served) on first use. A profile that `%minikube stop`
        stopped is not served again here: kubectl then finds nothing at its address, as with minikube."""
        target = self.target
        if not target.is_local:
            raise RuntimeError(f'the target is the context "{target.context}", not a local cluster')
        profile = target.profile or LOCAL_PROFILE
        with self._lock:
            cluster = self.clusters.get(profile)
            if cluster is None:
                cluster = self._start_cluster(profile, self.nodes)
            if profile not in self.servers and profile == LOCAL_PROFILE:
                self._serve(profile)  # a stopped minikube profile stays stopped until `%minikube start`
            elif self._file_context != profile:
                self._write_context(profile)
            return cluster

    def _start_cluster(self, profile: str, nodes: int) -> Cluster:
        from kubelab.cluster.core import Cluster

        # Any other name is a minikube profile (`%minikube start -p dev`): its nodes look like minikube's.
        flavour = profile if profile == LOCAL_PROFILE else "minikube"
        cluster = Cluster(nodes=nodes, clock=self.clock_mode, seed=self.seed_value, profile=flavour)
        self.clusters[profile] = cluster
        self.starts[profile] = cluster.snapshot()
        self.started_at[profile] = cluster.now
        return cluster

    def _serve(self, profile: str) -> None:
        self.servers[profile] = self.clusters[profile].serve()
        self._write_context(profile)

    def _write_context(self, profile: str) -> None:
        """Merge the profile's cluster/user/context into the per-kernel kubeconfig as its current context."""
        import yaml

        from kubelab.server import kubeconfig

        handle = self.servers[profile]
        path = os.path.join(self._workdir(), "kubeconfig")
        existing = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                existing = yaml.safe_load(f)
        doc = kubeconfig.config(handle.url, handle.ca_pem, handle.token, existing, name=profile)
        _write_private(path, yaml.safe_dump(doc, sort_keys=False))
        self._file_context = profile

    def _forget_context(self, profile: str) -> None:
        import yaml

        path = os.path.join(self._workdir(), "kubeconfig")
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
        for section in ("clusters", "users", "contexts"):
            doc[section] = [e for e in doc.get(section) or [] if e.get("name") != profile]
        if doc.get("current-context") == profile:
            doc["current-context"] = ""
            self._file_context = ""
        _write_private(path, yaml.safe_dump(doc, sort_keys=False))

    def _workdir(self) -> str:
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix=f"kubelab-kernel-{os.getpid()}-")
        return self._dir

    # ----------------------------------------------------------- running kubectl
    def kubectl_command(self, args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
        """The argv and environment that run kubectl `args` against the target (starting it if local)."""
        args = list(args)
        target = self.target
        env = dict(os.environ)
        verb = next((a for a in args if not a.startswith("-")), "")
        extra: list[str] = []
        named = _flag_value(args, "--context")
        if named is not None and named in self.clusters:  # `--context minikube`: a local profile, by name
            env["KUBECONFIG"] = os.path.join(self._workdir(), "kubeconfig")
            env["KUBECACHEDIR"] = os.path.join(self._workdir(), "cache")
        elif target.is_local:
            self.ensure_local()
            env["KUBECONFIG"] = os.path.join(self._workdir(), "kubeconfig")
            env["KUBECACHEDIR"] = os.path.join(self._workdir(), "cache")  # discovery cache stays out of ~/.kube
        elif verb not in _NO_CONTEXT_VERBS and not _has_flag(args, "--context"):
            extra += ["--context", target.context]
        if (self.namespace and verb not in _NO_CONTEXT_VERBS
                and not _has_flag(args, "-n", "--namespace", "-A", "--all-namespaces")):
            extra += ["--namespace", self.namespace]
        # Added flags go before a `--`: after it they would become the container's command (`run … -- sleep 5`).
        cut = args.index("--") if "--" in args else len(args)
        return [kubectl_tool.find(self.kubectl_path or None), *args[:cut], *extra, *args[cut:]], env

    def run_kubectl(self, args: Sequence[str], *, input: str | None = None, out: TextIO | None = None,
                    err: TextIO | None = None, timeout: float | None = None) -> runner.Completed:
        """Run kubectl against the target; on a failure on the local cluster, add kubelab's hints.
        `config use-context X` also makes X the target (see `_use_context`)."""
        switch = targets.use_context_word(args)
        if switch is not None:
            return self._use_context(switch, list(args), input=input, out=out, err=err, timeout=timeout)
        argv, env = self.kubectl_command(args)
        cluster = self.local_cluster
        mark = cluster.trace_log.last_seq if cluster is not None else 0
        done = runner.run(argv, env=env, input=input, out=out, err=err, timeout=timeout)
        if done.returncode != 0 and not done.stopped and cluster is not None:
            details = [r.detail for r in cluster.trace(since=mark) if "hint: " in r.detail]
            hints = kubectl_tool.local_hints(done.stderr, details)
            if hints:
                done.stderr = done.stderr.rstrip("\n") + "\n" + "\n".join(hints) + "\n"
        return done

    def _use_context(self, word: str, args: list[str], **run: Any) -> runner.Completed:
        """`kubectl config use-context WORD`, then WORD is the target, as after `%kube use WORD`.

        A local profile's context lives in the per-kernel kubeconfig: kubectl switches it there and
        the user's file is left alone. A context of the user's kubeconfig is switched by kubectl in
        the user's file (what the learner asked kubectl to do). Any other word goes to kubectl
        unchanged, which says there is no such context."""
        local_profile = word == LOCAL_PROFILE or word in self.clusters
        user_contexts = targets.load_kubeconfig(targets.kubeconfig_paths())["contexts"]
        reason = f"%kube config use-context {word}"
        if local_profile:
            with self._lock:
                self._target, self.chosen = targets.local(reason, profile=word), word
                if word == LOCAL_PROFILE or word in self.servers:
                    self.ensure_local()  # started and served, its context written to the per-kernel file
        if local_profile or word in user_contexts:
            # Not kubectl_command: switching to a user's context must not start the local cluster first.
            argv, env = [kubectl_tool.find(self.kubectl_path or None), *args], dict(os.environ)
            if local_profile:
                env["KUBECONFIG"] = os.path.join(self._workdir(), "kubeconfig")
        else:
            argv, env = self.kubectl_command(args)
        done = runner.run(argv, env=env, **run)
        if done.returncode == 0:
            with self._lock:
                if local_profile:
                    self._file_context = word
                elif word in user_contexts:
                    self._target, self.chosen = targets.named(word, reason), word
        return done

    def port_forward(self, args: Sequence[str]) -> PortForward:
        """`kubectl port-forward ARGS` running in the background (stopped by `.stop()` or `close()`)."""
        argv, env = self.kubectl_command(args)
        forward = PortForward(argv, env, ["kubectl", *args])
        self.forwards = [f for f in self.forwards if f.running] + [forward]
        return forward

    # ------------------------------------------------------------------ snapshots
    def reset(self) -> Cluster:
        cluster = self.ensure_local()
        cluster.restore(self.starts[self.target.profile or LOCAL_PROFILE])
        return cluster

    def snapshot(self, name: str) -> ClusterSnapshot:
        cluster = self.ensure_local()
        snap = self.snapshots[(self.target.profile or LOCAL_PROFILE, name)] = cluster.snapshot()
        return snap

    def restore(self, name: str) -> Cluster:
        cluster = self.ensure_local()
        key = (self.target.profile or LOCAL_PROFILE, name)
        if key not in self.snapshots:
            known = ", ".join(sorted(n for p, n in self.snapshots if p == key[0])) or "none yet"
            raise KeyError(f'no snapshot named "{name}" (snapshots: {known}); take one with %kube snapshot {name}')
        cluster.restore(self.snapshots[key])
        return cluster

    # -------------------------------------------------------------------- closing
    def close(self) -> None:
        """Stop every local cluster and remove the per-kernel kubeconfig."""
        with self._lock:
            for forward in self.forwards:
                forward.stop()
            self.forwards = []
            for profile in list(self.clusters):
                self.delete(profile)
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
            self._target = None


def _has_flag(args: Sequence[str], *names: str) -> bool:
    return any(a in names or any(a.startswith(n + "=") for n in names if n.startswith("--")) for a in args)


def _flag_value(args: Sequence[str], name: str) -> str | None:
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    return None


def _write_private(path: str, text: str) -> None:
    """Write `path` with mode 0600 (it holds a bearer token), atomically."""
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


_current: Session | None = None


def current() -> Session:
    """The kernel's session (the magics' one once `%load_ext kubelab` ran; a default one otherwise)."""
    global _current
    if _current is None:
        _current = Session()
    return _current


def install(session: Session | None) -> None:
    """Make `session` the kernel's current one (the magics do this on load and unload)."""
    global _current
    _current = session
