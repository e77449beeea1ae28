"""DOT text of the two views, from stepped local clusters running the seed's manifests, against golden files."""

from __future__ import annotations

import pytest
import scenarios

from kubelab.api.errors import ApiError
from kubelab.viz import Snapshot, to_dot


@pytest.fixture(scope="module")
def go_demo_2():
    cluster, snap = scenarios.go_demo_2()
    yield cluster, snap
    cluster.close()


@pytest.fixture(scope="module")
def troubled() -> Snapshot:
    return scenarios.troubled()


def test_go_demo_2_replicaset_with_its_service(golden, go_demo_2):
    _, snap = go_demo_2
    dot = to_dot(snap, namespace="default")
    golden("go_demo_2_ownership", dot)
    assert '"ReplicaSet/default/go-demo-2" -> "Pod/default/go-demo-2-' in dot
    assert 'label="rs go-demo-2\\n2/2 ready"' in dot


def test_go_demo_2_with_endpoints_drawn(golden, go_demo_2):
    _, snap = go_demo_2
    dot = to_dot(snap, namespace="default", endpoints=True)
    golden("go_demo_2_endpoints", dot)
    assert '"Service/default/go-demo-2" -> "Endpoints/default/go-demo-2"' in dot


def test_same_snapshot_gives_the_same_text(go_demo_2):
    cluster, snap = go_demo_2
    assert to_dot(snap) == to_dot(Snapshot.from_cluster(cluster))


def test_crashloop_imagepull_and_not_ready_pods(golden, troubled):
    dot = to_dot(troubled, namespace="default")
    golden("troubled_ownership", dot)
    assert 'label="pod crasher\\nCrashLoopBackOff"' in dot and 'fillcolor="#ce3933"' in dot
    assert 'label="pod no-such-image\\nImagePullBackOff"' in dot


def test_selected_but_not_ready_pod_gets_a_different_edge(troubled):
    lines = to_dot(troubled, namespace="default").splitlines()
    unready = [ln for ln in lines if '"Service/default/go-demo-2" -> "Pod/default/unready"' in ln]
    ready = [ln for ln in lines if '"Service/default/go-demo-2" -> "Pod/default/go-demo-2-' in ln]
    assert len(unready) == 1 and 'style="dotted"' in unready[0] and 'label="not ready"' in unready[0]
    assert ready and all('style="dashed", color="#4caf50"' in ln for ln in ready)


def test_not_ready_pod_is_drawn_through_not_ready_addresses_with_endpoints(troubled):
    dot = to_dot(troubled, namespace="default", endpoints=True)
    assert '"Endpoints/default/go-demo-2" -> "Pod/default/unready" [style="dotted"' in dot


def test_deployment_mid_rollout_shows_both_replicasets(golden):
    dot = to_dot(scenarios.mid_rollout(), namespace="default")
    golden("mid_rollout_ownership", dot)
    assert dot.count('"Deployment/default/helloworld" -> "ReplicaSet/default/helloworld-') == 2
    assert "ContainerCreating" in dot


def test_three_node_placement_with_an_unschedulable_pod(golden):
    dot = to_dot(scenarios.three_nodes(), view="placement")
    golden("three_nodes_placement", dot)
    assert 'layout="osage"' in dot
    for node in ("kubelab-control-plane", "kubelab-worker", "kubelab-worker2"):
        assert f'subgraph "cluster_node/{node}"' in dot
    pending_box = dot.split('subgraph "cluster_unscheduled"')[1]
    assert '"Pod/default/too-big"' in pending_box and "Insufficient" not in pending_box


def test_selector_keeps_matching_objects_with_their_owners_and_services(troubled):
    dot = to_dot(troubled, selector="service=go-demo-2")
    assert "ReplicaSet/default/go-demo-2" in dot and "Service/default/go-demo-2" in dot
    assert "crasher" not in dot and "kube-dns" not in dot


def test_bad_selector_raises_the_apiservers_error(troubled):
    with pytest.raises(ApiError, match="unable to parse requirement"):
        to_dot(troubled, selector="app in (")


def test_highlight_outlines_changed_objects_by_uid(go_demo_2):
    _, snap = go_demo_2
    pod = snap.pods[0]
    dot = to_dot(snap, highlight={pod["metadata"]["uid"]})
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith(f'"Pod/default/{pod["metadata"]["name"]}"'))
    assert 'color="#1e88e5", penwidth=3' in line
    assert dot.count("penwidth=3") == 1


def test_unknown_view_is_refused(go_demo_2):
    with pytest.raises(ValueError, match="unknown view 'tree': choose one of ownership, placement"):
        to_dot(go_demo_2[1], view="tree")
