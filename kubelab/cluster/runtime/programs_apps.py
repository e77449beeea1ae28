"""Application programs of sample and language images: go-demo-2, hello-app, echo-server,
python and node (REPLs that exit without stdin, `python -m http.server`, print-only one-liners),
polinux/stress (holds the memory it is told to), curlimages' entrypoint.

go-demo-2 dials its MongoDB at $DB before serving and panics if it cannot, which is how the
book's two-container pod teaches startup order; the others answer HTTP like the real images.

Read by: programs (registration; python/node delegate here). Reads: programs, programs_web
(static files), netutils (reachability), process.
"""

from __future__ import annotations

import math
import posixpath
import re

from kubelab.cluster.runtime.process import HttpHandler, Sleep
from kubelab.cluster.runtime.programs import Proc, Run, program, serve_forever
from kubelab.cluster.runtime.programs_web import static_file


def _plain(status: int, text: str) -> tuple[int, dict[str, str], bytes]:
    body = text.encode()
    return status, {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}, body


def go_demo_server(proc: Proc) -> dict[int, HttpHandler]:
    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        route = path.split("?")[0]
        if route == "/demo/hello":
            proc.out(f"{proc.stamp('%Y/%m/%d %H:%M:%S')} {method} request to {path}\n")
            return _plain(200, "hello, world!\n")
        if route == "/demo/person":
            return 200, {"Content-Type": "application/json"}, b"[]"
        return _plain(404, "404 page not found\n")

    return {8080: handle}


@program("go-demo", go_demo_server)
def go_demo(proc: Proc) -> Run:
    """vfarcic/go-demo-2: dials MongoDB at $DB first, and panics if it cannot (the book's lesson)."""
    from kubelab.cluster.runtime.process import NoNetwork

    db = proc.env.get("DB", "db")
    ctx = proc.session.ctx
    if not isinstance(ctx.network, NoNetwork) or db in ("localhost", "127.0.0.1"):
        if not _reachable(proc, db, 27017):
            yield Sleep(10.0)  # mgo.Dial's timeout
            proc.err("panic: no reachable servers\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:29 +0x3d3\n")
            return 2
    proc.set_memory(proc.image.memory_bytes)
    proc.trap(15)
    for port, handler in go_demo_server(proc).items():
        proc.listen(port, handler)
    return (yield from serve_forever(proc))


def _reachable(proc: Proc, host: str, port: int) -> bool:
    from kubelab.cluster.runtime.netutils import NotHttp, request, resolve
    from kubelab.cluster.runtime.session import Call

    call = Call(proc.sh, proc.argv, proc.io, proc.env)
    try:
        _, ips = resolve(call, host)
        request(call, "GET", ips[0], port, "/", {"Host": host})
    except NotHttp:
        return True
    except (LookupError, OSError):
        return False
    return True


def hello_app_server(proc: Proc) -> dict[int, HttpHandler]:
    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        proc.err(f"{proc.stamp('%Y/%m/%d %H:%M:%S')} Serving request: {path}\n")
        return _plain(200, f"Hello, world!\nVersion: {proc.version}\nHostname: {proc.hostname}\n")

    return {int(proc.env.get("PORT", "8080")): handle}


@program("hello-app", hello_app_server)
def hello_app(proc: Proc) -> Run:
    port = int(proc.env.get("PORT", "8080"))
    proc.err(f"{proc.stamp('%Y/%m/%d %H:%M:%S')} Server listening on port {port}\n")
    proc.trap(15)
    for p, handler in hello_app_server(proc).items():
        proc.listen(p, handler)
    return (yield from serve_forever(proc))


def echo_server(proc: Proc) -> dict[int, HttpHandler]:
    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        lines = [f"Request served by {proc.hostname}", "", f"HTTP/1.1 {method} {path}", ""]
        lines += [f"{k}: {v}" for k, v in sorted(headers.items())]
        return _plain(200, "\n".join(lines) + "\n")

    return {int(proc.env.get("PORT", "8080")): handle}


@program("echo-server", echo_server)
def echo(proc: Proc) -> Run:
    proc.out(f"Echo server listening on port {proc.env.get('PORT', '8080')}.\n")
    proc.trap(15)
    for p, handler in echo_server(proc).items():
        proc.listen(p, handler)
    return (yield from serve_forever(proc))


def python_http_server(proc: Proc, args: list[str]) -> Run:
    port = int(args[0]) if args and args[0].isdigit() else 8000
    root = proc.sh.cwd
    proc.out(f"Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...\n")

    def page(status: int, reason: str) -> bytes:
        return f"<h1>Error response</h1><p>Error code: {status}</p><p>Message: {reason}.</p>".encode()

    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        full = posixpath.normpath(root + "/" + path.split("?")[0])
        if proc.fs.isdir(full) and not proc.fs.isfile(posixpath.join(full, "index.html")):
            items = "".join(f'<li><a href="{n}">{n}</a></li>\n' for n in proc.fs.listdir(full))
            body = f"<!DOCTYPE HTML>\n<html>\n<body>\n<h1>Directory listing for {path}</h1>\n<hr>\n<ul>\n{items}</ul>\n"
            status, data, ctype = 200, (body + "<hr>\n</body>\n</html>\n").encode(), "text/html; charset=utf-8"
        else:
            status, data, ctype, _ = static_file(proc, root, method, path, page)
        stamp = proc.stamp("%d/%b/%Y %H:%M:%S")
        proc.err(f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} -\n')
        return status, {"Server": "SimpleHTTP/0.6 Python/3", "Content-Type": ctype}, data

    proc.listen(port, handle)
    proc.trap(2, 15)
    return (yield from serve_forever(proc))


def tiny_print(proc: Proc, code: str, lang: str) -> int:
    """Enough of `python -c 'print("hi")'` / `node -e 'console.log("hi")'` for one-liners in manifests."""
    calls = re.findall(r"""(?:print|console\.log)\(\s*(?:'([^']*)'|"([^"]*)")\s*\)""", code)
    if calls and re.fullmatch(r"""(\s*(?:print|console\.log)\(\s*(?:'[^']*'|"[^"]*")\s*\)\s*;?\s*)+""", code):
        for a, b in calls:
            proc.out((a or b) + "\n")
        return 0
    language = {"python": "Python", "node": "JavaScript", "perl": "Perl"}.get(lang, lang)
    proc.err(f"kubelab: this simulated runtime does not run {language} code beyond print statements\n")
    return 1


@program("curl-entrypoint")
def curl_entrypoint(proc: Proc) -> Run:
    args = proc.argv[1:]
    if not args or args[0].startswith("-") or "://" in args[0]:
        args = ["curl", *args]
    return (yield from proc.exec(args))


@program("python")
def python(proc: Proc) -> Run:
    """The interpreter: REPL with no stdin exits at once; `-m http.server` serves files."""
    args = proc.argv[1:]
    if not args or args == ["-i"]:
        return 0  # EOF on stdin: the REPL quits, so the container completes
    if args[0] in ("-V", "--version"):
        proc.out(f"Python {proc.options.get('python', '3.13.1')}\n")
        return 0
    if args[:2] == ["-m", "http.server"]:
        return (yield from python_http_server(proc, args[2:]))
    if args[0] == "-c":
        return tiny_print(proc, args[1] if len(args) > 1 else "", "python")
    script = args[0]
    if not proc.fs.exists(proc.sh.path(script)):
        proc.err(
            f"{proc.argv[0].rsplit('/', 1)[-1]}: can't open file '{proc.sh.path(script)}': "
            "[Errno 2] No such file or directory\n"
        )
        return 2
    proc.err("kubelab: this simulated runtime does not run Python code; only catalog images' behaviour is modelled\n")
    return 1


@program("node")
def node(proc: Proc) -> Run:
    args = proc.argv[1:]
    if not args:
        return 0
    if args[0] in ("-v", "--version"):
        proc.out(f"v{proc.version}\n")
        return 0
    if args[0] in ("-e", "--eval", "-p"):
        return tiny_print(proc, args[1] if len(args) > 1 else "", "node")
    script = proc.sh.path(args[0])
    if not proc.fs.exists(script):
        proc.err(
            f"node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module '{script}'\n"
            f"    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)\n"
            f"    at node:internal/main/run_main_module:28:49 {{\n"
            "  code: 'MODULE_NOT_FOUND',\n  requireStack: []\n}\n\n"
            f"Node.js v{proc.version}\n"
        )
        return 1
    proc.err(
        "kubelab: this simulated runtime does not run JavaScript code; only catalog images' behaviour is modelled\n"
    )
    return 1
    yield


@program("node-entrypoint")
def node_entrypoint(proc: Proc) -> Run:
    args = proc.argv[1:]
    from kubelab.cluster.runtime.commands import NotRunnable, locate

    if not args or args[0].startswith("-"):
        args = ["node", *args]
    else:
        try:
            locate(proc.fs, args[0], proc.env, proc.sh.cwd)
        except NotRunnable:
            args = ["node", *args]  # the official entrypoint runs `node FILE` for a non-command
    return (yield from proc.exec(args))


@program("stress")
def stress(proc: Proc) -> Run:
    """polinux/stress: `stress --vm 1 --vm-bytes 150M --vm-hang 1` holds memory (the OOMKilled lesson)."""
    args = proc.argv[1:]
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("-"):
            opts[a[2:]] = args[i + 1]
            i += 2
        elif a in ("-m", "-c", "-t", "-i", "-d") and i + 1 < len(args):
            opts[{"-m": "vm", "-c": "cpu", "-t": "timeout", "-i": "io", "-d": "hdd"}[a]] = args[i + 1]
            i += 2
        else:
            opts[a.lstrip("-")] = ""
            i += 1
    if not opts or "help" in opts:
        proc.out(
            "`stress' imposes certain types of compute stress on your system\n\nUsage: stress [OPTION [ARG]] ...\n"
        )
        return 0 if "help" in opts else 1
    vm, cpu = int(opts.get("vm", "0") or 0), int(opts.get("cpu", "0") or 0)
    io, hdd = int(opts.get("io", "0") or 0), int(opts.get("hdd", "0") or 0)
    proc.out(f"stress: info: [{proc.pid}] dispatching hogs: {cpu} cpu, {io} io, {vm} vm, {hdd} hdd\n")
    size = _bytes(opts.get("vm-bytes", "256M"))
    for _ in range(vm):
        proc.add_row(" ".join(proc.argv), rss_kb=size // 1024)
    for _ in range(cpu):
        proc.add_row(" ".join(proc.argv), rss_kb=100)
    timeout = opts.get("timeout")
    if timeout:
        from kubelab.cluster.runtime.sysutils import parse_duration

        seconds = parse_duration(timeout) or 0
        yield Sleep(seconds)
        proc.out(f"stress: info: [{proc.pid}] successful run completed in {int(seconds)}s\n")
        return 0
    yield Sleep(math.inf)
    return 0


def _bytes(text: str) -> int:
    units = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
    text = text.strip().upper()
    num = "".join(ch for ch in text if ch.isdigit() or ch == ".")
    unit = text[len(num) :][:1]
    return int(float(num or 0) * units.get(unit, 1))


def pi_digits(n: int) -> str:
    """π to n significant digits, rounded (Machin's formula in integers: exact and fast)."""
    scale = 10 ** (n + 10)

    def arctan_inv(x: int) -> int:
        total = term = scale // x
        k, sign = 1, -1
        while term:
            term //= x * x
            total += sign * (term // (2 * k + 1))
            sign, k = -sign, k + 1
        return total

    digits = str(4 * (4 * arctan_inv(5) - arctan_inv(239)))
    head = str(int(digits[:n]) + (digits[n] >= "5"))
    return head[0] + ("." + head[1:] if n > 1 else "")


@program("perl")
def perl(proc: Proc) -> Run:
    """perl: enough for the Kubernetes Job example, `perl -Mbignum=bpi -wle 'print bpi(2000)'`."""
    args = proc.argv[1:]
    code = next((args[i + 1] for i, a in enumerate(args[:-1]) if a.startswith("-") and a.endswith("e")), None)
    if code is None:
        return 0  # `perl -de0` with no terminal: the debugger reads EOF and quits
    m = re.fullmatch(r"\s*print\s+bpi\((\d+)\)\s*;?\s*", code)
    if m:
        n = min(int(m.group(1)), 20000)
        yield Sleep(max(n / 200, 1.0))  # bignum is slow; the real job takes seconds
        proc.out(pi_digits(n) + "\n")
        return 0
    return tiny_print(
        proc, code.replace("print ", "print(").rstrip(";") + ")" if code.startswith("print ") else code, "perl"
    )
