# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Registry settings without a field of their own, as JSON values: backend-wide (no flow) or for one flow.

Resolution (``OdooStore.settings``): the flow's field, else the flow's row here, else the backend-wide row, else
the registry default. Values are validated with ``apicenter_sync.settings.validate`` on save.
"""

import json

from apicenter_sync import settings as registry
from apicenter_sync.i18n import Msg, render, setting_ref

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .engine_text import error_text

# Settings only an administrator sets (where credentials may be sent): a row cannot widen them either.
ADMIN_SETTINGS = ("allowed_hosts",)


class ApicenterSetting(models.Model):
    _name = "apicenter.setting"
    _description = "APIcenter Setting Value"
    _order = "backend_id, flow_id, name"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    flow_id = fields.Many2one(
        "apicenter.flow",
        ondelete="cascade",
        index=True,
        domain="[('backend_id', '=', backend_id)]",
        help="Empty: the backend-wide value used by every flow without a value of its own.",
    )
    # Named in words, as the settings form labels them (catalogue settings.<id>; nl.po/pl.po give the same words);
    # the id stays beside them for support (Setting Id).
    name = fields.Selection(
        [(s.name, str(setting_ref(s.name))) for s in registry.SETTINGS], string="Setting", required=True
    )
    setting_id = fields.Char(string="Setting Id", compute="_compute_setting_id", help="The setting's id (support).")
    value = fields.Char(required=True, help='JSON: true/false, a number, "text" or ["a", "b"].')
    help = fields.Text(compute="_compute_help")

    @api.model_create_multi
    def create(self, vals_list):
        self._check_admin_settings([vals.get("name") for vals in vals_list])
        return super().create(vals_list)

    def write(self, vals):
        self._check_admin_settings(self.mapped("name") + [vals.get("name")])
        return super().write(vals)

    def unlink(self):
        self._check_admin_settings(self.mapped("name"))
        return super().unlink()

    def _check_admin_settings(self, names):
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        names = sorted({n for n in names if n in ADMIN_SETTINGS})
        if names:
            raise AccessError(self.env._("Only an administrator can set %s.", ", ".join(names)))

    @api.depends("name")
    def _compute_setting_id(self):
        for rec in self:
            rec.setting_id = rec.name or False

    @api.depends("name")
    @api.depends_context("lang")
    def _compute_help(self):
        for rec in self:  # in the reader's language (catalogue settings.help.<name>)
            rec.help = render(Msg(f"settings.help.{rec.name}"), self.env.lang) if rec.name else False

    @api.constrains("backend_id", "flow_id", "name", "value")
    def _check_value(self):
        for rec in self:
            if rec.flow_id and rec.flow_id.backend_id != rec.backend_id:
                raise ValidationError(self.env._("The flow belongs to another backend."))
            flow = rec.flow_id.flow or None
            try:
                value = json.loads(rec.value)
            except ValueError:
                raise ValidationError(
                    self.env._("Setting %(name)s: %(value)s is not JSON.", name=rec.name, value=rec.value)
                ) from None
            try:
                registry.validate(rec.name, value, flow)
            except registry.SettingError as exc:
                raise ValidationError(error_text(self.env, exc)) from None
            twins = self.search_count(
                [
                    ("backend_id", "=", rec.backend_id.id),
                    ("flow_id", "=", rec.flow_id.id),
                    ("name", "=", rec.name),
                    ("id", "!=", rec.id),
                ]
            )
            if twins:
                raise ValidationError(self.env._("Setting %s is set twice at the same level.", rec.name))
