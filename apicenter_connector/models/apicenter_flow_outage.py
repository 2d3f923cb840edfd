# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outages of a flow: seen, recorded, told once (docs/reliability.md, "Outages").

- A run that stops because AccountView or MplusKASSA cannot be reached, or refuses our access, is an outage
  (:func:`apicenter_sync.outage.outage_of`). Its job is retried by queue_job, which rolls the job's transaction
  back: so the run, its reason and the flow's outage are written in a transaction of their own first
  (:meth:`_record_in_own_transaction`), and a rollback cannot erase them. The outage itself is an
  ``apicenter.outage`` row per flow, written only in such transactions (never by a job's own transaction, which
  may write the flow at the same time).
- The responsible users of the backend get one message when an outage of a system starts (the first flow that
  stops on it) and one when it ends (the last of those flows runs again): :meth:`_set_outage`.
- The card shows how long the flow has gone without a success, against its interval (:attr:`freshness`): late
  (orange) after ``late_after_intervals`` intervals, failing (red) after ``failing_after_intervals``.
- Without the job runner nothing runs and nothing fails: a scheduled action (cron, which runs without the job
  runner) looks for due jobs that were not started within ``runner_stall_minutes`` and reports them as an outage
  of the job runner (:meth:`_cron_check_runner`).
"""

import logging
import re
from contextlib import contextmanager
from datetime import timedelta

import psycopg2
from apicenter_sync.i18n import msg, render
from apicenter_sync.outage import Outage, system_name
from apicenter_sync.redact import mask_emails, redact_text

from odoo import api, fields, models
from odoo.modules import module as odoo_module

from .chatter_text import post, said_html, said_join, said_msg
from .engine_text import data_text, shown
from .odoo_series import before

_logger = logging.getLogger(__name__)

OUTAGE_LOCK = 0x4F555447  # "OUTG": advisory lock key space; the second key is the backend id
OUTAGE_SYSTEMS = [("accountview", "AccountView"), ("mplus", "MplusKASSA"), ("runner", "Job runner")]
OUTAGE_KINDS = [("unreachable", "Cannot be reached"), ("access", "Access refused"), ("runner", "Jobs not started")]
FRESHNESS = [("none", "Not scheduled"), ("fresh", "Up to date"), ("late", "Late"), ("failing", "Overdue")]
# Defaults of the settings (Settings > APIcenter; ir.config_parameter apicenter_connector.<name>).
LATE_AFTER_INTERVALS = 2
FAILING_AFTER_INTERVALS = 4
RUNNER_STALL_MINUTES = 15
QUEUED_STATES = ("pending", "enqueued")
_FLOW_OF_JOB = re.compile(r"^apicenter\.flow\((\d+)\)\.")


def _param(env, name, default):
    value = env["ir.config_parameter"].sudo().get_param(f"apicenter_connector.{name}", default)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


class ApicenterOutage(models.Model):
    _name = "apicenter.outage"
    _description = "APIcenter Outage of a Flow"
    _order = "since, id"

    flow_id = fields.Many2one("apicenter.flow", required=True, ondelete="cascade", index=True)
    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    system = fields.Selection(OUTAGE_SYSTEMS, required=True)
    kind = fields.Selection(OUTAGE_KINDS, required=True)
    since = fields.Datetime(required=True)
    reason = fields.Text(help="Why the flow's last run stopped, in English (searchable).")
    reason_data = fields.Text(help="The engine's message of the reason (JSON), shown in each reader's language.")

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS apicenter_outage_flow_uniq ON apicenter_outage (flow_id)"
        )


class ApicenterFlow(models.Model):
    _inherit = "apicenter.flow"

    outage_ids = fields.One2many("apicenter.outage", "flow_id", string="Outages", readonly=True)
    outage_since = fields.Datetime(
        compute="_compute_outage", help="Since when this flow's runs stop on an outage (a system that cannot be "
        "reached or refuses our access, or a job runner that does not start its jobs); empty: no outage."
    )  # fmt: skip
    outage_system = fields.Selection(OUTAGE_SYSTEMS, compute="_compute_outage")
    outage_kind = fields.Selection(OUTAGE_KINDS, compute="_compute_outage")
    outage_message = fields.Text(string="Outage", compute="_compute_outage")
    freshness = fields.Selection(
        FRESHNESS,
        string="Last Success",
        compute="_compute_freshness",
        help="How long the flow has gone without a successful run, against its interval: late after "
        "late_after_intervals intervals, overdue after failing_after_intervals (Settings > APIcenter). Not scheduled: "
        "the flow is paused, or has neither succeeded nor failed yet.",
    )

    @api.depends("outage_ids.since", "outage_ids.reason", "outage_ids.reason_data")
    @api.depends_context("lang")
    def _compute_outage(self):
        for rec in self:
            outage = rec.sudo().outage_ids[:1]
            rec.outage_since = outage.since
            rec.outage_system = outage.system
            rec.outage_kind = outage.kind
            if outage:
                headline = render(msg(f"outage.{outage.kind}", system=system_name(outage.system)), self.env.lang)
                reason = shown(self.env, outage.reason, outage.reason_data)
                rec.outage_message = headline + (f": {reason}" if reason else "")
            else:
                rec.outage_message = False

    @api.depends("enabled", "interval_minutes", "last_success_at", "outage_since")
    def _compute_freshness(self):
        late = _param(self.env, "late_after_intervals", LATE_AFTER_INTERVALS)
        failing = max(late, _param(self.env, "failing_after_intervals", FAILING_AFTER_INTERVALS))
        now = fields.Datetime.now()
        for rec in self:
            since = rec.last_success_at or rec.outage_since  # never succeeded: counted from the outage's start
            if not rec.enabled or not since:
                rec.freshness = "none"
                continue
            interval = timedelta(minutes=max(1, rec.interval_minutes))
            age = now - since
            rec.freshness = "failing" if age > failing * interval else "late" if age > late * interval else "fresh"

    # --- recording, whatever the job's transaction does --------------------------------------------------------
    @contextmanager
    def _own_transaction(self):
        """An environment on a cursor of its own, committed when the block ends: what is written there stays when
        the job's transaction is rolled back. Locks wait at most 10 s (the job's own transaction might hold one).
        What is written here must not be written by the job's own transaction afterwards (it would meet a row
        changed since its snapshot): the outage rows are written only here.
        Under the Odoo test runner, whose data is never committed, a savepoint of the test's cursor stands in (the
        live test, tests/odoo_live, shows the real thing)."""
        if odoo_module.current_test:
            with self.env.cr.savepoint():
                yield self.env
            return
        with self.env.registry.cursor() as cr:
            # Each statement sees what is committed (not the snapshot of the first one): after waiting for the
            # backend's outage lock, the outages other jobs recorded meanwhile are seen (one notice, not two).
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute("SET LOCAL lock_timeout = '10s'")
            yield self.env(cr=cr)

    def _record_in_own_transaction(self, error, mode, outage):
        """A failed run with ``error`` (the reason of ``outage``), the flow's last run and its outage, committed on
        their own, all or nothing: a job about to be rolled back for a retry, or the runner check, records them."""
        self.ensure_one()
        try:
            with self._own_transaction() as env:
                flow = self.with_env(env).sudo()
                store = flow.backend_id._store()
                run_id = store.log.start_run(flow.flow, "dry_run" if mode == "dry_run" else mode)
                store.log.finish_run(run_id, state="failed", counts={}, error=error)
                flow._set_outage(outage)
                flow._record_result(state="failed", error=error, counts={}, notify=False)
        except psycopg2.Error as exc:
            _logger.warning("APIcenter: the outage run of %s could not be recorded: %s", self.name, exc)
        self.invalidate_recordset()

    def _outage_after_run(self, outage):
        """After a run the job keeps: start, go on with or end this flow's outage, in a transaction of its own (the
        notices are decided under the backend's lock on what is committed: one per outage, not one per job)."""
        self.ensure_one()
        if not outage and not self.sudo().outage_ids:
            return
        try:
            with self._own_transaction() as env:
                self.with_env(env).sudo()._set_outage(outage)
        except psycopg2.Error as exc:
            _logger.warning("APIcenter: the outage state of %s could not be written: %s", self.name, exc)
        self.invalidate_recordset(["outage_ids"])

    def _set_outage(self, outage):
        """This flow is in ``outage`` (an :class:`~apicenter_sync.outage.Outage`), or in none. One message to the
        responsible users when a system's outage starts on the backend, and one when its last flow runs again.
        Call it in :meth:`_own_transaction`."""
        self.ensure_one()
        flow = self.sudo()
        backend = flow.backend_id
        self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", (OUTAGE_LOCK, backend.id))
        Outage_ = self.env["apicenter.outage"].sudo()
        Outage_.invalidate_model()
        current = Outage_.search([("backend_id", "=", backend.id)], order="since desc, id desc")
        before = {o.system: o.since for o in current}  # system -> since when (the earliest flow's start)
        mine = current.filtered(lambda o: o.flow_id == flow)
        now = fields.Datetime.now()
        if outage:
            reason = mask_emails(redact_text(str(outage.reason))) if outage.reason else False
            vals = {"system": outage.system, "kind": outage.kind, "reason": reason,
                    "reason_data": data_text(outage.reason)}  # fmt: skip
            if mine and mine.system == outage.system:
                mine.write(vals)
            else:
                mine.unlink()
                mine = Outage_.create({**vals, "flow_id": flow.id, "backend_id": backend.id, "since": now})
        else:
            mine.unlink()
        remaining = Outage_.search([("backend_id", "=", backend.id)])
        after = set(remaining.mapped("system"))
        for system in sorted(after - set(before)):
            flows = remaining.filtered(lambda o, s=system: o.system == s).flow_id
            backend._outage_notice(system, started=True, outage=outage, flows=flows)
        for system in sorted(set(before) - after):
            backend._outage_notice(system, started=False, since=before[system], until=now)

    # --- the job runner -------------------------------------------------------------------------------------------
    @api.model
    def _cron_check_runner(self):
        """Every few minutes, without the job runner: due jobs of the flows that were not started within
        ``runner_stall_minutes`` are an outage of the job runner (a failed run with the reason, one message); once
        they have been started, the outage ends."""
        limit = _param(self.env, "runner_stall_minutes", RUNNER_STALL_MINUTES)
        now = fields.Datetime.now()
        cutoff = now - timedelta(minutes=limit)
        jobs = self.env["queue.job"].sudo().search(
            [("channel", "=like", "root.apicenter%"), ("state", "in", QUEUED_STATES), before("date_created", cutoff),
             "|", ("eta", "=", False), before("eta", cutoff)], order="id",
        )  # fmt: skip
        due = {}
        for job in jobs:
            match = _FLOW_OF_JOB.match(job.identity_key or "")
            if match:
                due.setdefault(int(match.group(1)), job.eta or job.date_created)
        stalled = self.sudo().browse(list(due)).exists().filtered(lambda f: f.backend_id.active)
        for flow in stalled.filtered(lambda f: f.outage_system != "runner"):
            minutes = int((now - due[flow.id]).total_seconds() // 60)
            reason = msg("outage.runner_stalled", flow=flow._label(), minutes=minutes,
                         due=fields.Datetime.to_string(due[flow.id]) + " UTC", limit=limit)  # fmt: skip
            flow._record_in_own_transaction(reason, "normal", Outage("runner", "runner", reason))
        started = self.env["apicenter.outage"].sudo().search([("system", "=", "runner")]).flow_id - stalled
        for flow in started:
            flow._outage_after_run(None)  # its jobs were started: the runner works again
        return stalled


class ApicenterBackend(models.Model):
    _inherit = "apicenter.backend"

    def _outage_notice(self, system, started, outage=None, flows=None, since=None, until=None):
        """One message in the backend's chatter, sent to its responsible users, in their language."""
        self.ensure_one()
        users = self.responsible_user_ids.filtered("active")
        lang = users[:1].lang or self.env.lang
        stamp = lambda value: fields.Datetime.to_string(value) + " UTC"  # noqa: E731
        if started:
            headline = outage.headline() if outage else msg("outage.unreachable", system=system_name(system))
            subject = msg("outage.started_subject", backend=self.name, headline=headline)
            body = msg("outage.started_body", since=stamp(fields.Datetime.now()), headline=headline,
                       flows=[flow._label() for flow in flows], reason=outage.reason if outage else "")  # fmt: skip
            parts = [body, msg("outage.access_hint")] if outage and outage.kind == "access" else [body]
        else:
            minutes = max(0, int((until - since).total_seconds() // 60)) if since and until else 0
            subject = msg("outage.ended_subject", backend=self.name, system=system_name(system))
            parts = [msg("outage.ended_body", system=system_name(system), until=stamp(until),
                         since=stamp(since or until), minutes=minutes)]  # fmt: skip
        # The reason is a run's error: a server may have echoed an e-mail address in it (docs/privacy.md).
        # Written in the first responsible user's language, read in each reader's (chatter_text.py); said_msg keeps
        # the messages redacted, and they are redacted again when shown.
        body = said_join(*(said_html("<p>%s</p>", said_msg(part)) for part in parts))
        try:
            with self.env.cr.savepoint():  # a notice that cannot be written must not undo what it reports
                post(
                    self.with_context(lang=lang, mail_create_nosubscribe=True, mail_post_autofollow=False),
                    body,
                    subject=said_msg(subject),
                    partner_ids=users.partner_id.ids,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
        except psycopg2.Error as exc:
            _logger.warning("APIcenter: the outage notice of %s could not be written: %s", self.name, exc)
