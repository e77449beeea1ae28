"""minikube start/status/stop/delete/ip/version/profile on the local cluster, with minikube's words and codes."""

from __future__ import annotations

import io
import shlex

from kubelab.minikube import Minikube


def run_on(host, line: str) -> tuple[int, str]:
    """One line through a brand-new emulator on `host`, as `%minikube` does for every line."""
    out, err = io.StringIO(), io.StringIO()
    code = Minikube(host).run(shlex.split(line), out, err)
    return code, out.getvalue()


def test_start_prints_minikube_progress_and_creates_one_node_cluster(minikube):
    r = minikube("start")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == "😄  minikube v1.37.0 on Ubuntu 22.04"
    assert lines[1] == "✨  Automatically selected the docker driver"
    assert '👍  Starting "minikube" primary control-plane node in "minikube" cluster' in lines
    assert "🐳  Preparing Kubernetes v1.37.1 on Docker 28.4.0 ..." in lines
    assert "🔎  Verifying Kubernetes components..." in lines
    assert "🌟  Enabled addons: default-storageclass, storage-provisioner" in lines
    assert lines[-1] == ('🏄  Done! kubectl is now configured to use "minikube" cluster and "default" namespace '
                         "by default")
    assert [n["metadata"]["name"] for n in minikube.cluster.list("nodes", None)] == ["minikube"]


def test_start_reports_the_chosen_driver_and_accepts_vm_driver(minikube):
    assert "✨  Using the docker driver based on user configuration" in minikube("start --driver=docker").out
    other = minikube("start -p vm --vm-driver virtualbox")
    assert "✨  Using the virtualbox driver based on user configuration" in other.out
    assert "🔥  Creating virtualbox VM (CPUs=4, Memory=7946MB, Disk=20000MB) ..." in other.out


def test_start_with_nodes_adds_workers_with_minikube_names(minikube):
    r = minikube("start --nodes 2")
    assert '👍  Starting "minikube-m02" worker node in "minikube" cluster' in r.out
    assert "🔗  Configuring CNI (Container Networking Interface) ..." in r.out
    assert minikube("node list").out == "minikube\t192.168.49.2\nminikube-m02\t192.168.49.3\n"


def test_start_again_updates_the_running_container(started):
    r = started("start")
    assert "✨  Using the docker driver based on existing profile" in r.out
    assert '🏃  Updating the running docker "minikube" container ...' in r.out
    assert "Creating docker container" not in r.out


def test_status_block_and_exit_code_when_running(started):
    r = started("status")
    assert r.code == 0
    assert r.out == ("minikube\ntype: Control Plane\nhost: Running\nkubelet: Running\napiserver: Running\n"
                     "kubeconfig: Configured\n\n")


def test_status_without_profile_exits_85_with_minikube_tip(minikube):
    r = minikube("status")
    assert r.code == 85
    assert r.out == ('🤷  Profile "minikube" not found. Run "minikube profile list" to view all profiles.\n'
                     '👉  To start a cluster, run: "minikube start"\n')


def test_stop_then_status_is_stopped_with_exit_7_and_start_restarts(started):
    r = started("stop")
    assert r.out == '✋  Stopping node "minikube"  ...\n🛑  Powering off "minikube" via SSH ...\n🛑  1 node stopped.\n'
    assert started.host.cluster("minikube") is None
    st = started("status")
    assert st.code == 7
    assert "host: Stopped\nkubelet: Stopped\napiserver: Stopped\nkubeconfig: Stopped" in st.out
    ip = started("ip")
    assert ip.code == 83
    assert "🤷  The control-plane node minikube host is not running: state=Stopped" in ip.out
    again = started("start")
    assert '🔄  Restarting existing docker container for "minikube" ...' in again.out
    assert started("status").code == 0


def test_status_format_and_json(started):
    assert started("status --format={{.Host}}").out == "Running"
    assert started("status -o json").out == ('{"Name":"minikube","Host":"Running","Kubelet":"Running",'
                                             '"APIServer":"Running","Kubeconfig":"Configured","Worker":false}')


def test_delete_removes_the_cluster_and_says_so(started):
    r = started("delete")
    assert r.out == ('🔥  Deleting "minikube" in docker ...\n🔥  Deleting container "minikube" ...\n'
                     '💀  Removed all traces of the "minikube" cluster.\n')
    assert "minikube" not in started.host.clusters
    again = started("delete")
    assert again.code == 0
    assert again.err == '🙄  "minikube" profile does not exist, trying anyways.\n'


def test_ip_is_the_node_internal_ip(started):
    assert started("ip").out == "192.168.49.2\n"


def test_version_prints_version_and_commit(minikube):
    assert minikube("version").out == "minikube version: v1.37.0\ncommit: 65318f4cfff9c12cc87ec9eb8f4cdd57b25047f3\n"
    assert minikube("version --short").out == "v1.37.0\n"


def test_profile_list_table_and_no_profile_error(minikube):
    empty = minikube("profile list")
    assert empty.code == 14
    assert "❌  Exiting due to MK_USAGE_NO_PROFILE: No minikube profile was found." in empty.err
    minikube("start")
    table = minikube("profile list").out.splitlines()
    assert table[1] == ("│ Profile  │ Driver │ Runtime │      IP      │ Version │ Status │ Nodes │ Active Profile │ "
                        "Active Kubecontext │")
    assert table[3].startswith("│ minikube │ docker │ docker  │ 192.168.49.2 │ v1.37.1 │ OK     │ 1     │ *")


def test_unknown_command_is_cobras_error_with_suggestion(minikube):
    r = minikube("cluster-info")
    assert r.code == 14
    assert r.err == 'Error: unknown command "cluster-info" for "minikube"\nRun \'minikube --help\' for usage.\n'
    near = minikube("strat")
    assert "Did you mean this?\n\tstart\n" in near.err


def test_unknown_flag_is_a_usage_error(started):
    r = started("status --bogus")
    assert r.code == 14
    assert r.err.startswith("Error: unknown flag: --bogus")


def test_kubectl_runs_host_kubectl_with_profile_context(started):
    r = started("kubectl -- get pods -A")
    assert r.code == 0
    assert started.host.kubectl_calls == [["get", "pods", "--context=minikube", "-A"]]


def test_update_context_when_already_current(started):
    assert started("update-context").out == ('🙄  No changes required for the "minikube" context\n'
                                             '💗  Current context is "minikube"\n')


def test_output_is_deterministic_across_runs(minikube):
    other = type(minikube)()  # a second emulator on a second cluster with the same seed
    try:
        for line in ("start --nodes 2", "status", "node list", "ssh -- docker ps", "logs -n 5"):
            a, b = minikube(line), other(line)
            assert (a.code, a.out, a.err) == (b.code, b.out, b.err)
    finally:
        for cluster in other.host.clusters.values():
            cluster.close()


def test_a_new_emulator_on_the_same_host_sees_the_stopped_profile(started):
    started("start -p vm --driver=virtualbox")
    assert run_on(started.host, "stop -p vm")[0] == 0
    code, out = run_on(started.host, "status -p vm")
    assert code == 7
    assert out.endswith("\ntype: Control Plane\nhost: Stopped\nkubelet: Stopped\napiserver: Stopped\n"
                        "kubeconfig: Stopped\n\n")
    code, out = run_on(started.host, "start -p vm")
    assert "✨  Using the virtualbox driver based on existing profile" in out
    assert '🔄  Restarting existing virtualbox VM for "minikube" ...' in out  # the fake host's node name
    assert "Creating" not in out


def test_a_stopped_cluster_the_emulator_never_saw_is_adopted_from_the_host_state(minikube):
    minikube.host.start("minikube", 1)
    minikube.host.stop("minikube")
    st = minikube("status")
    assert st.code == 7 and "host: Stopped\n" in st.out
    again = minikube("start")
    assert '🔄  Restarting existing docker container for "minikube" ...' in again.out
    assert minikube.host.state("minikube") == "Running"


def test_a_profile_the_host_no_longer_has_is_not_found(started):
    started.host.delete("minikube")  # e.g. the kernel's session closed its clusters
    r = started("status")
    assert r.code == 85
    assert r.out.startswith('🤷  Profile "minikube" not found.')
