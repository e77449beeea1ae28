"""The images kubelab knows, as data: official images' commands, env, ports, sizes and programs.

Each entry is what `images.register` takes: Image fields plus `tags` mapping each tag to its
overrides (version, family for -alpine variants, size). Sizes are the compressed sizes the
kubelet reports ("Image size: N bytes"); memory is a typical idle working set.

Base OS and language images are in `images_catalog_base`, databases in `images_catalog_db`.

Read by: images (loaded on first lookup), images_catalog_db (helpers). Reads: nothing.
"""

from __future__ import annotations

from typing import Any

NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NGINX_DEFAULT_CONF = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""

MiB = 1024 * 1024


def tags(versions: dict[str, str], **common: Any) -> dict[str, dict[str, Any]]:
    """{tag: version} → {tag: {"version": version, **common}}."""
    return {tag: {"version": v, **common} for tag, v in versions.items()}


def alpine_variant(size: int, os_version: str = "3.20.3", **extra: Any) -> dict[str, Any]:
    return {
        "family": "alpine",
        "size_bytes": size,
        "pull_seconds": round(size / 30e6 + 0.4, 1),
        "options_os": os_version,
        **extra,
    }


NGINX_CONF = """user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    sendfile        on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
"""

NGINX_FILES = {
    "/usr/share/nginx/html/index.html": NGINX_WELCOME,
    "/usr/share/nginx/html/50x.html": "<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n</head>\n<body>\n"
    "<h1>An error occurred.</h1>\n</body>\n</html>\n",
    "/etc/nginx/nginx.conf": NGINX_CONF,
    "/etc/nginx/conf.d/default.conf": NGINX_DEFAULT_CONF,
}

_nginx_modern = {"entrypoint": ["/docker-entrypoint.sh"]}
_nginx_old = {"entrypoint": [], "size_bytes": 44_700_000, "pull_seconds": 1.6}
_nginx_alpine = {**alpine_variant(20_400_000), "options": {"gcc": "13.2.1 20240309 (Alpine 13.2.1_git20240309)"}}

CATALOG: list[dict[str, Any]] = [
    {
        "repository": "nginx",
        "family": "debian",
        "program": "nginx",
        "cmd": ["nginx", "-g", "daemon off;"],
        "ports": [80],
        "stop_signal": 3,
        "env": {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NGINX_VERSION": "{version}",
            "NJS_VERSION": "0.8.7",
            "NJS_RELEASE": "1~bookworm",
            "PKG_RELEASE": "1~bookworm",
        },
        "executables": {"/docker-entrypoint.sh": "program:nginx-entrypoint", "/usr/sbin/nginx": "program:nginx"},
        "files": NGINX_FILES,
        "tools_add": ("curl",),
        "users": ("nginx:x:101:101:nginx user:/nonexistent:/bin/false",),
        "groups": ("nginx:x:101:",),
        "size_bytes": 72_941_245,
        "pull_seconds": 2.1,
        "memory_bytes": 9 * MiB,
        "processes": ["nginx: master process nginx -g daemon off;", "nginx: worker process"],
        "tags": {
            **tags(
                {
                    "latest": "1.27.3",
                    "1.27": "1.27.3",
                    "1.27.3": "1.27.3",
                    "mainline": "1.27.3",
                    "stable": "1.26.2",
                    "1.26": "1.26.2",
                    "1.26.2": "1.26.2",
                    "1.25": "1.25.5",
                    "1.25.5": "1.25.5",
                    "1.24": "1.24.0",
                    "1.23": "1.23.4",
                    "1.21": "1.21.6",
                    "1.20": "1.20.2",
                    "1.19": "1.19.10",
                },
                **_nginx_modern,
            ),
            **tags(
                {
                    "1.16.1": "1.16.1",
                    "1.16": "1.16.1",
                    "1.15": "1.15.12",
                    "1.14.2": "1.14.2",
                    "1.14": "1.14.2",
                    "1.7.9": "1.7.9",
                },
                **_nginx_old,
            ),
            **tags(
                {
                    "alpine": "1.27.3",
                    "1.27-alpine": "1.27.3",
                    "mainline-alpine": "1.27.3",
                    "stable-alpine": "1.26.2",
                    "1.26-alpine": "1.26.2",
                    "1.25-alpine": "1.25.5",
                },
                **_nginx_modern,
                **_nginx_alpine,
            ),
        },
    },
    {
        "repository": "httpd",
        "family": "debian",
        "program": "httpd",
        "cmd": ["httpd-foreground"],
        "ports": [80],
        "stop_signal": 28,
        "workdir": "/usr/local/apache2",
        "env": {
            "PATH": "/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HTTPD_PREFIX": "/usr/local/apache2",
            "HTTPD_VERSION": "{version}",
        },
        "executables": {
            "/usr/local/bin/httpd-foreground": "program:httpd",
            "/usr/local/apache2/bin/httpd": "program:httpd",
        },
        "files": {"/usr/local/apache2/htdocs/index.html": "<html><body><h1>It works!</h1></body></html>\n"},
        "size_bytes": 58_300_000,
        "pull_seconds": 1.9,
        "memory_bytes": 11 * MiB,
        "tags": {
            **tags({"latest": "2.4.62", "2.4": "2.4.62", "2.4.62": "2.4.62", "2": "2.4.62"}),
            **tags({"alpine": "2.4.62", "2.4-alpine": "2.4.62"}, **alpine_variant(21_900_000)),
        },
    },
    {
        "repository": "vfarcic/go-demo-2",
        "family": "alpine",
        "program": "go-demo",
        "cmd": ["go-demo"],
        "env": {"DB": "db"},
        "ports": [8080],
        "executables": {"/usr/local/bin/go-demo": "program:go-demo"},
        "size_bytes": 7_360_512,
        "pull_seconds": 0.9,
        "memory_bytes": 5 * MiB,
        "tags": {"latest": {"version": "2.0", "options": {"os_version": "3.4.6"}}},
    },
    {
        "repository": "karthequian/helloworld",
        "family": "ubuntu",
        "program": "nginx",
        "entrypoint": ["/runner.sh"],
        "cmd": ["nginx"],
        "ports": [80],
        "executables": {"/usr/sbin/nginx": "program:nginx"},
        "files": {
            "/runner.sh": '#!/bin/sh\nexec "$@"\n',
            "/etc/nginx/nginx.conf": "events {}\nhttp {\n  server {\n    listen 80;\n    root /www/data;\n  }\n}\n"
            "daemon off;\n",
            "/www/data/index.html": "<html>\n<head><title>Docker Helloworld</title></head>\n<body>\n"
            "<h1>Hello</h1>\n<p>Is it me you're looking for?</p>\n</body>\n</html>\n",
        },
        "tools_add": ("wget",),
        "users": ("www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin",),
        "options": {"log_to_stdout": False},
        "size_bytes": 69_542_400,
        "pull_seconds": 2.0,
        "memory_bytes": 6 * MiB,
        "tags": {"latest": {"version": "1.26.0"}},
    },
    {
        "repository": "gcr.io/google-samples/hello-app",
        "family": "alpine",
        "program": "hello-app",
        "cmd": ["./hello-app"],
        "workdir": "/",
        "ports": [8080],
        "executables": {"/hello-app": "program:hello-app"},
        "size_bytes": 11_300_000,
        "pull_seconds": 0.9,
        "memory_bytes": 4 * MiB,
        "tags": {"1.0": {"version": "1.0.0"}, "2.0": {"version": "2.0.0"}},
    },
    {
        "repository": "kicbase/echo-server",
        "family": "scratch",
        "program": "echo-server",
        "cmd": ["/echo-server"],
        "ports": [8080],
        "executables": {"/echo-server": "program:echo-server"},
        "size_bytes": 2_180_000,
        "pull_seconds": 0.5,
        "memory_bytes": 3 * MiB,
        "tags": {"1.0": {"version": "1.0"}, "latest": {"version": "1.0"}},
    },
    {
        "repository": "polinux/stress",
        "family": "alpine",
        "program": "stress",
        "cmd": ["stress", "--help"],
        "executables": {"/usr/local/bin/stress": "program:stress"},
        "size_bytes": 4_040_000,
        "pull_seconds": 0.7,
        "memory_bytes": 1 * MiB,
        "tags": {"latest": {"version": "1.0.4"}},
    },
    {
        "repository": "curlimages/curl",
        "family": "alpine",
        "entrypoint": ["/entrypoint.sh"],
        "cmd": ["curl"],
        "user": "curl_user",
        "users": ("curl_user:x:100:101:Linux User,,,:/home/curl_user:/sbin/nologin",),
        "groups": ("curl_group:x:101:",),
        "tools_add": ("curl",),
        "executables": {"/entrypoint.sh": "program:curl-entrypoint"},
        "size_bytes": 10_100_000,
        "pull_seconds": 0.9,
        "memory_bytes": 1 * MiB,
        "tags": {"latest": {"version": "8.11.1"}, "8.11.1": {"version": "8.11.1"}},
    },
]


def finish(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move each alpine variant's OS version into its options (rootfs writes /etc/os-release)."""
    for entry in entries:
        for variant in entry["tags"].values() if isinstance(entry["tags"], dict) else ():
            os_version = variant.pop("options_os", None)
            if os_version:
                variant["options"] = {
                    **entry.get("options", {}),
                    **variant.get("options", {}),
                    "os_version": os_version,
                }
    return entries


finish(CATALOG)

from kubelab.cluster.runtime.images_catalog_addons import ADDON_IMAGES  # noqa: E402 - the add-ons' images join here

CATALOG.extend(finish(ADDON_IMAGES))

from kubelab.cluster.runtime.images_catalog_system import SYSTEM_IMAGES  # noqa: E402 - kube-system's images join here

CATALOG.extend(finish(SYSTEM_IMAGES))
