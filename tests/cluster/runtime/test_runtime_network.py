"""nslookup, wget, curl and nc inside a pod, through the Network the cluster provides."""

from __future__ import annotations

from runtime_box import Box


class FakeNetwork:
    """web.default has one Service IP answering HTTP; blocked.default times out."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict]] = []

    def resolve(self, name: str) -> list[str]:
        ips = {"web.default.svc.cluster.local": ["10.96.0.50"], "blocked.default.svc.cluster.local": ["10.96.0.60"]}
        if name in ips:
            return ips[name]
        raise LookupError(name)

    def http(self, method: str, url: str, headers: dict) -> tuple[int, dict, bytes]:
        self.requests.append((method, url, headers))
        if url.startswith("http://10.96.0.60"):
            raise TimeoutError()
        if url == "http://10.96.0.50:80/":
            return 200, {"Content-Type": "text/plain"}, b"hello from web\n"
        if url.startswith("http://10.96.0.50:80/"):
            return 404, {}, b"404 page not found\n"
        raise ConnectionRefusedError()


def test_nslookup_uses_the_search_domains_and_prints_busybox_format():
    r = Box(network=FakeNetwork()).sh("nslookup web")
    assert (r.code, r.stdout) == (
        0,
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
        "Name:\tweb.default.svc.cluster.local\nAddress: 10.96.0.50\n\n",
    )
    r = Box(network=FakeNetwork()).sh("nslookup nope")
    assert (r.code, r.stdout) == (
        1,
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find nope: NXDOMAIN\n\n",
    )


def test_wget_fetches_and_fails_with_busybox_texts():
    net = FakeNetwork()
    box = Box(network=net)
    r = box.sh("wget -qO- web")
    assert (r.code, r.stdout) == (0, "hello from web\n")
    assert net.requests[-1][1] == "http://10.96.0.50:80/" and net.requests[-1][2]["Host"] == "web"
    assert box.sh("wget -qO- web/missing").stderr == "wget: server returned error: HTTP/1.1 404 Not Found\n"
    assert box.sh("wget -qO- nope").stderr == "wget: bad address 'nope'\n"
    assert (
        box.sh("wget -qO- web:8080").stderr == "wget: can't connect to remote host (10.96.0.50): Connection refused\n"
    )
    r = box.sh("wget -T 3 -qO- blocked")
    assert (r.code, r.stderr, r.sleeps) == (1, "wget: download timed out\n", [3.0])


def test_wget_saves_a_file_and_reports_progress():
    box = Box(network=FakeNetwork())
    r = box.sh("cd /tmp && wget web && cat index.html")
    assert r.stderr == (
        "Connecting to web (10.96.0.50:80)\nsaving to 'index.html'\n"
        "index.html           100% |********************************|    15  0:00:00 ETA\n"
        "'index.html' saved\n"
    )
    assert r.stdout == "hello from web\n"


def test_curl_prints_body_or_its_numbered_errors():
    box = Box("nginx", network=FakeNetwork())
    assert box.sh("curl -s web").stdout == "hello from web\n"
    assert box.sh("curl -s -o /dev/null -w '%{http_code}' web/missing").stdout == "404"
    assert box.sh("curl -s nope").output == ""
    assert box.sh("curl -s nope").code == 6
    assert box.sh("curl -sS nope").stderr == "curl: (6) Could not resolve host: nope\n"
    r = box.sh("curl -sS web:81")
    assert (r.code, r.stderr) == (
        7,
        "curl: (7) Failed to connect to web port 81 after 0 ms: Couldn't connect to server\n",
    )
    r = box.sh("curl -sSf web/missing")
    assert (r.code, r.stderr) == (22, "curl: (22) The requested URL returned error: 404\n")
    r = box.sh("curl -sS -m 2 blocked")
    assert (r.code, r.stderr, r.sleeps) == (28, "curl: (28) Connection timed out after 2001 milliseconds\n", [2.0])


def test_localhost_reaches_the_pods_own_listening_ports():
    box = Box("nginx")
    gen, _ = box.boot()
    r = box.exec(["curl", "-s", "localhost"])
    assert "<h1>Welcome to nginx!</h1>" in r.stdout
    assert box.exec(["curl", "-s", "10.244.0.7/missing"]).stdout.startswith("<html>\r\n<head><title>404 Not Found")
    assert box.exec(["sh", "-c", "curl -s localhost:8080; echo $?"]).stdout == "7\n"
    gen.close()


def test_nc_checks_a_port_like_init_containers_do():
    box = Box("busybox", network=FakeNetwork())
    r = box.sh("until nc -z web 80; do sleep 1; done; echo up")
    assert r.stdout == "up\n"


def test_without_a_network_tools_fail_and_say_why():
    box = Box("busybox")
    r = box.sh("wget -qO- web")
    assert r.stderr == "wget: bad address 'web'\nkubelab: the cluster network is not connected to this container yet\n"
    r = box.sh("nslookup web")
    assert r.code == 1 and r.stdout.startswith(";; connection timed out; no servers could be reached")


class ClusterDns(FakeNetwork):
    def resolve(self, name: str) -> list[str]:
        if name == "kubernetes.default.svc.cluster.local":
            return ["10.96.0.1"]
        raise LookupError(name)

    def reverse(self, ip: str) -> str | None:
        return "kube-dns.kube-system.svc.cluster.local" if ip == "10.96.0.10" else None


def test_busybox_1_28_nslookup_prints_the_old_format_of_the_dns_debugging_page():
    r = Box("busybox:1.28", network=ClusterDns()).sh("nslookup kubernetes.default")
    assert (r.code, r.stdout) == (
        0,
        "Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n"
        "Name:      kubernetes.default\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n",
    )
    r = Box("busybox:1.28", network=ClusterDns()).sh("nslookup nope")
    assert (r.code, r.stderr) == (1, "nslookup: can't resolve 'nope'\n")
