"""Base and language images of the catalog: busybox, alpine, ubuntu, debian, python, node,
perl (the Job example's pi), hello-world and the pause image (data, like images_catalog).

Their default commands are shells or REPLs that exit at once without stdin, so a pod made of
one of them alone "Completes" and, under restartPolicy Always, goes into CrashLoopBackOff.

Read by: images (loaded on first lookup). Reads: images_catalog (helpers).
"""

from __future__ import annotations

from typing import Any

from kubelab.cluster.runtime.images_catalog import MiB, alpine_variant, finish, tags

BASES: list[dict[str, Any]] = finish(
    [
        {
            "repository": "busybox",
            "family": "busybox",
            "cmd": ["sh"],
            "size_bytes": 2_155_538,
            "pull_seconds": 0.6,
            "memory_bytes": 300 * 1024,
            "tags": tags(
                {
                    "latest": "1.37.0",
                    "1.37": "1.37.0",
                    "1.37.0": "1.37.0",
                    "1.36": "1.36.1",
                    "1.36.1": "1.36.1",
                    "1.35": "1.35.0",
                    "1.34": "1.34.1",
                    "1.28": "1.28.4",
                    "stable": "1.36.1",
                    "musl": "1.37.0",
                    "glibc": "1.37.0",
                    "uclibc": "1.37.0",
                }
            ),
        },
        {
            "repository": "alpine",
            "family": "alpine",
            "cmd": ["/bin/sh"],
            "size_bytes": 3_623_807,
            "pull_seconds": 0.7,
            "memory_bytes": 400 * 1024,
            "tags": {
                t: {"version": v, "options": {"os_version": v}}
                for t, v in {
                    "latest": "3.21.0",
                    "3": "3.21.0",
                    "3.21": "3.21.0",
                    "3.21.0": "3.21.0",
                    "3.20": "3.20.3",
                    "3.20.3": "3.20.3",
                    "3.19": "3.19.4",
                    "3.18": "3.18.9",
                    "edge": "3.22.0",
                }.items()
            },
        },
        {
            "repository": "ubuntu",
            "family": "ubuntu",
            "cmd": ["/bin/bash"],
            "size_bytes": 29_754_422,
            "pull_seconds": 1.2,
            "memory_bytes": 600 * 1024,
            "tags": tags(
                {
                    "latest": "24.04",
                    "24.04": "24.04",
                    "noble": "24.04",
                    "22.04": "22.04",
                    "jammy": "22.04",
                    "20.04": "20.04",
                    "focal": "20.04",
                    "rolling": "24.10",
                    "24.10": "24.10",
                }
            ),
        },
        {
            "repository": "debian",
            "family": "debian",
            "cmd": ["bash"],
            "size_bytes": 48_494_272,
            "pull_seconds": 1.5,
            "memory_bytes": 600 * 1024,
            "tags": tags(
                {
                    "latest": "12.8",
                    "bookworm": "12.8",
                    "12": "12.8",
                    "bookworm-slim": "12.8",
                    "stable": "12.8",
                    "bullseye": "11.11",
                    "11": "11.11",
                }
            ),
        },
        {
            "repository": "python",
            "family": "debian",
            "program": "python",
            "cmd": ["python3"],
            "env": {
                "PATH": "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG": "C.UTF-8",
                "PYTHON_VERSION": "{version}",
            },
            "executables": {"/usr/local/bin/python3": "program:python", "/usr/local/bin/python": "program:python"},
            "tools_add": ("curl", "wget", "ps"),
            "size_bytes": 372_100_000,
            "pull_seconds": 9.5,
            "memory_bytes": 9 * MiB,
            "tags": {
                **tags(
                    {
                        "latest": "3.13.1",
                        "3": "3.13.1",
                        "3.13": "3.13.1",
                        "3.12": "3.12.8",
                        "3.11": "3.11.11",
                        "3.10": "3.10.16",
                        "3.9": "3.9.21",
                    }
                ),
                **tags(
                    {"slim": "3.13.1", "3.13-slim": "3.13.1", "3.12-slim": "3.12.8", "3.11-slim": "3.11.11"},
                    size_bytes=44_900_000,
                    pull_seconds=1.6,
                    tools_add=(),
                ),
                **tags(
                    {"alpine": "3.13.1", "3.13-alpine": "3.13.1", "3.12-alpine": "3.12.8"}, **alpine_variant(17_600_000)
                ),
            },
        },
        {
            "repository": "node",
            "family": "debian",
            "program": "node",
            "entrypoint": ["docker-entrypoint.sh"],
            "cmd": ["node"],
            "env": {"NODE_VERSION": "{version}", "YARN_VERSION": "1.22.22"},
            "executables": {
                "/usr/local/bin/docker-entrypoint.sh": "program:node-entrypoint",
                "/usr/local/bin/node": "program:node",
            },
            "users": ("node:x:1000:1000::/home/node:/bin/bash",),
            "groups": ("node:x:1000:",),
            "tools_add": ("curl", "wget", "ps"),
            "size_bytes": 391_800_000,
            "pull_seconds": 10.2,
            "memory_bytes": 12 * MiB,
            "tags": {
                **tags(
                    {
                        "latest": "23.4.0",
                        "23": "23.4.0",
                        "lts": "22.12.0",
                        "22": "22.12.0",
                        "20": "20.18.1",
                        "18": "18.20.5",
                    }
                ),
                **tags(
                    {"slim": "23.4.0", "22-slim": "22.12.0", "20-slim": "20.18.1"},
                    size_bytes=75_000_000,
                    pull_seconds=2.3,
                    tools_add=(),
                ),
                **tags(
                    {"alpine": "23.4.0", "22-alpine": "22.12.0", "20-alpine": "20.18.1", "lts-alpine": "22.12.0"},
                    **alpine_variant(55_500_000),
                ),
            },
        },
        {
            "repository": "perl",
            "family": "debian",
            "cmd": ["perl", "-de0"],
            "executables": {"/usr/local/bin/perl": "program:perl"},
            "tools_add": ("curl", "wget", "ps"),
            "size_bytes": 336_200_000,
            "pull_seconds": 8.9,
            "memory_bytes": 3 * MiB,
            "tags": tags(
                {
                    "latest": "5.40.0",
                    "5": "5.40.0",
                    "5.40": "5.40.0",
                    "5.38": "5.38.2",
                    "5.36": "5.36.3",
                    "5.34": "5.34.3",
                    "5.34.0": "5.34.0",
                }
            ),
        },
        {
            "repository": "hello-world",
            "family": "scratch",
            "program": "hello",
            "cmd": ["/hello"],
            "executables": {"/hello": "program:hello"},
            "size_bytes": 9_992,
            "pull_seconds": 0.4,
            "memory_bytes": 100 * 1024,
            "tags": ["latest", "linux"],
        },
        {
            "repository": "registry.k8s.io/pause",
            "family": "scratch",
            "program": "pause",
            "entrypoint": ["/pause"],
            "executables": {"/pause": "program:pause"},
            "size_bytes": 320_368,
            "pull_seconds": 0.3,
            "memory_bytes": 300 * 1024,
            "user": "65535:65535",
            "tags": ["3.10", "3.9", "3.8", "3.7", "3.6"],
        },
    ]
)
