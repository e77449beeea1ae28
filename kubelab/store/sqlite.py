"""The persistent store: a MemoryStore whose writes go through to one SQLite table, as kine does.

The in-memory maps stay the read path (gets, lists and watches behave exactly like MemoryStore);
every write event also becomes a row of the `kine` table (id = revision, deletes as tombstones),
so `Cluster(state="lab.db")` survives a kernel restart. On open, the latest row per key rebuilds
the maps, the revision carries on upward, and older history counts as compacted (watch → 410).
Durability: rows are committed in batches — once `commit_every` writes wait, `commit_delay`
seconds after the first unsaved write, and on flush(), close() and interpreter exit. A killed
process (SIGKILL, crash) loses at most those last unsaved writes; WAL with synchronous=NORMAL
may also lose the last commits on an OS crash or power cut, but never corrupts the file.
One writer per file: the first store to open it holds SQLite's write lock until close(); later
ones (this process or another) see the last commit and are read-only.

Read by: cluster.core (`Cluster(state=...)`). Reads: store.memory, api.errors.
"""

from __future__ import annotations

import atexit
import json
import os
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from kubelab.api import errors
from kubelab.store.memory import MemoryStore, Obj, Resource, freeze
from kubelab.store.watch import Event

SCHEMA_VERSION = 1
APPLICATION_ID = 0x6B75626C  # "kubl" in PRAGMA application_id: marks a kubelab state file
GARBAGE_ROWS = 10_000  # superseded rows kept before the table compacts itself (kine compacts periodically)
_RESERVED_META = frozenset({"schema", "revision"})

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS kine (
        id INTEGER PRIMARY KEY,  -- the revision of this write
        resource TEXT NOT NULL,  -- "pods", "deployments.apps"
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        value TEXT NOT NULL,  -- the object as compact JSON (its last state for a tombstone)
        prev_revision INTEGER NOT NULL  -- the row this one supersedes, 0 for a create
    )""",
    "CREATE INDEX IF NOT EXISTS kine_key ON kine (resource, namespace, name, id)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_INSERT = "INSERT INTO kine (id, resource, namespace, name, deleted, value, prev_revision) VALUES (?, ?, ?, ?, ?, ?, ?)"
_LATEST = (
    "SELECT resource, namespace, name, value FROM kine"
    " WHERE id IN (SELECT MAX(id) FROM kine GROUP BY resource, namespace, name) AND deleted = 0"
)
# Like kine's compaction: rows superseded by a later row at or before the target, and tombstones.
_COMPACT = (
    "DELETE FROM kine WHERE id <= :rev"
    " AND (deleted = 1 OR id IN (SELECT prev_revision FROM kine WHERE id <= :rev AND prev_revision > 0))"
)

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


class StateFileError(OSError):
    """A state file that cannot be used: missing directory, not a kubelab database, failed save."""


class SqliteStore(MemoryStore):
    """A MemoryStore persisted to `path` (created if missing)."""

    def __init__(
        self,
        path: Path,
        *,
        history: int = 100_000,
        commit_every: int = 1000,
        commit_delay: float = 0.2,
    ) -> None:
        super().__init__(history=history)
        self.path = Path(path).expanduser()
        self.commit_every = commit_every
        self.commit_delay = commit_delay
        self._pending: list[tuple[int, str, str, str, int, str, int]] = []
        self._meta: dict[str, Any] = {}
        self._meta_dirty: set[str] = set()
        self._garbage = 0  # rows superseded since the table was last compacted
        self._readonly: str | None = None  # why writes are refused; None while this store is the writer
        self._closed = False
        self._pid = os.getpid()
        self._dirty = threading.Event()  # set while writes wait for a commit
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None
        conn = _connect(self.path)
        try:
            self._open(conn)
        except BaseException:
            conn.close()
            raise
        if self._readonly is None:
            self._conn: sqlite3.Connection | None = conn
            self._flusher = threading.Thread(target=self._flush_when_idle, name="kubelab-sqlite", daemon=True)
            self._flusher.start()
            atexit.register(self._flush_at_exit)
        else:
            conn.close()  # a reader has loaded everything it will ever see
            self._conn = None

    # ------------------------------------------------------------ opening
    def _open(self, conn: sqlite3.Connection) -> None:
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        except sqlite3.DatabaseError as err:
            raise StateFileError(
                f"{self.path} is not a kubelab state file (SQLite: {err}); "
                "give Cluster(state=...) a new file name, or delete this file if it is yours to lose"
            ) from err
        if app_id != APPLICATION_ID:
            if tables or app_id:
                listed = ", ".join(tables) or "none"
                raise StateFileError(
                    f"{self.path} is an SQLite database of another application (tables: {listed}), "
                    "not a kubelab state file; give Cluster(state=...) a new file name"
                )
            self._create_schema(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        if not _try_begin(conn, "IMMEDIATE"):
            self._readonly = (
                f"cannot write to {self.path}: another kubelab cluster (in this process or another) has it "
                "open for writing, so this one is read-only; close the other one (cluster.close()) and open "
                "the file again"
            )
            conn.execute("BEGIN")  # one consistent snapshot of the last commit for the load below
        self._load(conn)
        if self._readonly is None:
            self._compact_rows(conn, self._revision)  # history before this open is gone: keep live rows only
            self._commit(conn)
        else:
            conn.execute("COMMIT")

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            conn.execute("COMMIT")
        except sqlite3.OperationalError as err:  # e.g. another process is creating the same file right now
            raise StateFileError(f"cannot create the kubelab state file {self.path}: {err}") from err

    def _load(self, conn: sqlite3.Connection) -> None:
        self._meta = {key: json.loads(value) for key, value in conn.execute("SELECT key, value FROM meta")}
        schema = self._meta.get("schema", 0)
        if schema > SCHEMA_VERSION:
            raise StateFileError(
                f"{self.path} was written by a newer kubelab (state schema {schema}; this one reads "
                f"{SCHEMA_VERSION}); upgrade kubelab or use another file"
            )
        top = conn.execute("SELECT MAX(id) FROM kine").fetchone()[0] or 0
        # The revision never goes back, even when compaction removed the newest rows (tombstones).
        self._revision = max(top, int(self._meta.get("revision", 1)), 1)
        self._compacted = self._revision  # watches from older revisions get 410 Expired
        resources: dict[str, Resource] = {}
        for text, namespace, name, value in conn.execute(_LATEST):
            resource = resources.get(text)
            if resource is None:
                plural, _, group = text.partition(".")  # plurals have no dots; groups may
                resource = resources[text] = (sys.intern(group), sys.intern(plural))
            obj = freeze(json.loads(value))
            self._objects.setdefault(resource, {}).setdefault(namespace, {})[name] = obj
            self._index(resource, None, obj)

    # ------------------------------------------------------------- writes
    @property
    def writable(self) -> bool:
        """False when another store holds the file, after close(), or after a failed save."""
        return self._readonly is None

    def _check_writable(self) -> None:
        if self._readonly is not None:
            raise errors.ApiError("ServiceUnavailable", self._readonly, code=503)

    # The write methods only add the writer check and pass everything else on unchanged.
    def create(self, resource: Resource, obj: Obj, **options: Any) -> Obj:
        self._check_writable()
        return super().create(resource, obj, **options)

    def update(self, resource: Resource, obj: Obj, **options: Any) -> Obj:
        self._check_writable()
        return super().update(resource, obj, **options)

    def delete(self, resource: Resource, namespace: str, name: str, **options: Any) -> Obj:
        self._check_writable()
        return super().delete(resource, namespace, name, **options)

    def restore(self, snapshot: dict[Resource, dict[str, dict[str, Obj]]]) -> None:
        self._check_writable()
        super().restore(snapshot)  # its deletes and re-adds are ordinary events, saved by _emit

    def _emit(self, event: Event) -> None:
        # Every write of MemoryStore (create, update, delete, restore) passes here under self.lock.
        meta = event.object["metadata"]
        prev = 0
        if event.old is not None:
            prev = int(event.old["metadata"]["resourceVersion"])
            self._garbage += 1
        deleted = event.type == "DELETED"
        self._garbage += deleted
        if not self._pending:
            self._dirty.set()  # wakes the idle flusher
        self._pending.append((
            event.revision, errors.resource_id(*event.resource), meta.get("namespace", ""), meta["name"],
            int(deleted), _encode(event.object), prev,
        ))
        super()._emit(event)
        if len(self._pending) >= self.commit_every:
            self._commit(self._conn)

    def compact(self, revision: int) -> None:
        """Forget history up to `revision`, in memory (watch → 410) and in the table (superseded rows)."""
        with self.lock:
            super().compact(revision)
            if self._readonly is None:
                self._compact_rows(self._conn, min(revision, self._revision))
                self._commit(self._conn)

    # --------------------------------------------------------------- meta
    def meta_get(self, key: str, default: Any = None) -> Any:
        """A cluster-level value saved with meta_set (as JSON gives it back: tuples become lists)."""
        with self.lock:
            return self._meta.get(key, default)

    def meta_set(self, key: str, value: Any) -> None:
        """Save a JSON-serialisable cluster-level value; it is committed with the next batch of writes."""
        if key in _RESERVED_META:
            raise ValueError(f"meta key {key!r} is reserved by the store")
        text = json.dumps(value)  # fail here, not in a later background commit
        with self.lock:
            self._check_writable()
            self._meta[key] = json.loads(text)
            self._meta_dirty.add(key)
            self._dirty.set()

    # ------------------------------------------------------------ commits
    def flush(self) -> None:
        """Commit every waiting write now (a no-op for a read-only store)."""
        with self.lock:
            if self._readonly is None and self._dirty.is_set():
                self._commit(self._conn)

    def _compact_rows(self, conn: Any, revision: int) -> None:
        self._flush_rows(conn)
        conn.execute(_COMPACT, {"rev": revision})
        self._garbage = 0

    def _flush_rows(self, conn: Any) -> None:
        if self._pending:
            conn.executemany(_INSERT, self._pending)
            self._pending.clear()

    def _commit(self, conn: Any, *, final: bool = False) -> None:
        """Write waiting rows and meta values in the open write transaction, commit, and (unless
        `final`) begin the next one at once so no other connection can become the writer."""
        try:
            self._flush_rows(conn)
            if self._garbage >= GARBAGE_ROWS:
                self._compact_rows(conn, self._revision)
            values = [(k, _encode(self._meta[k])) for k in self._meta_dirty]
            values.append(("revision", str(self._revision)))
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values)
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._readonly = (
                f"saving to {self.path} failed ({err}); changes since the last save exist in memory only"
            )
            raise StateFileError(self._readonly) from err
        self._meta_dirty.clear()
        self._dirty.clear()
        if not final and not _try_begin(conn, "IMMEDIATE"):
            # Another connection took the write lock in the instant between COMMIT and BEGIN.
            self._readonly = f"cannot write to {self.path}: another kubelab cluster took it over for writing"

    def _flush_when_idle(self) -> None:
        while True:
            self._dirty.wait()
            if self._stopping.wait(self.commit_delay):
                return
            with self.lock:
                if self._readonly is None and self._dirty.is_set():
                    try:
                        self._commit(self._conn)
                    except StateFileError:
                        pass  # recorded in self._readonly: the next write reports it

    def _flush_at_exit(self) -> None:
        if os.getpid() == self._pid:  # never from a forked child sharing the connection
            self.close()

    def close(self) -> None:
        """Commit what is waiting, release the file and stop watches. Later writes are refused."""
        super().close()
        if self._closed:
            return
        self._closed = True
        if self._flusher is not None:
            self._stopping.set()
            self._dirty.set()
            self._flusher.join(timeout=2)  # a flusher still waiting for self.lock finds the store closed
            atexit.unregister(self._flush_at_exit)
        with self.lock:
            conn, self._conn = self._conn, None
            try:
                if conn is not None and self._readonly is None:
                    self._commit(conn, final=True)
            finally:
                self._readonly = f"the kubelab state file {self.path} is closed"
                if conn is not None:
                    conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    if path.is_dir():
        raise StateFileError(f"{path} is a directory; the cluster state needs a file path such as {path / 'lab.db'}")
    if not path.parent.is_dir():
        raise StateFileError(
            f"cannot create the kubelab state file {path}: directory {path.parent} does not exist; create it first"
        )
    try:
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE holds the write lock between commits).
        return sqlite3.connect(path, timeout=2.0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as err:
        raise StateFileError(f"cannot open the kubelab state file {path}: {err}") from err


def _try_begin(conn: sqlite3.Connection, mode: str) -> bool:
    """Begin a transaction without waiting for a lock another connection holds."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute(f"BEGIN {mode}")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.execute("PRAGMA busy_timeout = 2000")
