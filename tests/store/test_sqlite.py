"""The SQLite store keeps a cluster's objects across processes, like kine behind kube-apiserver."""

import json
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from kubelab.api.errors import ApiError
from kubelab.store.sqlite import SqliteStore, StateFileError

PODS = ("", "pods")
DEPLOYMENTS = ("apps", "deployments")


def pod(name, ns="default", **labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels}}


def names(store, resource=PODS):
    return [o["metadata"]["name"] for o in store.list(resource)[0]]


def rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, name, deleted FROM kine ORDER BY id").fetchall()


def run_python(code, *args):
    """Run `code` in a fresh interpreter (another process, as after a kernel restart)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_reopened_store_has_the_same_objects_and_resource_versions_and_the_revision_continues(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path)
    s.create(PODS, pod("a", app="web"))
    s.create(DEPLOYMENTS, {"metadata": {"name": "web", "namespace": "dev"}, "spec": {"replicas": 3}})
    s.update(PODS, pod("a", app="db"))
    s.create(("", "namespaces"), {"metadata": {"name": "dev"}})
    before = {r: s.list(r)[0] for r in (PODS, DEPLOYMENTS, ("", "namespaces"))}
    revision = s.revision
    s.close()

    s = SqliteStore(path)
    assert {r: s.list(r)[0] for r in before} == before
    assert s.get(PODS, "default", "a")["metadata"]["labels"] == {"app": "db"}
    assert s.revision == revision
    created = s.create(PODS, pod("b"))
    assert created["metadata"]["resourceVersion"] == str(revision + 1)
    s.close()


def test_deleted_objects_stay_deleted_after_reopening(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path)
    for name in ("a", "b", "c"):
        s.create(PODS, pod(name))
    s.delete(PODS, "default", "a")
    s.delete(PODS, "default", "c")
    s.create(PODS, pod("c", again="yes"))
    s.close()

    s = SqliteStore(path)
    assert names(s) == ["b", "c"]
    assert s.get(PODS, "default", "c")["metadata"]["labels"] == {"again": "yes"}
    with pytest.raises(ApiError) as e:
        s.delete(PODS, "default", "a")
    assert str(e.value) == 'pods "a" not found'
    s.close()


def test_watch_from_a_revision_before_reopening_is_410_expired(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path)
    s.create(PODS, pod("a"))
    old = s.revision
    s.create(PODS, pod("b"))
    s.close()

    s = SqliteStore(path)
    with pytest.raises(ApiError) as e:
        s.watch(PODS, since=old)
    assert (e.value.reason, e.value.code) == ("Expired", 410)
    assert str(e.value).startswith(f"too old resource version: {old}")
    # Watching from the revision the reopened store lists at still works, like list-then-watch.
    w = s.watch(PODS, since=s.list(PODS)[1])
    s.delete(PODS, "default", "a")
    assert [(ev.type, ev.object["metadata"]["name"]) for ev in w.drain()] == [("DELETED", "a")]
    s.close()


def test_compaction_removes_superseded_rows_and_tombstones_but_never_the_revision(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path, commit_delay=60)
    s.create(PODS, pod("a"))
    for i in range(3):
        s.update(PODS, pod("a", step=str(i)))
    s.create(PODS, pod("gone"))
    s.delete(PODS, "default", "gone")
    s.flush()
    assert len(rows(path)) == 6
    s.compact(s.revision)
    assert rows(path) == [(5, "a", 0)]
    s.close()

    s = SqliteStore(path)
    assert s.revision == 7  # the tombstone at 7 is gone from the table, the revision is not
    assert s.get(PODS, "default", "a")["metadata"]["labels"] == {"step": "2"}
    assert s.create(PODS, pod("gone"))["metadata"]["resourceVersion"] == "8"
    s.close()


def test_compaction_keeps_rows_newer_than_its_revision(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path)
    s.create(PODS, pod("a"))  # 2
    s.update(PODS, pod("a", v="1"))  # 3
    s.update(PODS, pod("a", v="2"))  # 4
    s.compact(3)
    assert rows(path) == [(3, "a", 0), (4, "a", 0)]
    s.close()


def test_a_restored_snapshot_is_saved(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path)
    s.create(PODS, pod("keep", v="1"))
    snap = s.snapshot()
    s.update(PODS, pod("keep", v="2"))
    s.create(PODS, pod("extra"))
    s.restore(snap)
    revision = s.revision
    s.close()

    s = SqliteStore(path)
    assert names(s) == ["keep"]
    assert s.get(PODS, "default", "keep")["metadata"]["labels"] == {"v": "1"}
    assert s.revision == revision
    s.close()


def test_meta_values_survive_reopening_as_json_gives_them_back(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path)
    s.meta_set("clock", 1234.5)
    s.meta_set("rng", (3, (1, 2), None))
    assert s.meta_get("rng") == [3, [1, 2], None]
    with pytest.raises(ValueError, match="reserved"):
        s.meta_set("revision", 1)
    s.close()

    s = SqliteStore(path)
    assert s.meta_get("clock") == 1234.5
    assert s.meta_get("rng") == [3, [1, 2], None]
    assert s.meta_get("missing", "default") == "default"
    s.close()


READER = """
    import json, sys
    from pathlib import Path
    from kubelab.store.sqlite import SqliteStore
    from kubelab.api.errors import ApiError
    s = SqliteStore(Path(sys.argv[1]))
    try:
        s.create(("", "pods"), {"metadata": {"name": "intruder", "namespace": "default"}})
        refused = None
    except ApiError as err:
        refused = [err.code, str(err)]
    print(json.dumps({"names": [o["metadata"]["name"] for o in s.list(("", "pods"))[0]],
                      "revision": s.revision, "writable": s.writable, "refused": refused}))
    s.close()
"""


def test_another_process_sees_the_last_commit_and_cannot_write(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path, commit_delay=60)
    s.create(PODS, pod("committed"))
    s.flush()
    s.create(PODS, pod("not-yet-committed"))

    seen = json.loads(run_python(READER, path))
    assert seen["names"] == ["committed"]
    assert seen["revision"] == 2
    assert seen["writable"] is False
    assert seen["refused"][0] == 503
    assert "another kubelab cluster" in seen["refused"][1] and "read-only" in seen["refused"][1]

    s.close()
    assert json.loads(run_python(READER, path))["names"] == ["committed", "intruder", "not-yet-committed"]


def test_a_second_store_in_the_same_process_is_read_only_until_the_first_closes(tmp_path):
    path = tmp_path / "lab.db"
    first = SqliteStore(path)
    first.create(PODS, pod("a"))
    first.flush()
    second = SqliteStore(path)
    assert names(second) == ["a"] and not second.writable
    with pytest.raises(ApiError, match="close the other one"):
        second.delete(PODS, "default", "a")
    second.close()
    first.close()
    third = SqliteStore(path)
    assert third.writable
    third.delete(PODS, "default", "a")
    third.close()


def test_writes_are_committed_when_the_store_goes_idle(tmp_path):
    path = tmp_path / "lab.db"
    s = SqliteStore(path, commit_delay=0.05)
    s.create(PODS, pod("a"))
    deadline = time.monotonic() + 3
    while not rows(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows(path) == [(2, "a", 0)]
    s.close()


def test_exit_without_close_saves_everything_and_a_killed_process_loses_only_unsaved_writes(tmp_path):
    writer = """
        import os, sys
        from pathlib import Path
        from kubelab.store.sqlite import SqliteStore
        s = SqliteStore(Path(sys.argv[1]), commit_delay=60)
        s.create(("", "pods"), {"metadata": {"name": "saved", "namespace": "default"}})
        s.flush()
        s.create(("", "pods"), {"metadata": {"name": "pending", "namespace": "default"}})
        if sys.argv[2] == "kill":
            os._exit(0)  # like SIGKILL: no atexit, no close
    """
    run_python(writer, tmp_path / "exit.db", "exit")
    run_python(writer, tmp_path / "kill.db", "kill")
    for name, expected in [("exit.db", ["pending", "saved"]), ("kill.db", ["saved"])]:
        s = SqliteStore(tmp_path / name)
        assert names(s) == expected
        s.close()


def test_writes_after_close_are_refused(tmp_path):
    s = SqliteStore(tmp_path / "lab.db")
    s.close()
    with pytest.raises(ApiError, match="is closed"):
        s.create(PODS, pod("a"))


def test_a_file_that_is_not_a_database_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("apiVersion: v1\nkind: Pod\n" * 100)
    with pytest.raises(StateFileError) as e:
        SqliteStore(path)
    assert str(e.value).startswith(f"{path} is not a kubelab state file")
    assert path.read_text().startswith("apiVersion: v1")  # untouched


def test_a_database_of_another_application_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(StateFileError) as e:
        SqliteStore(path)
    assert str(e.value) == (
        f"{path} is an SQLite database of another application (tables: users), not a kubelab state file; "
        "give Cluster(state=...) a new file name"
    )


def test_a_path_in_a_missing_directory_is_refused(tmp_path):
    path = tmp_path / "no-such-dir" / "lab.db"
    with pytest.raises(StateFileError) as e:
        SqliteStore(path)
    assert str(e.value) == (
        f"cannot create the kubelab state file {path}: directory {path.parent} does not exist; create it first"
    )


def test_creating_ten_thousand_small_objects_stays_above_5000_per_second(tmp_path):
    s = SqliteStore(tmp_path / "lab.db")
    objs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "default"},
             "data": {"key": "value"}} for i in range(10_000)]
    start = time.perf_counter()
    for obj in objs:
        s.create(("", "configmaps"), obj)
    s.flush()
    rate = len(objs) / (time.perf_counter() - start)
    s.close()
    assert rate > 5000, f"{rate:.0f} objects/s"
    assert len(rows(tmp_path / "lab.db")) == 10_000


def test_the_table_compacts_itself_when_superseded_rows_pile_up(tmp_path, monkeypatch):
    monkeypatch.setattr("kubelab.store.sqlite.GARBAGE_ROWS", 10)
    path = tmp_path / "lab.db"
    s = SqliteStore(path)
    s.create(PODS, pod("a"))
    for i in range(12):
        s.update(PODS, pod("a", step=str(i)))
    s.flush()
    assert len(rows(path)) < 5
    s.close()
    s = SqliteStore(path)
    assert s.get(PODS, "default", "a")["metadata"]["labels"] == {"step": "11"}
    s.close()
