"""The second address of a local URL on JupyterHub/Binder (jupyter-server-proxy), and where it is shown."""

from __future__ import annotations

import pytest

from kubelab.tools import urls

HUB_VARS = ("JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_PUBLIC_URL", "JUPYTERHUB_EXTERNAL_URL", "JUPYTERHUB_HOST")


@pytest.fixture
def hub(monkeypatch):
    """A kernel under JupyterHub at /user/ada/ with jupyter-server-proxy installed."""
    for name in HUB_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    monkeypatch.setattr(urls, "proxy_installed", lambda: True)
    return monkeypatch


def test_outside_a_hub_the_local_url_is_the_one_to_open(monkeypatch):
    for name in HUB_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(urls, "proxy_installed", lambda: True)
    assert urls.browser_url("http://127.0.0.1:31234/") is None
    assert urls.browser_note("http://127.0.0.1:31234/") is None


def test_on_a_hub_without_jupyter_server_proxy_there_is_no_second_address(hub):
    hub.setattr(urls, "proxy_installed", lambda: False)
    assert urls.browser_url("http://127.0.0.1:31234/") is None


def test_on_a_hub_the_proxy_path_keeps_the_local_path_and_query(hub):
    assert urls.browser_url("http://127.0.0.1:31234/") == "/user/ada/proxy/31234/"
    assert urls.browser_url("http://127.0.0.1:40000/s3cr3t/svg?view=placement") == \
        "/user/ada/proxy/40000/s3cr3t/svg?view=placement"
    assert urls.browser_url("http://localhost:8080") == "/user/ada/proxy/8080/"


def test_the_servers_public_url_makes_it_absolute(hub):
    hub.setenv("JUPYTERHUB_PUBLIC_URL", "https://hub.example.org/user/ada/")
    hub.setenv("JUPYTERHUB_HOST", "https://ignored.example.org")
    assert urls.browser_url("http://127.0.0.1:31234/x") == "https://hub.example.org/user/ada/proxy/31234/x"


@pytest.mark.parametrize("variable", ["JUPYTERHUB_EXTERNAL_URL", "JUPYTERHUB_HOST"])
def test_the_hubs_address_and_the_prefix_make_it_absolute(hub, variable):
    hub.setenv("JUPYTERHUB_SERVICE_PREFIX", "/jupyter/user/ada/")
    hub.setenv(variable, "https://hub.example.org/jupyter/")
    assert urls.browser_url("http://127.0.0.1:31234/") == "https://hub.example.org/jupyter/user/ada/proxy/31234/"


def test_only_loopback_http_urls_go_through_the_proxy(hub):
    assert urls.browser_url("http://192.168.49.2:30080/") is None
    assert urls.browser_url("https://127.0.0.1:6443/") is None


def test_the_note_is_one_line_beside_the_url(hub):
    assert urls.browser_note("http://127.0.0.1:31234/") == "(from your browser on this hub: /user/ada/proxy/31234/)"
