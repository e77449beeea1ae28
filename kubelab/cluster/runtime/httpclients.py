"""HTTP clients inside a pod: busybox/GNU `wget` and `curl`, with their real progress lines and
errors (`wget: bad address 'db'`, `curl: (7) Failed to connect…`); timeouts take simulated time.

Read by: commands (registered utilities). Reads: netutils (resolver, request), session, clock.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Generator

from kubelab.cluster.runtime.clock import strftime
from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.netutils import REASONS, NotHttp, _hint, _split_url, request, resolve
from kubelab.cluster.runtime.process import NO_NETWORK_HINT, Sleep
from kubelab.cluster.runtime.session import Call

WGET_TIMEOUT = 900.0  # busybox wget's default -T
CURL_CONNECT_TIMEOUT = 300.0


@utility("wget")
def wget(c: Call) -> Generator[Sleep, None, int]:
    args = list(c.args)
    quiet = spider = show_headers = False
    output: str | None = None
    timeout = WGET_TIMEOUT
    headers: dict[str, str] = {"User-Agent": "Wget" if c.busybox else "Wget/1.21.3"}
    urls: list[str] = []
    while args:
        a = args.pop(0)
        if a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-O", "--output-document") and args:
            output = args.pop(0)
        elif a.startswith("-O") and len(a) > 2:
            output = a[2:]
        elif a.startswith("-qO"):
            quiet, output = True, a[3:] or (args.pop(0) if args else "-")
        elif a in ("-T", "--timeout") and args:
            timeout = float(args.pop(0))
        elif a.startswith("--timeout="):
            timeout = float(a.split("=", 1)[1])
        elif a == "--spider":
            spider = True
        elif a in ("-S", "--server-response"):
            show_headers = True
        elif a in ("-U", "--user-agent") and args:
            headers["User-Agent"] = args.pop(0)
        elif a == "--header" and args:
            k, _, v = args.pop(0).partition(":")
            headers[k.strip()] = v.strip()
        elif a.startswith("-"):
            continue
        else:
            urls.append(a)
    if not urls:
        c.err(
            "BusyBox v1.37.0 multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] "
            "[--header STR]\n\t[-T SEC] URL...\n"
            if c.busybox
            else "wget: missing URL\n"
        )
        return 1
    url = urls[0]
    scheme, host, port, path = _split_url(url)
    try:
        name, ips = resolve(c, host)
    except LookupError as e:
        if str(e) == NO_NETWORK_HINT and not c.busybox:
            yield Sleep(15.0)
        c.err(f"wget: bad address '{host}'\n" if c.busybox else f"wget: unable to resolve host address ‘{host}’\n")
        _hint(c, e)
        return 1 if c.busybox else 4
    ip = ips[0]
    if not quiet and c.busybox:
        c.err(f"Connecting to {host} ({ip}:{port})\n")
    if not quiet and not c.busybox:
        c.err(
            f"--{strftime('%Y-%m-%d %H:%M:%S', c.session.now())}--  {url}\n"
            f"Resolving {host} ({host})... {ip}\nConnecting to {host} ({host})|{ip}|:{port}... "
        )
    headers["Host"] = host if port == 80 else f"{host}:{port}"
    try:
        status, rheaders, body = request(c, "HEAD" if spider else "GET", ip, port, path, headers)
    except ConnectionRefusedError as e:
        c.err(
            f"wget: can't connect to remote host ({ip}): Connection refused\n"
            if c.busybox
            else "failed: Connection refused.\n"
        )
        _hint(c, e)
        return 1 if c.busybox else 4
    except TimeoutError:
        yield Sleep(timeout)
        c.err("wget: download timed out\n" if c.busybox else "failed: Connection timed out.\nRetrying.\n")
        return 1 if c.busybox else 4
    except NotHttp:
        c.err(
            "wget: error getting response: Connection reset by peer\n"
            if c.busybox
            else "connected.\nHTTP request sent, awaiting response... No data received.\n"
        )
        return 1 if c.busybox else 4
    reason = REASONS.get(status, "")
    if not quiet and not c.busybox:
        c.err(f"connected.\nHTTP request sent, awaiting response... {status} {reason}\n")
    if show_headers:
        c.err(f"  HTTP/1.1 {status} {reason}\n" + "".join(f"  {k}: {v}\n" for k, v in rheaders.items()))
    if status >= 400:
        if c.busybox:
            c.err(f"wget: server returned error: HTTP/1.1 {status} {reason}\n")
            return 1
        c.err(f"{strftime('%Y-%m-%d %H:%M:%S', c.session.now())} ERROR {status}: {reason}.\n\n")
        return 8
    if spider:
        if not quiet:
            c.err("remote file exists\n")
        return 0
    target = output if output is not None else (posixpath.basename(path.split("?")[0]) or "index.html")
    if target == "-":
        if not quiet and c.busybox:
            c.err("writing to stdout\n")
        c.out(body.decode("utf-8", "replace"))
        if not quiet and c.busybox:
            c.err(
                f"-                    100% |********************************|  {len(body):>4}  0:00:00 ETA\n"
                "written to stdout\n"
            )
        return 0
    full = c.path(target)
    if output is None and c.fs.exists(full) and c.busybox:
        c.err(f"wget: can't open '{target}': File exists\n")
        return 1
    if not quiet and c.busybox:
        c.err(f"saving to '{target}'\n")
    try:
        c.fs.write(full, body, cred=c.session.cred)
    except OSError as e:
        c.err(f"wget: can't open '{target}': {e.strerror}\n")
        return 1
    if not quiet:
        if c.busybox:
            c.err(
                f"{target[:20]:<20} 100% |********************************|  {len(body):>4}  0:00:00 ETA\n"
                f"'{target}' saved\n"
            )
        else:
            c.err(
                f"Length: {len(body)} [{rheaders.get('Content-Type', 'text/html')}]\nSaving to: ‘{target}’\n\n"
                f"{strftime('%Y-%m-%d %H:%M:%S', c.session.now())} (1.00 MB/s) - ‘{target}’ saved "
                f"[{len(body)}/{len(body)}]\n\n"
            )
    return 0


@utility("curl")
def curl(c: Call) -> Generator[Sleep, None, int]:
    args = list(c.args)
    silent = show_error = include = head = fail = verbose = False
    method = "GET"
    output: str | None = None
    write_out = ""
    max_time: float | None = None
    connect_timeout = CURL_CONNECT_TIMEOUT
    headers: dict[str, str] = {"User-Agent": "curl/7.88.1", "Accept": "*/*"}
    data: str | None = None
    urls: list[str] = []
    while args:
        a = args.pop(0)
        if a.startswith("-") and not a.startswith("--") and len(a) > 2 and all(ch in "sSiIfLvk" for ch in a[1:]):
            args[:0] = [f"-{ch}" for ch in a[1:]]
            continue
        if a in ("-s", "--silent"):
            silent = True
        elif a in ("-S", "--show-error"):
            show_error = True
        elif a in ("-i", "--include"):
            include = True
        elif a in ("-I", "--head"):
            head, method = True, "HEAD"
        elif a in ("-f", "--fail"):
            fail = True
        elif a in ("-v", "--verbose"):
            verbose = True
        elif a in ("-X", "--request") and args:
            method = args.pop(0)
        elif a in ("-o", "--output") and args:
            output = args.pop(0)
        elif a in ("-H", "--header") and args:
            k, _, v = args.pop(0).partition(":")
            headers[k.strip()] = v.strip()
        elif a in ("-d", "--data", "--data-raw") and args:
            data = args.pop(0)
            method = "POST" if method == "GET" else method
        elif a in ("-w", "--write-out") and args:
            write_out = args.pop(0)
        elif a in ("-m", "--max-time") and args:
            max_time = float(args.pop(0))
        elif a == "--connect-timeout" and args:
            connect_timeout = float(args.pop(0))
        elif a in ("-L", "--location", "-k", "--insecure", "-4"):
            continue
        elif a.startswith("-"):
            continue
        else:
            urls.append(a)
    if not urls:
        c.err("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    loud = not silent or show_error
    scheme, host, port, path = _split_url(urls[0])
    try:
        name, ips = resolve(c, host)
    except LookupError as e:
        if loud:
            c.err(f"curl: (6) Could not resolve host: {host}\n")
            _hint(c, e)
        return 6
    ip = ips[0]
    if verbose:
        c.err(f"*   Trying {ip}:{port}...\n")
    headers["Host"] = host if port in (80, 443) else f"{host}:{port}"
    if data is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        status, rheaders, body = request(c, method, ip, port, path, headers)
    except ConnectionRefusedError as e:
        if loud:
            c.err(f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server\n")
            _hint(c, e)
        return 7
    except TimeoutError:
        wait = min(connect_timeout, max_time) if max_time is not None else connect_timeout
        yield Sleep(wait)
        if loud:
            if max_time is not None and max_time <= connect_timeout:
                c.err(f"curl: (28) Connection timed out after {int(wait * 1000) + 1} milliseconds\n")
            else:
                c.err(
                    f"curl: (28) Failed to connect to {host} port {port} after {int(wait * 1000)} ms: "
                    "Timeout was reached\n"
                )
        return 28
    except NotHttp:
        if loud:
            c.err("curl: (52) Empty reply from server\n")
        return 52
    reason = REASONS.get(status, "")
    head_text = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in rheaders.items()) + "\r\n"
    if verbose:
        c.err(
            f"* Connected to {host} ({ip}) port {port} (#0)\n> {method} {path} HTTP/1.1\n"
            + "".join(f"> {k}: {v}\n" for k, v in headers.items())
            + ">\n"
            + "".join(f"< {line}\n" for line in head_text.rstrip("\r\n").split("\r\n"))
            + "<\n"
        )
    if fail and status >= 400:
        if loud:
            c.err(f"curl: (22) The requested URL returned error: {status}\n")
        return 22
    payload = (head_text if include or head else "") + ("" if head else body.decode("utf-8", "replace"))
    if not silent:  # stdout is never a terminal here, so curl shows its progress meter on stderr
        size = len(body)
        c.err(
            "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
            "                                 Dload  Upload   Total   Spent    Left  Speed\n"
            f"100 {size:>5}  100 {size:>5}    0     0   {size:>4}k      0 --:--:-- --:--:-- --:--:--  {size:>4}k\n"
        )
    if output is not None and output != "-":
        try:
            c.fs.write(c.path(output), payload, cred=c.session.cred)
        except OSError as e:
            c.err(f"curl: (23) Failure writing output to destination, passed 0 returned 0 ({e.strerror})\n")
            return 23
    else:
        c.out(payload)
    if write_out:
        c.out(
            re.sub(
                r"%\{(\w+)\}",
                lambda m: {
                    "http_code": f"{status:03d}",
                    "size_download": str(len(body)),
                    "remote_ip": ip,
                    "time_total": "0.001000",
                }.get(m.group(1), ""),
                write_out,
            ).replace("\\n", "\n")
        )
    return 0
