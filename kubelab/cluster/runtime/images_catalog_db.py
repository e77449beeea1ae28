"""The database images of the catalog: redis, mongo, postgres, mysql (data, like images_catalog).

Their memory figures matter: mysql's ~420 MiB working set is what makes a 256Mi limit end in
OOMKilled, as on a real cluster.

Read by: images (loaded on first lookup). Reads: images_catalog (helpers).
"""

from __future__ import annotations

from typing import Any

from kubelab.cluster.runtime.images_catalog import MiB, alpine_variant, finish, tags

DATABASES: list[dict[str, Any]] = finish(
    [
        {
            "repository": "redis",
            "family": "debian",
            "program": "redis-server",
            "entrypoint": ["docker-entrypoint.sh"],
            "cmd": ["redis-server"],
            "ports": [6379],
            "workdir": "/data",
            "env": {"REDIS_VERSION": "{version}"},
            "users": ("redis:x:999:999::/home/redis:/usr/sbin/nologin",),
            "groups": ("redis:x:999:",),
            "executables": {
                "/usr/local/bin/docker-entrypoint.sh": "program:redis-entrypoint",
                "/usr/local/bin/redis-server": "program:redis-server",
                "/usr/local/bin/redis-cli": "program:redis-cli",
            },
            "size_bytes": 45_100_000,
            "pull_seconds": 1.6,
            "memory_bytes": 4 * MiB,
            "tags": {
                **tags(
                    {
                        "latest": "7.4.1",
                        "7": "7.4.1",
                        "7.4": "7.4.1",
                        "7.4.1": "7.4.1",
                        "7.2": "7.2.6",
                        "7.0": "7.0.15",
                        "6": "6.2.16",
                        "6.2": "6.2.16",
                    }
                ),
                **tags(
                    {"alpine": "7.4.1", "7-alpine": "7.4.1", "7.4-alpine": "7.4.1", "7.2-alpine": "7.2.6"},
                    **alpine_variant(17_200_000),
                ),
            },
        },
        {
            "repository": "mongo",
            "family": "ubuntu",
            "program": "mongod",
            "entrypoint": ["docker-entrypoint.sh"],
            "cmd": ["mongod"],
            "ports": [27017],
            "env": {"MONGO_VERSION": "{version}", "MONGO_PACKAGE": "mongodb-org"},
            "tools_add": ("ps",),
            "users": ("mongodb:x:999:999::/data/db:/bin/sh",),
            "groups": ("mongodb:x:999:",),
            "executables": {
                "/usr/local/bin/docker-entrypoint.sh": "program:mongo-entrypoint",
                "/usr/bin/mongod": "program:mongod",
                "/usr/bin/mongosh": "program:mongosh",
            },
            "size_bytes": 290_400_000,
            "pull_seconds": 7.8,
            "memory_bytes": 160 * MiB,
            "tags": {
                **tags(
                    {
                        "latest": "8.0.3",
                        "8": "8.0.3",
                        "8.0": "8.0.3",
                        "7": "7.0.15",
                        "7.0": "7.0.15",
                        "6": "6.0.19",
                        "6.0": "6.0.19",
                        "5": "5.0.29",
                        "5.0": "5.0.29",
                        "4.4": "4.4.29",
                    }
                ),
                **tags(
                    {
                        "4.2": "4.2.24",
                        "4.0": "4.0.28",
                        "3.6": "3.6.23",
                        "3.4": "3.4.24",
                        "3.3": "3.3.15",
                        "3.2": "3.2.22",
                    },
                    family="debian",
                    size_bytes=131_800_000,
                    pull_seconds=4.1,
                    memory_bytes=60 * MiB,
                    executables={
                        "/usr/local/bin/docker-entrypoint.sh": "program:mongo-entrypoint",
                        "/usr/bin/mongod": "program:mongod",
                        "/usr/bin/mongo": "program:mongosh",
                    },
                ),
            },
        },
        {
            "repository": "postgres",
            "family": "debian",
            "program": "postgres",
            "entrypoint": ["docker-entrypoint.sh"],
            "cmd": ["postgres"],
            "ports": [5432],
            "stop_signal": 2,
            "env": {
                "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/17/bin",
                "PG_MAJOR": "17",
                "PG_VERSION": "{version}",
                "PGDATA": "/var/lib/postgresql/data",
                "LANG": "en_US.utf8",
            },
            "users": ("postgres:x:999:999::/var/lib/postgresql:/bin/bash",),
            "groups": ("postgres:x:999:",),
            "executables": {
                "/usr/local/bin/docker-entrypoint.sh": "program:postgres-entrypoint",
                "/usr/lib/postgresql/17/bin/postgres": "program:postgres",
                "/usr/bin/psql": "program:psql",
                "/usr/bin/pg_isready": "program:pg_isready",
            },
            "options": {
                "build": "(Debian 17.2-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) "
                "12.2.0, 64-bit"
            },
            "size_bytes": 154_700_000,
            "pull_seconds": 4.5,
            "memory_bytes": 38 * MiB,
            "tags": {
                **tags(
                    {
                        "latest": "17.2",
                        "17": "17.2",
                        "17.2": "17.2",
                        "16": "16.6",
                        "16.6": "16.6",
                        "15": "15.10",
                        "14": "14.15",
                        "13": "13.18",
                        "12": "12.22",
                    }
                ),
                **tags(
                    {"alpine": "17.2", "17-alpine": "17.2", "16-alpine": "16.6", "15-alpine": "15.10"},
                    **alpine_variant(105_600_000),
                ),
            },
        },
        {
            "repository": "mysql",
            "family": "oraclelinux",
            "program": "mysqld",
            "entrypoint": ["docker-entrypoint.sh"],
            "cmd": ["mysqld"],
            "ports": [3306, 33060],
            "env": {"MYSQL_MAJOR": "8.4", "MYSQL_VERSION": "{version}-1.el9", "MYSQL_SHELL_VERSION": "8.4.3-1.el9"},
            "users": ("mysql:x:999:999::/var/lib/mysql:/bin/bash",),
            "groups": ("mysql:x:999:",),
            "executables": {
                "/usr/local/bin/docker-entrypoint.sh": "program:mysql-entrypoint",
                "/usr/sbin/mysqld": "program:mysqld",
                "/usr/bin/mysqladmin": "program:mysqladmin",
            },
            "size_bytes": 170_700_000,
            "pull_seconds": 5.0,
            "memory_bytes": 420 * MiB,
            "tags": {
                **tags(
                    {
                        "latest": "9.1.0",
                        "9": "9.1.0",
                        "9.1": "9.1.0",
                        "lts": "8.4.3",
                        "8": "8.4.3",
                        "8.4": "8.4.3",
                        "8.4.3": "8.4.3",
                        "8.0": "8.0.40",
                        "8.0.40": "8.0.40",
                    }
                ),
                "5.7": {"version": "5.7.44", "memory_bytes": 200 * MiB, "options": {"build": "5.7.44-1.el7"}},
            },
        },
    ]
)
