# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OAuth tokens of a backend's AccountView connection, kept apart from the backend row.

Only :class:`~.token_store.OdooTokenStore` writes here, in its own committed cursor, so a rotated refresh token
survives a job that is rolled back afterwards. A separate table also means that cursor never waits on, or
conflicts with, a transaction that is editing the backend itself.
"""

from datetime import UTC, datetime

from odoo import api, fields, models

from .odoo_series import sql_constraints


@sql_constraints
class ApicenterBackendToken(models.Model):
    _name = "apicenter.backend.token"
    _description = "APIcenter AccountView OAuth Tokens"
    _order = "backend_id"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    access_token = fields.Char(groups="base.group_system")
    refresh_token = fields.Char(groups="base.group_system")
    expires_at = fields.Float(help="UNIX time; 0 = unknown", groups="base.group_system")
    expires_at_dt = fields.Datetime(string="Expires", compute="_compute_expires_at_dt", groups="base.group_system")
    scope = fields.Char(groups="base.group_system")

    _sql_constraints = [("backend_uniq", "unique(backend_id)", "A backend has one set of tokens.")]

    @api.depends("expires_at")
    def _compute_expires_at_dt(self):
        for token in self:
            token.expires_at_dt = (
                datetime.fromtimestamp(token.expires_at, UTC).replace(tzinfo=None) if token.expires_at else False
            )
