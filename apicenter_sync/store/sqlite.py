"""Embedded SQLite state store for running flows without Odoo.

Concurrency and crash safety:
- WAL journal: readers never block the writer and a killed process leaves the database at its last commit.
- ``synchronous=FULL``: a committed intent (``mark_pending``) survives power loss, not only a process crash.
- Every write transaction starts with ``BEGIN IMMEDIATE`` so it takes the write lock up front and waits up to
  ``busy_timeout`` for it. A deferred transaction that reads then writes can fail at once with "database is
  locked" when another process committed in between; busy_timeout cannot help it.
- Methods called outside :meth:`SqliteStore.transaction` commit on their own (short transactions).
- ``secure_delete``: purged payloads are overwritten on disk, not left in free pages (GDPR).
- :meth:`SqliteStore.flow_lock`: a lease row per flow (owner host:pid:token, expiry), taken with ``BEGIN
  IMMEDIATE`` so two processes cannot both take it, renewed by every commit of its holder, released at the end
  of the run. A SIGKILLed holder does not block: its lease is free as soon as its process is gone (same host) or
  its expiry has passed (``lock_ttl_seconds``, any host). While the lock is held a heartbeat thread renews the
  lease every ``lock_ttl_seconds / 3`` as well, so a single API call that outlasts the lease (a slow server, up to
  the call deadline and its retries) never lets another runner take the flow over.
- The file holds OAuth tokens: it is created owner-only (0600), and its ``-wal``/``-shm`` files are kept so too.
- At open, ``PRAGMA quick_check``: a damaged file, a file that is no SQLite database, or one written by a newer
  version (schema) is refused with :class:`StoreError` (the command line exits with status 2), never used.

Threads: one connection per store, guarded by an RLock that a transaction holds until it ends, so threads may
share a store (their calls are serialised). For parallel work use one store per process (or per thread) on the
same file. A store opened before ``fork()`` reconnects in the child (file databases only).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import settings as registry
from ..errors import SyncError
from ..i18n import msg
from ..redact import redact_text
from .interfaces import Binding, BindingConflict, BindingState, Watermark
from .sqlite_log import SqliteActivityLog
from .sqlite_schema import LATEST_VERSION, MIGRATIONS
from .timefmt import from_ts, ts


class StoreError(SyncError):
    """The state store cannot be used: damaged, not a SQLite database, or of a newer schema."""


class SchemaError(StoreError):
    """The file was written by a newer version of the engine (its schema version is higher than ours)."""


OWNER_ONLY = 0o600


def _owner_only(path: str) -> None:
    """Create ``path`` owner-only if it does not exist; take group and other permissions off an existing one."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY)
    except FileExistsError:
        _tighten(path)
    else:
        os.close(fd)


def _tighten(path: str) -> None:
    try:
        mode = os.stat(path).st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except OSError:
        pass  # gone meanwhile, or not ours: SQLite reports what matters


class SqliteStore:
    """:class:`~apicenter_sync.store.interfaces.Store` on one SQLite file (or ``":memory:"`` for tests)."""

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        backend: str = "default",
        *,
        busy_timeout_ms: int = 30_000,
        clock: Callable[[], datetime] | None = None,
        lock_ttl_seconds: float = 900.0,
    ) -> None:
        if not backend:
            raise ValueError(msg("store.no_backend"))
        self.path = os.fspath(path)
        self.backend = backend
        self.busy_timeout_ms = busy_timeout_ms
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._memory = self.path == ":memory:" or self.path.startswith("file::memory:")
        self._lock = threading.RLock()
        self._depth = 0
        self._pid = os.getpid()
        self.lock_ttl_seconds = lock_ttl_seconds
        self._host = socket.gethostname()
        self._owner = self._new_owner()
        self._held: dict[str, int] = {}  # flows whose lock this store holds -> nesting depth
        self._renewed = 0.0  # monotonic time of the last lease renewal
        self._heartbeats: dict[str, threading.Event] = {}  # held flows -> stop signal of their lease heartbeat
        self._conn: sqlite3.Connection | None = None
        if not self._memory:
            _owner_only(self.path)
        try:
            self._conn = self._connect()
            self._check_integrity()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(msg("store.unusable", path=self.path, detail=str(exc))) from None
        except StoreError:
            self.close()
            raise
        if not self._memory:
            for suffix in ("-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    _tighten(self.path + suffix)
        self.bindings = SqliteBindingStore(self)
        self.watermarks = SqliteWatermarkStore(self)
        self.mappings = SqliteMappingStore(self)
        self.settings = SqliteSettingsStore(self)
        self.log = SqliteActivityLog(self)

    # --- connection -------------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: the sqlite3 module must not open transactions behind our back.
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        if not self._memory:
            self._retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _retry_locked(self, fn: Callable[[], Any]) -> Any:
        # Switching to WAL needs a moment of exclusive access that busy_timeout does not always wait for when
        # two processes open a fresh file together.
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(msg("store.closed"))
        if os.getpid() != self._pid:
            if self._memory:
                raise RuntimeError(msg("store.memory_after_fork"))
            # The parent's connection must not be used (nor closed) in the child: open our own.
            self._pid = os.getpid()
            self._lock = threading.RLock()
            self._depth = 0
            self._owner = self._new_owner()  # the parent's leases are the parent's
            self._held = {}
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_integrity(self) -> None:
        """``PRAGMA quick_check`` of a file store: a damaged file is refused before anything reads or writes it."""
        if self._memory:
            return
        rows = self._conn.execute("PRAGMA quick_check(5)").fetchall()
        problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
        if problems:
            raise StoreError(msg("store.damaged", path=self.path, detail="; ".join(problems)[:300]))

    def _migrate(self) -> None:
        with self.transaction():
            conn = self.connection()
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            current = row[0] if row else 0
            if current > LATEST_VERSION:
                raise SchemaError(msg("store.newer_schema", path=self.path, version=current, supported=LATEST_VERSION))
            for version, statements in MIGRATIONS:
                if version > current:
                    for stmt in statements:
                        conn.execute(stmt)
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (LATEST_VERSION,))
            elif current != LATEST_VERSION:
                conn.execute("UPDATE schema_version SET version = ?", (LATEST_VERSION,))

    def schema_version(self) -> int:
        return self.query("SELECT version FROM schema_version")[0][0]

    # --- transactions -----------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Unit of work; nested calls become savepoints (an inner failure rolls back only the inner part)."""
        with self._lock:
            conn = self.connection()
            if self._depth == 0:
                self._retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
                self._depth = 1
                try:
                    yield
                except BaseException:
                    # SQLite may already have rolled back (disk full, interrupt); keep the original error.
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                else:
                    try:
                        self._renew_leases(conn)
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                finally:
                    self._depth = 0
            else:
                name = f"sp{self._depth}"
                conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    if conn.in_transaction:
                        conn.execute(f"ROLLBACK TO {name}")
                        conn.execute(f"RELEASE {name}")
                    raise
                else:
                    conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
        with self._lock:
            return self.connection().execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        """One write statement in its own transaction, or in the caller's."""
        with self.transaction():
            return self.connection().execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        with self.transaction():
            return self.connection().executemany(sql, rows).rowcount

    def now(self) -> str:
        return ts(self.clock())

    # --- flow locks -------------------------------------------------------------------------------------------

    def _new_owner(self) -> str:
        return f"{self._host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"

    @contextmanager
    def flow_lock(self, flow: str) -> Iterator[bool]:
        """Exclusive right to run ``flow`` (see :meth:`Store.flow_lock`); yields False when another runner has it."""
        if flow in self._held:  # re-entrant for the holder
            self._held[flow] += 1
            try:
                yield True
            finally:
                self._held[flow] -= 1
            return
        if not self._acquire(flow):
            yield False
            return
        self._held[flow] = 1
        stop = self._heartbeats[flow] = threading.Event()
        threading.Thread(target=self._heartbeat, args=(flow, stop), name=f"lease-{flow}", daemon=True).start()
        try:
            yield True
        finally:
            stop.set()
            self._heartbeats.pop(flow, None)
            del self._held[flow]
            self._release(flow)

    def _heartbeat(self, flow: str, stop: threading.Event) -> None:
        """Renew the lease of ``flow`` every ttl/3 while it is held, also while the holder waits on an API call."""
        owner, pid = self._owner, os.getpid()
        while not stop.wait(self.lock_ttl_seconds / 3):
            if os.getpid() != pid:
                return  # a forked child: the lease is the parent's
            try:
                self.execute("UPDATE flow_lock SET expires_at = ? WHERE backend = ? AND flow = ? AND owner = ?",
                             (self._expiry(), self.backend, flow, owner))  # fmt: skip
            except (sqlite3.Error, RuntimeError):
                return  # the store is closing; the lease ends with the run or expires by itself

    def pair_served_elsewhere(self, pair: str) -> list[str]:
        """Record that this backend serves ``pair`` (:func:`apicenter_sync.doctor.pair.pair_key`) and return the
        other backends of this file that serve it too."""
        with self.transaction():
            self.execute("INSERT OR REPLACE INTO backend_pair (backend, pair, seen_at) VALUES (?, ?, ?)",
                         (self.backend, pair, self.now()))  # fmt: skip
        rows = self.query("SELECT backend FROM backend_pair WHERE pair = ? AND backend != ? ORDER BY backend",
                          (pair, self.backend))  # fmt: skip
        return [row[0] for row in rows]

    def flow_lock_held_elsewhere(self, flow: str) -> bool:
        """Whether another runner (another process, or another store on this file) holds a live lease of ``flow``."""
        holder = self.lock_holder(flow)
        return holder is not None and holder["owner"] != self._owner and not self._stale(holder)

    def lock_holder(self, flow: str) -> dict[str, Any] | None:
        """Who holds the lease of ``flow`` (owner, host, pid, acquired_at, expires_at), or None."""
        rows = self.query(
            "SELECT owner, host, pid, acquired_at, expires_at FROM flow_lock WHERE backend = ? AND flow = ?",
            (self.backend, flow),
        )
        if not rows:
            return None
        owner, host, pid, acquired, expires = rows[0]
        return {"owner": owner, "host": host, "pid": pid, "acquired_at": acquired, "expires_at": expires}

    def _expiry(self) -> str:
        return ts(self.clock() + timedelta(seconds=self.lock_ttl_seconds))

    def _acquire(self, flow: str) -> bool:
        with self.transaction():  # BEGIN IMMEDIATE: read and take the lease under the write lock
            holder = self.lock_holder(flow)
            if holder is not None and holder["owner"] != self._owner and not self._stale(holder):
                return False
            self.connection().execute(
                "INSERT OR REPLACE INTO flow_lock (backend, flow, owner, host, pid, acquired_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.backend, flow, self._owner, self._host, os.getpid(), self.now(), self._expiry()),
            )
            self._renewed = time.monotonic()
        return True

    def _stale(self, holder: dict[str, Any]) -> bool:
        if holder["expires_at"] <= self.now():
            return True
        if holder["host"] == self._host and holder["pid"] != os.getpid():
            try:
                os.kill(int(holder["pid"]), 0)
            except ProcessLookupError:
                return True  # the holder died (SIGKILL, crash) without releasing it
            except (PermissionError, OSError):
                return False
        return False

    def _release(self, flow: str) -> None:
        try:
            self.execute(
                "DELETE FROM flow_lock WHERE backend = ? AND flow = ? AND owner = ?", (self.backend, flow, self._owner)
            )
        except sqlite3.Error:
            pass  # the store is going away; the lease expires by itself

    def _renew_leases(self, conn: sqlite3.Connection) -> None:
        """Inside the committing transaction: push the expiry of held leases on (at most every ttl/10 seconds)."""
        if not self._held or time.monotonic() - self._renewed < self.lock_ttl_seconds / 10:
            return
        conn.execute(
            "UPDATE flow_lock SET expires_at = ? WHERE backend = ? AND owner = ?",
            (self._expiry(), self.backend, self._owner),
        )
        self._renewed = time.monotonic()

    def checkpoint(self) -> None:
        """Fold the WAL into the main file and truncate it (after a purge, so old page images disappear too)."""
        if not self._memory and not self.in_transaction:
            with self._lock:
                self.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- bindings -------------------------------------------------------------------------------------------------

_BINDING_COLS = (
    "entity, source_id, target_id, payload_hash, pending_hash, state, idempotency_key, synced_at, pending_since, "
    "last_error, updated_at"
)

_UPSERT_SQL = """
INSERT INTO binding (backend, entity, source_id, target_id, payload_hash, state, synced_at, last_error, updated_at)
VALUES (?, ?, ?, ?, ?, ?, CASE WHEN ? = 'synced' THEN ? END, ?, ?)
ON CONFLICT (backend, entity, source_id) DO UPDATE SET
    -- never forget a known target id: losing it is how duplicates get created
    target_id = COALESCE(excluded.target_id, binding.target_id),
    payload_hash = excluded.payload_hash,
    state = excluded.state,
    synced_at = COALESCE(excluded.synced_at, binding.synced_at),
    last_error = excluded.last_error,
    -- only a write whose outcome is still unknown keeps its intent
    idempotency_key = CASE WHEN excluded.state = 'pending' AND binding.state = 'pending'
                           THEN binding.idempotency_key END,
    pending_hash = CASE WHEN excluded.state = 'pending' AND binding.state = 'pending' THEN binding.pending_hash END,
    pending_since = CASE WHEN excluded.state = 'pending'
                         THEN COALESCE(CASE WHEN binding.state = 'pending' THEN binding.pending_since END,
                                       excluded.updated_at) END,
    updated_at = excluded.updated_at
"""

_PENDING_SQL = """
INSERT INTO binding (backend, entity, source_id, pending_hash, state, idempotency_key, pending_since, updated_at)
VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)
ON CONFLICT (backend, entity, source_id) DO UPDATE SET
    state = 'pending',
    pending_hash = excluded.pending_hash,
    -- a retry after a lost reply must resend the same key, or the target may apply the write twice
    idempotency_key = CASE WHEN binding.state = 'pending' AND binding.idempotency_key IS NOT NULL
                           THEN binding.idempotency_key ELSE excluded.idempotency_key END,
    pending_since = CASE WHEN binding.state = 'pending' THEN binding.pending_since ELSE excluded.pending_since END,
    updated_at = excluded.updated_at
"""

_FAILED_SQL = """
INSERT INTO binding (backend, entity, source_id, state, last_error, updated_at) VALUES (?, ?, ?, 'failed', ?, ?)
ON CONFLICT (backend, entity, source_id) DO UPDATE SET
    state = 'failed', last_error = excluded.last_error, idempotency_key = NULL, pending_hash = NULL,
    pending_since = NULL, updated_at = excluded.updated_at
"""


def _binding(row: tuple) -> Binding:
    entity, source_id, target_id, payload_hash, pending_hash, state, key, synced, pending, error, updated = row
    return Binding(
        entity=entity,
        source_id=source_id,
        target_id=target_id,
        payload_hash=payload_hash,
        pending_hash=pending_hash,
        state=state,
        idempotency_key=key,
        synced_at=from_ts(synced),
        pending_since=from_ts(pending),
        last_error=error,
        updated_at=from_ts(updated),
    )


_BINDING_STATES = ("synced", "pending", "failed")


def _check_state(state: str) -> None:
    if state not in _BINDING_STATES:
        raise ValueError(msg("store.unknown_binding_state", state=repr(state), states=list(_BINDING_STATES)))


class SqliteBindingStore:
    def __init__(self, db: SqliteStore) -> None:
        self._db = db

    def _select(self, where: str, params: Sequence[Any]) -> list[Binding]:
        rows = self._db.query(f"SELECT {_BINDING_COLS} FROM binding WHERE backend = ? AND {where}", params)
        return [_binding(r) for r in rows]

    def get(self, entity: str, source_id: str) -> Binding | None:
        found = self._select("entity = ? AND source_id = ?", (self._db.backend, entity, str(source_id)))
        return found[0] if found else None

    def get_by_target(self, entity: str, target_id: str) -> Binding | None:
        found = self._select("entity = ? AND target_id = ?", (self._db.backend, entity, str(target_id)))
        return found[0] if found else None

    def get_many(self, entity: str, source_ids: Iterable[str]) -> dict[str, Binding]:
        ids = json.dumps([str(i) for i in source_ids])
        found = self._select(
            "entity = ? AND source_id IN (SELECT value FROM json_each(?))", (self._db.backend, entity, ids)
        )
        return {b.source_id: b for b in found}

    def _upsert_rows(self, rows: list[tuple]) -> None:
        try:
            self._db.executemany(_UPSERT_SQL, rows)
        except sqlite3.IntegrityError as exc:
            if "target_id" not in str(exc):
                raise
            raise self._conflict(rows) from exc

    def _conflict(self, rows: list[tuple]) -> BindingConflict:
        for row in rows:
            entity, source_id, target_id = row[1], row[2], row[3]
            other = self.get_by_target(entity, target_id) if target_id is not None else None
            if other is not None and other.source_id != source_id:
                return BindingConflict(msg("store.target_bound", entity=entity, target=repr(target_id),
                                           other=repr(other.source_id), source=repr(source_id)))  # fmt: skip
        return BindingConflict(msg("store.batch_target_twice"))

    def _row(
        self,
        entity: str,
        source_id: str,
        target_id: str | None,
        payload_hash: str | None,
        state: str,
        error: str | None,
    ) -> tuple:
        _check_state(state)
        now = self._db.now()
        target = None if target_id is None else str(target_id)
        err = None if error is None else redact_text(error)
        return (self._db.backend, entity, str(source_id), target, payload_hash, state, state, now, err, now)

    def upsert(
        self,
        entity: str,
        source_id: str,
        *,
        target_id: str | None,
        payload_hash: str | None,
        state: BindingState = "synced",
        error: str | None = None,
    ) -> Binding:
        with self._db.transaction():
            self._upsert_rows([self._row(entity, source_id, target_id, payload_hash, state, error)])
            found = self.get(entity, source_id)
        assert found is not None
        return found

    def upsert_many(self, bindings: Iterable[Binding]) -> int:
        rows = [self._row(b.entity, b.source_id, b.target_id, b.payload_hash, b.state, b.last_error) for b in bindings]
        if rows:
            self._upsert_rows(rows)
        return len(rows)

    def mark_pending(
        self, entity: str, source_id: str, *, payload_hash: str | None, idempotency_key: str | None = None
    ) -> Binding:
        now = self._db.now()
        with self._db.transaction():
            self._db.execute(
                _PENDING_SQL, (self._db.backend, entity, str(source_id), payload_hash, idempotency_key, now, now)
            )
            found = self.get(entity, source_id)
        assert found is not None
        return found

    def mark_failed(self, entity: str, source_id: str, error: str) -> Binding:
        with self._db.transaction():
            self._db.execute(
                _FAILED_SQL, (self._db.backend, entity, str(source_id), redact_text(error), self._db.now())
            )
            found = self.get(entity, source_id)
        assert found is not None
        return found

    def delete(self, entity: str, source_id: str) -> bool:
        cur = self._db.execute(
            "DELETE FROM binding WHERE backend = ? AND entity = ? AND source_id = ?",
            (self._db.backend, entity, str(source_id)),
        )
        return cur.rowcount > 0

    def iter(self, entity: str, state: BindingState | None = None, *, page_size: int = 1000) -> Iterator[Binding]:
        # Keyset pagination: no read transaction stays open while the caller works on each page.
        after = ""
        while True:
            where = "entity = ? AND source_id > ?" + (" AND state = ?" if state else "")
            params: list[Any] = [self._db.backend, entity, after] + ([state] if state else [])
            page = self._select(f"{where} ORDER BY source_id LIMIT {int(page_size)}", params)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].source_id

    def count(self, entity: str, state: BindingState | None = None) -> int:
        where = " AND state = ?" if state else ""
        params = [self._db.backend, entity] + ([state] if state else [])
        return self._db.query(f"SELECT COUNT(*) FROM binding WHERE backend = ? AND entity = ?{where}", params)[0][0]


# --- watermarks -----------------------------------------------------------------------------------------------


class SqliteWatermarkStore:
    def __init__(self, db: SqliteStore) -> None:
        self._db = db

    @staticmethod
    def _wm(row: tuple) -> Watermark:
        value, ids, updated = row
        return Watermark(value=value, processed_ids=frozenset(json.loads(ids)), updated_at=from_ts(updated))

    def get(self, flow: str, stream: str = "default") -> Watermark:
        rows = self._db.query(
            "SELECT value, processed_ids, updated_at FROM watermark WHERE backend = ? AND flow = ? AND stream = ?",
            (self._db.backend, flow, stream),
        )
        return self._wm(rows[0]) if rows else Watermark()

    def set(self, flow: str, stream: str, value: str | None, processed_ids: Iterable[str] = ()) -> Watermark:
        ids = json.dumps(sorted({str(i) for i in processed_ids}))
        now = self._db.now()
        self._db.execute(
            """INSERT INTO watermark (backend, flow, stream, value, processed_ids, updated_at) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (backend, flow, stream) DO UPDATE SET
                   value = excluded.value, processed_ids = excluded.processed_ids, updated_at = excluded.updated_at""",
            (self._db.backend, flow, stream, value, ids, now),
        )
        return Watermark(value=value, processed_ids=frozenset(json.loads(ids)), updated_at=from_ts(now))

    def advance(self, flow: str, stream: str, value: str, processed_ids: Iterable[str] = ()) -> Watermark:
        with self._db.transaction():  # read-modify-write under the write lock
            current = self.get(flow, stream)
            ids = {str(i) for i in processed_ids}
            if current.value == value:
                ids |= current.processed_ids
            return self.set(flow, stream, value, ids)

    def reset(self, flow: str, stream: str | None = None) -> int:
        if stream is None:
            cur = self._db.execute("DELETE FROM watermark WHERE backend = ? AND flow = ?", (self._db.backend, flow))
        else:
            cur = self._db.execute(
                "DELETE FROM watermark WHERE backend = ? AND flow = ? AND stream = ?", (self._db.backend, flow, stream)
            )
        return cur.rowcount

    def list(self, flow: str) -> dict[str, Watermark]:
        rows = self._db.query(
            "SELECT stream, value, processed_ids, updated_at FROM watermark WHERE backend = ? AND flow = ? "
            "ORDER BY stream",
            (self._db.backend, flow),
        )
        return {r[0]: self._wm(r[1:]) for r in rows}


# --- mapping tables and datamapper ----------------------------------------------------------------------------


def _check_text(table: str, key: Any, value: Any) -> None:
    if not isinstance(key, str) or not isinstance(value, str):
        raise TypeError(f"mapping table {table!r}: keys and values must be text, got {key!r} -> {value!r}")


class SqliteMappingStore:
    def __init__(self, db: SqliteStore) -> None:
        self._db = db

    def get_table(self, name: str) -> dict[str, str]:
        rows = self._db.query(
            "SELECT key, value FROM mapping_row WHERE backend = ? AND table_name = ? ORDER BY key",
            (self._db.backend, name),
        )
        return dict(rows)

    def set_table(self, name: str, rows: Mapping[str, str]) -> None:
        for key, value in rows.items():
            _check_text(name, key, value)
        with self._db.transaction():
            self._db.execute("DELETE FROM mapping_row WHERE backend = ? AND table_name = ?", (self._db.backend, name))
            self._db.executemany(
                "INSERT INTO mapping_row (backend, table_name, key, value) VALUES (?, ?, ?, ?)",
                [(self._db.backend, name, k, v) for k, v in rows.items()],
            )

    def lookup(self, name: str, key: str, default: str | None = None) -> str | None:
        rows = self._db.query(
            "SELECT value FROM mapping_row WHERE backend = ? AND table_name = ? AND key = ?",
            (self._db.backend, name, key),
        )
        return rows[0][0] if rows else default

    def set_value(self, name: str, key: str, value: str) -> None:
        _check_text(name, key, value)
        self._db.execute(
            """INSERT INTO mapping_row (backend, table_name, key, value) VALUES (?, ?, ?, ?)
               ON CONFLICT (backend, table_name, key) DO UPDATE SET value = excluded.value""",
            (self._db.backend, name, key, value),
        )

    def delete_value(self, name: str, key: str) -> bool:
        cur = self._db.execute(
            "DELETE FROM mapping_row WHERE backend = ? AND table_name = ? AND key = ?", (self._db.backend, name, key)
        )
        return cur.rowcount > 0

    def list_tables(self) -> list[str]:
        rows = self._db.query(
            "SELECT DISTINCT table_name FROM mapping_row WHERE backend = ? ORDER BY table_name", (self._db.backend,)
        )
        return [r[0] for r in rows]

    def get_datamapper(self, flow: str) -> list[dict[str, Any]] | None:
        rows = self._db.query("SELECT lines FROM datamapper WHERE backend = ? AND flow = ?", (self._db.backend, flow))
        return json.loads(rows[0][0]) if rows else None

    def set_datamapper(self, flow: str, lines: Sequence[Mapping[str, Any]]) -> None:
        text = json.dumps([dict(line) for line in lines], ensure_ascii=False)
        self._db.execute(
            """INSERT INTO datamapper (backend, flow, lines, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (backend, flow) DO UPDATE SET lines = excluded.lines, updated_at = excluded.updated_at""",
            (self._db.backend, flow, text, self._db.now()),
        )

    def reset_datamapper(self, flow: str) -> bool:
        cur = self._db.execute("DELETE FROM datamapper WHERE backend = ? AND flow = ?", (self._db.backend, flow))
        return cur.rowcount > 0


# --- settings -------------------------------------------------------------------------------------------------


class SqliteSettingsStore:
    """Stores only explicit values; defaults come from apicenter_sync.settings at read time."""

    def __init__(self, db: SqliteStore) -> None:
        self._db = db

    def _stored(self, scopes: Sequence[str]) -> dict[tuple[str, str], Any]:
        rows = self._db.query(
            "SELECT scope, name, value FROM setting WHERE backend = ? AND scope IN (SELECT value FROM json_each(?))",
            (self._db.backend, json.dumps(list(scopes))),
        )
        return {(scope, name): json.loads(value) for scope, name, value in rows}

    def _resolve(self, setting: registry.Setting, flow: str | None, stored: dict[tuple[str, str], Any]) -> Any:
        for scope in ([flow] if flow else []) + [""]:
            if (scope, setting.name) in stored:
                value = stored[(scope, setting.name)]
                try:
                    return setting.validate(value, flow if scope else None)
                except registry.SettingError as exc:
                    # The registry changed under a stored value: say so instead of silently using the default.
                    raise registry.SettingError(registry.no_longer_valid(exc)) from None
        return setting.default_value()

    def get(self, name: str, flow: str | None = None) -> Any:
        setting = registry.get_setting(name)
        registry.check_scope(setting, flow)
        return self._resolve(setting, flow, self._stored([flow or "", ""]))

    def set(self, name: str, value: Any, flow: str | None = None) -> None:
        # flow=None on a flow setting stores the backend-wide value every flow without its own value uses.
        value = registry.validate(name, value, flow)
        self._db.execute(
            """INSERT INTO setting (backend, scope, name, value, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (backend, scope, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at""",
            (self._db.backend, flow or "", name, json.dumps(value), self._db.now()),
        )

    def unset(self, name: str, flow: str | None = None) -> bool:
        registry.check_scope(registry.get_setting(name), flow)
        cur = self._db.execute(
            "DELETE FROM setting WHERE backend = ? AND scope = ? AND name = ?", (self._db.backend, flow or "", name)
        )
        return cur.rowcount > 0

    def all(self, flow: str | None = None) -> dict[str, Any]:
        stored = self._stored([flow or "", ""])
        wanted = registry.SETTINGS if flow is None else registry.settings_for(flow)
        return {s.name: self._resolve(s, flow, stored) for s in wanted}

    def explicit(self, flow: str | None = None) -> dict[str, Any]:
        if flow is not None and flow not in registry.FLOWS:
            raise registry.SettingError(registry.unknown_flow(flow))
        scope = flow or ""
        return {name: value for (s, name), value in self._stored([scope]).items() if s == scope}
