"""minikube node, addons, service, dashboard, docker-env, ssh and logs against workloads on the local cluster."""

from __future__ import annotations

from kubelab.tools import urls

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "nginx:1.27", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {selector: {app: db}, ports: [{port: 5432}]}
"""


def _deploy(runner):
    runner.cluster.apply(WEB)
    runner.cluster.settle()


def test_node_add_stop_start_delete(started):
    add = started("node add")
    assert add.out.startswith("😄  Adding node m02 to cluster minikube as [worker]\n")
    assert add.out.endswith("🏄  Successfully added m02 to minikube!\n")
    stop = started("node stop m02")
    assert stop.out.endswith("🛑  Successfully stopped node minikube-m02\n")
    status = started("status")
    # minikube's NodeStatus copies a stopped host's state into apiserver and kubeconfig, worker or not: 1|2|4
    assert status.code == 7
    assert started("status -o json").out.endswith(
        '{"Name":"minikube-m02","Host":"Stopped","Kubelet":"Stopped","APIServer":"Stopped","Kubeconfig":"Stopped",'
        '"Worker":true}]')
    assert "minikube-m02\ntype: Worker\nhost: Stopped\nkubelet: Stopped\n" in status.out
    assert started("node start m02").out.endswith("😄  Successfully started node minikube-m02!\n")
    assert started("status").code == 0
    assert started("node delete m02").out.endswith("💀  Node m02 was successfully deleted.\n")
    assert started("node list").out == "minikube\t192.168.49.2\n"


def test_node_stop_unknown_node_is_guest_node_retrieve(started):
    r = started("node stop m09")
    assert r.code == 85
    assert r.err == "❌  Exiting due to GUEST_NODE_RETRIEVE: retrieving node: Could not find node m09\n"


def test_addons_list_enable_disable_keep_state_in_the_cluster(started):
    listing = started("addons list").out
    assert "│ storage-provisioner         │ minikube │ enabled ✅   │ minikube" in listing
    assert "│ ingress                     │ minikube │ disabled     │ Kubernetes" in listing
    enable = started("addons enable ingress")
    assert enable.out.endswith("🔎  Verifying ingress addon...\n🌟  The 'ingress' addon is enabled\n")
    assert any(a.name == "ingress" and a.enabled for a in started.cluster.addons())
    assert "│ ingress                     │ minikube │ enabled ✅   │" in started("addons list").out
    assert started("addons disable ingress").out == "🌑  \"The 'ingress' addon is disabled\n"
    assert not any(a.name == "ingress" and a.enabled for a in started.cluster.addons())


def test_addons_enable_unknown_addon_fails_like_minikube(started):
    r = started("addons enable nope")
    assert r.code == 10
    assert r.err == "❌  Exiting due to MK_ADDON_ENABLE: enable failed: run callbacks: nope is not a valid addon\n"
    d = started("addons disable nope")
    assert d.code == 116
    assert "'nope' is not a valid minikube addon" in d.err


def test_service_url_and_table_come_from_local_listener(started):
    _deploy(started)
    url = started("service web --url")
    assert url.code == 0
    assert url.out.startswith("http://127.0.0.1:")
    table = started("service web").out
    assert "│ default   │ web  │ 80          │ http://127.0.0.1:" in table
    assert table.endswith("🎉  Opening service default/web in default browser...\n")
    listing = started("service list").out
    assert "│ default     │ db         │ No node port │" in listing


def test_on_a_hub_service_and_dashboard_also_show_the_proxied_address(started, monkeypatch):
    _deploy(started)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_URL", "https://hub.example.org/user/ada/")
    monkeypatch.setattr(urls, "proxy_installed", lambda: True)
    bare = started("service web --url")
    port = bare.out.strip().rsplit(":", 1)[1]
    assert bare.out == f"http://127.0.0.1:{port}\n"  # stdout stays minikube's: just the URL, for scripts
    assert bare.err == f"(from your browser on this hub: https://hub.example.org/user/ada/proxy/{port}/)\n"
    table = started("service web").out
    assert table.endswith("🎉  Opening service default/web in default browser...\n"
                          f"(from your browser on this hub: https://hub.example.org/user/ada/proxy/{port}/)\n")
    listing = started("service list").out
    assert listing.endswith(f"(default/web, from your browser on this hub: https://hub.example.org/user/ada/proxy/{port}/)\n")
    dashboard = started("dashboard --url")
    assert dashboard.out.endswith("http://127.0.0.1:8888/kubelab/cluster\n")
    assert dashboard.err.endswith("(from your browser on this hub: "
                                  "https://hub.example.org/user/ada/proxy/8888/kubelab/cluster)\n")
    assert started("dashboard").out.endswith("in your default browser...\n(from your browser on this hub: "
                                             "https://hub.example.org/user/ada/proxy/8888/kubelab/cluster)\n")


def test_without_a_hub_service_and_dashboard_print_only_minikubes_text(started, monkeypatch):
    _deploy(started)
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.setattr(urls, "proxy_installed", lambda: True)
    assert "from your browser" not in started("service web --url").err
    assert "from your browser" not in started("dashboard").out


def test_service_without_node_port_and_missing_service(started):
    _deploy(started)
    r = started("service db --url")
    assert r.out == "😿  service default/db has no node port\n"
    assert 'have type "ClusterIP" not meant to be exposed' in r.err
    missing = started("service nope")
    assert missing.code == 115
    assert "❌  Exiting due to SVC_NOT_FOUND: Service 'nope' was not found in 'default' namespace." in missing.err


def test_commands_needing_a_cluster_say_there_is_none(minikube):
    for line in ("service list", "ssh -- ps", "dashboard --url", "docker-env", "logs"):
        r = minikube(line)
        assert r.code == 85, line
        assert r.out.startswith('🤷  Profile "minikube" not found.')


def test_dashboard_url_and_open_line(started):
    assert started("dashboard --url").out.endswith("http://127.0.0.1:8888/kubelab/cluster\n")
    assert "🎉  Opening http://127.0.0.1:8888/kubelab/cluster in your default browser..." in started("dashboard").out
    started.host.dashboard = None
    assert started("dashboard").code == 112


def test_docker_env_prints_exports_and_the_kubelab_note(started):
    r = started("docker-env")
    assert r.out.splitlines()[:2] == ['export DOCKER_TLS_VERIFY="1"', 'export DOCKER_HOST="tcp://192.168.49.2:2376"']
    assert ("# To point your shell to minikube's docker-daemon, run:\n"
            "# eval $(minikube -p minikube docker-env)\n") in r.out
    assert "no Docker daemon" in r.err


def test_ssh_docker_ps_lists_the_node_pods_containers(started):
    _deploy(started)
    pod = started.cluster.list("pods", selector="app=web")[0]
    container_id = pod["status"]["containerStatuses"][0]["containerID"].split("://")[1][:12]
    ps = started("ssh -- docker ps").out
    assert ps.startswith("CONTAINER ID   IMAGE")
    line = next(x for x in ps.splitlines() if x.startswith(container_id))
    assert f"k8s_nginx_{pod['metadata']['name']}_default_{pod['metadata']['uid']}_0" in line
    assert '"/docker-entrypoint.…"' in line and "Up " in line
    assert f"k8s_POD_{pod['metadata']['name']}_default_" in ps


def test_ssh_simple_commands_and_command_not_found(started):
    assert started('ssh "hostname"').out == "minikube\n"
    assert started("ssh -- uname -a").out.startswith("Linux minikube 6.8.0-85-generic")
    assert "inet 192.168.49.2/24" in started("ssh -- ip addr").out
    r = started("ssh -- frobnicate --now")
    assert r.code == 127
    assert r.err == "bash: line 1: frobnicate: command not found\n"


def test_logs_come_from_the_cluster_trace_and_events(started):
    _deploy(started)
    out = started("logs").out
    assert "==> kube-scheduler <==" in out
    assert '"bound" object="Pod default/web-' in out
    assert "==> kubelet <==" in out
    assert 'minikube kubelet[2187]: I0101 ' in out and 'reason="Started"' in out
