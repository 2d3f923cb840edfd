# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Where a flow's stream resumes reading (engine WatermarkStore)."""

from odoo import fields, models

from .apicenter_flow import FLOW_SELECTION
from .odoo_series import sql_constraints


@sql_constraints
class ApicenterWatermark(models.Model):
    _name = "apicenter.watermark"
    _description = "APIcenter Watermark"
    _order = "backend_id, flow, stream"
    _rec_name = "stream"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    flow = fields.Selection(FLOW_SELECTION, required=True)
    stream = fields.Char(required=True, default="default")
    value = fields.Char(
        help="ISO timestamp (AccountView date window) or Mplus syncMarker; empty = from the start. A stream named "
        "'…:cursor' holds where a read that stopped midway (job share done, or a crash) goes on: the key after "
        "which it reads and the watermark it is heading for."
    )
    processed_ids = fields.Text(
        default="[]", help="JSON list of the ids already processed at exactly this value (overlap window)."
    )

    _sql_constraints = [
        ("stream_uniq", "unique(backend_id, flow, stream)", "One watermark per backend, flow and stream."),
    ]
