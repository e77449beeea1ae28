"""SQL database programs: postgres and mysql — their entrypoints' password checks and init logs,
the servers, and the clients probes use (pg_isready, psql, mysqladmin ping).

The entrypoints refuse to start without a password exactly as the official images do
(postgres: "Database is uninitialized and superuser password is not specified", exit 1) and
remember their data directory, so a pod restarted on a persistent volume skips initialization.

Read by: programs (registration). Reads: programs, programs_db (shared helpers), process.
"""

from __future__ import annotations

from kubelab.cluster.runtime.process import HttpHandler, Signal, Sleep
from kubelab.cluster.runtime.programs import Proc, Run, program, serve_forever
from kubelab.cluster.runtime.programs_db import flag, mkdir_marker, tcp_ok, tcp_only

# ---- postgres ----------------------------------------------------------------------------
POSTGRES_NO_PASSWORD = """Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html
"""


def _pg_stamp(proc: Proc) -> str:
    return proc.stamp("%Y-%m-%d %H:%M:%S.") + f"{int(proc.now() * 1000) % 1000:03d} UTC"


@program("postgres-entrypoint")
def postgres_entrypoint(proc: Proc) -> Run:
    args = proc.argv[1:]
    if args and args[0].startswith("-"):
        args = ["postgres", *args]
    if args[:1] == ["postgres"] and not {"--help", "-V", "--version", "--describe-config"} & set(args):
        pgdata = proc.env.get("PGDATA", "/var/lib/postgresql/data")
        row = proc.session.procs.rows.get(proc.pid)
        if row is not None:
            row.user = "postgres"
        if proc.fs.isfile(f"{pgdata}/PG_VERSION"):
            proc.out("\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n")
        else:
            if not proc.env.get("POSTGRES_PASSWORD") and proc.env.get("POSTGRES_HOST_AUTH_METHOD") != "trust":
                proc.err(POSTGRES_NO_PASSWORD)
                return 1
            yield Sleep(1.5)
            proc.out(
                'The files belonging to this database system will be owned by user "postgres".\n'
                "This user must also own the server process.\n\n"
                'The database cluster will be initialized with locale "en_US.utf8".\n\n'
                f"fixing permissions on existing directory {pgdata} ... ok\ncreating subdirectories ... ok\n"
                "creating configuration files ... ok\nrunning bootstrap script ... ok\n"
                "performing post-bootstrap initialization ... ok\nsyncing data to disk ... ok\n\n\n"
                f"Success. You can now start the database server using:\n\n    pg_ctl -D {pgdata} -l logfile start\n\n"
            )
            mkdir_marker(proc, pgdata, "PG_VERSION", proc.version.split(".")[0] + "\n")
            yield Sleep(1.0)
            proc.out(
                "waiting for server to start.... done\nserver started\n\n"
                "/usr/local/bin/docker-entrypoint.sh: ignoring /docker-entrypoint-initdb.d/*\n\n"
                "waiting for server to shut down.... done\nserver stopped\n\n"
                "PostgreSQL init process complete; ready for start up.\n\n"
            )
    return (yield from proc.exec(args))


def postgres_server(proc: Proc) -> dict[int, HttpHandler]:
    return {int(flag(proc.argv, "-p", default=proc.env.get("PGPORT", "5432"))): tcp_only}


@program("postgres", postgres_server)
def postgres(proc: Proc) -> Run:
    if {"-V", "--version"} & set(proc.argv):
        proc.out(f"postgres (PostgreSQL) {proc.version}\n")
        return 0
    port = next(iter(postgres_server(proc)))
    log = lambda msg: proc.err(f"{_pg_stamp(proc)} [{proc.pid}] LOG:  {msg}\n")  # noqa: E731
    proc.set_title(" ".join(proc.argv))
    proc.set_memory(proc.image.memory_bytes // 2)
    log(f"starting PostgreSQL {proc.version} {proc.options.get('build', '')}".rstrip())
    log(f'listening on IPv4 address "0.0.0.0", port {port}')
    log(f'listening on IPv6 address "::", port {port}')
    log(f'listening on Unix socket "/var/run/postgresql/.s.PGSQL.{port}"')
    for title in (
        "checkpointer",
        "background writer",
        "walwriter",
        "autovacuum launcher",
        "logical replication launcher",
    ):
        proc.add_row(f"postgres: {title}", user="postgres", rss_kb=proc.image.memory_bytes // 10240)
    proc.err(f"{_pg_stamp(proc)} [{proc.pid + 26}] LOG:  database system was shut down at {_pg_stamp(proc)}\n")
    log("database system is ready to accept connections")
    proc.trap(2, 3, 15)
    proc.listen(port, tcp_only)

    def shutdown(s: Signal) -> Run:
        kind = {2: "fast", 15: "smart", 3: "immediate"}.get(s.signum, "fast")
        log(f"received {kind} shutdown request")
        if kind != "immediate":
            log("aborting any active transactions")
            log("shutting down")
            log("database system is shut down")
        return 0 if kind != "immediate" else 2
        yield

    return (yield from serve_forever(proc, shutdown))


@program("pg_isready")
def pg_isready(proc: Proc) -> Run:
    host = flag(proc.argv, "-h", "--host")
    port = int(flag(proc.argv, "-p", "--port", default="5432"))
    where = f"{host}:{port}" if host else f"/var/run/postgresql:{port}"
    if tcp_ok(proc, host or "localhost", port):
        proc.out(f"{where} - accepting connections\n")
        return 0
    proc.out(f"{where} - no response\n")
    return 2
    yield


@program("psql")
def psql(proc: Proc) -> Run:
    host = flag(proc.argv, "-h", "--host")
    port = int(flag(proc.argv, "-p", "--port", default="5432"))
    sql = flag(proc.argv, "-c", "--command").strip().rstrip(";").lower()
    if not tcp_ok(proc, host or "localhost", port):
        if host:
            proc.err(
                f'psql: error: connection to server at "{host}", port {port} failed: Connection refused\n'
                "\tIs the server running on that host and accepting TCP/IP connections?\n"
            )
        else:
            proc.err(
                f'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.{port}" failed: '
                "No such file or directory\n\tIs the server running locally and accepting connections on that "
                "socket?\n"
            )
        return 2
    if sql in ("select 1", ""):
        proc.out(" ?column? \n----------\n        1\n(1 row)\n\n")
    elif sql == "select version()":
        v = f" PostgreSQL {proc.version} {proc.options.get('build', '')}".rstrip()
        proc.out(f"{'version':^{len(v)}}\n{'-' * (len(v) + 1)}\n{v}\n(1 row)\n\n")
    else:
        proc.err("kubelab: the simulated postgres answers only `SELECT 1` and `SELECT version()`\n")
        return 1
    return 0
    yield


# ---- mysql -------------------------------------------------------------------------------
MYSQL_NO_PASSWORD = """Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD"""


@program("mysql-entrypoint")
def mysql_entrypoint(proc: Proc) -> Run:
    args = proc.argv[1:]
    if args and args[0].startswith("-"):
        args = ["mysqld", *args]
    if args[:1] == ["mysqld"] and not {"--help", "-V", "--version", "--verbose"} & set(args):
        build = proc.options.get("build", f"{proc.version}-1.el9")
        note = lambda msg, kind="Note": proc.out(
            f"{proc.stamp('%Y-%m-%d %H:%M:%S+00:00')} [{kind}] [Entrypoint]: {msg}\n"
        )  # noqa: E731
        note(f"Entrypoint script for MySQL Server {build} started.")
        note("Switching to dedicated user 'mysql'")
        note(f"Entrypoint script for MySQL Server {build} started.")
        datadir = "/var/lib/mysql"
        if not proc.fs.isdir(f"{datadir}/mysql"):
            if not (
                proc.env.get("MYSQL_ROOT_PASSWORD")
                or proc.env.get("MYSQL_ALLOW_EMPTY_PASSWORD")
                or proc.env.get("MYSQL_RANDOM_ROOT_PASSWORD")
            ):
                proc.err(f"{proc.stamp('%Y-%m-%d %H:%M:%S+00:00')} [ERROR] [Entrypoint]: {MYSQL_NO_PASSWORD}\n")
                return 1
            note("Initializing database files")
            yield Sleep(6.0)
            note("Database files initialized")
            note("Starting temporary server")
            yield Sleep(2.0)
            note("Temporary server started.")
            if proc.env.get("MYSQL_RANDOM_ROOT_PASSWORD"):
                note("GENERATED ROOT PASSWORD: kubelabGeneratedRootPassw0rd")
            db, user = proc.env.get("MYSQL_DATABASE"), proc.env.get("MYSQL_USER")
            if db:
                note(f"Creating database {db}")
            if user and proc.env.get("MYSQL_PASSWORD"):
                note(f"Creating user {user}")
                if db:
                    note(f"Giving user {user} access to schema {db}")
            proc.out("\n")
            note("Stopping temporary server")
            yield Sleep(1.0)
            note("Temporary server stopped")
            proc.out("\n")
            note("MySQL init process done. Ready for start up.")
            proc.out("\n")
            mkdir_marker(proc, f"{datadir}/mysql", "ibdata1", "")
    row = proc.session.procs.rows.get(proc.pid)
    if row is not None:
        row.user = "mysql"
    return (yield from proc.exec(args))


def mysql_server(proc: Proc) -> dict[int, HttpHandler]:
    return {3306: tcp_only, 33060: tcp_only}


@program("mysqld", mysql_server)
def mysqld(proc: Proc) -> Run:
    v = proc.version
    stamp = lambda: proc.stamp("%Y-%m-%dT%H:%M:%S.") + f"{int(proc.now() * 1e6) % 1000000:06d}Z"  # noqa: E731
    line = lambda thread, kind, code, sub, msg: proc.err(f"{stamp()} {thread} [{kind}] [MY-{code}] [{sub}] {msg}\n")  # noqa: E731
    proc.set_memory(proc.image.memory_bytes)
    line(0, "System", "010116", "Server", f"/usr/sbin/mysqld (mysqld {v}) starting as process {proc.pid}")
    line(1, "System", "013576", "InnoDB", "InnoDB initialization has started.")
    yield Sleep(1.0)
    line(1, "System", "013577", "InnoDB", "InnoDB initialization has ended.")
    line(0, "Warning", "010068", "Server", "CA certificate ca.pem is self signed.")
    line(
        0,
        "System",
        "011323",
        "Server",
        "X Plugin ready for connections. Bind-address: '::' port: 33060, socket: /var/run/mysqld/mysqlx.sock",
    )
    line(
        0,
        "System",
        "010931",
        "Server",
        f"/usr/sbin/mysqld: ready for connections. Version: '{v}'  socket: "
        "'/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.",
    )
    proc.trap(15, 2)
    for port, handler in mysql_server(proc).items():
        proc.listen(port, handler)

    def shutdown(s: Signal) -> Run:
        line(
            0,
            "System",
            "013172",
            "Server",
            f"Received SHUTDOWN from user <via user signal>. Shutting down mysqld (Version: {v}).",
        )
        line(
            0,
            "System",
            "010910",
            "Server",
            f"/usr/sbin/mysqld: Shutdown complete (mysqld {v})  MySQL Community Server - GPL.",
        )
        return 0
        yield

    return (yield from serve_forever(proc, shutdown))


@program("mysqladmin")
def mysqladmin(proc: Proc) -> Run:
    host = flag(proc.argv, "-h", "--host") or "localhost"
    if tcp_ok(proc, host, 3306):
        proc.out("mysqld is alive\n" if "ping" in proc.argv else "")
        return 0
    proc.err(
        f"mysqladmin: connect to server at '{host}' failed\nerror: 'Can't connect to local MySQL server through "
        "socket '/var/run/mysqld/mysqld.sock' (2)'\nCheck that mysqld is running and that the socket: "
        "'/var/run/mysqld/mysqld.sock' exists!\n"
    )
    return 1
    yield
