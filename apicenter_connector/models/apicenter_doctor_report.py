# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The doctor's dated reports (*Check Connection* on the backend): one line per check, kept on the backend.

A report with refuted checks holds the backend's first real run (dry runs still go) until an administrator has
looked at it and confirmed it (*Confirm and Allow Runs*), or a later check confirms everything.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError

STATES = [("confirmed", "All confirmed"), ("refuted", "Refuted"), ("unchecked", "Not everything checked")]
CHECK_STATES = [("confirmed", "Confirmed"), ("refuted", "Refuted"), ("unchecked", "Not checked")]


class ApicenterDoctorReport(models.Model):
    _name = "apicenter.doctor.report"
    _description = "APIcenter Connection Check"
    _order = "checked_at desc, id desc"
    _rec_name = "checked_at"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    checked_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    checked_by_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    state = fields.Selection(STATES, required=True, readonly=True)
    seconds = fields.Float(digits=(10, 1), readonly=True)
    profile_digest = fields.Char(string="API Profile", readonly=True, help="Fingerprint of the profile checked.")
    versions = fields.Char(readonly=True, help="What the systems said they run.")
    confirmed_count = fields.Integer(readonly=True)
    refuted_count = fields.Integer(readonly=True)
    unchecked_count = fields.Integer(string="Not Checked", readonly=True)
    check_ids = fields.One2many("apicenter.doctor.check", "report_id", string="Checks", readonly=True)
    reviewed_by_id = fields.Many2one("res.users", string="Confirmed By", readonly=True)
    reviewed_at = fields.Datetime(string="Confirmed At", readonly=True)
    summary = fields.Char(compute="_compute_summary")

    @api.depends("confirmed_count", "refuted_count", "unchecked_count")
    def _compute_summary(self):
        for report in self:
            report.summary = self.env._(
                "%(confirmed)s confirmed, %(refuted)s refuted, %(unchecked)s not checked",
                confirmed=report.confirmed_count,
                refuted=report.refuted_count,
                unchecked=report.unchecked_count,
            )

    @api.model
    def _from_engine(self, backend, report):
        """Store an :class:`apicenter_sync.doctor.Report` of ``backend``."""
        counts = report.counts()
        return self.sudo().create(
            {
                "backend_id": backend.id,
                "state": report.state,
                "seconds": report.seconds,
                "profile_digest": report.profile_digest,
                "versions": ", ".join(f"{k} {v}" for k, v in report.versions.items()) or False,
                "confirmed_count": counts["confirmed"],
                "refuted_count": counts["refuted"],
                "unchecked_count": counts["unchecked"],
                "check_ids": [
                    fields.Command.create(
                        {
                            "sequence": i,
                            "system": c.system,
                            "check_key": c.id,
                            "subject": c.subject,
                            "status": c.status,
                            "detail": c.detail or False,
                            "hint": c.hint or False,
                            "profile_key": c.profile_key or False,
                        }
                    )
                    for i, c in enumerate(report.checks)
                ],
            }
        )

    def action_confirm(self):
        """An administrator has read the refuted checks and lets the backend run anyway."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only an administrator can confirm a connection check."))
        # Reports are the engine's record (read-only for everybody); the confirmation is written here, checked above.
        self.sudo().write({"reviewed_by_id": self.env.user.id, "reviewed_at": fields.Datetime.now()})
        for report in self:
            report.backend_id.message_post(
                body=self.env._(
                    "Connection check of %(date)s confirmed by %(user)s: runs are allowed despite %(n)s refuted "
                    "check(s).",
                    date=report.checked_at,
                    user=self.env.user.name,
                    n=report.refuted_count,
                )
            )
        return True


class ApicenterDoctorCheck(models.Model):
    _name = "apicenter.doctor.check"
    _description = "APIcenter Connection Check Line"
    _order = "report_id, sequence, id"

    report_id = fields.Many2one("apicenter.doctor.report", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    system = fields.Selection([("accountview", "AccountView"), ("mplus", "MplusKASSA")], required=True)
    check_key = fields.Char(string="Check", required=True)
    subject = fields.Char(required=True)
    status = fields.Selection(CHECK_STATES, required=True, index=True)
    detail = fields.Text(help="What the server answered, or why it could not be checked.")
    hint = fields.Char(string="What to Do")
    profile_key = fields.Char(string="Profile Entry / Setting", help="The API-profile entry, setting or mapping "
                              "table to change when the check is refuted.")  # fmt: skip
