"""The scheduler's incremental paths give exactly what a full recomputation gives.

`Board.cycle` patches the previous cycles' verdicts, raw scores, default spreading and totals
at the nodes the cache's journal names; on every cycle — of a scale up, down and up again, of a
workload whose large requests take nodes in and out of feasibility, and of seeded random
sequences of taints, labels, zones, affinities, spreading selectors, nodes added, removed and
cordoned, pods created and deleted, a cache journal too short to reach back — its answer must
equal, in value and in order, the one computed from scratch (a fresh NodeMemo, PodTopologySpread
and totals, ties sorted) — and so must its scores when read at the end, after every later cycle."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

import kubelab
from kubelab.cluster import scheduler
from kubelab.cluster.scheduling import board, cache, memo, scoring


def _deployment(name: str, replicas: int, cpu: str | None = None) -> dict:
    container: dict = {"name": "app", "image": "registry.k8s.io/pause:3.10"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}


def _from_scratch(pod, facts, shape, selector, cache) -> tuple[dict, list[str], dict]:
    infos = cache.nodes()
    feasible, rejected, raw = memo.NodeMemo().evaluate(pod, facts, shape, cache.epoch, infos)
    if raw is None:
        return rejected, [feasible[0].name] if feasible else [], {}
    spread = scoring._topology_spread(pod, feasible, selector)
    by_node = scoring.totals(raw, spread)
    best = max(by_node.values())
    return rejected, sorted(name for name, total in by_node.items() if total == best), \
        scoring.plugin_scores(raw, spread, by_node)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every Board cycle compared with the full computation; the pods checked. Differences are collected
    and asserted at the end: an exception inside a reconcile is caught by the controller loop."""
    patched = board.Board.cycle
    names: list[str] = []
    differences: list[str] = []
    kept: list[tuple[str, object, dict]] = []  # (pod, its cycle's scores function, the scores it must give)

    def compare(self, pod, facts, shape, selector, spread_key):
        want_rejected, want_tied, want_scores = _from_scratch(pod, facts, shape, selector, self._cache)
        got = patched(self, pod, facts, shape, selector, spread_key)
        scores = {} if got.scores is None else got.scores()
        for what, mine, theirs in (("rejected", got.rejected, want_rejected), ("tied", got.tied, want_tied),
                                   ("scores", scores, want_scores)):
            if mine != theirs or list(mine) != list(theirs):
                differences.append(f"{pod['metadata']['name']} {what}: {mine} != {theirs}")
        if got.scores is not None:
            kept.append((pod["metadata"]["name"], got.scores, want_scores))
        names.append(pod["metadata"]["name"])
        return got

    cached_spreading = scheduler.Scheduler._spreading_of

    def compare_spreading(self, pod):
        got = cached_spreading(self, pod)
        fresh = self._spread_selector(pod)
        if repr(got[0]) != repr(fresh) or got[1] != (fresh and scoring.spread_key(pod["metadata"]["namespace"], fresh)):
            differences.append(f"{pod['metadata']['name']} spreading: {got} != {fresh}")
        return got

    monkeypatch.setattr(board.Board, "cycle", compare)
    monkeypatch.setattr(scheduler.Scheduler, "_spreading_of", compare_spreading)
    yield names
    # A decision's scores are built when read, long after its cycle: later cycles must not have changed them.
    for name, scores_of, want in kept:
        late = scores_of()
        if late != want or list(late) != list(want):
            differences.append(f"{name} scores read later: {late} != {want}")
    assert differences == []


def test_patched_cycles_equal_a_full_pass_through_scale_up_down_up(checked: list[str]) -> None:
    with kubelab.Cluster(nodes=11, clock="stepped", seed=3) as cluster:
        cluster.apply(_deployment("density", 0))
        for replicas in (150, 40, 100):
            cluster.scale("deployment", "density", replicas)
            cluster.settle()
        cluster.apply(_deployment("big", 30, cpu="1500m"))
        cluster.settle()
    assert len(checked) >= 200


def _bare_pod(rng: random.Random, i: int) -> dict:
    container: dict = {"name": "app", "image": rng.choice(["registry.k8s.io/pause:3.10", "nginx", "redis"])}
    spec: dict = {"containers": [container]}
    if rng.random() < 0.4:
        container["resources"] = {"requests": {"cpu": rng.choice(["100m", "500m", "1500m"]),
                                               "memory": rng.choice(["64Mi", "1Gi"])}}
    if rng.random() < 0.15:
        spec["nodeSelector"] = {"disk": "ssd"}
    if rng.random() < 0.2:
        spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": rng.choice([10, 50]), "preference": {"matchExpressions": [
                {"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}
    if rng.random() < 0.2:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    if rng.random() < 0.1:
        container["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    labels = {"app": rng.choice(["web", "web", "batch", "solo"])}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "labels": labels}, "spec": spec}


def _edit_node(cluster: kubelab.Cluster, rng: random.Random) -> None:
    names = [n["metadata"]["name"] for n in cluster.list("nodes", None)]
    node = cluster.get("nodes", rng.choice(names), None)
    labels = node["metadata"].setdefault("labels", {})
    taints = node["spec"].setdefault("taints", [])
    edit = rng.choice(["ssd", "zone", "prefer", "dedicated", "untaint"])
    if edit == "ssd":
        labels.pop("disk", None) if "disk" in labels else labels.update(disk="ssd")
    elif edit == "zone":
        labels.pop("topology.kubernetes.io/zone", None) if rng.random() < 0.5 else \
            labels.update({"topology.kubernetes.io/zone": rng.choice(["a", "b"])})
    elif edit == "prefer":
        taints.append({"key": f"busy{len(taints)}", "effect": "PreferNoSchedule"})
    elif edit == "dedicated":
        if not any(t.get("key") == "dedicated" for t in taints):
            taints.append({"key": "dedicated", "value": "x", "effect": "NoSchedule"})
    else:
        node["spec"]["taints"] = [t for t in taints if not t.get("key", "").startswith(("busy", "dedicated"))]
    cluster.update(node)


def _edit_service(cluster: kubelab.Cluster, rng: random.Random) -> None:
    """Spreading selectors change: a Service for the batch pods comes and goes, web's selector moves."""
    if rng.random() < 0.5:
        if any(s["metadata"]["name"] == "batch" for s in cluster.list("services")):
            cluster.delete("services", "batch")
        else:
            cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "batch"},
                            "spec": {"selector": {"app": "batch"}, "ports": [{"port": 80}]}})
    else:
        web = cluster.get("services", "web")
        web["spec"]["selector"] = {"app": "solo"} if web["spec"]["selector"] == {"app": "web"} else {"app": "web"}
        cluster.update(web)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_patched_cycles_equal_a_full_pass_under_random_cluster_changes(checked: list[str], seed: int) -> None:
    rng = random.Random(seed)
    with kubelab.Cluster(nodes=5, clock="stepped", seed=seed) as cluster:
        cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        cluster.apply(_deployment("api", 0))
        created = 0
        for _ in range(70):
            op = rng.random()
            if op < 0.45:
                for _ in range(rng.randint(1, 6)):
                    cluster.create(_bare_pod(rng, created))
                    created += 1
            elif op < 0.55:
                cluster.scale("deployment", "api", rng.randint(0, 25))
            elif op < 0.68:
                pods = [p["metadata"]["name"] for p in cluster.list("pods") if p["metadata"]["name"][0] == "p"]
                for name in rng.sample(pods, min(len(pods), rng.randint(1, 4))):
                    cluster.delete("pods", name, grace_period=0)
            elif op < 0.83:
                _edit_node(cluster, rng)
            elif op < 0.9:
                workers = [n["metadata"]["name"] for n in cluster.list("nodes", None)][1:]
                name = rng.choice(workers)
                cluster.cordon(name) if rng.random() < 0.5 else cluster.uncordon(name)
            elif op < 0.93:
                _edit_service(cluster, rng)
            elif op < 0.96:
                cluster.add_node(cpu=rng.choice(["2", "4"]))
            else:
                workers = [n["metadata"]["name"] for n in cluster.list("nodes", None)][1:]
                if len(workers) > 2:
                    cluster.remove_node(rng.choice(workers))
            cluster.settle()
    assert len(checked) >= 100


def _sized_pod(name: str, cpu: str, app: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}}


@pytest.mark.parametrize("zones", [False, True])
def test_patched_cycles_follow_nodes_filling_up_and_freeing_room(checked: list[str], zones: bool) -> None:
    """Bursts written under the cluster lock, as a controller writes them: nodes turn infeasible and
    feasible again between two cycles of one pod shape, and full nodes' rejections change (with zones,
    a node's spreading score also depends on the other nodes of its zone)."""
    _bursts(zones)
    assert len(checked) >= 60


def test_a_state_older_than_the_cache_journal_is_rebuilt(checked: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "JOURNAL_LIMIT", 3)
    _bursts(zones=False)
    assert len(checked) >= 60


def _bursts(zones: bool) -> None:
    with kubelab.Cluster(nodes=4, clock="stepped", seed=5) as cluster:
        for i, node in enumerate(cluster.list("nodes", None) if zones else ()):
            node["metadata"]["labels"]["topology.kubernetes.io/zone"] = "ab"[i % 2]
            cluster.update(node)
        cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        rng = random.Random(5)
        created = 0
        for _ in range(6):
            with cluster.lock:
                for _ in range(14):
                    cpu, app = rng.choice([("900m", "web"), ("900m", "batch"), ("100m", "web"), ("1500m", "web")])
                    cluster.api.create(_sized_pod(f"s{created}", cpu, app), "default")
                    created += 1
                bound = [p for p in cluster.store.list(("", "pods"), "default")[0] if p["spec"].get("nodeName")]
                for pod in rng.sample(bound, min(len(bound), 5)):
                    cluster.api.delete(pod_kind(), "default", pod["metadata"]["name"], grace_period=0)
            cluster.settle()


def pod_kind():  # noqa: ANN201
    from kubelab.api import kinds
    return kinds.resolve("pods")


def _variant(i: int, **spec: object) -> dict:
    container = {"name": "app", "image": "registry.k8s.io/pause:3.10",
                 "volumeMounts": [{"name": f"token-{i}", "mountPath": "/var/run/secrets"}]}
    container.update(spec.pop("container", {}))  # type: ignore[arg-type]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": spec.pop("ns", "default")},
            "spec": {"containers": [container], **spec}}


def test_pod_facts_reused_for_alike_pods_equal_facts_read_afresh() -> None:
    """pod_facts and resources.usage reuse the previous pod's answer when what they read is equal: in a run of
    pods that differ only where no plugin looks, or in one thing a plugin reads, every answer (its order
    too: the first nodeSelector mismatch is the one named) equals reading the pod with nothing remembered."""
    from kubelab.cluster.scheduling import podfacts, resources

    init = [{"name": "init", "image": "busybox", "restartPolicy": "Always",
             "resources": {"requests": {"cpu": "200m"}}}]
    cpu = {"resources": {"requests": {"cpu": "300m"}}}  # with a sidecar 500m, with an init container 300m
    pods = [_variant(0), _variant(1), _variant(2, ns="other"),
            _variant(3, nodeSelector={"a": "1", "b": "2"}), _variant(4, nodeSelector={"b": "2", "a": "1"}),
            _variant(5, tolerations=[{"key": "k", "operator": "Exists"}]),
            _variant(6, tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]),
            _variant(7, container={"resources": {"requests": {"cpu": "1"}}}),
            _variant(8, container={"resources": {"requests": {"cpu": "1"}}}),
            _variant(9, container={"resources": {"limits": {"cpu": "2"}}}),
            _variant(10, container={"ports": [{"containerPort": 80, "hostPort": 8080}]}),
            _variant(11, container={"image": "nginx"}), _variant(12, initContainers=init, container=cpu),
            _variant(13, initContainers=[dict(init[0], restartPolicy="OnFailure")], container=cpu),
            _variant(14, overhead={"cpu": "250m"}),
            _variant(15, affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "z", "operator": "In", "values": ["a"]}]}]}}}),
            _variant(16), _variant(17)]
    # Each variant comes right after a plain pod and after its neighbour, both ways round.
    plain = [_variant(100 + i) for i in range(len(pods))]
    sequence = [pod for pair in zip(plain, pods, strict=True) for pod in pair]
    for pod in sequence + sequence[::-1] + pods + pods[::-1]:
        remembered = podfacts.pod_facts(pod)
        saved = list(podfacts._last), list(resources._last_usage)
        podfacts._last[:] = [None, None]
        resources._last_usage[:] = [None] * len(resources._last_usage)
        fresh = podfacts.pod_facts(pod)
        podfacts._last[:], resources._last_usage[:] = saved
        assert remembered == fresh and remembered.pod is pod, pod["metadata"]["name"]
        assert remembered.node_selector == tuple((pod["spec"].get("nodeSelector") or {}).items())
        assert resources.usage(pod) == resources.Usage(resources.pod_requests(pod), resources.non_zero_requests(pod),
                                                       tuple(resources.host_ports(pod)))


def test_a_bound_pod_finishing_by_a_status_write_frees_its_room() -> None:
    """A bound pod's status writes take the scheduler's short path; the one that makes it Succeeded must
    still free its requests, so a pod waiting for that room is bound."""
    with kubelab.Cluster(nodes=2, clock="stepped", seed=1) as cluster:
        def sized(name: str, cpu: str, **spec: object) -> dict:
            return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                    "spec": {"containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 5"],
                                             "resources": {"requests": {"cpu": cpu}}}], **spec}}
        cluster.create(sized("first", "3", restartPolicy="Never"))
        cluster.create(sized("second", "2"))
        assert cluster.get("pods", "second")["spec"].get("nodeName") is None  # 4 cpus: no room for both
        cluster.settle()
        assert cluster.get("pods", "first")["status"]["phase"] == "Succeeded"
        assert cluster.get("pods", "second")["spec"].get("nodeName") == "kubelab-worker"
