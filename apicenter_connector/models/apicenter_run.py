# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One run of a flow (engine ActivityLog runs)."""

import json

from apicenter_sync.flows.base import counts_text
from apicenter_sync.i18n import render

from odoo import api, fields, models
from odoo.tools.misc import format_datetime

from .apicenter_flow import FLOW_SELECTION, MODES, flow_label
from .engine_record import check_log_kept
from .engine_text import shown

# What makes a run worth its own row in the runs list: it wrote, had records fail or skipped (a decision a
# person may look at), or planned writes (a dry run). A run without any of these (nothing changed) is quiet.
EFFECTS = ("created", "updated", "failed", "waiting", "refused", "skipped", "dry_run")


class ApicenterRun(models.Model):
    _name = "apicenter.run"
    _description = "APIcenter Flow Run"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    flow = fields.Selection(FLOW_SELECTION, required=True, index=True)
    flow_id = fields.Many2one(
        "apicenter.flow", string="Flow Record", compute="_compute_flow_id", store=True, index=True
    )
    mode = fields.Selection(MODES, required=True, default="normal")
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("failed", "Failed"), ("aborted", "Aborted")],
        required=True,
        default="running",
        index=True,
    )
    started_at = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    finished_at = fields.Datetime()
    counts = fields.Text(string="Counts (JSON)", default="{}", help="JSON: records per action.")
    counts_display = fields.Char(string="Counts", compute="_compute_counts_display")
    did_something = fields.Boolean(
        string="Wrote or Failed",
        compute="_compute_did_something",
        store=True,
        index=True,
        help="The run wrote records, had records fail, or stopped. Quiet runs (nothing to do) are folded into one "
        "row that counts them (Quiet Runs).",
    )
    quiet_count = fields.Integer(
        string="Quiet Runs",
        default=0,
        readonly=True,
        help="Runs that found nothing to do, folded into this row (the newest of them); 0 for a run that did "
        "something.",
    )
    error = fields.Text(help="Why the run stopped, in English (searchable).")
    error_data = fields.Text(readonly=True, help="The engine's message of the error (JSON), shown in each reader's "
                             "language.")
    message = fields.Text(string="Stopped Because", compute="_compute_message")
    job_uuid = fields.Char(string="Job UUID", index=True)
    job_id = fields.Many2one("queue.job", ondelete="set null")
    line_ids = fields.One2many("apicenter.log.line", "run_id", string="Log Lines")
    line_count = fields.Integer(compute="_compute_line_count")

    def unlink(self):
        self.check_access("unlink")  # the access rights first: users and managers may not delete runs at all
        check_log_kept(self)
        return super().unlink()

    @api.depends("backend_id.name", "flow", "started_at")
    def _compute_name(self):
        for run in self:  # in English and UTC (what support reads); display_name is in the reader's words
            run.name = f"{render(run._flow_label())}, {run.started_at or ''}"

    @api.depends("backend_id.name", "flow", "started_at")
    @api.depends_context("lang", "tz")
    def _compute_display_name(self):
        for run in self:
            # "Shop / Producten, 7 dec 2026 18:50:31": the flow as its card names it and when the run started, in
            # the reader's language and time zone (the list, the form's breadcrumb, a log line's run).
            tz = self.env.context.get("tz") or self.env.user.tz or "UTC"  # Odoo 19 reads only the user's
            started = format_datetime(self.env, run.started_at, tz=tz, dt_format="medium") if run.started_at else ""
            run.display_name = ", ".join(filter(None, [render(run._flow_label(), self.env.lang), started]))

    def _flow_label(self):
        return flow_label(self.backend_id, self.flow)

    @api.depends("backend_id", "flow")
    def _compute_flow_id(self):
        Flow = self.env["apicenter.flow"].sudo()
        for run in self:
            run.flow_id = Flow.search([("backend_id", "=", run.backend_id.id), ("flow", "=", run.flow)], limit=1)

    @api.depends("error", "error_data")
    @api.depends_context("lang")
    def _compute_message(self):
        for run in self:
            run.message = shown(self.env, run.error, run.error_data)

    @api.depends("counts", "state")
    def _compute_did_something(self):
        for run in self:
            counts = json.loads(run.counts or "{}")
            run.did_something = run.state in ("failed", "aborted") or any(
                counts.get(action) for action in EFFECTS
            )

    @api.depends("counts")
    @api.depends_context("lang")
    def _compute_counts_display(self):
        for run in self:
            counts = json.loads(run.counts or "{}")
            run.counts_display = counts_text(counts, self.env.lang)  # in the reader's words (catalogue runs.count.*)

    def _compute_line_count(self):
        data = self.env["apicenter.log.line"]._read_group([("run_id", "in", self.ids)], ["run_id"], ["__count"])
        counts = {run.id: count for run, count in data}
        for run in self:
            run.line_count = counts.get(run.id, 0)
