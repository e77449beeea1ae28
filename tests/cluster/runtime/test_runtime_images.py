"""The image catalog: references, pull failures, and what each image's program does."""

from __future__ import annotations

import pytest
from runtime_box import Box

from kubelab.cluster.runtime import expand_k8s_vars, lookup, parse_reference, pull_error, pull_failure, register

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("nginx", ("docker.io/library/nginx", "latest", None)),
        ("nginx:1.27", ("docker.io/library/nginx", "1.27", None)),
        ("vfarcic/go-demo-2", ("docker.io/vfarcic/go-demo-2", "latest", None)),
        ("docker.io/library/mongo:3.3", ("docker.io/library/mongo", "3.3", None)),
        ("index.docker.io/library/busybox", ("docker.io/library/busybox", "latest", None)),
        ("registry.k8s.io/pause:3.10", ("registry.k8s.io/pause", "3.10", None)),
        ("localhost:5000/team/app:1.0", ("localhost:5000/team/app", "1.0", None)),
        (f"nginx@{DIGEST}", ("docker.io/library/nginx", "", DIGEST)),
        (f"nginx:1.27@{DIGEST}", ("docker.io/library/nginx", "1.27", DIGEST)),
    ],
)
def test_references_are_normalised_like_containerd(ref, expected):
    assert parse_reference(ref) == expected


@pytest.mark.parametrize(
    "ref, message",
    [
        ("Nginx", "invalid reference format: repository name (library/Nginx) must be lowercase"),
        ("nginx:", "invalid reference format"),
        ("nginx@sha256:xyz", "invalid reference format"),
    ],
)
def test_malformed_references_are_rejected(ref, message):
    with pytest.raises(ValueError) as err:
        parse_reference(ref)
    assert str(err.value) == message


def test_lookup_knows_repositories_and_their_tags():
    assert lookup("nginx").version == "1.27.3"
    assert lookup("nginx:alpine").family == "alpine"
    assert lookup("mongo:3.3").version == "3.3.15"
    assert lookup("karthequian/helloworld:latest").ports == [80]
    assert lookup("registry.k8s.io/pause:3.10").entrypoint == ["/pause"]
    assert lookup("nginx:1.99") is None
    assert lookup("ngnix") is None
    assert lookup("Nginx") is None
    image = lookup("nginx")
    assert image.size_bytes == 72941245 and image.pull_seconds > 0 and image.memory_bytes > 0
    assert image.digest.startswith("sha256:") and image.repo_digest.startswith("docker.io/library/nginx@sha256:")


def test_pull_errors_use_containerd_texts():
    assert pull_error("ngnix") == (
        'failed to pull and unpack image "docker.io/library/ngnix:latest": failed to resolve reference '
        '"docker.io/library/ngnix:latest": pull access denied, repository does not exist or may require '
        "authorization: server message: insufficient_scope: authorization failed"
    )
    assert pull_failure("nginx:1.99") == (
        "NotFound",
        (
            'failed to pull and unpack image "docker.io/library/nginx:1.99": failed to resolve reference '
            '"docker.io/library/nginx:1.99": docker.io/library/nginx:1.99: not found'
        ),
    )
    assert pull_error("myregistry.local:5000/app:1.0").endswith(
        'failed to do request: Head "https://myregistry.local:5000/v2/app/manifests/1.0": dial tcp: lookup '
        "myregistry.local: no such host"
    )


def test_register_adds_a_lesson_image_described_as_data():
    register(
        {
            "repository": "kubelab/quote",
            "tags": ["1.0", "2.0"],
            "ports": [8080],
            "family": "alpine",
            "cmd": ["quote"],
            "executables": {"/usr/bin/quote": "program:generic"},
            "logs": ["listening on :8080"],
            "http": {8080: {"/": "be kind\n", "/health": (200, "ok\n")}},
            "requires_env": {"QUOTE_KEY": "error: QUOTE_KEY is required"},
        }
    )
    assert lookup("kubelab/quote:2.0") is not None and lookup("kubelab/quote:3.0") is None
    box = Box("kubelab/quote:1.0")
    r = box.run()
    assert (r.code, r.stderr) == (1, "error: QUOTE_KEY is required\n")
    box = Box("kubelab/quote:1.0", env={"QUOTE_KEY": "k"})
    gen, _ = box.boot()
    assert box.output == "listening on :8080\n"
    assert box.listening[8080]("GET", "/health", {}, "10.0.0.1")[::2] == (200, b"ok\n")
    assert box.listening[8080]("GET", "/x", {}, "10.0.0.1")[0] == 404
    gen.close()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$(GREETING) world", "hello world"),
        ("$$(GREETING)", "$(GREETING)"),
        ("$(MISSING) stays", "$(MISSING) stays"),
        ("cost: $5 $", "cost: $5 $"),
        ("$(GREETING", "$(GREETING"),
        ("$$$(GREETING)", "$hello"),
    ],
)
def test_kubernetes_var_expansion(text, expected):
    assert expand_k8s_vars(text, {"GREETING": "hello"}) == expected


def test_postgres_without_password_exits_1_with_its_message():
    r = Box("postgres").run()
    assert r.code == 1
    assert r.stderr.startswith(
        "Error: Database is uninitialized and superuser password is not specified.\n"
        "       You must specify POSTGRES_PASSWORD to a non-empty value for the\n"
    )


def test_postgres_with_password_initialises_then_accepts_connections_and_remembers_its_data():
    box = Box("postgres", env={"POSTGRES_PASSWORD": "secret"})
    gen, _ = box.boot()
    assert 5432 not in box.listening  # still running initdb
    code, _, _ = box.drive(gen, until=5)
    assert code is None and 5432 in box.listening
    assert "PostgreSQL init process complete; ready for start up." in box.output
    assert "LOG:  database system is ready to accept connections" in box.output
    assert box.exec(["pg_isready"]).stdout == "/var/run/postgresql:5432 - accepting connections\n"
    code, _ = box.signal(gen, 2)
    assert code == 0 and "received fast shutdown request" in box.output
    gen, _ = box.boot()
    assert "Skipping initialization" in box.output
    gen.close()


def test_mysql_without_password_exits_1_with_its_message():
    r = Box("mysql").run()
    assert r.code == 1
    assert r.stderr.endswith(
        "[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified\n"
        "    You need to specify one of the following as an environment variable:\n"
        "    - MYSQL_ROOT_PASSWORD\n    - MYSQL_ALLOW_EMPTY_PASSWORD\n    - MYSQL_RANDOM_ROOT_PASSWORD\n"
    )


def test_mysql_with_root_password_becomes_ready_after_initialising():
    box = Box("mysql", env={"MYSQL_ROOT_PASSWORD": "pw", "MYSQL_DATABASE": "shop"})
    gen, _ = box.boot()
    code, _, _ = box.drive(gen, until=30)
    assert code is None and 3306 in box.listening
    assert "[Note] [Entrypoint]: Creating database shop" in box.output
    assert "ready for connections. Version: '9.1.0'" in box.output
    assert box.exec(["mysqladmin", "ping"]).stdout == "mysqld is alive\n"
    gen.close()


def test_nginx_logs_its_entrypoint_and_serves_welcome_page_and_404():
    box = Box("nginx")
    gen, _ = box.boot()
    lines = box.output.splitlines()
    assert (
        lines[0] == "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
    )
    assert "/docker-entrypoint.sh: Configuration complete; ready for start up" in lines
    assert "2025/11/25 19:43:18 [notice] 1#1: nginx/1.27.3" in lines
    status, headers, body = box.listening[80]("GET", "/", {"User-Agent": "curl/7.88.1"}, "10.244.0.1")
    assert status == 200 and len(body) == 615 and b"<title>Welcome to nginx!</title>" in body
    status, _, body = box.listening[80]("GET", "/missing", {}, "10.244.0.1")
    assert status == 404 and b"<center><h1>404 Not Found</h1></center>" in body
    assert '10.244.0.1 - - [25/Nov/2025:19:43:18 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.88.1" "-"' in box.output
    gen.close()


def test_nginx_without_daemon_off_exits_at_once():
    assert Box("nginx").run(["nginx"]).code == 0


def test_image_http_answers_without_a_running_container():
    assert lookup("nginx").http(80, "GET", "/")[0] == 200
    assert lookup("nginx").http(80, "GET", "/nope")[0] == 404
    assert lookup("nginx").http(8080) is None
    assert lookup("httpd").http(80)[2] == b"<html><body><h1>It works!</h1></body></html>\n"
    assert lookup("vfarcic/go-demo-2").http(8080, "GET", "/demo/hello")[2] == b"hello, world!\n"
    assert lookup("vfarcic/go-demo-2").http(8080, "GET", "/")[0] == 404
    assert b"<h1>Hello</h1>" in lookup("karthequian/helloworld").http(80)[2]
    assert lookup("python").http(8000) is None and lookup("node").http(3000) is None


def test_hello_world_prints_its_message_and_completes():
    r = Box("hello-world").run()
    assert r.code == 0
    assert r.stdout.startswith(
        "\nHello from Docker!\nThis message shows that your installation appears to be working correctly.\n"
    )


def test_python_and_node_with_no_stdin_complete_at_once():
    assert Box("python").run().code == 0
    assert Box("node").run().code == 0


def test_mongo_logs_in_its_versions_format():
    box = Box("mongo:3.3")
    gen, _ = box.boot()
    assert "I NETWORK  [thread1] waiting for connections on port 27017" in box.output
    gen.close()
    box = Box("mongo")
    gen, _ = box.boot()
    assert '"msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}' in box.output
    assert box.fs.procs.rows[1].command == "mongod --bind_ip_all"
    gen.close()


def test_redis_answers_redis_cli():
    box = Box("redis")
    gen, _ = box.boot()
    assert "* Ready to accept connections tcp" in box.output
    assert box.exec(["redis-cli", "ping"]).stdout == "PONG\n"
    assert box.exec(["redis-cli", "set", "hits", "41"]).stdout == "OK\n"
    assert box.exec(["redis-cli", "incr", "hits"]).stdout == "42\n"
    gen.close()
    assert (
        box.exec(["redis-cli", "ping"]).stderr == "Could not connect to Redis at 127.0.0.1:6379: Connection refused\n"
    )


def test_the_job_docs_pi_computation_prints_2000_digits():
    r = Box("perl:5.34.0").run(["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"])
    assert r.code == 0
    assert r.stdout.startswith("3.14159265358979323846264338327950288419716939937510")
    assert len(r.stdout.strip()) == 2001  # "3." and 1999 decimals
