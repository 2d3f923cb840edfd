# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One record touched by a run (engine ActivityLog lines), with Retry / Ignore on open failures."""

import json

from apicenter_sync.i18n import steps_in

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

from .apicenter_flow import FLOW_SELECTION
from .change_target import can_open, open_target, target_label, target_of_text
from .engine_text import shown

OPEN_STATES = ("failed", "retry")
# What a log line is about (the engine's entity codes), named as the screens name them elsewhere: a sale's source
# (apicenter.sale), a flow (Stock), the API profile. The code is what the engine and the command line use.
ENTITIES = [
    ("article", "Article"),
    ("group", "Article group"),
    ("removed_article", "Article removed from AccountView"),
    ("relation", "Relation"),
    ("stock", "Stock"),
    ("price_list", "Price list"),
    ("debtor", "Debtor"),
    ("debtor_article_discount", "Debtor's article discounts"),
    ("order", "Order"),
    ("receipt", "Receipt"),
    ("invoice", "Invoice"),
    ("closing", "Till closing"),
    ("profile", "API profile"),
]


class EntitySelection(fields.Selection):
    """A selection that keeps any code: the engine may log an entity this list does not name yet, and its log line
    must still be written (never lost for a label); the screens then show its code."""

    def convert_to_cache(self, value, record, validate=True):
        return super().convert_to_cache(value, record, validate=False)


class ApicenterLogLine(models.Model):
    _name = "apicenter.log.line"
    _description = "APIcenter Log Line"
    _order = "id desc"
    _rec_name = "source_id"

    run_id = fields.Many2one("apicenter.run", required=True, ondelete="cascade", index=True)
    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    flow = fields.Selection(FLOW_SELECTION, required=True, index=True)
    entity = EntitySelection(ENTITIES, required=True, index=True)
    direction = fields.Selection(
        [("av_to_mplus", "AccountView → MplusKASSA"), ("mplus_to_av", "MplusKASSA → AccountView")], required=True
    )
    source_id = fields.Char(string="Source ID", index=True)
    target_id = fields.Char(string="Target ID", index=True)
    action = fields.Selection(
        [
            ("created", "Created"),
            ("updated", "Updated"),
            ("skipped", "Skipped"),
            ("unchanged", "Unchanged"),
            ("failed", "Failed"),
            ("dry_run", "Dry run"),
        ],
        required=True,
        index=True,
    )
    state = fields.Selection(
        [
            ("ok", "OK"),
            ("failed", "Failed"),
            ("retry", "Retry requested"),
            ("ignored", "Ignored"),
            ("resolved", "Resolved"),
            ("superseded", "Superseded"),
        ],
        required=True,
        default="ok",
        index=True,
    )
    attempts = fields.Integer(default=1)
    error = fields.Text(help="The error or note in English (searchable).")
    error_data = fields.Text(readonly=True, help="The engine's message (JSON), shown in each reader's language.")
    message = fields.Text(compute="_compute_message")
    target_label = fields.Char(string="What to Change", compute="_compute_target",
                               help="The mapping table, setting or API-profile entry the error names.")  # fmt: skip
    target_openable = fields.Boolean(string="Can Open What to Change", compute="_compute_target",
                                     help="Open is shown: the API profile opens for administrators only.")  # fmt: skip
    note = fields.Char(help="Why the failure was ignored.")
    ignored_by_id = fields.Many2one("res.users", readonly=True, ondelete="set null")
    source_payload = fields.Text(help="JSON, secrets redacted.")
    target_payload = fields.Text(help="JSON, secrets redacted.")
    reply = fields.Text(help="JSON, secrets redacted.")
    payload_purged = fields.Boolean(readonly=True)
    # A sale's facts as the till has them (apicenter_sync.flows.sale_facts): kept after the payload is purged, so
    # Sales from the Till still shows and finds them; the customer, personal data, goes with the payload.
    till_number = fields.Char(string="Receipt / Invoice No.", readonly=True, index=True)
    till_date = fields.Date(string="Sale Date", readonly=True)
    till_branch = fields.Char(string="Branch", readonly=True)
    till_total = fields.Float(string="Total", digits=(16, 2), readonly=True)
    till_customer = fields.Char(string="Customer", readonly=True)
    retry_at = fields.Datetime(help="Failed lines: earliest automatic retry; empty = waits for a user.")
    wait = fields.Selection(
        [("articles", "Articles"), ("mapping", "A mapping or setting")],
        string="Waiting For",
        readonly=True,
        help="A failed sale that waits for master data a person adds: retried with backoff for wait_days days "
        "(setting), not a number of tries.",
    )
    waiting_since = fields.Datetime(readonly=True, help="When the record began to wait (kept across attempts).")
    job_id = fields.Many2one(related="run_id.job_id", string="Job")
    source_payload_pretty = fields.Text(string="Source (formatted)", compute="_compute_pretty_payloads")
    target_payload_pretty = fields.Text(string="Sent (formatted)", compute="_compute_pretty_payloads")
    reply_pretty = fields.Text(string="Reply (formatted)", compute="_compute_pretty_payloads")
    is_open = fields.Boolean(compute="_compute_is_open", search="_search_is_open", string="Open Failure")

    def init(self):
        # The sales list (apicenter.sale) takes the latest line per record.
        tools.create_index(
            self.env.cr,
            "apicenter_log_line_record_latest_idx",
            self._table,
            ["backend_id", "flow", "entity", "source_id", "id DESC"],
        )

    @api.depends("error", "error_data")
    @api.depends_context("lang")
    def _compute_message(self):
        for line in self:
            line.message = shown(self.env, line.error, line.error_data)

    @api.depends("error", "error_data")
    @api.depends_context("lang", "uid")
    def _compute_target(self):
        for line in self:
            target = target_of_text(line.error, line.error_data)
            line.target_label = target_label(self.env, *target)
            line.target_openable = can_open(self.env, target[0])

    def action_open_target(self):
        """One click from the error to what must change (the same as the connection check's lines)."""
        self.ensure_one()
        self.check_access("read")
        return open_target(self.env, self.backend_id, *target_of_text(self.error, self.error_data), flow=self.flow)

    @api.depends("source_payload", "target_payload", "reply")
    @api.depends_context("lang")
    def _compute_pretty_payloads(self):
        for line in self:
            line.source_payload_pretty = self._pretty_json(line.source_payload)
            line.target_payload_pretty = self._pretty_json(line.target_payload)
            # The booking's steps in the reader's language (kept as messages beside their English text).
            line.reply_pretty = self._pretty_json(line.reply, lambda reply: steps_in(reply, self.env.lang))

    @api.model
    def _pretty_json(self, text, shown=None):
        """``text`` re-indented when it is JSON (passed through ``shown`` first), else as is."""
        if not text:
            return False
        try:
            data = json.loads(text)
        except ValueError:
            return text
        return json.dumps(shown(data) if shown else data, ensure_ascii=False, indent=2, sort_keys=True)

    @api.depends("state")
    def _compute_is_open(self):
        for line in self:
            line.is_open = line.state in OPEN_STATES

    def _search_is_open(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on Open Failure."))
        positive = (operator == "=") == bool(value)
        return [("state", "in" if positive else "not in", OPEN_STATES)]

    def _check_open(self):
        closed = self.filtered(lambda line: line.state not in OPEN_STATES + ("ignored",))
        if closed:
            raise UserError(self.env._("Only open failures can be retried or ignored."))

    def action_retry(self):
        """Mark open (or ignored) failures for retry and run their flows now.

        Users retry and ignore; they cannot write log lines (the store writes them, as superuser)."""
        self.check_access("read")
        self._check_open()
        flows = self.env["apicenter.flow"]
        for backend in self.backend_id:
            lines = self.filtered(lambda line, b=backend: line.backend_id == b)
            backend._store().log.mark_retry(lines.ids)
            flows |= (
                self.env["apicenter.flow"]
                .sudo()
                .search([("backend_id", "=", backend.id), ("flow", "in", lines.mapped("flow"))])
            )
        self.invalidate_recordset()
        flows._enqueue("normal")
        return True

    def action_ignore(self):
        self.check_access("read")
        self._check_open()
        note = self.env.context.get("apicenter_ignore_note") or self.env._("Ignored by %s", self.env.user.name)
        for backend in self.backend_id:
            lines = self.filtered(lambda line, b=backend: line.backend_id == b)
            backend._store().log.mark_ignored(lines.ids, note)
        self.invalidate_recordset()
        return True

    @api.model
    def _payload_text(self, value):
        return json.dumps(value, ensure_ascii=False, indent=2, default=str) if value is not None else False
