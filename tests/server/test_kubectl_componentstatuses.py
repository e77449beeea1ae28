"""`kubectl get componentstatuses` against the local cluster: the deprecation warning and the three rows,
computed from the control-plane node's health when asked (kube-apiserver probes; nothing is stored)."""

from __future__ import annotations

NODES = 1  # the served cluster (conftest) is one control-plane node


def test_get_componentstatuses_warns_it_is_deprecated_and_lists_healthy_components(served):
    result = served.kubectl("get", "componentstatuses")
    assert result.rc == 0, result.err
    assert result.err.strip() == "Warning: v1 ComponentStatus is deprecated in v1.19+"
    rows = [line.split() for line in result.out.splitlines()]
    assert rows == [["NAME", "STATUS", "MESSAGE", "ERROR"], ["scheduler", "Healthy", "ok"],
                    ["controller-manager", "Healthy", "ok"], ["etcd-0", "Healthy", '{"health":"true","reason":""}']]


def test_get_cs_by_short_name_and_name(served):
    result = served.kubectl("get", "cs", "etcd-0", "-o", "jsonpath={.conditions[0].type}={.conditions[0].status}")
    assert result.rc == 0, result.err
    assert result.out == "Healthy=True"
    assert "deprecated in v1.19+" in result.err


def test_componentstatuses_cannot_be_created(served):
    result = served.kubectl("create", "-f", "-", input='{"apiVersion":"v1","kind":"ComponentStatus",'
                                                      '"metadata":{"name":"mine"}}')
    assert result.rc != 0


def test_failed_control_plane_makes_scheduler_and_controller_manager_unhealthy(served):
    served.cluster.fail_node("kubelab-control-plane")
    served.cluster.advance(60)  # past the node monitor's grace period: Ready turns Unknown
    result = served.kubectl("get", "cs")
    assert result.rc == 0, result.err
    assert 'Unhealthy   Get "https://127.0.0.1:10259/healthz": dial tcp 127.0.0.1:10259: connect: connection ' \
           'refused' in result.out
    assert 'Get "https://127.0.0.1:10257/healthz"' in result.out
    served.cluster.recover_node("kubelab-control-plane")
    served.cluster.advance(20)
    assert served.kubectl("get", "cs").out.count(" Healthy ") == 3
