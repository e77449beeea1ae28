"""`%minikube` with kubelab's emulator in a real IPython shell: stop and restart, the dashboard, and reset."""

from __future__ import annotations

import os
import sys
import urllib.request

import pytest

from kubelab.tools import session as sessions
from kubelab.tools import urls
from kubelab.tools.errors import MinikubeError


@pytest.fixture(autouse=True)
def no_real_minikube(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))  # kubectl from the venv, no minikube


def test_stop_status_and_restart_of_the_minikube_profile(run):
    started = run("%minikube start")
    assert started.error is None and "🏄  Done!" in started.out
    assert "minikube   Ready    control-plane" in run("%kube get nodes").out
    assert run("%minikube stop").out.endswith("🛑  1 node stopped.\n")
    assert sessions.current().state("minikube") == "Stopped"

    failed = run("%minikube status")
    assert isinstance(failed.error, MinikubeError) and failed.error.returncode == 7
    assert failed.out == ("minikube\ntype: Control Plane\nhost: Stopped\nkubelet: Stopped\napiserver: Stopped\n"
                          "kubeconfig: Stopped\n\nMinikubeError: minikube status exited with status 7\n")
    quiet = run("%minikube status --no-raise-error")
    assert quiet.error is None and "host: Stopped" in quiet.out

    again = run("%minikube start")
    assert again.error is None
    assert "✨  Using the docker driver based on existing profile" in again.out
    assert '🔄  Restarting existing docker container for "minikube" ...' in again.out
    assert "Creating docker container" not in again.out
    assert "minikube   Ready    control-plane" in run("%kube get nodes").out
    assert run("%minikube status").out.startswith("minikube\ntype: Control Plane\nhost: Running\n")


def test_dashboard_url_serves_the_live_view_and_closes_with_the_cluster(run):
    run("%minikube start")
    shown = run("%minikube dashboard --url")
    assert shown.error is None
    url = shown.out.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:") and url == sessions.current().dashboard_url()
    with urllib.request.urlopen(url + "svg?view=placement", timeout=5) as response:
        assert response.status == 200 and "<svg" in response.read().decode()
    opened = run("%minikube dashboard")
    assert f"🎉  Opening {url} in your default browser...\n" in opened.out
    assert "from your browser on this hub" not in opened.out + opened.err
    with pytest.MonkeyPatch.context() as hub:  # on Binder: the proxied address too, beside minikube's text
        hub.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
        hub.setenv("JUPYTERHUB_PUBLIC_URL", "https://hub.example.org/user/ada/")
        hub.setattr(urls, "proxy_installed", lambda: True)
        proxied = run("%minikube dashboard --url")
        port, path = url.split(":")[2].split("/", 1)
        assert proxied.out.strip().splitlines()[-1] == url
        assert proxied.err.endswith(f"(from your browser on this hub: https://hub.example.org/user/ada/proxy/{port}/{path})\n")
    run("%minikube delete")
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_reset_removes_a_node_added_since_the_start(run):
    run("%kube use local")
    assert "node/extra added" in run("%kube nodes add extra").out
    run("%kube nodes remove kubelab-control-plane")
    run("%kube reset")
    listing = run("%kube get nodes").out
    assert "extra" not in listing and "kubelab-control-plane   Ready" in listing
    cluster = sessions.current().local_cluster
    assert sorted(cluster.node_agents) == ["kubelab-control-plane"]
    assert cluster.node_agents["kubelab-control-plane"].alive
