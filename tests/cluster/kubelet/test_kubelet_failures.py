"""Pods that cannot run show what Kubernetes shows: ImagePullBackOff, CrashLoopBackOff, config and mount errors."""

from __future__ import annotations

from kubelet_helpers import conditions, container, event_counts, events, make, phase, pod, sh, state, status, waiting

NGNIX = ('rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/ngnix:latest": '
         'failed to resolve reference "docker.io/library/ngnix:latest": pull access denied, repository does not '
         "exist or may require authorization: server message: insufficient_scope: authorization failed")


def test_a_typo_in_the_image_is_err_image_pull_then_image_pull_back_off():
    c = make()
    watch = c.watch("pods", "default")
    c.apply(pod("web", container("nginx", "ngnix")))
    c.settle()
    seen = [((e["object"]["status"].get("containerStatuses") or [{}])[0].get("state", {}).get("waiting") or {})
            .get("reason") for e in watch.drain()]
    assert [r for i, r in enumerate(seen) if r and r != seen[i - 1]] == ["ContainerCreating", "ErrImagePull",
                                                                       "ImagePullBackOff"]
    assert waiting(c, "web") == ("ImagePullBackOff", f'Back-off pulling image "ngnix": ErrImagePull: {NGNIX}')
    assert phase(c, "web") == "Pending"
    assert events(c, "web") == [
        ("Normal", "Pulling", 'Pulling image "ngnix"'),
        ("Warning", "Failed", f'Failed to pull image "ngnix": {NGNIX}'),
        ("Warning", "Failed", "Error: ErrImagePull"),
        ("Normal", "BackOff", 'Back-off pulling image "ngnix"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]


def test_failed_pulls_are_retried_after_10_then_20_then_40_seconds():
    c = make()
    c.apply(pod("web", container("nginx", "ngnix")))
    c.settle()
    start = c.now  # 1 s after the first failure

    def pulls() -> int:
        return event_counts(c, "web")[("Pulling", 'Pulling image "ngnix"')]

    timeline = []
    for _ in range(80):
        timeline.append(pulls())
        c.advance(1)
    changes = [i for i in range(1, len(timeline)) if timeline[i] != timeline[i - 1]]
    first_failure = start - 1
    # Each retry comes its back-off after the failure before it (a failing pull takes 1.2 s), seen by
    # polling every second.
    expected = [10, 10 + 1.2 + 20, 10 + 1.2 + 20 + 1.2 + 40]
    assert len(changes) == 3
    assert all(abs((start + i - first_failure) - e) <= 1 for i, e in zip(changes, expected, strict=True))
    assert pulls() == 4 and waiting(c, "web")[0] == "ImagePullBackOff"


def test_an_unknown_tag_of_a_known_image_is_not_found():
    c = make()
    c.apply(pod("web", container("nginx", "nginx:does-not-exist")))
    c.settle()
    assert waiting(c, "web")[1].endswith('ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack '
                                         'image "docker.io/library/nginx:does-not-exist": failed to resolve '
                                         'reference "docker.io/library/nginx:does-not-exist": '
                                         "docker.io/library/nginx:does-not-exist: not found")


def test_postgres_without_password_reaches_crash_loop_back_off_with_kubernetes_delays():
    c = make()
    c.apply(pod("db", container("postgres", "postgres")))
    c.settle()
    assert phase(c, "db") == "Running"
    db = state(c, "db")
    assert db["restartCount"] == 1 and db["lastState"]["terminated"]["exitCode"] == 1
    assert db["lastState"]["terminated"]["reason"] == "Error"
    uid = c.get("pods", "db")["metadata"]["uid"]
    messages: list[tuple[int, str]] = []
    restarts_at: list[float] = []
    previous = 1
    for _ in range(1000):
        c.advance(1)
        entry = state(c, "db")
        reason, message = waiting(c, "db")
        if reason == "CrashLoopBackOff" and (not messages or messages[-1][0] != entry["restartCount"]):
            messages.append((entry["restartCount"], message.split(" restarting")[0]))
        if entry["restartCount"] != previous:
            previous = entry["restartCount"]
            restarts_at.append(c.now)
    assert messages[:7] == [(1, "back-off 10s"), (2, "back-off 20s"), (3, "back-off 40s"), (4, "back-off 1m20s"),
                            (5, "back-off 2m40s"), (6, "back-off 5m0s"), (7, "back-off 5m0s")]
    gaps = [b - a for a, b in zip(restarts_at, restarts_at[1:], strict=False)]
    # Each gap is the back-off plus the second or so a restart takes (re-pull, create, start), seen by
    # polling every second.
    assert len(gaps) >= 5
    assert all(abs(gap - want) <= 1.01 for gap, want in zip(gaps[:5], [20.8, 40.8, 80.8, 160.8, 300.8], strict=True))
    assert waiting(c, "db")[1].endswith(f"restarting failed container=postgres pod=db_default({uid})")
    backoffs = event_counts(c, "db")[("BackOff", f"Back-off restarting failed container postgres in pod "
                                                 f"db_default({uid})")]
    assert backoffs == state(c, "db")["restartCount"]
    assert "superuser password is not specified" in c.logs("db", previous=True)


def test_crash_back_off_starts_over_after_ten_minutes_of_running():
    c = make()
    c.apply(pod("quick", sh("app", "busybox:1.36", "sleep 5; exit 1")))
    c.apply(pod("slow", sh("app", "busybox:1.36", "sleep 660; exit 1")))
    c.advance(1400)
    assert any(reason == "BackOff" for _, reason, _ in events(c, "quick"))
    slow = state(c, "slow")
    assert slow["restartCount"] == 2 and "running" in slow["state"]  # restarted at once, twice
    assert not any(reason == "BackOff" for _, reason, _ in events(c, "slow"))


def test_a_missing_config_map_key_is_create_container_config_error_until_it_appears():
    c = make()
    env = [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}]
    c.apply(pod("app", container("app", "busybox", "sleep", "3600", env=env)))
    c.settle()
    assert waiting(c, "app") == ("CreateContainerConfigError", 'configmap "settings" not found')
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"other": "x"}})
    c.settle()
    assert waiting(c, "app") == ("CreateContainerConfigError", "couldn't find key mode in ConfigMap default/settings")
    assert ("Warning", "Failed", "Error: couldn't find key mode in ConfigMap default/settings") in events(c, "app")
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}})
    c.settle()
    assert phase(c, "app") == "Running"
    assert c.exec("app", ["sh", "-c", "echo $MODE"]).stdout == "fast\n"


def test_a_missing_config_map_volume_keeps_the_pod_container_creating_with_failed_mount():
    c = make()
    volumes = [{"name": "html", "configMap": {"name": "site"}}]
    mounts = [{"name": "html", "mountPath": "/usr/share/nginx/html"}]
    c.apply(pod("web", container("nginx", "nginx:1.25", volumeMounts=mounts), volumes=volumes))
    c.advance(30)
    assert waiting(c, "web") == ("ContainerCreating", "")
    assert "podIP" not in status(c, "web") and conditions(c, "web")["PodReadyToStartContainers"][0] == "False"
    failed = event_counts(c, "web")[("FailedMount", 'MountVolume.SetUp failed for volume "html" : configmap "site" '
                                                    "not found")]
    assert failed > 3  # retried with the volume manager's back-off
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "site"},
             "data": {"index.html": "<h1>kubelab</h1>\n"}})
    c.settle()
    assert phase(c, "web") == "Running"
    assert c.exec("web", ["curl", "-s", "localhost"]).stdout == "<h1>kubelab</h1>\n"


def test_a_container_over_its_memory_limit_is_oom_killed():
    c = make()
    c.apply(pod("db", container("mongo", "mongo", resources={"limits": {"memory": "100Mi"}})))
    c.settle()
    last = state(c, "db")["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137)
    assert status(c, "db")["qosClass"] == "Burstable"


def test_a_command_that_does_not_exist_is_a_start_error():
    c = make()
    c.apply(pod("app", container("app", "busybox", "no-such-tool")))
    c.settle()
    last = state(c, "app")["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"], last["startedAt"]) == ("StartError", 128, "1970-01-01T00:00:00Z")
    assert last["message"].endswith('exec: "no-such-tool": executable file not found in $PATH')
    assert ("Warning", "Failed", f"Error: {last['message']}") in events(c, "app")


def test_an_invalid_image_name_is_reported_as_such():
    c = make()
    c.apply(pod("app", container("app", "Nginx")))
    c.settle()
    assert waiting(c, "app")[0] == "InvalidImageName"
    assert events(c, "app")[-1] == ("Warning", "Failed", "Error: InvalidImageName")


def test_run_as_non_root_with_a_root_image_is_a_config_error():
    c = make()
    c.apply(pod("app", container("app", "busybox", "sleep", "3600", securityContext={"runAsNonRoot": True})))
    c.settle()
    uid = c.get("pods", "app")["metadata"]["uid"]
    assert waiting(c, "app") == ("CreateContainerConfigError", "container has runAsNonRoot and image will run as "
                                                               f'root (pod: "app_default({uid})", container: app)')
