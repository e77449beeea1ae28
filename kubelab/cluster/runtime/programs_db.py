"""Key-value and document databases: redis and mongo (entrypoints, servers, redis-cli, mongosh),
plus the helpers all database programs share. Database ports answer TCP (`nc -z`) but not
HTTP, as real ones do; the clients talk to them through the pod network.

Read by: programs (registration), programs_sql (helpers). Reads: programs, process, netutils.
"""

from __future__ import annotations

import json

from kubelab.cluster.runtime.process import HttpHandler, Signal, Sleep
from kubelab.cluster.runtime.programs import Proc, Run, program, serve_forever

NOT_HTTP: tuple[int, dict[str, str], bytes] = (0, {}, b"")


def tcp_only(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
    return NOT_HTTP


def mkdir_marker(proc: Proc, directory: str, name: str, text: str) -> None:
    try:
        proc.fs.mkdir(directory, parents=True)
        proc.fs.write(f"{directory.rstrip('/')}/{name}", text)
    except OSError:
        pass


def client_request(proc: Proc, host: str, port: int, method: str, path: str) -> tuple[int, dict, bytes]:
    from kubelab.cluster.runtime.netutils import request, resolve
    from kubelab.cluster.runtime.session import Call

    call = Call(proc.sh, proc.argv, proc.io, proc.env)
    _, ips = resolve(call, host)
    return request(call, method, ips[0], port, path, {"Host": host})


def flag(args: list[str], *names: str, default: str = "") -> str:
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(n) and len(a) > len(n) and not n.startswith("--"):
                return a[len(n) :]
            if n.startswith("--") and a.startswith(n + "="):
                return a.split("=", 1)[1]
    return default


def tcp_ok(proc: Proc, host: str, port: int) -> bool:
    from kubelab.cluster.runtime.netutils import NotHttp

    try:
        client_request(proc, host, port, "GET", "/")
    except NotHttp:
        return True
    except (LookupError, OSError):
        return False
    return True


# ---- redis -------------------------------------------------------------------------------
@program("redis-entrypoint")
def redis_entrypoint(proc: Proc) -> Run:
    args = proc.argv[1:]
    if args and (args[0].startswith("-") or args[0].endswith(".conf")):
        args = ["redis-server", *args]
    return (yield from proc.exec(args))


def redis_server_handlers(proc: Proc, store: dict[str, str] | None = None) -> dict[int, HttpHandler]:
    data = store if store is not None else {}

    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        if method != "REDIS":
            return NOT_HTTP
        words = path.split()
        cmd = words[0].upper() if words else ""
        if cmd == "PING":
            return 200, {}, b"PONG"
        if cmd == "SET" and len(words) >= 3:
            data[words[1]] = " ".join(words[2:])
            return 200, {}, b"OK"
        if cmd == "GET" and len(words) == 2:
            return 200, {}, data.get(words[1], "").encode()
        if cmd in ("INCR", "DECR") and len(words) == 2:
            try:
                n = int(data.get(words[1], "0")) + (1 if cmd == "INCR" else -1)
            except ValueError:
                return 200, {}, b"ERR value is not an integer or out of range"
            data[words[1]] = str(n)
            return 200, {}, str(n).encode()
        if cmd == "DEL":
            n = sum(1 for k in words[1:] if data.pop(k, None) is not None)
            return 200, {}, str(n).encode()
        if cmd == "KEYS":
            return 200, {}, "\n".join(sorted(data)).encode()
        if cmd == "DBSIZE":
            return 200, {}, str(len(data)).encode()
        return 200, {}, f"ERR unknown command '{words[0] if words else ''}'".encode()

    port = int(flag(proc.argv, "--port", default="6379"))
    return {port: handle}


@program("redis-server", redis_server_handlers)
def redis_server(proc: Proc) -> Run:
    if {"-v", "--version"} & set(proc.argv):
        proc.out(f"Redis server v={proc.version} sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=kubelab\n")
        return 0
    stamp = lambda: proc.stamp("%d %b %Y %H:%M:%S.") + f"{int(proc.now() * 1000) % 1000:03d}"  # noqa: E731
    port = int(flag(proc.argv, "--port", default="6379"))
    row = proc.session.procs.rows.get(proc.pid)
    if row is not None:
        row.user = "redis"
        row.command = f"redis-server *:{port}"
    proc.set_memory(proc.image.memory_bytes)
    p = proc.pid
    proc.out(
        f"{p}:C {stamp()} # WARNING Memory overcommit must be enabled! Without it, a background save or "
        "replication may fail under low memory condition. Being disabled, it can also cause failures without low "
        "memory condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add "
        "'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command "
        "'sysctl vm.overcommit_memory=1' for this to take effect.\n"
        f"{p}:C {stamp()} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n"
        f"{p}:C {stamp()} * Redis version={proc.version}, bits=64, commit=00000000, modified=0, pid={p}, "
        "just started\n"
    )
    if not any(a.endswith(".conf") for a in proc.argv[1:]):
        proc.out(
            f"{p}:C {stamp()} # Warning: no config file specified, using the default config. In order to "
            "specify a config file use redis-server /path/to/redis.conf\n"
        )
    proc.out(
        f"{p}:M {stamp()} * monotonic clock: POSIX clock_gettime\n"
        f"{p}:M {stamp()} * Running mode=standalone, port={port}.\n"
        f"{p}:M {stamp()} * Server initialized\n{p}:M {stamp()} * Ready to accept connections tcp\n"
    )
    proc.trap(2, 15)
    for port_, handler in redis_server_handlers(proc, {}).items():
        proc.listen(port_, handler)

    def shutdown(s: Signal) -> Run:
        proc.out(
            f"{p}:signal-handler ({int(proc.now())}) Received {s.name} scheduling shutdown...\n"
            f"{p}:M {stamp()} * User requested shutdown...\n"
            f"{p}:M {stamp()} * Saving the final RDB snapshot before exiting.\n"
            f"{p}:M {stamp()} * DB saved on disk\n{p}:M {stamp()} # Redis is now ready to exit, bye bye...\n"
        )
        return 0
        yield

    return (yield from serve_forever(proc, shutdown))


@program("redis-cli")
def redis_cli(proc: Proc) -> Run:
    from kubelab.cluster.runtime.netutils import NotHttp

    args = list(proc.argv[1:])
    host, port = "127.0.0.1", 6379
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-h" and args:
            host = args.pop(0)
        elif flag == "-p" and args:
            port = int(args.pop(0))
        elif flag in ("-a", "-n") and args:
            args.pop(0)
    command = " ".join(args) or "PING"
    try:
        _, _, body = client_request(proc, host, port, "REDIS", command)
    except (LookupError, OSError, NotHttp):
        proc.err(f"Could not connect to Redis at {host}:{port}: Connection refused\n")
        return 1
    proc.out(body.decode() + "\n")
    return 0
    yield


# ---- mongo -------------------------------------------------------------------------------
@program("mongo-entrypoint")
def mongo_entrypoint(proc: Proc) -> Run:
    args = proc.argv[1:]
    if args and args[0].startswith("-"):
        args = ["mongod", *args]
    if args[:1] == ["mongod"]:
        user, password = proc.env.get("MONGO_INITDB_ROOT_USERNAME"), proc.env.get("MONGO_INITDB_ROOT_PASSWORD")
        if bool(user) != bool(password):
            proc.err(
                "error: missing 'MONGO_INITDB_ROOT_USERNAME' or 'MONGO_INITDB_ROOT_PASSWORD'\n"
                "       both must be specified for a user to be created\n"
            )
            return 1
        row = proc.session.procs.rows.get(proc.pid)
        if row is not None:
            row.user = "mongodb"
        if _version(proc) >= (3, 6) and "--bind_ip" not in " ".join(args):
            args = [*args, "--bind_ip_all"]
        if user and not proc.fs.isdir("/data/db/journal"):
            yield Sleep(2.0)
            proc.out("\nMongoDB init process complete; ready for start up.\n\n")
            mkdir_marker(proc, "/data/db/journal", "WiredTigerLog.0000000001", "")
    return (yield from proc.exec(args))


def _version(proc: Proc) -> tuple[int, ...]:
    return tuple(int(x) for x in proc.version.split(".")[:2] if x.isdigit())


def mongo_server(proc: Proc) -> dict[int, HttpHandler]:
    def handle(method: str, path: str, headers: dict[str, str], client: str) -> tuple[int, dict[str, str], bytes]:
        if method == "MONGO":
            return 200, {}, b"{ ok: 1 }"
        return (
            200,
            {"Content-Type": "text/plain"},
            b"It looks like you are trying to access MongoDB over HTTP on the native driver port.\n",
        )

    return {int(flag(proc.argv, "--port", default="27017")): handle}


def _legacy_log(proc: Proc, comp: str, ctx: str, msg: str) -> None:
    """mongod before 4.4: `2017-03-22T10:03:40.123+0000 I NETWORK  [thread1] …`."""
    stamp = proc.stamp("%Y-%m-%dT%H:%M:%S.") + f"{int(proc.now() * 1000) % 1000:03d}+0000"
    proc.out(f"{stamp} I {comp:<8} [{ctx}] {msg}\n")


def _json_log(proc: Proc, comp: str, ident: int, ctx: str, msg: str, attr: dict | None = None) -> None:
    """mongod 4.4+: one JSON object per line."""
    stamp = proc.stamp("%Y-%m-%dT%H:%M:%S.") + f"{int(proc.now() * 1000) % 1000:03d}+00:00"
    entry: dict = {"t": {"$date": stamp}, "s": "I", "c": comp, "id": ident, "ctx": ctx, "msg": msg}
    if attr:
        entry["attr"] = attr
    proc.out(json.dumps(entry, separators=(",", ":")) + "\n")


@program("mongod", mongo_server)
def mongod(proc: Proc) -> Run:
    port = next(iter(mongo_server(proc)))
    legacy = _version(proc) < (4, 4)
    proc.set_title(" ".join(proc.argv))
    proc.set_memory(proc.image.memory_bytes)
    if legacy:
        start = f"MongoDB starting : pid={proc.pid} port={port} dbpath=/data/db 64-bit host={proc.hostname}"
        _legacy_log(proc, "CONTROL", "initandlisten", start)
        _legacy_log(proc, "CONTROL", "initandlisten", f"db version v{proc.version}")
        _legacy_log(proc, "CONTROL", "initandlisten", "options: {}")
        _legacy_log(
            proc, "STORAGE", "initandlisten", "wiredtiger_open config: create,cache_size=256M,session_max=20000"
        )
        _legacy_log(proc, "NETWORK", "thread1", f"waiting for connections on port {port}")
    else:
        attr = {"pid": proc.pid, "port": port, "dbPath": "/data/db", "architecture": "64-bit", "host": proc.hostname}
        _json_log(proc, "CONTROL", 4615611, "initandlisten", "MongoDB starting", attr)
        _json_log(proc, "CONTROL", 23403, "initandlisten", "Build Info", {"buildInfo": {"version": proc.version}})
        _json_log(proc, "NETWORK", 23015, "listener", "Listening on", {"address": "0.0.0.0"})
        _json_log(proc, "NETWORK", 23016, "listener", "Waiting for connections", {"port": port, "ssl": "off"})
    proc.trap(2, 15)
    for p, handler in mongo_server(proc).items():
        proc.listen(p, handler)

    def shutdown(s: Signal) -> Run:
        if legacy:
            what = s.name[3:].title()
            _legacy_log(
                proc,
                "CONTROL",
                "signalProcessingThread",
                f"got signal {s.signum} ({what}), will terminate after current cmd ends",
            )
            _legacy_log(proc, "CONTROL", "signalProcessingThread", "dbexit:  rc: 0")
        else:
            _json_log(
                proc, "CONTROL", 23377, "SignalHandler", "Received signal", {"signal": s.signum, "error": "Terminated"}
            )
            _json_log(proc, "CONTROL", 20565, "SignalHandler", "Now exiting")
            _json_log(proc, "CONTROL", 23138, "SignalHandler", "Shutting down", {"exitCode": 0})
        return 0
        yield

    return (yield from serve_forever(proc, shutdown))


@program("mongosh")
def mongosh(proc: Proc) -> Run:
    from kubelab.cluster.runtime.netutils import NotHttp

    host = flag(proc.argv, "--host") or "127.0.0.1"
    legacy = proc.argv[0].rsplit("/", 1)[-1] == "mongo"
    try:
        _, _, body = client_request(proc, host, 27017, "MONGO", "ping")
    except (LookupError, OSError, NotHttp):
        if legacy:
            proc.out(f"MongoDB shell version v{proc.version}\nconnecting to: mongodb://{host}:27017/test\n")
            proc.err(
                f"Error: couldn't connect to server {host}:27017, connection attempt failed: SocketException: "
                f"Error connecting to {host}:27017 :: caused by :: Connection refused :\n"
            )
        else:
            proc.err(f"MongoNetworkError: connect ECONNREFUSED {host}:27017\n")
        return 1
    if legacy:
        proc.out(f'MongoDB shell version v{proc.version}\nconnecting to: mongodb://{host}:27017/test\n{{ "ok" : 1 }}\n')
    else:
        proc.out(body.decode() + "\n")
    return 0
    yield
