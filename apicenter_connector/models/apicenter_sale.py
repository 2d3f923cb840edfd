# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sales from the till: one row per order, receipt, invoice or till closing the orders flow has seen, in the state
of its latest log line (sent, waiting for articles, waiting for a mapping, retrying, refused, ignored, not
booked), with the reason, the next automatic retry and Retry / Ignore.

A read-only SQL query over ``apicenter.log.line``: nothing is stored twice, so the list can never disagree with
the log. Retry and Ignore act on the sale's open log line, with that model's access checks."""

from odoo import api, fields, models
from odoo.exceptions import UserError

SALE_ENTITIES = ("order", "receipt", "invoice", "closing")
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
    _rec_name = "source_id"

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
    reason = fields.Text(readonly=True, help="Why it waits, was refused or was not booked; what was created.")
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
                l.target_id, l.error AS reason, l.retry_at AS next_retry_at, l.waiting_since, l.attempts,
                l.create_date AS last_seen_at,
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

    def _open_lines(self):
        lines = self.sudo().line_id.filtered(lambda line: line.state in ("failed", "retry", "ignored"))
        if not lines:
            raise UserError(self.env._("Only sales that wait, were refused or were ignored can be retried or ignored."))
        # Back to the user's own rights: the log line checks them (group, company rules).
        return self.env["apicenter.log.line"].browse(lines.ids)

    def action_retry(self):
        """Retry now: the sales' open log lines are marked for retry and the orders flow runs."""
        self.check_access("read")
        result = self._open_lines().action_retry()
        self.invalidate_model()  # the rows are computed from the log lines just changed
        return result

    def action_ignore(self):
        self.check_access("read")
        lines = self._open_lines().filtered(lambda line: line.state != "ignored")
        result = lines.action_ignore() if lines else True
        self.invalidate_model()
        return result

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
