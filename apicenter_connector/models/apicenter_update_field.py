# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from apicenter_sync import settings as registry

from odoo import fields, models

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

    def init(self):
        # Runs at every install/update: the choices of the registry are the list of records.
        choices = registry.get_setting("update_fields").choices or ()
        existing = set(self.sudo().search([]).mapped("code"))
        self.sudo().create(
            [
                {"code": code, "name": code.replace("_", " ").capitalize(), "sequence": 10 * (i + 1)}
                for i, code in enumerate(choices)
                if code not in existing
            ]
        )
