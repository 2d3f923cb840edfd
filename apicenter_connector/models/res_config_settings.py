# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Settings > APIcenter: retention of the activity log, alerting, and the capacity of the job channels."""

from apicenter_sync import settings as registry

from odoo import api, fields, models

from .apicenter_flow_outage import FAILING_AFTER_INTERVALS, LATE_AFTER_INTERVALS, RUNNER_STALL_MINUTES

CHANNELS = {
    "apicenter_capacity_total": "apicenter_connector.channel_apicenter",
    "apicenter_capacity_accountview": "apicenter_connector.channel_apicenter_accountview",
    "apicenter_capacity_mplus": "apicenter_connector.channel_apicenter_mplus",
}
RETENTION = {
    "apicenter_payload_retention_days": "payload_retention_days",
    "apicenter_metadata_retention_days": "metadata_retention_days",
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    apicenter_payload_retention_days = fields.Integer(
        string="Keep Payloads (days)",
        default=registry.get_setting("payload_retention_days").default,
        help="Payloads of the activity log are cleared after this many days (applied to every backend).",
    )
    apicenter_metadata_retention_days = fields.Integer(
        string="Keep Log Metadata (days)",
        default=registry.get_setting("metadata_retention_days").default,
        help="Runs and log lines are deleted after this many days (applied to every backend).",
    )
    apicenter_alert_period_minutes = fields.Integer(
        string="Alert Digest Period (minutes)",
        config_parameter="apicenter_connector.alert_period_minutes",
        default=60,
        help="At most one failure notification per flow in this period.",
    )
    apicenter_alert_open_failures = fields.Integer(
        string="Failing Above (open failures)",
        config_parameter="apicenter_connector.alert_open_failures",
        default=50,
        help="A flow with this many open failures is shown red on the dashboard (0: never).",
    )
    apicenter_late_after_intervals = fields.Integer(
        string="Late After (intervals)",
        config_parameter="apicenter_connector.late_after_intervals",
        default=LATE_AFTER_INTERVALS,
        help="A scheduled flow without a successful run for this many of its intervals is shown orange (late).",
    )
    apicenter_failing_after_intervals = fields.Integer(
        string="Overdue After (intervals)",
        config_parameter="apicenter_connector.failing_after_intervals",
        default=FAILING_AFTER_INTERVALS,
        help="A scheduled flow without a successful run for this many of its intervals is shown red (overdue).",
    )
    apicenter_runner_stall_minutes = fields.Integer(
        string="Job Runner Stalled After (minutes)",
        config_parameter="apicenter_connector.runner_stall_minutes",
        default=RUNNER_STALL_MINUTES,
        help="A due flow job the job runner has not started after this many minutes is reported as an outage of the "
        "job runner: a failed run with the reason and one message to the responsible users.",
    )
    apicenter_capacity_total = fields.Integer(string="All APIcenter Jobs", help="Channel root.apicenter.")
    apicenter_capacity_accountview = fields.Integer(
        string="Jobs reading AccountView", help="Channel root.apicenter.accountview."
    )
    apicenter_capacity_mplus = fields.Integer(string="Jobs reading MplusKASSA", help="Channel root.apicenter.mplus.")

    @api.model
    def get_values(self):
        # An @api.model method any logged-in user (a portal user too) can call over RPC, and it reads backends and
        # channels as superuser: only those who may read the settings get them.
        self.check_access("read")
        values = super().get_values()
        backend = self.env["apicenter.backend"].sudo().search([], limit=1)
        if backend:
            for name, setting in RETENTION.items():
                values[name] = backend[setting]
        for name, xmlid in CHANNELS.items():
            channel = self.env.ref(xmlid, raise_if_not_found=False)
            if channel:
                values[name] = channel.sudo().capacity
        return values

    def set_values(self):
        self.check_access("write")  # on an empty recordset over RPC every figure would read as 0: purge everything
        result = super().set_values()
        backends = self.env["apicenter.backend"].sudo().with_context(active_test=False).search([])
        retention = {setting: self[name] for name, setting in RETENTION.items()}
        changed = backends.filtered(lambda b: any(b[k] != v for k, v in retention.items()))
        if changed:
            changed.write(retention)
        for name, xmlid in CHANNELS.items():
            channel = self.env.ref(xmlid, raise_if_not_found=False)
            if channel and channel.sudo().capacity != self[name]:
                channel.sudo().capacity = self[name]
        return result
