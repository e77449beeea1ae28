"""What the kubelet puts into a container: volumes (ConfigMap, Secret, emptyDir, downward API, token) and env."""

from __future__ import annotations

import base64

from kubelet_helpers import container, make, pod, sh


def config_map(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def secret(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def test_a_config_map_volume_is_projected_read_only_with_data_symlinks():
    c = make()
    c.apply(config_map("site", **{"index.html": "<h1>v1</h1>\n"}))
    mounts = [{"name": "html", "mountPath": "/usr/share/nginx/html"}]
    c.apply(pod("web", container("nginx", "nginx:1.25", volumeMounts=mounts),
                volumes=[{"name": "html", "configMap": {"name": "site"}}]))
    c.settle()
    listing = c.exec("web", ["ls", "-a", "/usr/share/nginx/html"]).stdout.split()
    assert "..data" in listing and "index.html" in listing
    assert "index.html -> ..data/index.html" in c.exec("web", ["ls", "-l", "/usr/share/nginx/html"]).stdout
    denied = c.exec("web", ["sh", "-c", "echo x > /usr/share/nginx/html/index.html"])
    assert denied.exit_code != 0 and "Read-only file system" in denied.stderr
    assert c.exec("web", ["curl", "-s", "localhost"]).stdout == "<h1>v1</h1>\n"


def test_an_updated_config_map_reaches_the_files_at_the_next_periodic_sync_but_not_sub_paths():
    c = make()
    c.apply(config_map("site", **{"index.html": "v1\n"}))
    mounts = [{"name": "html", "mountPath": "/data"},
              {"name": "html", "mountPath": "/pinned.html", "subPath": "index.html"}]
    c.apply(pod("box", container("box", "busybox", "sleep", "3600", volumeMounts=mounts),
                volumes=[{"name": "html", "configMap": {"name": "site"}}]))
    c.settle()
    c.apply(config_map("site", **{"index.html": "v2\n"}))
    assert c.exec("box", ["cat", "/data/index.html"]).stdout == "v1\n"
    c.settle()
    assert c.exec("box", ["cat", "/data/index.html"]).stdout == "v2\n"
    assert c.exec("box", ["cat", "/pinned.html"]).stdout == "v1\n"


def test_secrets_reach_env_and_files_decoded():
    c = make()
    c.apply(secret("db", password="s3cret", user="admin"))
    env = [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
    mounts = [{"name": "creds", "mountPath": "/etc/creds"}]
    c.apply(pod("app", container("app", "busybox", "sleep", "3600", env=env, volumeMounts=mounts),
                volumes=[{"name": "creds", "secret": {"secretName": "db"}}]))
    c.settle()
    out = c.exec("app", ["sh", "-c", "echo $PASSWORD; cat /etc/creds/user"]).stdout
    assert out == "s3cret\nadmin"  # a file holds the value as is


def test_env_from_config_map_with_a_prefix_and_expansion():
    c = make()
    c.apply(config_map("cfg", HOST="db", PORT="5432"))
    spec = container("app", "busybox", "sleep", "3600", envFrom=[{"configMapRef": {"name": "cfg"}, "prefix": "DB_"}],
                     env=[{"name": "URL", "value": "postgres://$(DB_HOST):$(DB_PORT)/app"}])
    c.apply(pod("app", spec))
    c.settle()
    assert c.exec("app", ["sh", "-c", "echo $URL"]).stdout == "postgres://db:5432/app\n"


def test_command_and_args_expand_container_variables():
    c = make()
    c.apply(pod("greet", container("greet", "busybox", "sh", "-c", "echo $(GREETING) $(NAME) '$$(NAME)'",
                                   env=[{"name": "GREETING", "value": "hello"}, {"name": "NAME", "value": "k8s"}]),
                restartPolicy="Never"))
    c.settle()
    assert c.logs("greet") == "hello k8s $(NAME)\n"  # $$ escapes the expansion


def test_an_empty_dir_is_shared_by_the_pods_containers():
    c = make()
    mounts = [{"name": "shared", "mountPath": "/shared"}]
    writer = sh("writer", "busybox", "echo from-writer > /shared/note; sleep 3600", volumeMounts=mounts)
    reader = container("reader", "busybox", "sleep", "3600", volumeMounts=mounts)
    c.apply(pod("pair", writer, reader, volumes=[{"name": "shared", "emptyDir": {}}]))
    c.settle()
    assert c.exec("pair", ["cat", "/shared/note"], container="reader").stdout == "from-writer\n"


def test_the_downward_api_gives_the_pod_its_own_facts():
    c = make()
    env = [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
           {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
           {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}]
    items = [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
    body = pod("info", container("app", "busybox", "sleep", "3600", env=env,
                                 resources={"limits": {"memory": "64Mi"}},
                                 volumeMounts=[{"name": "info", "mountPath": "/etc/podinfo"}]),
               volumes=[{"name": "info", "downwardAPI": {"items": items}}])
    body["metadata"]["labels"] = {"app": "info", "tier": "web"}
    c.apply(body)
    c.settle()
    live = c.get("pods", "info")
    out = c.exec("info", ["sh", "-c", "echo $NODE $IP $MEM; cat /etc/podinfo/labels"]).stdout
    assert out == f"{live['spec']['nodeName']} {live['status']['podIP']} 64\napp=\"info\"\ntier=\"web\""


def test_every_pod_gets_its_service_account_token_ca_and_namespace():
    c = make()
    c.apply(pod("box", container("box", "busybox", "sleep", "3600")))
    c.settle()
    folder = "/var/run/secrets/kubernetes.io/serviceaccount"
    out = c.exec("box", ["sh", "-c", f"ls {folder}; cat {folder}/namespace"]).stdout.split()
    assert out == ["ca.crt", "namespace", "token", "default"]
    token = c.exec("box", ["cat", f"{folder}/token"]).stdout
    assert token.count(".") == 2 and token.startswith("eyJ")


def test_services_of_the_namespace_become_environment_variables():
    c = make()
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "redis-primary"},
             "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "redis"},
                      "ports": [{"port": 6379, "name": "redis"}]}})
    c.apply(pod("box", container("box", "busybox", "sleep", "3600")))
    c.apply(pod("quiet", container("box", "busybox", "sleep", "3600"), enableServiceLinks=False))
    c.settle()
    env = c.exec("box", ["env"]).stdout.splitlines()
    assert {"REDIS_PRIMARY_SERVICE_HOST=10.96.0.20", "REDIS_PRIMARY_SERVICE_PORT=6379",
            "REDIS_PRIMARY_SERVICE_PORT_REDIS=6379", "REDIS_PRIMARY_PORT=tcp://10.96.0.20:6379",
            "REDIS_PRIMARY_PORT_6379_TCP=tcp://10.96.0.20:6379", "REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp",
            "REDIS_PRIMARY_PORT_6379_TCP_PORT=6379", "REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.96.0.20",
            "HOSTNAME=box"} <= set(env)
    assert not [line for line in c.exec("quiet", ["env"]).stdout.splitlines() if line.startswith("REDIS")]


def test_a_changed_service_reaches_the_environment_of_pods_started_after_the_change():
    c = make()
    svc = c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                   "spec": {"clusterIP": "10.96.0.30", "selector": {"app": "db"}, "ports": [{"port": 5432}]}})[0]
    c.apply(pod("before", container("box", "busybox", "sleep", "3600")))
    c.settle()
    svc["spec"]["ports"] = [{"port": 6432}]
    c.update(svc)
    c.apply(pod("after", container("box", "busybox", "sleep", "3600")))
    c.settle()
    before = set(c.exec("before", ["env"]).stdout.splitlines())
    after = set(c.exec("after", ["env"]).stdout.splitlines())
    assert "DB_SERVICE_PORT=5432" in before and "DB_SERVICE_PORT=6432" in after
    assert "DB_PORT=tcp://10.96.0.30:6432" in after and "DB_PORT=tcp://10.96.0.30:5432" not in after


def test_nginx_listens_where_its_own_configuration_says_beside_a_default_nginx():
    c = make()
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf"},
             "data": {"default.conf": "server {\n  listen 8080;\n  root /usr/share/nginx/html;\n}\n"}})
    c.apply(pod("plain", container("web", "nginx:1.25")))
    c.apply(pod("custom", container("web", "nginx:1.25",
                                    volumeMounts=[{"name": "conf", "mountPath": "/etc/nginx/conf.d"}]),
                volumes=[{"name": "conf", "configMap": {"name": "conf"}}]))
    c.settle()
    assert c.exec("plain", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "localhost"]).stdout == "200"
    assert c.exec("custom", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "localhost:8080"]).stdout == "200"
    assert c.exec("custom", ["curl", "-s", "localhost:80"]).exit_code != 0


def test_the_projected_token_carries_the_pods_claims_as_compact_json():
    import json

    c = make()
    c.apply(pod("box", container("box", "busybox", "sleep", "3600")))
    c.settle()
    token = c.exec("box", ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"]).stdout
    payload = token.split(".")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    claims = json.loads(raw)
    live = c.get("pods", "box")
    assert raw == json.dumps(claims, separators=(",", ":"))
    assert claims["kubernetes.io"] == {"namespace": "default", "node": {"name": live["spec"]["nodeName"]},
                                       "pod": {"name": "box", "uid": live["metadata"]["uid"]},
                                       "serviceaccount": {"name": "default"}}
    assert claims["sub"] == "system:serviceaccount:default:default" and claims["exp"] - claims["iat"] == 3607


def test_the_token_read_long_after_the_start_is_the_one_issued_at_the_mount():
    import json
    from datetime import datetime

    c = make()
    c.apply(pod("box", container("box", "busybox", "sleep", "36000")))
    c.settle()
    path = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    listing = c.exec("box", ["ls", "-l", path.replace("token", "..data/")]).stdout  # sizes need the content
    c.advance(1800)
    token = c.exec("box", ["cat", path]).stdout
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    started = c.get("pods", "box")["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    start = int(datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp())
    assert start - 60 < claims["iat"] <= start  # issued when the volume was set up, not when read
    assert f" {len(token)} " in listing and " token\n" in listing
    assert c.exec("box", ["cat", path]).stdout == token


def test_pods_started_together_list_the_same_service_account_files_but_each_holds_its_own_token():
    import json

    c = make(nodes=1)
    for name in ("a", "b"):
        c.apply(pod(name, container("box", "busybox", "sleep", "3600")))
    c.settle()
    where = "/var/run/secrets/kubernetes.io/serviceaccount"
    listings = [c.exec(name, ["ls", "-la", where, f"{where}/..data/"]).stdout for name in ("a", "b")]
    assert listings[0] == listings[1] and " ca.crt -> ..data/ca.crt\n" in listings[0]
    for name in ("a", "b"):
        assert c.exec(name, ["cat", f"{where}/namespace"]).stdout == "default"
        payload = c.exec(name, ["cat", f"{where}/token"]).stdout.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["kubernetes.io"]["pod"]["name"] == name
