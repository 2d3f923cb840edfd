# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sales from the till: one row per order, receipt, invoice or till closing the orders flow has seen, in the state
of its latest log line (sent, waiting for articles, waiting for a mapping, retrying, refused, ignored, not
booked), with the reason, the next automatic retry and Retry / Ignore.

A read-only SQL query over ``apicenter.log.line``: nothing is stored twice, so the list can never disagree with
the log. Retry and Ignore act on the sale's open log line, with that model's access checks."""

from apicenter_sync.flows.sale_facts import SALE_ENTITIES

from odoo import api, fields, models
from odoo.exceptions import UserError

from .change_target import can_open, open_target, target_label, target_of_text
from .engine_text import shown

SALE_STATES = [
    ("sent", "Sent"),
    ("waiting_articles", "Waiting for articles"),
    ("waiting_mapping", "Waiting for a mapping"),
    ("retrying", "Retrying"),
    ("refused", "Refused"),
    ("ignored", "Ignored"),
    ("not_booked", "Not booked"),
]
WAITING_STATES = ("waiting_articles", "waiting_mapping", "retrying")


class ApicenterSale(models.Model):
    _name = "apicenter.sale"
    _description = "APIcenter Sale from the Till"
    _auto = False
    _order = "last_seen_at desc, id desc"
    _rec_name = "display_number"

    line_id = fields.Many2one("apicenter.log.line", string="Latest Log Line", readonly=True)
    backend_id = fields.Many2one("apicenter.backend", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    source = fields.Selection(
        [("order", "Order"), ("receipt", "Receipt"), ("invoice", "Invoice"), ("closing", "Till closing")],
        readonly=True,
    )
    source_id = fields.Char(string="MplusKASSA Reference", readonly=True)
    target_id = fields.Char(string="AccountView Document", readonly=True)
    state = fields.Selection(SALE_STATES, readonly=True)
    reason = fields.Text(string="Reason (English)", readonly=True, help="Why it waits, was refused or was not booked; what was created (in "
                         "English, searchable).")  # fmt: skip
    reason_data = fields.Text(readonly=True)
    message = fields.Text(string="Reason", compute="_compute_message",
                          help="Why it waits, was refused or was not booked; what was created.")  # fmt: skip
    target_label = fields.Char(string="What to Change", compute="_compute_target",
                               help="The mapping table or setting the reason names: Open shows it.")  # fmt: skip
    target_openable = fields.Boolean(string="Can Open What to Change", compute="_compute_target",
                                     help="Open is shown: the API profile opens for administrators only.")  # fmt: skip
    # What the till says about the sale, kept on its log lines (apicenter_sync.flows.sale_facts).
    number = fields.Char(string="Receipt / Invoice No.", readonly=True,
                         help="The till's number of the sale: the receipt or invoice number, the order number.")  # fmt: skip
    display_number = fields.Char(compute="_compute_display_number")
    sale_date = fields.Date(readonly=True)
    branch = fields.Char(readonly=True, help="The till's branch (financial branch number).")
    total = fields.Float(readonly=True, digits=(16, 2), help="Total including VAT, as the till has it.")
    customer = fields.Char(readonly=True, help="The till's relation (name and number); empty: anonymous, or removed "
                           "with the sale's data after the payload retention.")  # fmt: skip
    ignored_by_id = fields.Many2one(related="line_id.ignored_by_id")
    note = fields.Char(related="line_id.note", string="Ignored Because")
    next_retry_at = fields.Datetime(string="Next Retry", readonly=True)
    waiting_since = fields.Datetime(readonly=True, help="Retries stop wait_days (setting) after this.")
    attempts = fields.Integer(readonly=True)
    last_seen_at = fields.Datetime(string="Last Seen", readonly=True)

    @property
    def _table_query(self):
        # A query, not a database view: nothing to create or migrate, always the log's current state. The latest
        # line per sale decides; dry runs plan, they do not change a sale's state.
        entities = ", ".join(f"'{e}'" for e in SALE_ENTITIES)
        return f"""
            SELECT DISTINCT ON (l.backend_id, l.entity, l.source_id)
                l.id AS id, l.id AS line_id, l.backend_id, l.company_id, l.entity AS source, l.source_id,
                l.target_id, l.error AS reason, l.error_data AS reason_data, l.retry_at AS next_retry_at,
                l.waiting_since, l.attempts,
                l.create_date AS last_seen_at, l.till_number AS number, l.till_date AS sale_date,
                l.till_branch AS branch, l.till_total AS total, l.till_customer AS customer,
                CASE
                    WHEN l.state = 'ignored' THEN 'ignored'
                    WHEN l.state IN ('failed', 'retry') AND l.wait = 'articles'
                         AND (l.retry_at IS NOT NULL OR l.state = 'retry') THEN 'waiting_articles'
                    WHEN l.state IN ('failed', 'retry') AND l.wait = 'mapping'
                         AND (l.retry_at IS NOT NULL OR l.state = 'retry') THEN 'waiting_mapping'
                    WHEN l.state = 'retry' OR (l.state = 'failed' AND l.retry_at IS NOT NULL) THEN 'retrying'
                    WHEN l.state = 'failed' THEN 'refused'
                    WHEN l.action IN ('created', 'updated') THEN 'sent'
                    WHEN l.action = 'skipped' AND COALESCE(l.target_id, '') != '' THEN 'sent'
                    ELSE 'not_booked'
                END AS state
            FROM apicenter_log_line l
            WHERE l.flow = 'orders' AND l.entity IN ({entities}) AND l.action != 'dry_run'
              AND COALESCE(l.source_id, '?') != '?'
            ORDER BY l.backend_id, l.entity, l.source_id, l.id DESC
        """

    @api.depends("reason", "reason_data")
    @api.depends_context("lang")
    def _compute_message(self):
        for sale in self:
            sale.message = shown(self.env, sale.reason, sale.reason_data)

    @api.depends("reason", "reason_data")
    @api.depends_context("lang", "uid")
    def _compute_target(self):
        for sale in self:
            target = target_of_text(sale.reason, sale.reason_data)
            sale.target_label = target_label(self.env, *target)
            sale.target_openable = can_open(self.env, target[0])

    def action_open_target(self):
        """What the sale waits for, one click away: the mapping table, the setting on the orders flow's form, or the
        API-profile entry its reason names (the same as the connection check's lines)."""
        self.ensure_one()
        self.check_access("read")
        return open_target(self.env, self.backend_id, *target_of_text(self.reason, self.reason_data), flow="orders")

    @api.depends("number", "source_id")
    def _compute_display_number(self):
        for sale in self:
            sale.display_number = sale.number or sale.source_id

    def _open_lines(self):
        lines = self.sudo().line_id.filtered(lambda line: line.state in ("failed", "retry", "ignored"))
        if not lines:
            raise UserError(self.env._("Only sales that wait, were refused or were ignored can be retried or ignored."))
        # Back to the user's own rights: the log line checks them (group, company rules).
        return self.env["apicenter.log.line"].browse(lines.ids)

    def action_retry(self):
        """Retry now: the sales' open log lines are marked for retry and the orders flow runs; a notification says
        so and the list reloads."""
        self.check_access("read")
        lines = self._open_lines()
        lines.action_retry()
        self.invalidate_model()  # the rows are computed from the log lines just changed
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Retry started"),
                "message": self.env._(
                    "%s sale(s) will be sent again by the orders flow, which starts now. Their state here changes "
                    "once it has run.",
                    len(lines),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_ignore(self):
        """Ignore asks why (apicenter.sale.ignore): the reason and the user are kept on the sale's log line."""
        self.check_access("read")
        lines = self._open_lines().filtered(lambda line: line.state != "ignored")
        if not lines:
            raise UserError(self.env._("These sales are ignored already."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Ignore sales"),
            "res_model": "apicenter.sale.ignore",
            "view_mode": "form",
            "target": "new",
            "context": {"default_sale_ids": [fields.Command.set(self.ids)]},
        }

    def action_open_sale(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "apicenter.sale",
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_open_line(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "apicenter.log.line",
            "res_id": self.line_id.id,
            "view_mode": "form",
            "target": "current",
        }

    @api.model
    def _counts(self, backend_ids):
        """{(backend id, state): number of sales} for the dashboard."""
        groups = self.sudo()._read_group([("backend_id", "in", backend_ids)], ["backend_id", "state"], ["__count"])
        return {(backend.id, state): count for backend, state, count in groups}


class ApicenterSaleIgnore(models.TransientModel):
    """Ignore sales with a reason: who ignored them and why stays on their log lines (and in the sales list)."""

    _name = "apicenter.sale.ignore"
    _description = "APIcenter: Ignore Sales"

    sale_ids = fields.Many2many("apicenter.sale", string="Sales")
    reason = fields.Text(required=True, help="Why these sales are not booked: kept with your name on each sale.")

    def action_confirm(self):
        self.ensure_one()
        self.check_access("write")
        self.sale_ids.check_access("read")
        lines = self.sale_ids._open_lines().filtered(lambda line: line.state != "ignored")
        note = self.env._("%(reason)s (ignored by %(user)s)", reason=self.reason.strip(), user=self.env.user.name)
        lines.with_context(apicenter_ignore_note=note[:250]).action_ignore()
        lines.sudo().write({"ignored_by_id": self.env.user.id})  # log lines are the store's: written as superuser
        self.sale_ids.invalidate_model()
        return {"type": "ir.actions.act_window_close"}

