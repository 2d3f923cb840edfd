"""State-store interfaces shared by the command-line engine (SQLite) and the Odoo addon (ORM).

Everything here is plain Python values — strings, ints, datetimes, JSON-like dicts/lists — so that an ORM
implementation can map each method onto a search/write on one model. No method exposes SQL, cursors or rows.

A store is scoped to one backend (one AccountView company + one Mplus administration); the backend name is given
when the store is opened and never repeated in method calls.

Crash safety contract: a flow processes a batch as
    remote writes (each preceded by ``bindings.mark_pending`` for non-idempotent creates)
    -> ``with store.transaction():`` bindings.upsert_many + log.add_lines + watermarks.advance
so a watermark is only ever committed together with the bindings and log lines of the work it covers.

Concurrency contract: a flow run holds ``store.flow_lock(flow)`` for its whole duration, so two runners of the same
flow on the same store (two processes, two Odoo workers) never work on the same records at once; the second one
ends at once without writing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from ..i18n import Text

JSON = Any  # JSON-serialisable value: dict/list/str/int/float/bool/None

# --- bindings --------------------------------------------------------------------------------------------------

# synced: target_id/payload_hash describe what the target holds.
# pending: a write was about to be sent (intent); its outcome is unknown until upsert/mark_failed. A pending
#          binding found at the start of a run means "look the record up at the target before creating it".
# failed:  the last write failed; target_id/payload_hash still describe the last successful write, if any.
BindingState = Literal["synced", "pending", "failed"]


@dataclass(frozen=True)
class Binding:
    entity: str  # "product", "article", "group", "relation", "order", "stock", "price", …
    source_id: str  # id in the source system (as text: "0" is a valid id)
    target_id: str | None = None  # id in the target system, None until the first successful create
    payload_hash: str | None = None  # store.hashing.payload_hash of the last target payload written
    pending_hash: str | None = None  # hash of the payload being written while state is pending
    state: BindingState = "synced"
    synced_at: datetime | None = None  # last successful write
    last_error: str | None = None
    idempotency_key: str | None = None  # sent with the pending write; reused when the write is retried
    pending_since: datetime | None = None
    updated_at: datetime | None = None

    def is_unchanged(self, new_hash: str) -> bool:
        """True when the target already holds exactly this payload; a pending or failed binding never is."""
        return self.state == "synced" and self.target_id is not None and self.payload_hash == new_hash


class BindingConflict(Exception):
    """A target id is already bound to another source id of the same entity (would create a duplicate link)."""


@runtime_checkable
class BindingStore(Protocol):
    def get(self, entity: str, source_id: str) -> Binding | None: ...

    def get_by_target(self, entity: str, target_id: str) -> Binding | None: ...

    def get_many(self, entity: str, source_ids: Iterable[str]) -> dict[str, Binding]:
        """Bindings of a whole batch in one round trip, keyed by source id; missing ids are absent."""
        ...

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
        """Record the outcome of a write; a synced upsert clears error, pending time and idempotency key."""
        ...

    def upsert_many(self, bindings: Iterable[Binding]) -> int:
        """Batch upsert (entity, source_id, target_id, payload_hash, state, last_error of each record)."""
        ...

    def mark_pending(
        self, entity: str, source_id: str, *, payload_hash: str | None, idempotency_key: str | None = None
    ) -> Binding:
        """Record the intent to write before the remote call; keeps target_id and the old hash.

        Keeps an existing idempotency key of a still-pending binding so a retry after a lost reply resends the
        same key. Commit it (outside a batch transaction, or in its own) before calling the remote system.
        """
        ...

    def mark_failed(self, entity: str, source_id: str, error: str) -> Binding: ...

    def delete(self, entity: str, source_id: str) -> bool: ...

    def iter(self, entity: str, state: BindingState | None = None) -> Iterator[Binding]: ...

    def count(self, entity: str, state: BindingState | None = None) -> int: ...


# --- watermarks ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watermark:
    """Where a stream stands: an opaque value (ISO timestamp, Mplus syncMarker…) and the ids already processed
    at exactly that value, so an overlap window (read from value - N seconds) skips them instead of reprocessing
    them forever."""

    value: str | None = None
    processed_ids: frozenset[str] = frozenset()
    updated_at: datetime | None = None


@runtime_checkable
class WatermarkStore(Protocol):
    def get(self, flow: str, stream: str = "default") -> Watermark:
        """The stored watermark, or an empty one (value None) meaning "from the beginning"."""
        ...

    def set(self, flow: str, stream: str, value: str | None, processed_ids: Iterable[str] = ()) -> Watermark:
        """Replace the watermark (value and processed-id set)."""
        ...

    def advance(self, flow: str, stream: str, value: str, processed_ids: Iterable[str] = ()) -> Watermark:
        """Move to ``value``: same value as stored -> add the ids to the set; other value -> replace both."""
        ...

    def reset(self, flow: str, stream: str | None = None) -> int:
        """Forget one stream's watermark, or all of the flow's (a full re-sync); returns how many."""
        ...

    def list(self, flow: str) -> dict[str, Watermark]: ...


# --- mapping tables and datamapper lines ---------------------------------------------------------------------


@runtime_checkable
class MappingStore(Protocol):
    def get_table(self, name: str) -> dict[str, str]:
        """A named table (e.g. "vat_code_by_country"); an unknown table is empty."""
        ...

    def set_table(self, name: str, rows: Mapping[str, str]) -> None:
        """Replace the whole table."""
        ...

    def lookup(self, name: str, key: str, default: str | None = None) -> str | None: ...

    def set_value(self, name: str, key: str, value: str) -> None: ...

    def delete_value(self, name: str, key: str) -> bool: ...

    def list_tables(self) -> list[str]: ...

    def get_datamapper(self, flow: str) -> list[dict[str, Any]] | None:
        """The flow's datamapper lines as stored (plain JSON), or None when never customised."""
        ...

    def set_datamapper(self, flow: str, lines: Sequence[Mapping[str, Any]]) -> None: ...

    def reset_datamapper(self, flow: str) -> bool: ...


# --- settings --------------------------------------------------------------------------------------------------


@runtime_checkable
class SettingsStore(Protocol):
    """Typed values of the settings declared in apicenter_sync.settings.

    Resolution: the flow's own value, else the backend-wide value, else the registry default. ``flow=None``
    addresses the backend-wide value. Unknown names, wrong scopes and bad values raise SettingError.
    """

    def get(self, name: str, flow: str | None = None) -> Any: ...

    def set(self, name: str, value: Any, flow: str | None = None) -> None: ...

    def unset(self, name: str, flow: str | None = None) -> bool: ...

    def all(self, flow: str | None = None) -> dict[str, Any]:
        """Every setting that applies to ``flow``, resolved; flow=None: every setting at backend-wide level."""
        ...

    def explicit(self, flow: str | None = None) -> dict[str, Any]:
        """Only the values stored at exactly this scope."""
        ...


# --- activity log ----------------------------------------------------------------------------------------------

RunMode = Literal["normal", "full", "dry_run"]
RunState = Literal["running", "done", "failed", "aborted"]
Direction = Literal["av_to_mplus", "mplus_to_av"]
Action = Literal["created", "updated", "skipped", "unchanged", "failed", "dry_run"]
# ok: nothing to follow up.  failed: open failure (retried automatically once retry_at has passed, if set).
# retry: a user asked for a retry.  ignored: a user dismissed it.  resolved: a later line for the same record
# succeeded.  superseded: a later line for the same record failed again (that line carries the attempt count).
LineState = Literal["ok", "failed", "retry", "ignored", "resolved", "superseded"]
OPEN_STATES: tuple[str, ...] = ("failed", "retry")


@dataclass(frozen=True)
class Run:
    id: int
    flow: str
    mode: RunMode
    state: RunState
    started_at: datetime
    finished_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)  # per action, plus anything the flow adds
    error: Text | None = None  # a catalogue message (i18n.Msg) read back as one, else plain text


@dataclass(frozen=True)
class LogLine:
    """One record touched by a run. Build with the first fields; the log fills id/run/state/attempts/times."""

    flow: str
    entity: str
    direction: Direction
    source_id: str | None
    action: Action
    target_id: str | None = None
    error: Text | None = None  # a catalogue message (i18n.Msg), rendered in the reader's language
    source_payload: JSON = None  # what came from the source (redacted before storage)
    target_payload: JSON = None  # what was (or, in dry-run, would have been) sent
    reply: JSON = None  # what the target answered
    retry_at: datetime | None = None  # failed lines: earliest automatic retry; None = wait for a user
    # Failed lines waiting for master data a person adds ("articles", "mapping"): retried for days, not tries.
    wait: str | None = None
    # Filled by the log:
    id: int | None = None
    run_id: int | None = None
    state: LineState | None = None
    attempts: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    payload_purged: bool = False
    note: str | None = None  # reason given when ignoring
    waiting_since: datetime | None = None  # waiting lines: when the record's wait began (carried across attempts)


@dataclass(frozen=True)
class PurgeResult:
    payloads_cleared: int  # lines whose payloads were dropped (metadata kept)
    lines_deleted: int
    runs_deleted: int


@runtime_checkable
class ActivityLog(Protocol):
    def start_run(self, flow: str, mode: RunMode = "normal") -> int: ...

    def finish_run(
        self,
        run_id: int,
        *,
        state: RunState = "done",
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
    ) -> Run:
        """Close a run; counts default to the number of its lines per action."""
        ...

    def get_run(self, run_id: int) -> Run | None: ...

    def list_runs(self, flow: str | None = None, *, limit: int = 50) -> list[Run]:
        """Newest first."""
        ...

    def abandon_stale_runs(self, older_than_seconds: int, *, flow: str | None = None) -> int:
        """Mark runs still "running" after this long as aborted (their process died); only ``flow``'s when given.
        A run holding the flow lock calls it with 0 for its own flow: any other "running" run of it is dead."""
        ...

    def add_lines(self, run_id: int, lines: Sequence[LogLine]) -> list[int]:
        """Store lines in bulk; payloads and errors are redacted. A failed line supersedes the open failure of
        the same (flow, entity, source_id) and counts one more attempt; any other line resolves it. A waiting line
        keeps the ``waiting_since`` of the waiting line it supersedes (else: now)."""
        ...

    def get_line(self, line_id: int) -> LogLine | None: ...

    def list_lines(
        self,
        *,
        flow: str | None = None,
        entity: str | None = None,
        state: LineState | None = None,
        action: Action | None = None,
        source_id: str | None = None,
        target_id: str | None = None,
        run_id: int | None = None,
        failed_only: bool = False,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[LogLine]:
        """Newest first. ``failed_only`` = open failures (states failed and retry)."""
        ...

    def mark_retry(self, line_ids: Iterable[int]) -> int:
        """User "Retry": open failures become state retry (due at once); returns how many changed."""
        ...

    def mark_ignored(self, line_ids: Iterable[int], note: str | None = None) -> int:
        """User "Ignore": open failures become ignored and are never retried; returns how many changed."""
        ...

    def pending_retries(
        self, flow: str, entity: str | None = None, *, max_attempts: int | None = None, limit: int | None = None
    ) -> list[LogLine]:
        """Open failures due now: state retry, or failed with retry_at passed (and attempts < max_attempts, unless
        the line waits for master data: those are retried until the flow gives up on them)."""
        ...

    def purge(self, *, payload_days: int, metadata_days: int) -> PurgeResult:
        """GDPR retention: drop payloads older than payload_days (metadata kept), then delete lines and runs older
        than metadata_days — except open failures, which are kept (without payload) until resolved."""
        ...


# --- the bundle ------------------------------------------------------------------------------------------------


@runtime_checkable
class Store(Protocol):
    backend: str
    bindings: BindingStore
    watermarks: WatermarkStore
    mappings: MappingStore
    settings: SettingsStore
    log: ActivityLog

    def transaction(self) -> AbstractContextManager[None]:
        """Unit of work: everything inside commits together or not at all. Nestable (inner = savepoint).
        Outside a transaction every method commits on its own."""
        ...

    def flow_lock(self, flow: str) -> AbstractContextManager[bool]:
        """Exclusive right to run ``flow`` of this backend, held until the block ends; yields False (at once, without
        waiting) when another runner holds it. Re-entrant for its holder. A holder that dies without releasing it
        must not block forever: the lock expires (SQLite: a lease with an owner and an expiry, renewed by every
        commit; Odoo: a transaction-level PostgreSQL advisory lock, gone with the job's transaction)."""
        ...

    def close(self) -> None: ...
