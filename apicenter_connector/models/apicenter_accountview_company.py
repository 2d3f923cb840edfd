# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The AccountView companies the connected user can see (``GET /companies``), to choose one when there are several."""

from odoo import fields, models

from .chatter_text import Said, post


class ApicenterAccountviewCompany(models.Model):
    _name = "apicenter.accountview.company"
    _description = "APIcenter AccountView Company"
    _order = "backend_id, code, id"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    av_id = fields.Char(string="Company Id", required=True)
    code = fields.Char()
    name = fields.Char()
    selected = fields.Boolean(compute="_compute_selected")

    def _compute_selected(self):
        for rec in self:
            rec.selected = rec.av_id == rec.backend_id.av_company_id

    def action_use(self):
        """Work in this company: it becomes the backend's x-company."""
        self.ensure_one()
        self.check_access("read")
        self.backend_id.check_access("write")
        # The code and name are AccountView's (written as the engine would); the choice is the manager's.
        self.backend_id.sudo().write(
            {"av_company_id": self.av_id, "av_company_code": self.code, "av_company_name": self.name}
        )
        post(self.backend_id, Said._("AccountView company set to %s.", self.name or self.av_id))
        return True
