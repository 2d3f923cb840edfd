# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The engine's ActivityLog on ``apicenter.run`` / ``apicenter.log.line``.

Same rules as ``apicenter_sync/store/sqlite_log.py``: a failed line supersedes the open failure of the same
(flow, entity, source id) and carries one more attempt; any other line resolves it; so the open failures are
always one line per record. Payloads, errors and notes are redacted here, at the only place they enter the
database, so no caller can forget it.
"""

import json
from datetime import UTC, timedelta
from typing import get_args

from apicenter_sync.flows.sale_facts import sale_facts
from apicenter_sync.i18n import msg
from apicenter_sync.redact import bound_texts, mask_emails, redact, redact_text
from apicenter_sync.store.interfaces import Action, Direction, LogLine, PurgeResult, Run, RunMode, RunState
from apicenter_sync.store.sqlite_log import ABANDONED

from odoo import fields

from .engine_text import data_text, stored
from .odoo_series import before
from .odoo_series import since as since_term

_ACTIONS = get_args(Action)
_DIRECTIONS = get_args(Direction)
_MODES = get_args(RunMode)
_RUN_STATES = get_args(RunState)
OPEN_STATES = ("failed", "retry")

TILL_FACTS = ("till_number", "till_date", "till_branch", "till_total", "till_customer")
_LINE_FIELDS = [
    "run_id",
    "flow",
    "entity",
    "direction",
    "source_id",
    "target_id",
    "action",
    "state",
    "attempts",
    "error",
    "note",
    "source_payload",
    "target_payload",
    "reply",
    "payload_purged",
    "retry_at",
    "create_date",
    "write_date",
    "wait",
    "waiting_since",
    "error_data",
]


def _payload(value):
    # Bounded too: a 20 MB description must cost kilobytes per attempt, not 20 MB (redact.bound_texts).
    return False if value is None else json.dumps(bound_texts(redact(value)), ensure_ascii=False, default=str)


def _till_facts(line, earlier):
    """The sale's till facts for its new log line: from the sale read now, or kept from its earlier open line (a
    line written without the sale, e.g. refused after waiting once the payload was purged)."""
    facts = sale_facts(line.entity, line.source_payload) if line.flow == "orders" else None
    if facts is None:
        if not earlier:
            return {}
        return {name: earlier[name] for name in TILL_FACTS}
    return till_values(facts)


def till_values(facts):
    """The log line's till columns for ``facts`` (apicenter_sync.flows.sale_facts.SaleFacts)."""
    return {
        "till_number": facts.number or False,
        "till_date": facts.day or False,
        "till_branch": facts.branch or False,
        "till_total": float(facts.total) if facts.total is not None else 0.0,
        "till_customer": facts.customer or False,
    }


def _text(value):
    # Kept past the payload retention: credentials and e-mail addresses masked (docs/privacy.md).
    return False if value is None else mask_emails(redact_text(str(value)))


def _load(text):
    return None if not text else json.loads(text)


def aware(value):
    """Odoo's naive UTC datetime -> aware datetime (None for empty)."""
    return value.replace(tzinfo=UTC) if value else None


def naive(value):
    """Aware datetime -> Odoo's naive UTC datetime (False for None)."""
    if value is None:
        return False
    if value.tzinfo is None:
        raise ValueError(msg("store.naive_datetime"))
    return value.astimezone(UTC).replace(tzinfo=None)


class OdooActivityLog:
    def __init__(self, store):
        self._s = store
        self._runs = store.model("apicenter.run")
        self._lines = store.model("apicenter.log.line")

    # --- conversions ------------------------------------------------------------------------------------------

    @staticmethod
    def _run(rec):
        return Run(
            rec.id,
            rec.flow,
            rec.mode,
            rec.state,
            aware(rec.started_at),
            aware(rec.finished_at),
            json.loads(rec.counts or "{}"),
            stored(rec.error, rec.error_data),
        )

    @staticmethod
    def _line(row):
        return LogLine(
            flow=row["flow"],
            entity=row["entity"],
            direction=row["direction"],
            source_id=row["source_id"] or None,
            action=row["action"],
            target_id=row["target_id"] or None,
            error=stored(row["error"], row["error_data"]),
            source_payload=_load(row["source_payload"]),
            target_payload=_load(row["target_payload"]),
            reply=_load(row["reply"]),
            retry_at=aware(row["retry_at"]),
            id=row["id"],
            run_id=row["run_id"][0] if row["run_id"] else None,
            state=row["state"],
            attempts=row["attempts"],
            created_at=aware(row["create_date"]),
            updated_at=aware(row["write_date"]),
            payload_purged=row["payload_purged"],
            note=row["note"] or None,
            wait=row["wait"] or None,
            waiting_since=aware(row["waiting_since"]),
        )

    def _run_rec(self, run_id):
        return self._runs.search([("id", "=", run_id), ("backend_id", "=", self._s.backend_id)], limit=1)

    # --- runs -------------------------------------------------------------------------------------------------

    def start_run(self, flow, mode="normal"):
        if mode not in _MODES:
            raise ValueError(msg("store.unknown_run_mode", mode=repr(mode), modes=list(_MODES)))
        job_uuid = self._s.env.context.get("job_uuid")
        job = self._s.env["queue.job"].search([("uuid", "=", job_uuid)], limit=1) if job_uuid else None
        run = self._runs.create(
            {
                "backend_id": self._s.backend_id,
                "flow": flow,
                "mode": mode,
                "state": "running",
                "started_at": self._s.now(),
                "job_uuid": job_uuid or False,
                "job_id": job.id if job else False,
            }
        )
        return run.id

    def finish_run(self, run_id, *, state="done", counts=None, error=None):
        if state not in _RUN_STATES or state == "running":
            raise ValueError(msg("store.run_cannot_finish", state=repr(state)))
        run = self._run_rec(run_id)
        if not run:
            raise KeyError(msg("store.no_run", run=run_id, backend=repr(self._s.backend)))
        groups = self._lines._read_group([("run_id", "=", run.id)], ["action"], ["__count"])
        per_action = dict(groups)
        per_action.update(counts or {})
        run.write(
            {
                "state": state,
                "finished_at": self._s.now(),
                "counts": json.dumps(per_action),
                "error": _text(error),
                "error_data": data_text(error),
            }
        )
        self._fold_quiet(run)
        return self._run(run)

    def _fold_quiet(self, run):
        """A quiet run (done, nothing written, nothing failed, no log line) replaces the quiet run just before it
        and counts it: a scheduler running every minute keeps one row per stretch of quiet runs, not 1,440 a day.
        The previous row goes only when it is quiet too and has no lines, so nothing a person may look at goes."""
        run.flush_recordset()
        if run.did_something or run.mode == "dry_run" or run.line_ids:
            run.quiet_count = 0
            return
        previous = self._runs.search(
            [("backend_id", "=", run.backend_id.id), ("flow", "=", run.flow), ("id", "<", run.id),
             ("state", "!=", "running")],
            order="id desc",
            limit=1,
        )  # fmt: skip
        folded = 0
        if previous and previous.quiet_count and not previous.did_something and not previous.line_ids:
            folded = previous.quiet_count
            run.started_at = min(run.started_at, previous.started_at)  # the stretch of quiet runs it stands for
            previous.sudo().unlink()
        run.quiet_count = folded + 1

    def get_run(self, run_id):
        run = self._run_rec(run_id)
        return self._run(run) if run else None

    def list_runs(self, flow=None, *, limit=50):
        domain = self._s.domain(*([("flow", "=", flow)] if flow else []))
        return [self._run(r) for r in self._runs.search(domain, order="id desc", limit=limit)]

    def abandon_stale_runs(self, older_than_seconds, *, flow=None):
        cutoff = self._s.now() - timedelta(seconds=older_than_seconds)
        terms = [("state", "=", "running"), before("started_at", cutoff)] + ([("flow", "=", flow)] if flow else [])
        runs = self._runs.search(self._s.domain(*terms))
        runs.write(
            {
                "state": "aborted",
                "finished_at": self._s.now(),
                "error": _text(ABANDONED),
                "error_data": data_text(ABANDONED),
            }
        )
        return len(runs)

    # --- lines ------------------------------------------------------------------------------------------------

    def add_lines(self, run_id, lines):
        for line in lines:
            if line.action not in _ACTIONS:
                raise ValueError(msg("store.unknown_action", action=repr(line.action), actions=list(_ACTIONS)))
            if line.direction not in _DIRECTIONS:
                raise ValueError(msg("store.unknown_direction", direction=repr(line.direction),
                                     directions=list(_DIRECTIONS)))  # fmt: skip
        if not lines:
            return []
        keys = [(ln.flow, ln.entity, ln.source_id) for ln in lines]
        # Within the batch, an earlier line for a record is closed by the next line for the same record.
        next_action = [None] * len(lines)
        seen = {}
        for i in range(len(lines) - 1, -1, -1):
            if keys[i][2] is not None:
                next_action[i] = seen.get(keys[i])
                seen[keys[i]] = lines[i].action
        with self._s.transaction():
            if not self._run_rec(run_id):
                raise KeyError(msg("store.no_run", run=run_id, backend=repr(self._s.backend)))
            open_lines, open_attempts, open_since = self._open_failures({k for k in keys if k[2] is not None})
            # Close the open failures of these records before inserting, so the new lines stay open.
            superseded = open_lines.filtered(lambda r: seen[(r.flow, r.entity, r.source_id)] == "failed")
            superseded.write({"state": "superseded"})
            (open_lines - superseded).write({"state": "resolved"})
            facts_of = {(r.flow, r.entity, r.source_id): r for r in open_lines if r.till_number or r.till_date}
            vals_list = []
            for i, line in enumerate(lines):
                key = keys[i]
                attempts = open_attempts.get(key, 0) + 1 if key[2] is not None else 1
                waiting = line.wait if line.action == "failed" else None
                since = (open_since.get(key) or self._s.now()) if waiting else False
                if key[2] is not None:
                    # A success resets the count; a failure carries it to the record's next line.
                    open_attempts[key] = attempts if line.action == "failed" else 0
                    open_since[key] = since
                state = "failed" if line.action == "failed" else "ok"
                if next_action[i] is not None and line.action == "failed":
                    state = "superseded" if next_action[i] == "failed" else "resolved"
                vals_list.append(
                    {
                        "run_id": run_id,
                        "backend_id": self._s.backend_id,
                        "flow": line.flow,
                        "entity": line.entity,
                        "direction": line.direction,
                        "source_id": line.source_id if line.source_id is not None else False,
                        "target_id": False if line.target_id is None else str(line.target_id),
                        "action": line.action,
                        "state": state,
                        "attempts": attempts,
                        "error": _text(line.error),
                        "error_data": data_text(line.error),
                        "source_payload": _payload(line.source_payload),
                        "target_payload": _payload(line.target_payload),
                        "reply": _payload(line.reply),
                        "retry_at": naive(line.retry_at),
                        "wait": waiting or False,
                        "waiting_since": since,
                        **_till_facts(line, facts_of.get(key)),
                    }
                )
            created = self._lines.create(vals_list)
        return created.ids

    def _open_failures(self, keys):
        """The open failure lines of these records, their attempts, and since when each waits (False: not)."""
        if not keys:
            return self._lines, {}, {}
        lines = self._lines.search(
            self._s.domain(("state", "in", OPEN_STATES), ("source_id", "in", sorted({k[2] for k in keys})))
        )
        lines = lines.filtered(lambda r: (r.flow, r.entity, r.source_id) in keys)
        attempts, since = {}, {}
        for r in lines:
            key = (r.flow, r.entity, r.source_id)
            attempts[key] = max(attempts.get(key, 0), r.attempts)
            if r.waiting_since and (not since.get(key) or r.waiting_since < since[key]):
                since[key] = r.waiting_since
        return lines, attempts, since

    def get_line(self, line_id):
        rows = self._lines.search_read(self._s.domain(("id", "=", line_id)), ["id", *_LINE_FIELDS], limit=1)
        return self._line(rows[0]) if rows else None

    def list_lines(
        self,
        *,
        flow=None,
        entity=None,
        state=None,
        action=None,
        source_id=None,
        target_id=None,
        run_id=None,
        failed_only=False,
        since=None,
        limit=100,
        offset=0,
    ):
        terms = []
        for name, value in (
            ("flow", flow),
            ("entity", entity),
            ("state", state),
            ("action", action),
            ("source_id", source_id),
            ("target_id", target_id),
            ("run_id", run_id),
        ):
            if value is not None:
                terms.append((name, "=", value))
        if failed_only:
            terms.append(("state", "in", OPEN_STATES))
        if since is not None:
            terms.append(since_term("create_date", naive(since)))
        rows = self._lines.search_read(
            self._s.domain(*terms), ["id", *_LINE_FIELDS], order="id desc", limit=limit, offset=offset
        )
        return [self._line(r) for r in rows]

    def _set_state(self, line_ids, state, from_states, note):
        lines = self._lines.search(
            self._s.domain(("id", "in", [int(i) for i in line_ids]), ("state", "in", from_states))
        )
        vals = {"state": state}
        if note is not None:
            vals["note"] = _text(note)
        lines.write(vals)
        return len(lines)

    def mark_retry(self, line_ids):
        # An ignored failure may be brought back; closed (resolved/superseded) lines may not.
        return self._set_state(line_ids, "retry", ("failed", "ignored"), None)

    def mark_ignored(self, line_ids, note=None):
        return self._set_state(line_ids, "ignored", ("failed", "retry"), note)

    def pending_retries(self, flow, entity=None, *, max_attempts=None, limit=None):
        # Domains written out in Polish notation: odoo.osv.expression is deprecated on Odoo 19 (docs/odoo-series.md).
        auto = ["&", "&", ("state", "=", "failed"), ("retry_at", "!=", False), before("retry_at", self._s.now())]
        if max_attempts is not None:
            # A waiting line is retried until wait_days end, however many tries that takes.
            auto = ["&", *auto, "|", ("attempts", "<", max_attempts), ("wait", "!=", False)]
        # A user's retry ignores max_attempts: it is an explicit request.
        domain = self._s.domain(("flow", "=", flow), *([("entity", "=", entity)] if entity is not None else []))
        domain = [*domain, "|", ("state", "=", "retry"), *auto]
        rows = self._lines.search_read(domain, ["id", *_LINE_FIELDS], order="id", limit=limit)
        return [self._line(r) for r in rows]

    # --- retention --------------------------------------------------------------------------------------------

    def purge(self, *, payload_days, metadata_days):
        if payload_days < 0 or metadata_days < 0:
            raise ValueError(msg("store.negative_retention"))
        now = fields.Datetime.now()
        payload_cutoff = now - timedelta(days=payload_days)
        meta_cutoff = now - timedelta(days=metadata_days)
        with self._s.transaction():
            with_payload = self._lines.search(
                self._s.domain(
                    ("create_date", "<", payload_cutoff),
                    ("payload_purged", "=", False),
                    "|",
                    "|",
                    "|",
                    ("source_payload", "!=", False),
                    ("target_payload", "!=", False),
                    ("reply", "!=", False),
                    ("till_customer", "!=", False),
                )
            )
            with_payload.write(
                {"source_payload": False, "target_payload": False, "reply": False, "payload_purged": True,
                 "till_customer": False}  # fmt: skip
            )
            # Open failures stay (their payloads are gone by now) so a failed record is never silently dropped.
            old_lines = self._lines.search(
                self._s.domain(("create_date", "<", meta_cutoff), ("state", "not in", OPEN_STATES))
            )
            lines_deleted = len(old_lines)
            old_lines.unlink()
            old_runs = self._runs.search(
                self._s.domain(("started_at", "<", meta_cutoff), ("state", "!=", "running"))
            ).filtered(lambda run: not run.line_ids)
            runs_deleted = len(old_runs)
            old_runs.unlink()
        return PurgeResult(payloads_cleared=len(with_payload), lines_deleted=lines_deleted, runs_deleted=runs_deleted)
