"""Activity log on SQLite: runs, record lines, retry/ignore and GDPR retention."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol, get_args

from ..i18n import from_stored, msg, stored_data
from ..redact import bound_texts, mask_emails, redact, redact_text
from .interfaces import Action, Direction, LineState, LogLine, PurgeResult, Run, RunMode, RunState
from .timefmt import from_ts, ts

ABANDONED = msg("store.run_abandoned")  # a run still "running" whose process is gone
_ACTIONS = get_args(Action)
_DIRECTIONS = get_args(Direction)
_MODES = get_args(RunMode)
_RUN_STATES = get_args(RunState)

_RUN_COLS = "id, flow, mode, state, started_at, finished_at, counts, error, error_data"
_LINE_COLS = (
    "id, run_id, flow, entity, direction, source_id, target_id, action, state, attempts, error, note, "
    "source_payload, target_payload, reply, payload_purged, retry_at, created_at, updated_at, wait, waiting_since, "
    "error_data"
)


def _payload(value: Any) -> str | None:
    # Redaction happens here, at the only place payloads enter the store, so no caller can forget it.
    return None if value is None else json.dumps(bound_texts(redact(value)), ensure_ascii=False, default=str)


def _text(value: Any) -> str | None:
    """An error or note as stored: credentials and e-mail addresses masked (kept past the payload retention)."""
    return None if value is None else mask_emails(redact_text(str(value)))




class SqliteDb(Protocol):
    """What the log needs of its database (``SqliteStore`` gives it): the log does not import the store, the store
    composes the log."""

    backend: str
    clock: Callable[[], datetime]

    def transaction(self) -> AbstractContextManager[None]: ...
    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]: ...
    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int: ...
    def now(self) -> str: ...
    def checkpoint(self) -> None: ...


class SqliteActivityLog:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    # --- conversions ------------------------------------------------------------------------------------------

    def _run(self, row: tuple) -> Run:
        rid, flow, mode, state, started, finished, counts, error, error_data = row
        return Run(rid, flow, mode, state, from_ts(started), from_ts(finished), json.loads(counts),
                   from_stored(error, error_data))  # fmt: skip

    def _line(self, row: tuple) -> LogLine:
        (lid, run_id, flow, entity, direction, source_id, target_id, action, state, attempts, error, note,
         src, tgt, reply, purged, retry_at, created, updated, wait, waiting_since, error_data) = row  # fmt: skip

        def load(text: str | None) -> Any:
            return None if text is None else json.loads(text)

        return LogLine(
            flow=flow, entity=entity, direction=direction, source_id=source_id, action=action, target_id=target_id,
            error=from_stored(error, error_data), source_payload=load(src), target_payload=load(tgt), reply=load(reply),
            retry_at=from_ts(retry_at), id=lid, run_id=run_id, state=state, attempts=attempts,
            created_at=from_ts(created), updated_at=from_ts(updated), payload_purged=bool(purged), note=note,
            wait=wait, waiting_since=from_ts(waiting_since),
        )  # fmt: skip

    # --- runs -------------------------------------------------------------------------------------------------

    def start_run(self, flow: str, mode: RunMode = "normal") -> int:
        if mode not in _MODES:
            raise ValueError(msg("store.unknown_run_mode", mode=repr(mode), modes=list(_MODES)))
        cur = self._db.execute(
            "INSERT INTO run (backend, flow, mode, state, started_at) VALUES (?, ?, ?, 'running', ?)",
            (self._db.backend, flow, mode, self._db.now()),
        )
        return int(cur.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        *,
        state: RunState = "done",
        counts: Mapping[str, int] | None = None,
        error: Any = None,
    ) -> Run:
        if state not in _RUN_STATES or state == "running":
            raise ValueError(msg("store.run_cannot_finish", state=repr(state)))
        with self._db.transaction():
            per_action = dict(self._db.query("SELECT action, COUNT(*) FROM log_line WHERE run_id = ? GROUP BY action",
                                             (run_id,)))  # fmt: skip
            per_action.update(counts or {})
            cur = self._db.execute(
                "UPDATE run SET state = ?, finished_at = ?, counts = ?, error = ?, error_data = ? "
                "WHERE id = ? AND backend = ?",
                (state, self._db.now(), json.dumps(per_action), _text(error), stored_data(error), run_id,
                 self._db.backend),  # fmt: skip
            )
            if cur.rowcount == 0:
                raise KeyError(msg("store.no_run", run=run_id, backend=repr(self._db.backend)))
            run = self.get_run(run_id)
        assert run is not None
        return run

    def get_run(self, run_id: int) -> Run | None:
        rows = self._db.query(f"SELECT {_RUN_COLS} FROM run WHERE id = ? AND backend = ?", (run_id, self._db.backend))
        return self._run(rows[0]) if rows else None

    def list_runs(self, flow: str | None = None, *, limit: int = 50) -> list[Run]:
        where, params = "backend = ?", [self._db.backend]
        if flow:
            where += " AND flow = ?"
            params.append(flow)
        rows = self._db.query(f"SELECT {_RUN_COLS} FROM run WHERE {where} ORDER BY id DESC LIMIT ?", [*params, limit])
        return [self._run(r) for r in rows]

    def abandon_stale_runs(self, older_than_seconds: int, *, flow: str | None = None) -> int:
        cutoff = ts(self._db.clock() - timedelta(seconds=older_than_seconds))
        cur = self._db.execute(
            "UPDATE run SET state = 'aborted', finished_at = ?, error = ?, error_data = ? "
            "WHERE backend = ? AND state = 'running' AND started_at <= ? AND (? IS NULL OR flow = ?)",
            (self._db.now(), _text(ABANDONED), stored_data(ABANDONED), self._db.backend, cutoff, flow, flow),
        )
        return cur.rowcount

    # --- lines ------------------------------------------------------------------------------------------------

    def add_lines(self, run_id: int, lines: Sequence[LogLine]) -> list[int]:
        for line in lines:
            if line.action not in _ACTIONS:
                raise ValueError(msg("store.unknown_action", action=repr(line.action), actions=list(_ACTIONS)))
            if line.direction not in _DIRECTIONS:
                raise ValueError(msg("store.unknown_direction", direction=repr(line.direction),
                                     directions=list(_DIRECTIONS)))  # fmt: skip
        if not lines:
            return []
        now = self._db.now()
        backend = self._db.backend
        keys = [(ln.flow, ln.entity, ln.source_id) for ln in lines]
        # Within the batch, an earlier line for a record is closed by the next line for the same record.
        next_action: list[str | None] = [None] * len(lines)
        seen: dict[tuple, str] = {}
        for i in range(len(lines) - 1, -1, -1):
            if keys[i][2] is not None:
                next_action[i] = seen.get(keys[i])
                seen[keys[i]] = lines[i].action
        with self._db.transaction():
            if self.get_run(run_id) is None:
                raise KeyError(msg("store.no_run", run=run_id, backend=repr(backend)))
            open_attempts, open_since = self._open_attempts({k for k in keys if k[2] is not None})
            # Close the open failures of these records before inserting, so the new lines stay open.
            self._db.executemany(
                "UPDATE log_line SET state = ?, updated_at = ? "
                "WHERE backend = ? AND flow = ? AND entity = ? AND source_id = ? AND state IN ('failed', 'retry')",
                [
                    ("superseded" if seen[k] == "failed" else "resolved", now, backend, *k)
                    for k in open_attempts
                ],
            )  # fmt: skip
            rows = []
            for i, line in enumerate(lines):
                key = keys[i]
                attempts = open_attempts.get(key, 0) + 1 if key[2] is not None else 1
                waiting = line.wait if line.action == "failed" else None
                since = (open_since.get(key) or now) if waiting else None
                if key[2] is not None:
                    # A success resets the count; a failure carries it to the record's next line.
                    open_attempts[key] = attempts if line.action == "failed" else 0
                    open_since[key] = since
                state: LineState = "failed" if line.action == "failed" else "ok"
                if next_action[i] is not None and line.action == "failed":
                    state = "superseded" if next_action[i] == "failed" else "resolved"
                rows.append((
                    run_id, backend, line.flow, line.entity, line.direction, line.source_id,
                    None if line.target_id is None else str(line.target_id), line.action, state, attempts,
                    _text(line.error), _payload(line.source_payload), _payload(line.target_payload),
                    _payload(line.reply), None if line.retry_at is None else ts(line.retry_at), now, now, waiting, since,
                    stored_data(line.error),
                ))  # fmt: skip
            self._db.executemany(
                "INSERT INTO log_line (run_id, backend, flow, entity, direction, source_id, target_id, action, state, "
                "attempts, error, source_payload, target_payload, reply, retry_at, created_at, updated_at, wait, waiting_since, "
                "error_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            # AUTOINCREMENT under the write lock: the batch got consecutive ids ending at last_insert_rowid().
            last = self._db.query("SELECT last_insert_rowid()")[0][0]
        return list(range(last - len(rows) + 1, last + 1))

    def _open_attempts(self, keys: set[tuple]) -> tuple[dict[tuple, int], dict[tuple, str | None]]:
        """Per record with an open failure: its attempts, and since when it waits (None: it does not)."""
        if not keys:
            return {}, {}
        rows = self._db.query(
            "SELECT flow, entity, source_id, MAX(attempts), MIN(waiting_since) FROM log_line "
            "WHERE backend = ? AND state IN ('failed', 'retry') AND source_id IN (SELECT value FROM json_each(?)) "
            "GROUP BY flow, entity, source_id",
            (self._db.backend, json.dumps(sorted({k[2] for k in keys}))),
        )
        found = {(f, e, s): (n, since) for f, e, s, n, since in rows if (f, e, s) in keys}
        return {k: v[0] for k, v in found.items()}, {k: v[1] for k, v in found.items()}

    def get_line(self, line_id: int) -> LogLine | None:
        rows = self._db.query(
            f"SELECT {_LINE_COLS} FROM log_line WHERE id = ? AND backend = ?", (line_id, self._db.backend)
        )
        return self._line(rows[0]) if rows else None

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
        where, params = ["backend = ?"], [self._db.backend]
        for column, value in (
            ("flow", flow), ("entity", entity), ("state", state), ("action", action), ("source_id", source_id),
            ("target_id", target_id), ("run_id", run_id),
        ):  # fmt: skip
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if failed_only:
            where.append("state IN ('failed', 'retry')")
        if since is not None:
            where.append("created_at >= ?")
            params.append(ts(since))
        rows = self._db.query(
            f"SELECT {_LINE_COLS} FROM log_line WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [self._line(r) for r in rows]

    def _set_state(self, line_ids: Iterable[int], state: str, from_states: tuple[str, ...], note: str | None) -> int:
        ids = json.dumps([int(i) for i in line_ids])
        placeholders = ", ".join("?" for _ in from_states)
        cur = self._db.execute(
            f"UPDATE log_line SET state = ?, note = COALESCE(?, note), updated_at = ? "
            f"WHERE backend = ? AND state IN ({placeholders}) AND id IN (SELECT value FROM json_each(?))",
            (state, _text(note), self._db.now(), self._db.backend, *from_states, ids),
        )
        return cur.rowcount

    def mark_retry(self, line_ids: Iterable[int]) -> int:
        # An ignored failure may be brought back; closed (resolved/superseded) lines may not.
        return self._set_state(line_ids, "retry", ("failed", "ignored"), None)

    def mark_ignored(self, line_ids: Iterable[int], note: str | None = None) -> int:
        return self._set_state(line_ids, "ignored", ("failed", "retry"), note)

    def pending_retries(
        self, flow: str, entity: str | None = None, *, max_attempts: int | None = None, limit: int | None = None
    ) -> list[LogLine]:
        where = ["backend = ?", "flow = ?"]
        params: list[Any] = [self._db.backend, flow]
        if entity is not None:
            where.append("entity = ?")
            params.append(entity)
        # A user's retry ignores max_attempts: it is an explicit request.
        auto = "state = 'failed' AND retry_at IS NOT NULL AND retry_at <= ?"
        params.append(self._db.now())
        if max_attempts is not None:
            auto += " AND (attempts < ? OR wait IS NOT NULL)"  # a waiting line: wait_days decides, not tries
            params.append(max_attempts)
        where.append(f"(state = 'retry' OR ({auto}))")
        sql = f"SELECT {_LINE_COLS} FROM log_line WHERE {' AND '.join(where)} ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._line(r) for r in self._db.query(sql, params)]

    # --- retention --------------------------------------------------------------------------------------------

    def purge(self, *, payload_days: int, metadata_days: int) -> PurgeResult:
        if payload_days < 0 or metadata_days < 0:
            raise ValueError(msg("store.negative_retention"))
        now = self._db.clock()
        payload_cutoff = ts(now - timedelta(days=payload_days))
        meta_cutoff = ts(now - timedelta(days=metadata_days))
        backend = self._db.backend
        with self._db.transaction():
            cleared = self._db.execute(
                "UPDATE log_line SET source_payload = NULL, target_payload = NULL, reply = NULL, payload_purged = 1 "
                "WHERE backend = ? AND created_at < ? AND payload_purged = 0 "
                "AND (source_payload IS NOT NULL OR target_payload IS NOT NULL OR reply IS NOT NULL)",
                (backend, payload_cutoff),
            ).rowcount
            # Open failures stay (their payloads are gone by now) so a failed record is never silently dropped.
            lines = self._db.execute(
                "DELETE FROM log_line WHERE backend = ? AND created_at < ? AND state NOT IN ('failed', 'retry')",
                (backend, meta_cutoff),
            ).rowcount
            runs = self._db.execute(
                "DELETE FROM run WHERE backend = ? AND started_at < ? AND state != 'running' "
                "AND NOT EXISTS (SELECT 1 FROM log_line WHERE log_line.run_id = run.id)",
                (backend, meta_cutoff),
            ).rowcount
        self._db.checkpoint()  # old page images in the WAL still hold the payloads until folded back
        return PurgeResult(payloads_cleared=cleared, lines_deleted=lines, runs_deleted=runs)
