# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A flow of a backend: its schedule, its settings, and the jobs that run it through the engine."""

import io
import json
import logging
import shutil
import tempfile
import zipfile
from datetime import UTC, timedelta
from pathlib import Path

import psycopg2
from apicenter_sync import settings as registry
from apicenter_sync.engine import FLOWS, NEEDS, RUN_ORDER
from apicenter_sync.errors import ConfigError
from apicenter_sync.flows.base import RunOptions, counts_msgs, counts_text
from apicenter_sync.i18n import Msg, msg, render
from apicenter_sync.outage import outage_of
from apicenter_sync.redact import mask_emails, redact_text
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.queue_job.exception import RetryableJobError

from .apicenter_mapping import allowed_text
from .apicenter_sale import WAITING_STATES
from .chatter_text import Said, post, rendered, said_html, said_join, said_label, said_list, said_msg
from .engine_record import check_engine_fields
from .engine_text import data_text, error_text, shown, stored
from .odoo_series import sql_constraints
from .setting_fields import field_value, read_setting, setting_field

_logger = logging.getLogger(__name__)

# Key space of our PostgreSQL advisory locks ("APIC"); the second key is the flow id.
LOCK_NAMESPACE = 0x41504943
# Which system a flow reads from decides its job channel: one channel per system limits load on each API.
SOURCE_SYSTEM = {"orders": "mplus"}
FLOW_SELECTION = [(name, name.capitalize()) for name in RUN_ORDER]
MODES = [("normal", "Normal"), ("full", "Full re-sync"), ("dry_run", "Dry run")]
# Binding entities each flow writes: their pending/failed bindings are part of the flow's backlog.
FLOW_BINDING_ENTITIES = {
    "products": ("product", "article", "group"),
    "customers": ("relation",),
    "stock": ("stock",),
    "prices": ("article_prices", "relation_pricing", "relation_article_discounts"),
    "orders": ("order", "debtor"),
}
HEALTH = [("never", "Not run yet"), ("ok", "Healthy"), ("warning", "Attention"), ("danger", "Failing")]
# Kanban highlight colours (Odoo's colour index): red, orange, green.
HEALTH_COLOR = {"danger": 1, "warning": 2, "ok": 10, "never": 0}
HEALTH_ORDER = ("never", "ok", "warning", "danger")
# The age of the last success against the interval (apicenter_flow_outage.py) makes a card orange, then red.
FRESHNESS_HEALTH = {"late": "warning", "failing": "danger"}
FAILED_RUN_STREAK = 3  # this many failed runs in a row make a flow "failing" (red)
WAIT_FOR_NEEDED_SECONDS = 5  # a job whose flow needs a flow still running tries again this much later
ACTIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")
ALERT_ERRORS = 5  # the digest shows this many record errors
# Registry settings with an explicit field on the flow; every other flow setting is an apicenter.setting row.
FLOW_SETTING_FIELDS = (
    "enabled",
    "interval_minutes",
    "batch_size",
    "batches_per_job",
    "dry_run",
    "max_attempts",
    "retry_delay_seconds",
    "overlap_seconds",
    "order_type",
    "source_document_type",
    "receipt_booking",
    "closing_journal",
    "wait_days",
    "employee_number",
    "default_debtor_mode",
    "default_debtor_number",
    "shipping_article",
    "non_numeric_sku",
    "inactive_articles",
    "removed_check_hours",
    "company_rule",
    "update_fields",
    "prices_include_vat",
    "currency",
    "filter_groups",
    "filter_field",
    "filter_value",
    "generated_number_base",
    "stock_figure",
    "stock_field",
    "manage_stock",
    "run_budget_seconds",
    "write_concurrency",
    "sales_journal",
    "closing_overlap_days",
    "other_line_article",
    "cash_rounding_article",
    "cash_rounding_account",
    "cash_rounding_vat_code",
    "shipping_revenue_account",
    "skip_price_lists",
    "sync_relation_pricing",
    "default_price_group",
)
# Settings whose value is a code the systems list (Load Choices): picked, and checked against the list on save.
SETTING_CHOICES = {
    "sales_journal": "av_journal",
    "closing_journal": "av_journal",
    "cash_rounding_account": "av_account",
    "cash_rounding_vat_code": "av_vat_code",
    "shipping_revenue_account": "av_account",
    "default_price_group": "mplus_price_group",
    "shipping_article": "av_article",
    "other_line_article": "av_article",
    "cash_rounding_article": "av_article",
    "skip_price_lists": "customer_group",  # a list: each code must be listed (the tags picker below)
}
# ...those of one code, each with a "<name>_choice_id" picker.
PICKED_SETTINGS = [name for name in SETTING_CHOICES if registry.get_setting(name).type is not list]


def flow_label(backend, flow):
    """A flow of ``backend`` as the screens name it, as a message (rendered in each reader's language): "Shop /
    Products". A flow's and a run's names are this."""
    return msg("runs.flow_of", backend=backend.name or "", flow=Msg(f"runs.flow.{flow}"))


def check_setting_values(record, names, flow):
    """Validate field values with the registry; raise ValidationError with the engine's message."""
    for name in names:
        if name not in record._fields:
            continue
        setting = registry.get_setting(name)
        if flow is not None and flow not in setting.flows:
            continue  # a field of another flow: its value is not used here
        try:
            registry.validate(name, read_setting(record, name), flow)
        except registry.SettingError as exc:
            raise ValidationError(error_text(record.env, exc)) from None


def choice_picker(kind, string):
    """A picker of the codes of ``kind`` loaded for the backend (Load Choices); choosing one fills the setting.
    Each has its own label: Odoo warns about two fields of a model with the same one."""
    return fields.Many2one(
        "apicenter.mapping.choice",
        string=string,
        store=False,
        domain=f"[('backend_id', '=', backend_id), ('kind', '=', '{kind}')]",
        help="The codes loaded from the systems (backend: Load Choices); picking one fills the setting.",
    )


def check_setting_choices(record, kinds, flow):
    """A setting whose value is a code the systems list must be one of them, once they are loaded."""
    Choice = record.env["apicenter.mapping.choice"].sudo()
    for name, kind in kinds.items():
        setting = registry.get_setting(name)
        if flow is not None and flow not in setting.flows:
            continue
        value = read_setting(record, name)
        values = value if isinstance(value, list) else [str(value or "").strip()]
        if setting.type is not list and values[0] in ("", str(setting.default)):
            continue  # empty, or the shipped default: the doctor checks those
        choices = {c.value: c.label for c in Choice.search([("backend_id", "=", record.backend_id.id), ("kind", "=", kind)])}
        if setting.type is list:  # the prices flow compares price-list codes in capitals
            listed = {v.upper() for v in choices}
            value = next((v for v in values if v.upper() not in listed), "")
        else:
            value = values[0]
        if choices and value and value not in choices:
            raise ValidationError(
                record.env._(
                    "%(setting)s: “%(value)s” is not one the systems list. Allowed: %(allowed)s. (Load Choices again if "
                    "it was added there since.)",
                    setting=record._fields[name].get_description(record.env)["string"],
                    value=value,
                    allowed=allowed_text(choices, value),
                )
            )


def _default_update_fields(model):
    codes = registry.get_setting("update_fields").default_value()
    return model.env["apicenter.update.field"].search([("code", "in", codes)])


@sql_constraints
class ApicenterFlow(models.Model):
    _name = "apicenter.flow"
    _description = "APIcenter Flow"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "backend_id, sequence, id"

    name = fields.Char(compute="_compute_name", store=True)
    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    flow = fields.Selection(FLOW_SELECTION, required=True)
    sequence = fields.Integer(default=10)
    available = fields.Boolean(compute="_compute_available", help="The installed engine implements this flow.")
    direction = fields.Selection(
        [("av_to_mplus", "AccountView → MplusKASSA"), ("mplus_to_av", "MplusKASSA → AccountView")],
        compute="_compute_name",
        store=True,
    )
    # --- settings of the registry (types, defaults, choices and help from apicenter_sync.settings) -------------
    enabled = setting_field("enabled", string="Enabled (scheduled)")
    interval_minutes = setting_field("interval_minutes")
    batch_size = setting_field("batch_size")
    batches_per_job = setting_field("batches_per_job", string="Batches per Job")
    dry_run = setting_field("dry_run", string="Dry Run Only")
    max_attempts = setting_field("max_attempts")
    retry_delay_seconds = setting_field("retry_delay_seconds")
    overlap_seconds = setting_field("overlap_seconds")
    order_type = setting_field("order_type")
    source_document_type = setting_field("source_document_type", string="Sales Read")
    read_orders = fields.Boolean(
        string="Orders", compute="_compute_sales_read", inverse="_inverse_sales_read", help="getOrders"
    )
    read_receipts = fields.Boolean(
        string="Receipts",
        compute="_compute_sales_read",
        inverse="_inverse_sales_read",
        help="getReceipts: till tickets and credit receipts",
    )
    read_invoices = fields.Boolean(
        string="Invoices", compute="_compute_sales_read", inverse="_inverse_sales_read", help="getInvoices"
    )
    sales_read_text = fields.Char(
        string="Reads",
        compute="_compute_sales_read",
        help="What the orders flow reads from MplusKASSA, and what it does not: a kind not read is never booked.",
    )
    receipt_booking = setting_field("receipt_booking")
    closing_journal = setting_field("closing_journal")
    wait_days = setting_field("wait_days", string="Wait for Master Data (days)")
    employee_number = setting_field("employee_number")
    default_debtor_mode = setting_field("default_debtor_mode")
    default_debtor_number = setting_field("default_debtor_number")
    shipping_article = setting_field("shipping_article")
    shipping_article_choice_id = choice_picker("av_article", "Pick a Shipping Article")
    non_numeric_sku = setting_field("non_numeric_sku", string="Non-numeric SKU")
    inactive_articles = setting_field("inactive_articles", string="Blocked/Deleted Articles")
    removed_check_hours = setting_field("removed_check_hours", string="Check for Deleted Articles (hours)")
    company_rule = setting_field("company_rule", string="Company or Person")
    update_fields = fields.Many2many(
        "apicenter.update.field",
        default=_default_update_fields,
        help=registry.get_setting("update_fields").help,
        tracking=True,
    )
    prices_include_vat = setting_field("prices_include_vat", string="Prices Include VAT")
    currency = setting_field("currency")
    filter_groups = setting_field("filter_groups")
    filter_field = setting_field("filter_field")
    filter_value = setting_field("filter_value")
    generated_number_base = setting_field("generated_number_base")
    stock_figure = setting_field("stock_figure")
    stock_field = setting_field("stock_field")
    manage_stock = setting_field("manage_stock", string="Manage Stock in MplusKASSA")
    # Every other setting of a flow is a field too (no JSON rows): typed, checked on save, with choices where the
    # systems list them (the *_choice_id pickers fill the code).
    run_budget_seconds = setting_field("run_budget_seconds", string="Run Budget (seconds)")
    write_concurrency = setting_field("write_concurrency", string="Parallel Writes")
    sales_journal = setting_field("sales_journal")
    sales_journal_choice_id = choice_picker("av_journal", "Pick a Sales Journal")
    closing_overlap_days = setting_field("closing_overlap_days", string="Closing Overlap (days)")
    closing_journal_choice_id = choice_picker("av_journal", "Pick a Closing Journal")
    other_line_article = setting_field("other_line_article")
    other_line_article_choice_id = choice_picker("av_article", "Pick an Article for Other Lines")
    cash_rounding_article = setting_field("cash_rounding_article")
    cash_rounding_article_choice_id = choice_picker("av_article", "Pick a Cash Rounding Article")
    cash_rounding_account = setting_field("cash_rounding_account")
    cash_rounding_account_choice_id = choice_picker("av_account", "Pick a Cash Rounding Account")
    cash_rounding_vat_code = setting_field("cash_rounding_vat_code", string="Cash Rounding VAT Code")
    cash_rounding_vat_code_choice_id = choice_picker("av_vat_code", "Pick a Cash Rounding VAT Code")
    shipping_revenue_account = setting_field("shipping_revenue_account")
    shipping_revenue_account_choice_id = choice_picker("av_account", "Pick a Shipping Revenue Account")
    skip_price_lists = setting_field("skip_price_lists")
    # The same setting as tags of the price lists AccountView lists (Load Choices); the comma text stays what the
    # engine reads, and a code without a loaded choice is kept (the text shows it, the check on save names it).
    skip_price_list_choice_ids = fields.Many2many(
        "apicenter.mapping.choice",
        string="Pick Price Lists to Skip",
        compute="_compute_skip_price_list_choices",
        inverse="_inverse_skip_price_list_choices",
        domain="[('backend_id', '=', backend_id), ('kind', '=', 'customer_group')]",
        help="The price lists loaded from AccountView (backend: Load Choices) whose prices are not sent.",
    )
    sync_relation_pricing = setting_field("sync_relation_pricing")
    default_price_group = setting_field("default_price_group")
    default_price_group_choice_id = choice_picker("mplus_price_group", "Pick a Default Price Group")
    setting_ids = fields.One2many("apicenter.setting", "flow_id", string="Other Settings")
    # --- state ------------------------------------------------------------------------------------------------
    next_run_at = fields.Datetime(help="The scheduler enqueues the flow once this time has passed (empty: now).")
    last_run_at = fields.Datetime(readonly=True)
    last_success_at = fields.Datetime(readonly=True)
    last_state = fields.Selection(
        [("never", "Never run"), ("done", "Done"), ("partial", "Records failed"), ("failed", "Failed")],
        default="never",
        readonly=True,
        help="Records failed: the run finished, but some of its records failed (it is not a success).",
    )
    last_error = fields.Text(string="Last Error (English)", readonly=True, help="In English, as support reads it and the search finds it.")
    last_error_data = fields.Text(readonly=True, help="The engine's message of the last error (JSON).")
    last_error_shown = fields.Text(
        string="Last Error", compute="_compute_last_error_shown", help="The last run's error, in your language."
    )
    last_counts = fields.Char(readonly=True, help="Records per action of the last run (JSON).")
    last_counts_display = fields.Char(string="Last Run Did", compute="_compute_last_run_counts")
    last_created = fields.Integer(string="Created", compute="_compute_last_run_counts")
    last_updated = fields.Integer(string="Updated", compute="_compute_last_run_counts")
    last_skipped = fields.Integer(string="Skipped", compute="_compute_last_run_counts")
    last_failed = fields.Integer(string="Failed", compute="_compute_last_run_counts",
                                 help="Records of the last run that failed (waiting ones included).")  # fmt: skip
    last_waiting = fields.Integer(string="Waiting", compute="_compute_last_run_counts",
                                  help="Records of the last run that wait for master data (retried).")  # fmt: skip
    today_created = fields.Integer(string="Created Today", compute="_compute_today")
    today_updated = fields.Integer(string="Updated Today", compute="_compute_today")
    today_failed = fields.Integer(string="Failed Today", compute="_compute_today",
                                  help="Records that failed today (each record once).")  # fmt: skip
    no_responsible = fields.Boolean(related="backend_id.no_responsible")
    run_ids = fields.One2many("apicenter.run", "flow_id", string="Runs")
    watermark_ids = fields.One2many("apicenter.watermark", compute="_compute_watermarks", string="Watermarks")
    watermark_display = fields.Text(string="Watermark", compute="_compute_watermarks")
    open_failure_count = fields.Integer(compute="_compute_open_failure_count")
    # --- dashboard --------------------------------------------------------------------------------------------
    failure_24h_count = fields.Integer(
        string="Failures (24 h)",
        compute="_compute_dashboard",
        help="Records that failed in the last 24 hours (each record once, however often it was tried).",
    )
    failed_run_24h_count = fields.Integer(string="Failed Runs (24 h)", compute="_compute_dashboard")
    pending_binding_count = fields.Integer(
        string="Pending Writes",
        compute="_compute_dashboard",
        help="Target records of this flow whose write is pending or failed (bindings).",
    )
    backlog_count = fields.Integer(
        string="Backlog", compute="_compute_dashboard", help="Open failures plus pending or failed writes."
    )
    failed_run_streak = fields.Integer(
        string="Failed Runs in a Row", compute="_compute_dashboard", help="Consecutive failed runs, newest first."
    )
    sale_waiting_count = fields.Integer(
        string="Sales Waiting",
        compute="_compute_dashboard",
        help="Orders flow: sales from the till that wait for articles, a mapping or a retry.",
    )
    sale_refused_count = fields.Integer(
        string="Sales Refused",
        compute="_compute_dashboard",
        help="Orders flow: sales from the till that were refused (a person must fix and retry, or ignore them).",
    )
    health = fields.Selection(HEALTH, compute="_compute_dashboard")
    color = fields.Integer(compute="_compute_dashboard")
    doctor_state = fields.Selection(related="backend_id.doctor_state", string="Connection Check")
    doctor_hold = fields.Boolean(related="backend_id.doctor_hold")
    last_alert_at = fields.Datetime(
        readonly=True, help="When the responsible users were last notified of failures of this flow."
    )

    _sql_constraints = [
        ("backend_flow_uniq", "unique(backend_id, flow)", "A backend has one record per flow."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        check_engine_fields(self, vals_list)
        return super().create(vals_list)

    def write(self, vals):
        check_engine_fields(self, [vals])
        return super().write(vals)

    @api.depends("last_error", "last_error_data")
    @api.depends_context("lang")
    def _compute_last_error_shown(self):
        for flow in self:
            flow.last_error_shown = shown(self.env, flow.last_error, flow.last_error_data)

    @api.depends("backend_id.name", "flow")
    def _compute_name(self):
        for rec in self:  # in English: searchable, what support reads; display_name is in the reader's language
            rec.name = f"{rec.backend_id.name or ''} / {dict(FLOW_SELECTION).get(rec.flow, rec.flow or '')}"
            rec.direction = "mplus_to_av" if rec.flow == "orders" else "av_to_mplus"

    @api.depends("backend_id.name", "flow")
    @api.depends_context("lang")
    def _compute_display_name(self):
        for rec in self:
            rec.display_name = render(rec._label(), self.env.lang)

    def _label(self):
        """The flow as the screens name it, as a message (rendered in each reader's language): "Shop / Products"."""
        self.ensure_one()
        return flow_label(self.backend_id, self.flow)

    @api.depends("source_document_type", "receipt_booking", "flow")
    def _compute_sales_read(self):
        for rec in self:
            kinds = read_setting(rec, "source_document_type")
            rec.read_orders, rec.read_receipts, rec.read_invoices = ("order" in kinds, "receipt" in kinds,
                                                                     "invoice" in kinds)  # fmt: skip
            rec.sales_read_text = rec._sales_read_text(kinds) if rec.flow == "orders" else False

    def _sales_read_text(self, kinds):
        """"till receipts (each its own document), invoices; not read: orders": the orders card says it."""
        names = {"receipt": self.env._("till receipts"), "invoice": self.env._("invoices"), "order": self.env._("orders")}
        read = []
        for kind in ("receipt", "invoice", "order"):
            if kind in kinds:
                text = names[kind]
                if kind == "receipt":
                    text += " (%s)" % (self.env._("one booking per till closing") if self.receipt_booking == "per_closing"
                                       else self.env._("each its own document"))  # fmt: skip
                read.append(text)
        unread = [names[k] for k in ("receipt", "invoice", "order") if k not in kinds]
        text = ", ".join(read) or self.env._("nothing")
        if unread:
            text += "; " + self.env._("not read: %s", ", ".join(unread))
        return text

    def _inverse_sales_read(self):
        for rec in self:
            kinds = [k for k, on in (("order", rec.read_orders), ("receipt", rec.read_receipts),
                                     ("invoice", rec.read_invoices)) if on]  # fmt: skip
            rec.source_document_type = field_value(rec, "source_document_type", kinds)

    @api.depends("flow")
    def _compute_available(self):
        for rec in self:
            rec.available = rec.flow in FLOWS

    @api.depends("backend_id", "flow")
    def _compute_watermarks(self):
        Watermark = self.env["apicenter.watermark"]
        for rec in self:
            marks = Watermark.search([("backend_id", "=", rec.backend_id._origin.id), ("flow", "=", rec.flow)])
            rec.watermark_ids = marks
            rec.watermark_display = "\n".join(
                f"{m.stream}: {m.value or '-'} ({len(json.loads(m.processed_ids or '[]'))} ids at this value)"
                for m in marks
            ) or self.env._("none (the next run reads from the beginning)")

    def _compute_open_failure_count(self):
        Line = self.env["apicenter.log.line"]
        for rec in self:
            rec.open_failure_count = Line.search_count(
                [
                    ("backend_id", "=", rec.backend_id._origin.id),
                    ("flow", "=", rec.flow),
                    ("state", "in", ("failed", "retry")),
                ]
            )

    @api.depends("last_counts")
    @api.depends_context("lang")
    def _compute_last_run_counts(self):
        for rec in self:
            counts = _counts_of(rec.last_counts)
            rec.last_counts_display = counts_text(counts, self.env.lang) or False
            rec.last_created = counts.get("created", 0)
            rec.last_updated = counts.get("updated", 0)
            rec.last_skipped = counts.get("skipped", 0)
            rec.last_failed = counts.get("failed", 0)
            rec.last_waiting = counts.get("waiting", 0)

    def _compute_today(self):
        """Today's totals in records (today in the user's time zone): created and updated from the runs' counts,
        failed as the records with a failed line today (each record once)."""
        Run = self.env["apicenter.run"].sudo()
        Line = self.env["apicenter.log.line"].sudo()
        backends = self.backend_id._origin.ids
        local_now = fields.Datetime.context_timestamp(self, fields.Datetime.now())
        start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        since = fields.Datetime.to_datetime(start.astimezone(UTC).replace(tzinfo=None))
        totals = {}
        runs = Run.search_read(
            [("backend_id", "in", backends), ("started_at", ">=", since), ("did_something", "=", True)],
            ["backend_id", "flow", "counts"],
        )
        for run in runs:
            key = (run["backend_id"][0], run["flow"])
            for action, n in _counts_of(run["counts"]).items():
                totals.setdefault(key, {}).setdefault(action, 0)
                totals[key][action] += n
        failed = {
            (backend.id, flow): count
            for backend, flow, count in Line._read_group(
                [("backend_id", "in", backends), ("action", "=", "failed"), ("create_date", ">=", since)],
                ["backend_id", "flow"],
                ["source_id:count_distinct"],
            )
        }
        for rec in self:
            key = (rec.backend_id._origin.id, rec.flow)
            rec.today_created = totals.get(key, {}).get("created", 0)
            rec.today_updated = totals.get(key, {}).get("updated", 0)
            rec.today_failed = failed.get(key, 0)

    def _compute_dashboard(self):
        Line = self.env["apicenter.log.line"].sudo()
        Binding = self.env["apicenter.binding"].sudo()
        Run = self.env["apicenter.run"].sudo()
        backends = self.backend_id._origin.ids
        since = fields.Datetime.now() - timedelta(hours=24)
        open_failures = {
            (backend.id, flow): count
            for backend, flow, count in Line._read_group(
                [("backend_id", "in", backends), ("state", "in", ("failed", "retry"))],
                ["backend_id", "flow"],
                ["__count"],
            )
        }
        recent = {  # records, not attempts: a record retried three times is one failed record
            (backend.id, flow): count
            for backend, flow, count in Line._read_group(
                [("backend_id", "in", backends), ("action", "=", "failed"), ("create_date", ">=", since)],
                ["backend_id", "flow"],
                ["source_id:count_distinct"],
            )
        }
        failed_runs = {
            (backend.id, flow): count
            for backend, flow, count in Run._read_group(
                [("backend_id", "in", backends), ("state", "in", ("failed", "aborted")), ("started_at", ">=", since)],
                ["backend_id", "flow"],
                ["__count"],
            )
        }
        pending = {
            (backend.id, entity): count
            for backend, entity, count in Binding._read_group(
                [("backend_id", "in", backends), ("state", "in", ("pending", "failed"))],
                ["backend_id", "entity"],
                ["__count"],
            )
        }
        sales = self.env["apicenter.sale"]._counts(backends) if "orders" in self.mapped("flow") else {}
        threshold = int(
            self.env["ir.config_parameter"].sudo().get_param("apicenter_connector.alert_open_failures", 50) or 50
        )
        for rec in self:
            backend_id = rec.backend_id._origin.id
            key = (backend_id, rec.flow)
            opened = open_failures.get(key, 0)
            rec.failure_24h_count = recent.get(key, 0)
            rec.failed_run_24h_count = failed_runs.get(key, 0)
            rec.pending_binding_count = sum(
                pending.get((backend_id, entity), 0) for entity in FLOW_BINDING_ENTITIES.get(rec.flow, ())
            )
            rec.backlog_count = opened + rec.pending_binding_count
            is_orders = rec.flow == "orders"
            rec.sale_waiting_count = is_orders and sum(sales.get((backend_id, s), 0) for s in WAITING_STATES)
            rec.sale_refused_count = is_orders and sales.get((backend_id, "refused"), 0)
            states = Run.search(
                [("backend_id", "=", backend_id), ("flow", "=", rec.flow), ("state", "!=", "running")],
                limit=FAILED_RUN_STREAK,
            ).mapped("state")
            streak = 0
            for state in states:
                if state not in ("failed", "aborted"):
                    break
                streak += 1
            rec.failed_run_streak = streak
            if streak >= FAILED_RUN_STREAK or (threshold and opened >= threshold):
                health = "danger"
            elif rec.last_state in ("failed", "partial") or opened:
                health = "warning"
            elif rec.last_state == "done":
                health = "ok"
            else:
                health = "never"
            health = max(health, FRESHNESS_HEALTH.get(rec.freshness, "never"), key=HEALTH_ORDER.index)  # by age
            rec.health = health
            rec.color = HEALTH_COLOR[health]

    @api.depends("backend_id", "skip_price_lists")
    def _compute_skip_price_list_choices(self):
        Choice = self.env["apicenter.mapping.choice"]
        for rec in self:
            codes = {c.upper() for c in read_setting(rec, "skip_price_lists")}
            choices = Choice.search([("backend_id", "=", rec.backend_id.id), ("kind", "=", "customer_group")]) if codes else Choice
            rec.skip_price_list_choice_ids = choices.filtered(lambda c, codes=codes: c.value.upper() in codes)

    def _inverse_skip_price_list_choices(self):
        Choice = self.env["apicenter.mapping.choice"]
        for rec in self:
            listed = {c.upper() for c in Choice.search([("backend_id", "=", rec.backend_id.id),
                                                       ("kind", "=", "customer_group")]).mapped("value")}  # fmt: skip
            kept = [c for c in read_setting(rec, "skip_price_lists") if c.upper() not in listed]
            rec.skip_price_lists = ",".join(rec.skip_price_list_choice_ids.mapped("value") + kept) or False

    @api.onchange("skip_price_list_choice_ids")
    def _onchange_skip_price_list_choices(self):
        self._inverse_skip_price_list_choices()

    @api.onchange(*(f"{name}_choice_id" for name in PICKED_SETTINGS))
    def _onchange_setting_choice(self):
        for name in PICKED_SETTINGS:
            choice = self[f"{name}_choice_id"]
            if choice:
                try:  # a choice's value is text: parsed to the setting's type (a price group is a number)
                    value = registry.get_setting(name).parse(choice.value, self.flow)
                except registry.SettingError as exc:
                    raise ValidationError(error_text(self.env, exc)) from None
                self[name] = field_value(self, name, value)
                self[f"{name}_choice_id"] = False

    @api.constrains(*FLOW_SETTING_FIELDS)
    def _check_settings(self):
        for rec in self:
            check_setting_values(rec, FLOW_SETTING_FIELDS, rec.flow)
            check_setting_choices(rec, SETTING_CHOICES, rec.flow)
            problems = registry.consistency_errors(rec._settings_values())
            if problems:
                raise ValidationError("\n".join(render(p, self.env.lang) for p in problems))

    # --- settings ---------------------------------------------------------------------------------------------
    def _settings_values(self):
        """The flow's explicit fields as registry-typed values (only settings that apply to this flow)."""
        self.ensure_one()
        applicable = {s.name for s in registry.settings_for(self.flow)}
        return {name: read_setting(self, name) for name in FLOW_SETTING_FIELDS if name in applicable}

    def _set_setting(self, name, value):
        self.ensure_one()
        self.write({name: field_value(self, name, value)})

    # --- actions ----------------------------------------------------------------------------------------------
    # Every public method checks access itself (tests/test_rpc_access.py): running, re-syncing and resetting are
    # what a manager does (write access to the flow); the views only hide the buttons.
    def action_run_now(self):
        self.check_access("write")
        self._enqueue("normal")
        return self._enqueued_notification()

    def action_full_resync(self):
        self.check_access("write")
        self._enqueue("full")
        return self._enqueued_notification()

    def action_dry_run(self):
        self.check_access("write")
        self._enqueue("dry_run")
        return self._enqueued_notification()

    def action_toggle_enabled(self):
        """Pause / resume the schedule (Run now keeps working on a paused flow)."""
        self.check_access("write")
        for rec in self:
            rec.enabled = not rec.enabled
        return True

    def action_view_runs(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_run_action")
        action["domain"] = [("backend_id", "=", self.backend_id.id), ("flow", "=", self.flow)]
        return action

    def action_reset_watermark(self):
        self.check_access("write")
        for rec in self:
            rec.backend_id._store().watermarks.reset(rec.flow)
        return True

    def action_view_sales(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_sale_action")
        action["domain"] = [("backend_id", "=", self.backend_id.id)]
        return action

    def action_view_log_lines(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_log_line_action")
        action["domain"] = [("backend_id", "=", self.backend_id.id), ("flow", "=", self.flow)]
        return action

    def _enqueued_notification(self):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("APIcenter"),
                "message": self.env._("Queued: %s", ", ".join(self.mapped("display_name"))),
                "type": "info",
            },
        }

    # --- jobs -------------------------------------------------------------------------------------------------
    def _job_channel(self):
        self.ensure_one()
        return f"root.apicenter.{SOURCE_SYSTEM.get(self.flow, 'accountview')}"

    def _identity_key(self, mode):
        self.ensure_one()
        return f"apicenter.flow({self.id}).{mode}"

    def _enqueue(self, mode="normal", continued=False):
        """One job per flow on the channel of its source system; a job already waiting is not duplicated.

        ``continued``: the job goes on with a run that stopped at its job's share of batches (``batches_per_job``).
        A waiting job of the same mode goes on just as well, so the identity key is the same."""
        jobs = []
        for rec in self:
            delayable = rec.with_company(rec.company_id).with_delay(
                channel=rec._job_channel(),
                identity_key=rec._identity_key(mode),
                description=rendered(self.env, rec._job_said(mode, continued)),
            )
            jobs.append(delayable._run_job(mode, continued) if continued else delayable._run_job(mode))
        return jobs

    def _job_said(self, mode, continued=False):
        """The name of this flow's job as a chatter text (chatter_text.py): stored in the enqueuer's language (what
        a search finds), shown in the reader's (queue_job.py): "APIcenter Shop / Products (Normal)"."""
        self.ensure_one()
        said = Said._("APIcenter %(flow)s (%(mode)s)", flow=said_msg(self._label()),
                      mode=said_label(self.env["apicenter.run"], "mode", mode))  # fmt: skip
        return Said._("%s, continued", said) if continued else said

    @api.model
    def _cron_enqueue_due(self):
        """Every minute: enqueue the enabled flows whose interval has elapsed."""
        now = fields.Datetime.now()
        due = self.sudo().search(
            [
                ("enabled", "=", True),
                ("backend_id.active", "=", True),
                "|",
                ("next_run_at", "=", False),
                ("next_run_at", "<=", now),
            ]
        )
        for rec in due:
            # The job's name in the language of who reads the job list: the backend's first responsible user (the
            # cron's own user reads nothing); "Run now" names it in the clicking user's language.
            lang = rec.backend_id.responsible_user_ids[:1].lang or rec.company_id.partner_id.lang or self.env.lang
            rec.with_context(lang=lang)._enqueue("normal")
            rec.next_run_at = now + timedelta(minutes=max(1, rec.interval_minutes))
        return due

    def _needed_flows_running(self):
        """The flows this one needs (``apicenter_sync.engine.NEEDS``) that have a job waiting or running."""
        self.ensure_one()
        needed = self.backend_id.flow_ids.filtered(lambda f: f.flow in NEEDS.get(self.flow, ()))
        Job = self.env["queue.job"].sudo()
        return needed.filtered(
            lambda f: Job.search_count(
                [("identity_key", "=like", f"apicenter.flow({f.id}).%"), ("state", "in", ACTIVE_JOB_STATES)], limit=1
            )
        )

    def _try_lock(self):
        """Transaction-level advisory lock on this flow: released when the job's transaction ends."""
        self.ensure_one()
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, self.id))
        return self.env.cr.fetchone()[0]

    def _run_job(self, mode="normal", continued=False):
        """Queue job: run the flow through the engine on this backend's OdooStore, for at most
        ``batches_per_job`` batches (one transaction); with records left, queue the job that goes on
        (``continued``: a full re-sync then does not start over).

        - another run of the same flow holds the lock: nothing is done, the job ends as skipped;
        - the run stopped on a transient error before doing anything (source unreachable): RetryableJobError, so
          queue_job retries with the job function's backoff pattern;
        - anything else (permanent errors, per-record failures) is recorded on the run and its log lines and the
          job ends done.
        - a dry run writes no watermark, so it cannot be continued: it shows its first ``batches_per_job`` batches.
        """
        self.ensure_one()
        flow = self.sudo()
        busy = flow._needed_flows_running()
        if busy and mode != "dry_run":
            # Stock of articles that are not in MplusKASSA yet would only fail now and be retried later.
            raise RetryableJobError(
                self.env._("%(flow)s waits for %(busy)s to finish", flow=flow.display_name,
                           busy=", ".join(busy.mapped("display_name"))),  # fmt: skip
                seconds=WAIT_FOR_NEEDED_SECONDS,
                ignore_retry=True,
            )
        if not flow._try_lock():
            return msg("runs.skipped_in_progress", flow=flow._label())
        backend = flow.backend_id
        if mode != "dry_run":
            report, reason = backend._doctor_gate()
            if reason:
                message = backend._hold_message(report, reason)
                flow._record_result(state="failed", error=message, counts={})
                return message
        if backend.mplus_needs_test:
            message = msg("doctor.hold.mplus_endpoint", backend=backend.name)
            flow._record_result(state="failed", error=message, counts={})
            return message
        store = backend._store()
        if flow.flow not in FLOWS:
            run_id = store.log.start_run(flow.flow, "dry_run" if mode == "dry_run" else "normal")
            message = self.env._("The installed engine does not implement the %s flow yet.", flow.flow)
            store.log.finish_run(run_id, state="failed", error=message)
            flow._record_result(state="failed", error=message, counts={})
            return message
        options = RunOptions(dry_run=mode == "dry_run", full=mode == "full",
                             max_batches=flow.batches_per_job or None, resume=continued)  # fmt: skip
        try:
            engine = backend._engine(store)
        except ConfigError as exc:  # an endpoint off the allow-list: refused before any secret is sent
            message = redact_text(str(exc))
            flow._record_result(state="failed", error=message, counts={})
            return message
        capture = tempfile.mkdtemp(prefix="apicenter-capture-") if backend.capture_enabled else None
        manifest = None
        try:
            if capture:
                engine.start_capture(capture)
            result = engine.run(flow.flow, options)
        finally:
            manifest = engine.stop_capture()
            engine.close()
        if capture:
            flow._attach_capture(result.run_id, Path(capture), manifest)
            shutil.rmtree(capture, ignore_errors=True)
        counts = {k: v for k, v in result.counts.items() if v}
        outage = outage_of(result)
        if result.error and result.transient and not counts:
            if outage:  # recorded on its own first: queue_job rolls this job's transaction back for the retry
                flow._record_in_own_transaction(result.error, mode, outage)
            error = mask_emails(redact_text(str(result.error)))  # kept on the queue job (docs/privacy.md)
            raise RetryableJobError(self.env._("%(flow)s: %(error)s", flow=flow.display_name, error=error))
        if outage or result.ok:  # a run stopped by its data or configuration says nothing about an outage
            flow._outage_after_run(outage)
        flow._record_result(state="failed" if result.error else "done", error=result.error, counts=counts,
                            notify=not outage)  # fmt: skip
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or self.env._("nothing to do")
        text = f"{flow.name} ({result.mode}): {summary}" + (f"; stopped: {result.error}" if result.error else "")
        if result.more and not result.error:
            if mode == "dry_run":
                return text + self.env._("; a dry run shows its first %s batches only", options.max_batches)
            flow._enqueue(mode, continued=True)
            return text + self.env._("; more to do: the next job goes on")
        return text

    def _attach_capture(self, run_id, folder, manifest):
        """The run's capture (redacted request/reply pairs) as a zip attached to the run."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, path.name)
        self.env["ir.attachment"].sudo().create(
            {
                "name": f"capture-{self.flow}-run-{run_id}.zip",
                "raw": buffer.getvalue(),
                "res_model": "apicenter.run",
                "res_id": run_id,
                "mimetype": "application/zip",
                "description": self.env._("%(calls)s API calls, secrets removed, personal data pseudonymised",
                                          calls=(manifest or {}).get("calls", 0)),  # fmt: skip
            }
        )

    def _record_result(self, state, error, counts, notify=True):
        """The flow's last run; ``notify``: a failure digest to the responsible users (an outage has notices of
        its own, apicenter_flow_outage.py)."""
        now = fields.Datetime.now()
        failed = int(counts.get("failed") or 0) - int(counts.get("waiting") or 0)
        if state == "done" and failed > 0:
            state = "partial"  # records failed: not a success (waiting records are not failures yet)
        vals = {
            "last_run_at": now,
            "last_state": state,
            "last_error": mask_emails(redact_text(str(error))) if error else False,  # kept past the payloads
            "last_error_data": data_text(error) if error else False,  # so each reader reads it in their language
            "last_counts": json.dumps({k: v for k, v in counts.items() if v}, sort_keys=True),
        }
        if state == "done":
            vals["last_success_at"] = now
        self.write(vals)
        if notify:
            self._notify_failures(state, error, counts)

    # --- monitoring -------------------------------------------------------------------------------------------
    def _alert_period(self):
        minutes = self.env["ir.config_parameter"].sudo().get_param("apicenter_connector.alert_period_minutes", 60)
        return timedelta(minutes=max(1, int(minutes or 60)))

    def _notify_failures(self, state, error, counts):
        """Tell the backend's responsible users that this flow failed, as one digest per period.

        At most one message (e-mailed to the responsible users) per flow and alert period, and one open activity
        per flow: while the activity is open, later failures only update the chatter of the backend, not the
        users' to-do list. The digest holds counts and the first errors, never payloads. Sales that wait for master
        data are not failures yet (the Sales from the Till list shows them); a sale refused after waiting is."""
        self.ensure_one()
        failed = int(counts.get("failed") or 0) - int(counts.get("waiting") or 0) + int(counts.get("refused") or 0)
        if state != "failed" and not failed:
            return False
        flow = self.sudo()
        now = fields.Datetime.now()
        if flow.last_alert_at and now - flow.last_alert_at < flow._alert_period():
            return False
        backend = flow.backend_id
        users = backend.responsible_user_ids.filtered("active")
        # One message for all of them: in the language of the first responsible user (the outage notices do so too).
        flow = flow.with_context(lang=users[:1].lang or self.env.lang)
        run = (
            self.env["apicenter.run"]
            .sudo()
            .search([("backend_id", "=", backend.id), ("flow", "=", flow.flow)], limit=1)
        )
        subject = Said._("APIcenter: %(flow)s failed", flow=said_msg(flow._label()))
        body = flow._failure_digest(run, state, error, counts)
        activity_type = self.env.ref("mail.mail_activity_data_warning", raise_if_not_found=False) or self.env.ref(
            "mail.mail_activity_data_todo"
        )
        try:
            # A savepoint: a notification that cannot be written must not undo the run it reports.
            with self.env.cr.savepoint():
                # No auto-subscription: jobs of several flows post on the same backend at once, and adding the
                # same follower twice would fail one of them. Written in the first responsible user's language,
                # read in each reader's (chatter_text.py).
                post(
                    backend.with_env(flow.env).with_context(mail_create_nosubscribe=True, mail_post_autofollow=False),
                    body,
                    subject=subject,
                    partner_ids=users.partner_id.ids,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
                if users and not flow.activity_ids.filtered(lambda a: a.activity_type_id == activity_type):
                    flow.activity_schedule(
                        activity_type_id=activity_type.id,
                        summary=rendered(flow.env, subject),  # an activity is one user's: in their language
                        note=Markup("") + rendered(flow.env, body),
                        user_id=users[0].id,
                    )
                flow.last_alert_at = now
        except psycopg2.Error as exc:
            _logger.warning("APIcenter: the failure digest of %s could not be written: %s", flow.name, exc)
            return False
        return True

    def _failure_digest(self, run, state, error, counts):
        """HTML summary of a failed run: counts and the first record errors (redacted, no payloads), as a chatter
        text (chatter_text.py: each reader reads it in their language)."""
        self.ensure_one()
        parts = [
            said_html("<p>%s</p>", Said._("Flow %(flow)s of backend %(backend)s reported failures.",
                                          flow=said_msg(self._label()), backend=self.backend_id.name))  # fmt: skip
        ]
        if state == "failed" and error:  # names records, not people
            parts.append(said_html("<p><b>%s</b> %s</p>", Said._("Run stopped:"), said_msg(error)))
        if counts:  # "created 1, failed 1" in words
            parts.append(said_html("<p>%s %s</p>", Said._("Records:"), said_list(map(said_msg, counts_msgs(counts)))))
        if run:
            lines = (
                self.env["apicenter.log.line"]
                .sudo()
                .search(
                    [("run_id", "=", run.id), ("state", "in", ("failed", "retry")), ("wait", "=", False)],
                    limit=ALERT_ERRORS,
                    order="id",
                )
            )
            if lines:
                items = said_join(*(
                    said_html("<li>%s %s: %s</li>", said_label(line, "entity", line.entity), line.source_id or "-",
                              said_msg(stored(line.error, line.error_data), 300))
                    for line in lines
                ))  # fmt: skip
                parts.append(said_html("<p>%s</p><ul>%s</ul>", Said._("First errors:"), items))
        parts.append(said_html("<p>%s</p>", Said._("Open APIcenter > Log Lines to retry or ignore them.")))
        return said_join(*parts)


def _counts_of(text):
    """A run's counts ({action: records}) from their JSON; older rows kept them as "created: 1, failed: 2"."""
    if not text:
        return {}
    try:
        counts = json.loads(text)
    except ValueError:
        counts = dict(part.split(": ", 1) for part in text.split(", ") if ": " in part)
    result = {}
    for key, value in (counts or {}).items():
        try:
            result[str(key)] = int(value)
        except (TypeError, ValueError):
            continue
    return result
