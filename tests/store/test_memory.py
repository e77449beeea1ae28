"""The revisioned store behaves like etcd behind kube-apiserver."""

import pytest

from kubelab.api.errors import ApiError
from kubelab.store.memory import MemoryStore

PODS = ("", "pods")


def pod(name, ns="default", **labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels}}


def test_every_write_gets_the_next_global_revision_as_resource_version():
    s = MemoryStore()
    a = s.create(PODS, pod("a"))
    b = s.create(("", "configmaps"), {"metadata": {"name": "c", "namespace": "default"}})
    assert int(b["metadata"]["resourceVersion"]) == int(a["metadata"]["resourceVersion"]) + 1
    assert s.revision == int(b["metadata"]["resourceVersion"])


def test_creating_an_existing_object_is_already_exists():
    s = MemoryStore()
    s.create(PODS, pod("a"))
    with pytest.raises(ApiError) as e:
        s.create(PODS, pod("a"))
    assert e.value.code == 409 and e.value.reason == "AlreadyExists"
    assert str(e.value) == 'pods "a" already exists'


def test_update_with_stale_resource_version_is_conflict_and_changes_nothing():
    s = MemoryStore()
    first = s.create(PODS, pod("a"))
    s.update(PODS, {**pod("a", x="1"), "metadata": {**pod("a", x="1")["metadata"],
                                                     "resourceVersion": first["metadata"]["resourceVersion"]}})
    before = s.revision
    stale = pod("a", x="2")
    stale["metadata"]["resourceVersion"] = first["metadata"]["resourceVersion"]
    with pytest.raises(ApiError) as e:
        s.update(PODS, stale)
    assert e.value.code == 409
    assert "the object has been modified; please apply your changes to the latest version and try again" in str(e.value)
    assert str(e.value).startswith('Operation cannot be fulfilled on pods "a"')
    assert s.revision == before
    assert s.get(PODS, "default", "a")["metadata"]["labels"] == {"x": "1"}


def test_stored_objects_are_copies_the_caller_cannot_change():
    s = MemoryStore()
    mine = pod("a", app="web")
    s.create(PODS, mine)
    mine["metadata"]["labels"]["app"] = "changed"
    assert s.get(PODS, "default", "a")["metadata"]["labels"]["app"] == "web"


def test_create_stamps_the_stores_copy_and_leaves_the_callers_metadata_alone():
    s = MemoryStore()
    mine = pod("a")
    stored = s.create(PODS, mine)
    assert "resourceVersion" not in mine["metadata"]
    assert list(stored["metadata"]) == ["name", "namespace", "labels", "resourceVersion"]


def test_an_update_sharing_metadata_with_the_stored_version_leaves_that_version_alone():
    s = MemoryStore()
    first = s.create(PODS, pod("a"), copy=False)
    rv = first["metadata"]["resourceVersion"]
    # Metadata shared with the stored version, as the trusted status writes do.
    second = s.update(PODS, {**first, "status": {"phase": "Running"}}, copy=False)
    assert first["metadata"]["resourceVersion"] == rv
    assert int(second["metadata"]["resourceVersion"]) == int(rv) + 1


def test_list_is_sorted_by_namespace_and_name_and_carries_the_revision():
    s = MemoryStore()
    for ns, name in [("b", "z"), ("a", "y"), ("b", "a")]:
        s.create(PODS, pod(name, ns))
    items, rev = s.list(PODS)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in items] == [("a", "y"), ("b", "a"), ("b", "z")]
    assert rev == s.revision
    assert [o["metadata"]["name"] for o in s.list(PODS, "b")[0]] == ["a", "z"]


def test_watch_replays_from_a_revision_and_streams_later_changes():
    s = MemoryStore()
    s.create(PODS, pod("a"))
    rev = s.revision
    s.create(PODS, pod("b"))
    w = s.watch(PODS, since=rev)
    s.delete(PODS, "default", "a")
    events = [(e.type, e.object["metadata"]["name"]) for e in w.drain()]
    assert events == [("ADDED", "b"), ("DELETED", "a")]


def test_watch_without_revision_starts_with_current_objects_as_added():
    s = MemoryStore()
    s.create(PODS, pod("a"))
    w = s.watch(PODS, initial=True)
    assert [(e.type, e.object["metadata"]["name"]) for e in w.drain()] == [("ADDED", "a")]


def test_watch_with_a_selector_turns_label_changes_into_added_and_deleted():
    s = MemoryStore()
    s.create(PODS, pod("a", app="web"))
    w = s.watch(PODS, since=s.revision, predicate=lambda o: o["metadata"]["labels"].get("app") == "web")
    s.update(PODS, pod("a", app="db"))
    s.update(PODS, pod("a", app="web"))
    assert [e.type for e in w.drain()] == ["DELETED", "ADDED"]


def test_watch_from_a_compacted_revision_is_410_gone():
    s = MemoryStore()
    for i in range(5):
        s.create(PODS, pod(f"p{i}"))
    s.compact(4)
    with pytest.raises(ApiError) as e:
        s.watch(PODS, since=2)
    assert e.value.code == 410
    assert str(e.value).startswith("too old resource version: 2")


def test_watch_history_is_bounded_and_older_revisions_expire():
    s = MemoryStore(history=10)
    for i in range(30):
        s.create(PODS, pod(f"p{i}"))
    with pytest.raises(ApiError):
        s.watch(PODS, since=3)
    assert len(s.watch(PODS, since=s.revision - 5).drain()) == 5


def test_restore_brings_objects_back_and_watchers_see_the_difference():
    s = MemoryStore()
    s.create(PODS, pod("keep"))
    snap = s.snapshot()
    s.create(PODS, pod("extra"))
    s.delete(PODS, "default", "keep")
    w = s.watch(PODS, since=s.revision)
    rev_before = s.revision
    s.restore(snap)
    assert [o["metadata"]["name"] for o in s.list(PODS)[0]] == ["keep"]
    assert s.revision > rev_before
    seen = sorted((e.type, e.object["metadata"]["name"]) for e in w.drain())
    assert seen == [("ADDED", "keep"), ("DELETED", "extra")]


def test_listeners_hear_every_write_in_order():
    s = MemoryStore()
    heard = []
    s.subscribe(PODS, lambda e: heard.append((e.type, e.object["metadata"]["name"])))
    s.create(PODS, pod("a"))
    s.update(PODS, pod("a", x="1"))
    s.delete(PODS, "default", "a")
    assert heard == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


def test_a_listener_subscribed_after_writes_hears_the_next_ones_after_the_earlier_listeners():
    s = MemoryStore()
    heard = []
    s.subscribe(PODS, lambda e: heard.append(("pods", e.type)))
    s.subscribe(None, lambda e: heard.append(("any", e.type)))
    s.create(PODS, pod("a"))  # the store now knows who hears a pod write
    s.subscribe(PODS, lambda e: heard.append(("late pods", e.type)))
    s.subscribe(None, lambda e: heard.append(("late any", e.type)))
    heard.clear()
    s.update(PODS, pod("a", x="1"))
    assert heard == [("pods", "MODIFIED"), ("late pods", "MODIFIED"), ("any", "MODIFIED"), ("late any", "MODIFIED")]


def test_objects_can_be_found_by_owner_uid_as_they_change():
    s = MemoryStore()
    owned = pod("a")
    owned["metadata"]["ownerReferences"] = [{"uid": "u1", "name": "rs", "kind": "ReplicaSet", "controller": True}]
    s.create(PODS, owned)
    s.create(PODS, pod("b"))
    assert [o["metadata"]["name"] for o in s.owned_by(PODS, "u1")] == ["a"]
    released = pod("a")
    s.update(PODS, released)
    assert s.owned_by(PODS, "u1") == []
    s.update(PODS, owned)
    s.delete(PODS, "default", "a")
    assert s.owned_by(PODS, "u1") == []


def _owned(name, uid, ns="default", controller=True):
    obj = pod(name, ns)
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": uid,
                                           "controller": controller}]
    return obj


def _names(objs):
    return sorted(p["metadata"]["name"] for p in objs)


def test_claimable_gives_the_owners_pods_and_the_orphans_of_its_namespace():
    s = MemoryStore()
    for obj in (_owned("c", "u1"), pod("b"), _owned("a", "u2"), _owned("d", "u1", controller=False),
                _owned("e", "u1", ns="other"), pod("f", ns="other")):
        s.create(PODS, obj)
    controlled, orphans = s.claimable(PODS, "default", "u1")
    assert (_names(controlled), _names(orphans)) == (["c"], ["b", "d"])  # d's reference is not a controller's
    controlled, orphans = s.claimable(PODS, "default", "u2")
    assert (_names(controlled), _names(orphans)) == (["a"], ["b", "d"])


def test_claimable_follows_adoption_release_and_deletion():
    s = MemoryStore()

    def claimable():
        controlled, orphans = s.claimable(PODS, "default", "u1")
        return _names(controlled), _names(orphans)

    s.create(PODS, pod("a"))
    assert claimable() == ([], ["a"])
    s.update(PODS, _owned("a", "u2"))  # adopted by another owner
    assert claimable() == ([], [])
    s.update(PODS, pod("a"))  # released
    s.create(PODS, _owned("b", "u1"))
    assert claimable() == (["b"], ["a"])
    s.delete(PODS, "default", "a")
    assert claimable() == (["b"], [])
