# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rows of the named mapping tables the flows look codes up in (VAT codes, branches, price groups…)."""

from odoo import api, fields, models

# Tables the engine's flows read (README "Mapping tables", docs/flows.md); any other name is allowed too.
KNOWN_TABLES = [
    ("vat_code_av_mplus", "VAT code AccountView → MplusKASSA (products)"),
    ("warehouse_branch", "Warehouse → MplusKASSA branch (stock)"),
    ("customer_group_price_group", "Price list → MplusKASSA price group (customers, prices)"),
    ("vat_method_by_country", "Country → relation VAT method (customers)"),
    ("generated_article_numbers", "Non-numeric SKU → generated article number (written by products)"),
    ("order_status", "Mplus order state → send / skip (orders)"),
    ("order_defaults", "Defaults of an order without payment/shipping method or country (orders)"),
    ("shipping_articles", "Mplus shipping article → AccountView article (orders)"),
    ("payment_method_condition", "Payment method → payment condition (orders)"),
    ("payment_method_journal", "Payment method → journal (orders)"),
    ("shipping_method", "Shipping method → AccountView shipping method (orders)"),
    ("vat_code_by_country", "Country → VAT code (orders)"),
    ("vat_code_by_rate", "VAT rate → VAT code (orders)"),
    ("revenue_account_by_country", "Country → revenue account (orders)"),
    ("revenue_account_by_vat_code", "VAT code → revenue account (orders)"),
    ("turnover_group_revenue_account", "Till turnover group → revenue account (orders)"),
    ("vat_code_mplus_av", "Till VAT code → AccountView VAT code (orders)"),
    ("payment_method_account", "Payment method → ledger account (orders, per till closing)"),
    ("line_articles", "Till article without its own AccountView article → AccountView article (orders)"),
    ("bpe_articles", "Deposit / BPE id → AccountView article (orders)"),
]


class ApicenterMapping(models.Model):
    _name = "apicenter.mapping"
    _description = "APIcenter Mapping Table Row"
    _order = "backend_id, table_name, key"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    table_name = fields.Char(string="Table", required=True, index=True, help="Any name; see Known Table.")
    known_table = fields.Selection(
        KNOWN_TABLES + [("other", "Other")],
        compute="_compute_known_table",
        inverse="_inverse_known_table",
        help="The tables the flows read; pick one to fill in Table.",
    )
    key = fields.Char(required=True)
    value = fields.Char(required=True)

    _sql_constraints = [
        ("row_uniq", "unique(backend_id, table_name, key)", "A mapping table has one row per key."),
    ]

    @api.depends("table_name")
    def _compute_known_table(self):
        known = dict(KNOWN_TABLES)
        for rec in self:
            rec.known_table = rec.table_name if rec.table_name in known else ("other" if rec.table_name else False)

    @api.onchange("known_table")
    def _onchange_known_table(self):
        if self.known_table and self.known_table != "other":
            self.table_name = self.known_table

    def _inverse_known_table(self):
        for rec in self:
            if rec.known_table and rec.known_table != "other":
                rec.table_name = rec.known_table
