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
    # queue_job 19.0 keeps no capacity on the channel: its job runner's configuration is the only place
    # (docs/odoo-series.md). Then the page shows what the configuration says, read-only, and where to change it.
    apicenter_capacity_in_runner = fields.Boolean(
        string="Capacities in the Job Runner's Configuration", compute="_compute_apicenter_capacity_in_runner"
    )
    apicenter_runner_channels = fields.Char(
        string="Job Runner Channels", compute="_compute_apicenter_capacity_in_runner",
        help="The channels line of the job runner's configuration on this server ([queue_job] channels in the "
        "configuration file, or ODOO_QUEUE_JOB_CHANNELS).",
    )  # fmt: skip

    def _compute_apicenter_capacity_in_runner(self):
        in_runner = not _capacity_on_channel(self.env)
        for settings in self:
            settings.apicenter_capacity_in_runner = in_runner
            settings.apicenter_runner_channels = _runner_channels() if in_runner else False

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
        runner = _runner_capacities() if not _capacity_on_channel(self.env) else None
        for name, xmlid in CHANNELS.items():
            channel = self.env.ref(xmlid, raise_if_not_found=False)
            if channel and runner is not None:
                values[name] = runner.get(channel.sudo().complete_name, 0)
            elif channel:
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
            if not _capacity_on_channel(self.env):
                break  # queue_job 19.0: read-only here, the job runner's configuration sets them
            if channel and channel.sudo().capacity != self[name]:
                channel.sudo().capacity = self[name]
        return result


def _capacity_on_channel(env):
    """queue_job 18.0 keeps a channel's capacity on the channel (editable here); 19.0 only in its runner's config."""
    return "capacity" in env["queue.job.channel"]._fields


def _runner_channels():
    """The channels line queue_job's job runner reads (environment, then [queue_job] of the configuration file)."""
    from odoo.addons.queue_job.jobrunner.runner import _channels

    return _channels()


def _runner_capacities():
    """{channel full name: capacity} of the job runner's configuration; an unlisted channel is 0 here (its jobs
    run under the closest listed parent's capacity)."""
    from odoo.addons.queue_job.jobrunner.channels import ChannelManager

    capacities = {}
    for channel in ChannelManager.parse_simple_config(_runner_channels()):
        name = channel["name"] if channel["name"].startswith("root") else f"root.{channel['name']}"
        capacities[name] = channel.get("capacity") or 0
    return capacities
