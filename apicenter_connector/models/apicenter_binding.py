# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Which target record a source record became, and the hash of what was last written (engine BindingStore)."""

from odoo import fields, models

from .apicenter_log_line import ENTITIES, EntitySelection
from .odoo_series import sql_constraints

# What only a binding is about (what a flow last sent, kept to write nothing twice), beside the log lines' entities.
BINDING_ENTITIES = [
    *ENTITIES,
    ("product", "Till product"),
    ("article_prices", "Article prices"),
    ("relation_pricing", "Relation's price group"),
    ("relation_article_discounts", "Relation's article discounts"),
]


@sql_constraints
class ApicenterBinding(models.Model):
    _name = "apicenter.binding"
    _description = "APIcenter Binding"
    _order = "backend_id, entity, source_id"
    _rec_name = "source_id"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    entity = EntitySelection(BINDING_ENTITIES, required=True)
    source_id = fields.Char(string="Source ID", required=True)
    target_id = fields.Char(string="Target ID")
    payload_hash = fields.Char(help="Hash of the last payload the target holds.")
    pending_hash = fields.Char(help="Hash of the payload being written while pending.")
    state = fields.Selection(
        [("synced", "Synced"), ("pending", "Pending"), ("failed", "Failed")],
        required=True,
        default="synced",
        index=True,
    )
    synced_at = fields.Datetime()
    last_error = fields.Text()
    idempotency_key = fields.Char(help="Sent with the pending write; reused when it is retried.")
    pending_since = fields.Datetime()

    _sql_constraints = [
        (
            "source_uniq",
            "unique(backend_id, entity, source_id)",
            "A source record is bound once per backend and entity.",
        ),
    ]

    def init(self):
        # One source record per target record and entity (a duplicate link is how duplicates get created);
        # NULL target ids (not created yet) are exempt.
        # Plain SQL: odoo.tools.create_unique_index is deprecated on Odoo 19 (docs/odoo-series.md).
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS apicenter_binding_target_uniq"
            " ON apicenter_binding (backend_id, entity, target_id)"
        )
