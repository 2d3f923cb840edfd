# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from apicenter_sync import settings as registry
from apicenter_sync.i18n import Msg, catalogue, render

from odoo import api, fields, models

from .odoo_series import sql_constraints


@sql_constraints
class ApicenterUpdateField(models.Model):
    """A field group of the products flow's ``update_fields`` setting (records generated from the registry)."""

    _name = "apicenter.update.field"
    _description = "APIcenter Product Field Group Updated in MplusKASSA"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [("code_uniq", "unique(code)", "Field group codes are unique.")]

    @api.depends("name", "code")
    @api.depends_context("lang")
    def _compute_display_name(self):
        # The records are made from the registry (init), not data files, so .po files cannot translate their names:
        # the catalogue names each group, in the reader's language.
        for rec in self:
            key = f"settings.choices.update_fields.{rec.code}"
            rec.display_name = render(Msg(key), self.env.lang) if key in catalogue() else rec.name

    def init(self):
        # Runs at every install/update: the choices of the registry are the list of records.
        choices = registry.get_setting("update_fields").choices or ()
        existing = set(self.sudo().search([]).mapped("code"))
        self.sudo().create(
            [
                {"code": code, "name": Msg(f"settings.choices.update_fields.{code}"), "sequence": 10 * (i + 1)}
                for i, code in enumerate(choices)
                if code not in existing
            ]
        )
