"""Web-server programs: nginx (and its docker-entrypoint) and httpd, serving the container's files.

nginx reads its root and listen ports from /etc/nginx/conf.d, serves the files of the container
filesystem (so a ConfigMap mounted on /usr/share/nginx/html is what curl gets), logs access
lines like the real one and shuts down gracefully on SIGQUIT, its image's stop signal.

Read by: programs (registration). Reads: programs, process, clock.
"""

from __future__ import annotations

import posixpath
import re

from kubelab.cluster.runtime.process import HttpHandler, Signal
from kubelab.cluster.runtime.programs import Proc, Run, program, serve_forever
from kubelab.cluster.runtime.sysutils import CPUS, KERNEL_RELEASE

MIME = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "application/javascript",
    ".json": "application/json",
    ".txt": "text/plain",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3]) or (0,)


@program("nginx-entrypoint")
def nginx_entrypoint(proc: Proc) -> Run:
    args = proc.argv[1:]
    if args[:1] in (["nginx"], ["nginx-debug"]) and not proc.env.get("NGINX_ENTRYPOINT_QUIET_LOGS"):
        proc.session.procs.skip(27)  # the scripts in /docker-entrypoint.d ran as processes of their own
        e = "/docker-entrypoint.sh"
        proc.log(
            f"{e}: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
            f"{e}: Looking for shell scripts in /docker-entrypoint.d/",
            f"{e}: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
            "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
            "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
        )
        if _version_tuple(proc.version) >= (1, 25):
            proc.log(f"{e}: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh")
        proc.log(
            f"{e}: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
            f"{e}: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
            f"{e}: Configuration complete; ready for start up",
        )
    if not args:
        return 0
    return (yield from proc.exec(args))


def nginx_config(proc: Proc) -> tuple[list[int], str, bool]:
    """(listen ports, document root, daemon off?) from the container's nginx configuration."""
    fs = proc.fs
    texts = []
    main = "/etc/nginx/nginx.conf"
    if fs.isfile(main):
        texts.append(fs.read_text(main))
    if fs.isdir("/etc/nginx/conf.d"):
        for name in fs.listdir("/etc/nginx/conf.d"):
            path = f"/etc/nginx/conf.d/{name}"
            if name.endswith(".conf") and fs.isfile(path):
                texts.append(fs.read_text(path))
    return _parse_nginx_config(tuple(texts))


_PARSED: dict[tuple[str, ...], tuple[list[int], str, bool]] = {}  # every container of an image has the same files


def _parse_nginx_config(texts: tuple[str, ...]) -> tuple[list[int], str, bool]:
    found = _PARSED.get(texts)
    if found is None:
        if len(_PARSED) >= 256:  # configurations edited inside containers: keep the cache bounded
            _PARSED.clear()
        text = "\n".join(re.sub(r"#.*", "", t) for t in texts)
        ports = sorted({int(p) for p in re.findall(r"\blisten\s+(?:[\d.]+:)?(\d+)", text)}) or [80]
        root = re.search(r"\broot\s+([^;\s]+)\s*;", text)
        daemon_off = re.search(r"\bdaemon\s+off\s*;", text) is not None
        found = _PARSED[texts] = (ports, root.group(1) if root else "/usr/share/nginx/html", daemon_off)
    ports, root_dir, daemon_off = found
    return list(ports), root_dir, daemon_off


def nginx_server(proc: Proc, config: tuple[list[int], str, bool] | None = None) -> dict[int, HttpHandler]:
    """Each port's HTTP handler; `config` is nginx_config's answer when the caller has just read it."""
    ports, root, _ = config if config is not None else nginx_config(proc)
    server = f"nginx/{proc.version.split()[0]}"
    access_log = proc.options.get("log_to_stdout", True)

    def page(status: int, reason: str) -> bytes:
        return (
            f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
            f"</h1></center>\r\n<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n"
        ).encode()

    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        status, body, ctype, extra = static_file(proc, root, method, path, page)
        reply = {
            "Server": server,
            "Date": proc.stamp("%a, %d %b %Y %H:%M:%S GMT"),
            "Content-Type": ctype,
            "Content-Length": str(len(body)),
            "Connection": "keep-alive",
            **extra,
        }
        if access_log:
            agent = headers.get("User-Agent", "-")
            proc.out(
                f'{client} - - [{proc.stamp("%d/%b/%Y:%H:%M:%S +0000")}] "{method} {path} HTTP/1.1" '
                f'{status} {len(body)} "{headers.get("Referer", "-")}" "{agent}" "-"\n'
            )
            if status == 404:
                proc.err(
                    f"{proc.stamp('%Y/%m/%d %H:%M:%S')} [error] {proc.pid + 28}#{proc.pid + 28}: *1 open() "
                    f'"{root}{path.split("?")[0]}" failed (2: No such file or directory), client: {client}, '
                    f'server: localhost, request: "{method} {path} HTTP/1.1", host: "{headers.get("Host", "")}"\n'
                )
        return status, reply, b"" if method == "HEAD" else body

    return {port: handle for port in ports}


def static_file(proc: Proc, root: str, method: str, path: str, page) -> tuple[int, bytes, str, dict]:  # noqa: ANN001
    if method not in ("GET", "HEAD"):
        return 405, page(405, "Not Allowed"), "text/html", {}
    clean = posixpath.normpath("/" + path.split("?")[0])
    full = posixpath.normpath(root + clean)
    fs = proc.fs
    if fs.isdir(full):
        if not path.split("?")[0].endswith("/"):
            return 301, page(301, "Moved Permanently"), "text/html", {"Location": path.split("?")[0] + "/"}
        for index in ("index.html", "index.htm"):
            if fs.isfile(posixpath.join(full, index)):
                full = posixpath.join(full, index)
                break
        else:
            return 403, page(403, "Forbidden"), "text/html", {}
    try:
        data = fs.read(full)
    except OSError as e:
        if e.errno == 13:
            return 403, page(403, "Forbidden"), "text/html", {}
        return 404, page(404, "Not Found"), "text/html", {}
    ext = posixpath.splitext(full)[1]
    return 200, data, MIME.get(ext, "application/octet-stream"), {"Accept-Ranges": "bytes"}


@program("nginx", nginx_server)
def nginx(proc: Proc) -> Run:
    args = proc.argv[1:]
    version = proc.version.split()[0]
    if "-v" in args or "-V" in args:
        proc.err(f"nginx version: nginx/{proc.version}\n")
        return 0
    if "-t" in args or "-T" in args:
        proc.err(
            "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
            "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"
        )
        return 0
    if "-s" in args:
        proc.err(f"{proc.stamp('%Y/%m/%d %H:%M:%S')} [notice] {proc.pid}#{proc.pid}: signal process started\n")
        return 0
    globals_ = " ".join(args[args.index("-g") + 1 : args.index("-g") + 2]) if "-g" in args else ""
    config = nginx_config(proc)
    _, _, daemon_off_conf = config
    if "daemon off" not in globals_ and not daemon_off_conf:
        return 0  # nginx forks into the background and the container's main process is gone
    log = proc.options.get("log_to_stdout", True)
    stamp = lambda: proc.stamp("%Y/%m/%d %H:%M:%S")  # noqa: E731
    me = f"{proc.pid}#{proc.pid}"
    proc.trap(1, 2, 3, 15)
    proc.set_title("nginx: master process " + " ".join(proc.argv))
    proc.set_memory(proc.image.memory_bytes // 3)
    workers = [
        proc.add_row("nginx: worker process", user="nginx", rss_kb=proc.image.memory_bytes // 3 // 1024 // CPUS)
        for _ in range(CPUS)
    ]
    if log:
        proc.log(
            f'{stamp()} [notice] {me}: using the "epoll" event method',
            f"{stamp()} [notice] {me}: nginx/{version}",
            f"{stamp()} [notice] {me}: built by gcc {proc.options.get('gcc', '12.2.0 (Debian 12.2.0-14)')}",
            f"{stamp()} [notice] {me}: OS: Linux {KERNEL_RELEASE}",
            f"{stamp()} [notice] {me}: getrlimit(RLIMIT_NOFILE): 1048576:1048576",
            f"{stamp()} [notice] {me}: start worker processes",
            stderr=True,
        )
        for pid in workers:
            proc.err(f"{stamp()} [notice] {me}: start worker process {pid}\n")
    for port, handler in nginx_server(proc, config).items():  # the files just read: no second read
        proc.listen(port, handler)

    def shutdown(s: Signal) -> Run:
        if log:
            how = "shutting down" if s.signum == 3 else "exiting"
            proc.err(f"{stamp()} [notice] {me}: signal {s.signum} ({s.name}) received, {how}\n")
            for pid in workers:
                if s.signum == 3:
                    proc.err(f"{stamp()} [notice] {pid}#{pid}: gracefully shutting down\n")
                proc.err(f"{stamp()} [notice] {pid}#{pid}: exiting\n{stamp()} [notice] {pid}#{pid}: exit\n")
            for pid in workers:
                proc.err(
                    f"{stamp()} [notice] {me}: signal 17 (SIGCHLD) received from {pid}\n"
                    f"{stamp()} [notice] {me}: worker process {pid} exited with code 0\n"
                )
            proc.err(f"{stamp()} [notice] {me}: exit\n")
        return 0
        yield

    return (yield from serve_forever(proc, shutdown))


def httpd_server(proc: Proc) -> dict[int, HttpHandler]:
    root = "/usr/local/apache2/htdocs"

    def page(status: int, reason: str) -> bytes:
        detail = "The requested URL was not found on this server." if status == 404 else reason
        return (
            f'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>{status} {reason}</title>\n'
            f"</head><body>\n<h1>{reason}</h1>\n<p>{detail}</p>\n</body></html>\n"
        ).encode()

    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        status, body, ctype, extra = static_file(proc, root, method, path, page)
        proc.out(
            f'{client} - - [{proc.stamp("%d/%b/%Y:%H:%M:%S +0000")}] "{method} {path} HTTP/1.1" {status} {len(body)}\n'
        )
        return (
            status,
            {
                "Server": f"Apache/{proc.version} (Unix)",
                "Content-Type": ctype,
                "Content-Length": str(len(body)),
                **extra,
            },
            body,
        )

    return {80: handle}


@program("httpd", httpd_server)
def httpd(proc: Proc) -> Run:
    if "-v" in proc.argv:
        proc.out(f"Server version: Apache/{proc.version} (Unix)\n")
        return 0
    ip = proc.session.ctx.pod_ip or "127.0.0.1"
    warn = (
        f"AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. "
        "Set the 'ServerName' directive globally to suppress this message"
    )
    stamp = proc.stamp("[%a %b %d %H:%M:%S.") + f"{int(proc.now() * 1e6) % 1000000:06d}" + proc.stamp(" %Y]")
    proc.log(warn, warn, stderr=True)
    proc.log(
        f"{stamp} [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/{proc.version} (Unix) configured -- "
        "resuming normal operations",
        f"{stamp} [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
        stderr=True,
    )
    proc.trap(28, 15, 2)
    proc.set_memory(proc.image.memory_bytes)
    for port, handler in httpd_server(proc).items():
        proc.listen(port, handler)

    def shutdown(s: Signal) -> Run:
        what = "caught SIGWINCH, shutting down gracefully" if s.signum == 28 else "caught SIGTERM, shutting down"
        proc.err(f"{proc.stamp('[%a %b %d %H:%M:%S.000000 %Y]')} [mpm_event:notice] [pid 1:tid 1] AH00492: {what}\n")
        return 0
        yield

    return (yield from serve_forever(proc, shutdown))
