"""Pod networking for the tools: the resolver, one HTTP exchange, and `nslookup` and `nc`.

Names resolve like a pod's libc does: /etc/hosts first, then the nameserver with the search
domains and `ndots` of /etc/resolv.conf, each candidate asked of `Network.resolve`. Requests to
localhost (or the pod's own IP) reach the pod's own listening ports; others go to
`Network.http` (`ctx.network`, never the host). When the network layer is not connected the
tools print their real failure and then a kubelab hint.

Read by: commands (registered utilities), httpclients, programs. Reads: session, process.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Generator
from urllib.parse import urlsplit

from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.process import NO_NETWORK_HINT, Sleep
from kubelab.cluster.runtime.session import Call

REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
WGET_TIMEOUT = 900.0  # busybox wget's default -T
CURL_CONNECT_TIMEOUT = 300.0


class NotHttp(Exception):
    """The port answered, but not with HTTP (a database port)."""


def _hint(c: Call, exc: BaseException) -> None:
    if str(exc) == NO_NETWORK_HINT:
        c.err(NO_NETWORK_HINT + "\n")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def resolv_conf(c: Call) -> tuple[str, list[str], int]:
    server, search, ndots = "10.96.0.10", list[str](), 1
    try:
        text = c.fs.read_text("/etc/resolv.conf")
    except OSError:
        return server, search, ndots
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "nameserver" and len(parts) > 1:
            server = parts[1]
        elif parts[0] == "search":
            search = parts[1:]
        elif parts[0] == "options":
            for opt in parts[1:]:
                if opt.startswith("ndots:") and opt[6:].isdigit():
                    ndots = int(opt[6:])
    return server, search, ndots


def resolve(c: Call, host: str) -> tuple[str, list[str]]:
    """(canonical name, addresses) or LookupError, trying /etc/hosts then search domains."""
    if _is_ip(host):
        return host, [host]
    if host in ("localhost", "localhost.localdomain"):
        return host, ["127.0.0.1"]
    try:
        for line in c.fs.read_text("/etc/hosts").splitlines():
            parts = line.split("#")[0].split()
            if len(parts) > 1 and host in parts[1:]:
                return host, [parts[0]]
    except OSError:
        pass
    _, search, ndots = resolv_conf(c)
    if host.endswith("."):
        candidates = [host[:-1]]
    elif host.count(".") >= ndots:
        candidates = [host] + [f"{host}.{d}" for d in search]
    else:
        candidates = [f"{host}.{d}" for d in search] + [host]
    last: LookupError = LookupError(host)
    for name in candidates:
        try:
            ips = c.session.ctx.network.resolve(name)
        except LookupError as e:
            last = e
            continue
        if ips:
            return name, list(ips)
    raise last


def _own_ips(c: Call) -> set[str]:
    ips = {"127.0.0.1", "::1"}
    if c.session.ctx.pod_ip:
        ips.add(c.session.ctx.pod_ip)
    try:
        for line in c.fs.read_text("/etc/hosts").splitlines():
            parts = line.split()
            if len(parts) > 1 and c.session.ctx.hostname in parts[1:]:
                ips.add(parts[0])
    except OSError:
        pass
    return ips


def request(c: Call, method: str, ip: str, port: int, path: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    """One HTTP exchange; raises ConnectionRefusedError, TimeoutError or NotHttp."""
    if ip in _own_ips(c):
        handler = c.session.ctx.listening.get(port)
        if handler is None:
            raise ConnectionRefusedError("Connection refused")
        status, rh, body = handler(method, path, headers, "127.0.0.1")
    else:
        status, rh, body = c.session.ctx.network.http(method, f"http://{ip}:{port}{path}", headers)
    if status == 0:
        raise NotHttp()
    return status, rh, body


def _split_url(url: str) -> tuple[str, str, int, str]:
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname or "", port, path


@utility("nslookup")
def nslookup(c: Call) -> int | Generator[Sleep, None, int]:
    names = [a for a in c.args if not a.startswith("-")]
    if not names:
        return c.fail("usage: nslookup HOST [DNS_SERVER]" if c.busybox else "usage: nslookup host")
    host = names[0]
    server, _, _ = resolv_conf(c)
    legacy = c.busybox and _older_busybox(c)
    try:
        name, ips = resolve(c, host)
    except LookupError as e:
        if str(e) == NO_NETWORK_HINT:
            return _dns_timeout(c, e, legacy)
        if legacy:
            c.out(_legacy_header(c, server))
            c.err(f"nslookup: can't resolve '{host}'\n")
        else:
            c.out(_dns_header(c, server) + f"** server can't find {host}: NXDOMAIN\n\n")
        return 1
    if legacy:  # busybox up to 1.28, the version the Kubernetes DNS-debugging page uses
        out = _legacy_header(c, server) + f"Name:      {host}\n"
        for k, ip in enumerate(ips, 1):
            out += f"Address {k}: {ip} {name}\n"
        c.out(out)
        return 0
    out = _dns_header(c, server)
    if not c.busybox:
        out += "Non-authoritative answer:\n" if "." in name and not name.endswith(".local") else ""
    for ip in ips:
        out += f"Name:\t{name}\nAddress: {ip}\n"
    c.out(out + ("\n" if c.busybox else ""))
    return 0


def _older_busybox(c: Call) -> bool:
    version = c.session.image.version if c.session.image.family == "busybox" else ""
    parts = tuple(int(x) for x in version.split(".")[:2] if x.isdigit())
    return bool(parts) and parts < (1, 29)


def _legacy_header(c: Call, server: str) -> str:
    reverse = getattr(c.session.ctx.network, "reverse", None)
    server_name = reverse(server) if callable(reverse) else None
    return f"Server:    {server}\nAddress 1: {server}{' ' + server_name if server_name else ''}\n\n"


def _dns_timeout(c: Call, e: BaseException, legacy: bool = False) -> Generator[Sleep, None, int]:
    yield Sleep(15.0)  # resolv.conf's default: 3 attempts of 5 s each
    if legacy:
        c.err("nslookup: can't resolve '(null)': Name does not resolve\n")
    else:
        c.out(";; connection timed out; no servers could be reached\n\n")
    _hint(c, e)
    return 1


def _dns_header(c: Call, server: str) -> str:
    return f"Server:\t\t{server}\nAddress:\t{server}{':53' if c.busybox else '#53'}\n\n"


@utility("nc", "netcat")
def nc(c: Call) -> Generator[Sleep, None, int]:
    """`nc -z HOST PORT` (port check) and `nc HOST PORT` with stdin sent as an HTTP-ish request."""
    args = [a for a in c.args if not a.startswith("-")]
    flags = "".join(a.lstrip("-") for a in c.args if a.startswith("-"))
    wait = 5.0
    if "w" in flags:
        nums = [a for a in args if a.isdigit()]
        wait = float(nums[0]) if len(nums) > 2 else wait
    if len(args) < 2 or not args[-1].isdigit():
        c.err("BusyBox v1.37.0 multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT  - connect\n")
        return 1
    host, port = args[-2], int(args[-1])
    try:
        name, ips = resolve(c, host)
    except LookupError as e:
        c.err(f"nc: bad address '{host}'\n")
        _hint(c, e)
        return 1
    try:
        status, _, body = request(c, "GET", ips[0], port, "/", {"Host": host})
    except ConnectionRefusedError as e:
        if "v" in flags or not c.busybox:
            c.err(f"nc: {host} ({ips[0]}:{port}): Connection refused\n")
        _hint(c, e)
        return 1
    except TimeoutError:
        yield Sleep(wait)
        c.err("nc: timed out\n")
        return 1
    except NotHttp:
        status, body = 0, b""
    if "z" in flags:
        if "v" in flags:
            c.err(f"{host} ({ips[0]}:{port}) open\n")
        return 0
    if status:
        c.out(body.decode("utf-8", "replace"))
    return 0
