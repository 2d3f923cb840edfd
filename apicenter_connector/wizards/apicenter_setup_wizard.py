# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Setup wizard: credentials → connection tests → flows → settings → mappings → connection check → activate.

Saving the credentials creates (or updates) the backend, so the tests run on the real backend and the OAuth
round trip of AccountView can come back to it. Flows are created at *Activate*, which runs the connection check
first: they are scheduled only when it confirms everything, or once the administrator has accepted the problems
it shows (nothing writes before that: ``apicenter.backend._doctor_gate``).
"""

from apicenter_sync import mapping_tables
from apicenter_sync import settings as registry
from apicenter_sync.engine import FLOWS, RUN_ORDER
from apicenter_sync.errors import AuthError, SyncError
from apicenter_sync.flows.order_sources import RECENT_DAYS, recent_sales, sales_to_book
from apicenter_sync.flows.stock_sales import drift_reasons
from apicenter_sync.i18n import Msg, msg, render, setting_ref, table_ref
from apicenter_sync.redact import redact_text
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.apicenter_backend import CALLBACK_PATH
from ..models.chatter_text import Said, post, said_list, said_msg
from ..models.setting_fields import field_value, read_setting, setting_field


def answer_field(name, **kwargs):
    """A setting asked by the wizard: a transient answer, so nothing to track."""
    return setting_field(name, tracked=False, **kwargs)


STEPS = [
    ("credentials", "Credentials"),
    ("test", "Test"),
    ("flows", "Flows"),
    ("settings", "Settings"),
    ("mappings", "Mappings"),
    ("check", "Check"),
    ("done", "Done"),
]
# The questions of the settings step (SPEC §1); each is written to every chosen flow it applies to.
WIZARD_SETTINGS = (
    "interval_minutes",
    "batch_size",
    "order_type",
    "default_debtor_mode",
    "default_debtor_number",
    "employee_number",
    "stock_figure",
    "non_numeric_sku",
    "inactive_articles",
    "company_rule",
    "update_fields",
    "receipt_booking",
    "prices_include_vat",
    "manage_stock",
)
BACKEND_FIELDS = ("name", "av_base_url", "av_client_id", "av_client_secret", "mplus_url", "mplus_ident", "mplus_secret")


class ApicenterSetupWizard(models.TransientModel):
    _name = "apicenter.setup.wizard"
    _description = "APIcenter Setup Wizard"

    state = fields.Selection(STEPS, default="credentials", required=True)
    backend_id = fields.Many2one(
        "apicenter.backend",
        help="The backend this wizard sets up. Empty: a new one is created (for another AccountView company or "
        "MplusKASSA administration: one backend per pair).",
    )
    # --- credentials ------------------------------------------------------------------------------------------
    name = fields.Char(string="Backend Name", default="AccountView ↔ MplusKASSA")
    av_base_url = fields.Char(string="AccountView URL", default="https://www.accountview.net")
    av_client_id = fields.Char(string="AccountView Client ID")
    av_client_secret = fields.Char(string="AccountView Client Secret")
    av_redirect_uri = fields.Char(string="Redirect URI", compute="_compute_av_redirect_uri")
    mplus_url = fields.Char(string="MplusKASSA URL")
    mplus_ident = fields.Char(string="MplusKASSA Ident")
    mplus_secret = fields.Char(string="MplusKASSA Secret")
    # --- test ---------------------------------------------------------------------------------------------------
    av_ok = fields.Boolean(string="AccountView OK", readonly=True)
    av_message = fields.Char(string="AccountView", readonly=True)
    av_needs_browser = fields.Boolean(readonly=True)
    mplus_ok = fields.Boolean(string="MplusKASSA OK", readonly=True)
    mplus_message = fields.Char(string="MplusKASSA", readonly=True)
    skip_test = fields.Boolean(
        string="Continue without working connections", help="Configure now, connect later (flows will fail until then)."
    )
    # --- flows --------------------------------------------------------------------------------------------------
    flow_products = fields.Boolean(string="Products (AccountView → MplusKASSA)", default=True)
    flow_customers = fields.Boolean(string="Customers (AccountView → MplusKASSA)", default=True)
    flow_stock = fields.Boolean(string="Stock (AccountView → MplusKASSA)", default=True)
    flow_prices = fields.Boolean(string="B2B prices (AccountView → MplusKASSA)", default=True)
    flow_orders = fields.Boolean(string="Orders (MplusKASSA → AccountView)", default=True)
    # Which sales the orders flow books (setting source_document_type), pre-selected from what the till holds.
    book_receipts = fields.Boolean(
        string="Till receipts", default=True, help="Till tickets and credit receipts (getReceipts)."
    )
    book_invoices = fields.Boolean(string="Invoices", help="Invoices made at the till (getInvoices).")
    book_orders = fields.Boolean(
        string="Orders", help="Orders (getOrders); a receipt or invoice made from an order is then skipped."
    )
    receipt_booking = answer_field("receipt_booking", string="Book Receipts")
    sales_found = fields.Char(string="The Till Holds", readonly=True)
    # --- settings (registry fields: same type, default, choices and help as on the flow) --------------------------
    interval_minutes = answer_field("interval_minutes", string="Run every (minutes)")
    batch_size = answer_field("batch_size")
    order_type = answer_field("order_type")
    default_debtor_mode = answer_field("default_debtor_mode", string="Use the default debtor")
    default_debtor_number = answer_field("default_debtor_number")
    employee_number = answer_field("employee_number")
    stock_figure = answer_field("stock_figure")
    non_numeric_sku = answer_field("non_numeric_sku", string="Non-numeric SKU")
    inactive_articles = answer_field("inactive_articles", string="Blocked/Deleted Articles")
    company_rule = answer_field("company_rule", string="Company or Person")
    update_fields = fields.Many2many(
        "apicenter.update.field",
        relation="apicenter_setup_wizard_update_field_rel",
        default=lambda self: self.env["apicenter.update.field"].search(
            [("code", "in", registry.get_setting("update_fields").default_value())]
        ),
        help=registry.get_setting("update_fields").help,
    )
    prices_include_vat = answer_field("prices_include_vat", string="Prices Include VAT")
    manage_stock = answer_field("manage_stock", string="Manage Stock in MplusKASSA")
    stock_drift = fields.Text(compute="_compute_stock_drift")
    # --- mappings -----------------------------------------------------------------------------------------------
    mapping_ids = fields.One2many(related="backend_id.mapping_ids", readonly=False, string="Mapping Rows")
    mapping_guide = fields.Html(compute="_compute_mapping_guide", sanitize=False)
    choices_message = fields.Char(readonly=True)
    # --- check --------------------------------------------------------------------------------------------------
    check_report_id = fields.Many2one("apicenter.doctor.report", string="Connection Check", readonly=True)
    check_summary = fields.Char(related="check_report_id.summary", string="Check Result")
    check_problem_ids = fields.Many2many(
        "apicenter.doctor.check", compute="_compute_check_problem_ids", string="Problems Found"
    )
    check_message = fields.Char(readonly=True, help="Why the connection check could not run.")
    # --- done ---------------------------------------------------------------------------------------------------
    summary = fields.Text(readonly=True)

    @api.depends("backend_id")
    def _compute_av_redirect_uri(self):
        base = (self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "").rstrip("/")
        for wizard in self:
            wizard.av_redirect_uri = wizard.backend_id.av_redirect_uri or base + CALLBACK_PATH

    @api.depends("flow_products", "flow_customers", "flow_stock", "flow_prices", "flow_orders", "mapping_ids")
    def _compute_mapping_guide(self):
        """The mapping step as a checklist: the tables the chosen flows need first (required), the optional ones
        folded away with one sentence each."""
        for wizard in self:
            filled = {}
            for row in wizard.mapping_ids:
                filled[row.table_name] = filled.get(row.table_name, 0) + 1
            chosen = wizard._chosen_flows()
            required, optional = [], []
            for table in mapping_tables.tables_for(chosen):
                count = filled.get(table.name, 0)
                rows = self.env._("%s rows", count) if count else self.env._("no rows yet")
                label = render(table_ref(table.name), self.env.lang)
                help_text = render(Msg(f"tables.help.{table.name}"), self.env.lang)
                if mapping_tables.is_required(table, chosen):
                    badge = (Markup("<span class='badge text-bg-success'>%s</span>") % self.env._("filled") if count
                             else Markup("<span class='badge text-bg-danger'>%s</span>") % self.env._("required"))  # fmt: skip
                    required.append(Markup("<li>%s <b>%s</b> (<code>%s</code>, %s): %s</li>")
                                    % (badge, label, table.name, rows, help_text))  # fmt: skip
                else:
                    optional.append(Markup("<li><b>%s</b> (<code>%s</code>, %s): %s</li>")
                                    % (label, table.name, rows, help_text.split(". ")[0].rstrip(".") + "."))  # fmt: skip
            html = Markup("")
            if required:
                html += Markup("<p class='mb-1'>%s</p><ul>%s</ul>") % (
                    self.env._("Needed before the chosen flows can run:"), Markup("").join(required))
            if optional:
                html += Markup("<details><summary>%s</summary><ul class='mb-0'>%s</ul></details>") % (
                    self.env._("Optional tables (%s): only some records need them", len(optional)),
                    Markup("").join(optional))
            wizard.mapping_guide = html or False

    def _missing_required_tables(self):
        """The tables the chosen flows need that have no row yet (their labels)."""
        self.ensure_one()
        chosen = self._chosen_flows()
        filled = set(self.backend_id.mapping_ids.mapped("table_name"))
        return [f"{render(table_ref(t.name), self.env.lang)} ({t.name})" for t in mapping_tables.tables_for(chosen)
                if mapping_tables.is_required(t, chosen) and t.name not in filled]  # fmt: skip

    @api.onchange("backend_id")
    def _onchange_backend_id(self):
        for wizard in self:
            if wizard.backend_id:
                for name in BACKEND_FIELDS:
                    wizard[name] = wizard.backend_id[name]

    @api.depends("check_report_id")
    def _compute_check_problem_ids(self):
        for wizard in self:
            wizard.check_problem_ids = wizard.check_report_id.check_ids.filtered(lambda c: c.status != "confirmed")

    @api.depends("flow_stock", "flow_orders", "manage_stock", "stock_figure", "order_type")
    def _compute_stock_drift(self):
        """The doctor's stock_drift on the settings step: stock from AccountView with sales booked so that they never
        lower AccountView's stock (flows/stock_sales.py), in the user's language with what to choose."""
        for wizard in self:
            orders_flow = wizard.backend_id.flow_ids.filtered(lambda f: f.flow == "orders")[:1]
            orders = {"order_type": wizard.order_type}
            if orders_flow:
                orders["receipt_booking"] = read_setting(orders_flow, "receipt_booking")
                orders["source_document_type"] = read_setting(orders_flow, "source_document_type")
            reasons = []
            if wizard.flow_stock and wizard.flow_orders and wizard.manage_stock:
                reasons = drift_reasons(orders, {"stock_figure": wizard.stock_figure})
            hint = msg("doctor.mplus.stock_drift_hint", order_type=setting_ref("order_type"),
                       receipt_booking=setting_ref("receipt_booking"), stock_figure=setting_ref("stock_figure"),
                       manage_stock=setting_ref("manage_stock"))  # fmt: skip
            said = msg("doctor.mplus.stock_drifts", reasons=reasons)
            wizard.stock_drift = f"{render(said, self.env.lang)} → {render(hint, self.env.lang)}" if reasons else False

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        Backend = self.env["apicenter.backend"]
        backend = Backend.browse(values.get("backend_id") or []).exists()
        if not backend and "backend_id" in fields_list:
            # Opened where a backend exists, it edits that one (a second on the same pair is refused anyway); to
            # set up another shop, empty the Backend field on the first step.
            backend = Backend.search([("company_id", "=", self.env.company.id)], limit=1)
            values["backend_id"] = backend.id
        if backend:
            for name in BACKEND_FIELDS:
                values[name] = backend[name]
            chosen = set(backend.flow_ids.filtered("enabled").mapped("flow"))
            if chosen:
                for flow in RUN_ORDER:
                    values[f"flow_{flow}"] = flow in chosen
        return values

    # --- navigation ---------------------------------------------------------------------------------------------
    @api.model
    def _action_for_backend(self, backend=None):
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_setup_wizard_action")
        if backend:
            action["context"] = {"default_backend_id": backend.id}
        return action

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("APIcenter Setup"),
        }

    def _chosen_flows(self):
        self.ensure_one()
        return [flow for flow in RUN_ORDER if flow in FLOWS and self[f"flow_{flow}"]]

    def action_next(self):
        self.ensure_one()
        self.check_access("write")
        if self.state == "credentials":
            self._save_backend()
            self._run_tests()
            self.state = "test"
        elif self.state == "test":
            if not (self.av_ok and self.mplus_ok) and not self.skip_test:
                raise UserError(
                    self.env._(
                        "The connection tests failed. Fix the credentials, or tick “Continue without working "
                        "connections” to configure the flows now and connect later."
                    )
                )
            if self.mplus_ok:
                self._preselect_sales()
            self.state = "flows"
        elif self.state == "flows":
            if not self._chosen_flows():
                raise UserError(self.env._("Choose at least one flow."))
            if self.flow_orders and not self._sales_to_book():
                raise UserError(self.env._("Choose which sales to book: till receipts, invoices or orders."))
            self.state = "settings"
        elif self.state == "settings":
            self.state = "mappings"
            if self.mplus_ok:  # the checklist starts pre-filled where both systems match one to one
                self._load_choices_and_prefill()
        return self._reopen()

    def action_back(self):
        self.ensure_one()
        self.check_access("write")
        order = [step for step, _label in STEPS]
        index = order.index(self.state)
        if index:
            self.state = order[index - 1]
        return self._reopen()

    def action_retest(self):
        self.ensure_one()
        self.check_access("write")
        self._run_tests()
        return self._reopen()

    def action_load_mapping_choices(self):
        """The mapping step's "Load choices from MplusKASSA": what keys and values are picked from."""
        self.ensure_one()
        self.check_access("write")
        self._load_choices_and_prefill()
        return self._reopen()

    def _load_choices_and_prefill(self):
        try:
            counts = self.env["apicenter.mapping.choice"]._load_choices(self.backend_id)
            message = self.env._("Loaded: %s.", ", ".join(f"{n} {k}" for k, n in counts.items()))
        except (SyncError, UserError) as exc:
            self.choices_message = self.env._("Could not load from MplusKASSA: %s", redact_text(str(exc)))
            return
        tables = [t.name for t in mapping_tables.tables_for(self._chosen_flows())]
        filled = self.env["apicenter.mapping"]._prefill(self.backend_id, tables)
        if filled:
            message += " " + self.env._("Pre-filled where both systems match one to one: %s.",
                                        ", ".join(f"{render(table_ref(name), self.env.lang)} ({name}: {n})"
                                                  for name, n in filled.items()))  # fmt: skip
        self.choices_message = message

    def action_connect_accountview(self):
        """The browser round trip to AccountView; it comes back to the backend form (Setup Wizard button there)."""
        self.ensure_one()
        self.check_access("write")
        return self.backend_id.action_connect_accountview()

    # --- which sales ------------------------------------------------------------------------------------------------
    def _sales_to_book(self):
        self.ensure_one()
        return [kind for kind, on in (("order", self.book_orders), ("receipt", self.book_receipts),
                                      ("invoice", self.book_invoices)) if on]  # fmt: skip

    def _preselect_sales(self):
        """Look at what the till holds lately and pre-select those kinds of sales (an existing orders flow keeps its
        choice)."""
        self.ensure_one()
        try:
            client = self.backend_id._mplus_client()
            try:
                found = recent_sales(client, fields.Date.context_today(self))
            finally:
                client.close()
        except (SyncError, UserError) as exc:
            self.sales_found = self.env._("Could not look: %s", redact_text(str(exc)))
            return
        self.sales_found = self.env._(
            "In the last %(days)s days: %(receipts)s till receipts, %(invoices)s invoices, %(orders)s orders.",
            days=RECENT_DAYS,
            receipts=self._at_least(found["receipt"]),
            invoices=self._at_least(found["invoice"]),
            orders=self._at_least(found["order"]),
        )
        orders = self.backend_id.flow_ids.filtered(lambda f: f.flow == "orders")
        kinds = read_setting(orders, "source_document_type") if orders else sales_to_book(found)
        self.write({"book_orders": "order" in kinds, "book_receipts": "receipt" in kinds,
                    "book_invoices": "invoice" in kinds})  # fmt: skip

    @staticmethod
    def _at_least(count):
        return f"{count}+" if count >= 50 else str(count)

    # --- steps --------------------------------------------------------------------------------------------------
    def _save_backend(self):
        self.ensure_one()
        missing = [self._fields[n].string for n in ("name", "av_base_url", "mplus_url") if not self[n]]
        if missing:
            raise UserError(self.env._("Fill in: %s", ", ".join(missing)))
        values = {name: self[name] or False for name in BACKEND_FIELDS}
        if self.backend_id:
            self.backend_id.write(values)
        else:
            self.backend_id = self.env["apicenter.backend"].create(values)
        return self.backend_id

    def _run_tests(self):
        """Test both connections; store the version / company or the exact error."""
        self.ensure_one()
        backend = self.backend_id
        values = {"av_needs_browser": False}
        try:
            client = backend._mplus_client()
            try:
                version = client.api_version()
            finally:
                client.close()
            values.update(
                mplus_ok=True,
                mplus_message=self.env._("Connected: API version %s", version.get("version") or "?"),
            )
            backend._mplus_tested()
        except (SyncError, UserError) as exc:
            values.update(mplus_ok=False, mplus_message=redact_text(str(exc)))
        try:
            if not backend.av_connected:
                backend._connect_accountview()
            company = backend._choose_accountview_company()
            if company:
                values.update(
                    av_ok=True,
                    av_message=self.env._(
                        "Connected to company %(name)s (code %(code)s)",
                        name=company.get("Description"),
                        code=company.get("Code"),
                    ),
                )
            else:
                values.update(
                    av_ok=False,
                    av_message=self.env._("Several companies: choose one on the backend (AccountView tab)."),
                )
        except AuthError as exc:
            values.update(av_ok=False, av_needs_browser=True, av_message=redact_text(str(exc)))
        except (SyncError, UserError) as exc:
            values.update(av_ok=False, av_message=redact_text(str(exc)))
        self.write(values)
        return values["av_ok"] if "av_ok" in values else False

    def action_activate(self):
        """Create or update the chosen flows with the answers, then run the connection check: with everything
        confirmed the flows are scheduled (the others paused); otherwise the check step shows its problems and
        nothing is scheduled until they are fixed (Check Again) or accepted."""
        self.ensure_one()
        self.check_access("write")
        backend = self.backend_id
        chosen = self._chosen_flows()
        if not backend or not chosen:
            raise UserError(self.env._("Go through the previous steps first."))
        missing = self._missing_required_tables()
        if missing:
            raise UserError(
                self.env._(
                    "Fill the mapping tables the chosen flows need before activating: %s. (Load Choices pre-fills "
                    "what both systems match one to one.)",
                    "; ".join(missing),
                )
            )
        Flow = self.env["apicenter.flow"]
        existing = {flow.flow: flow for flow in backend.flow_ids}
        for name in chosen:
            flow = existing.get(name) or Flow.create({"backend_id": backend.id, "flow": name, "enabled": False})
            applicable = {s.name for s in registry.settings_for(name)}
            values = {
                setting: field_value(flow, setting, read_setting(self, setting))
                for setting in WIZARD_SETTINGS
                if setting in applicable
            }
            if name == "orders":
                values["source_document_type"] = field_value(flow, "source_document_type", self._sales_to_book())
            flow.write(values)
        return self._check_then_schedule()

    def action_check_again(self):
        self.ensure_one()
        self.check_access("write")
        return self._check_then_schedule()

    def action_accept_and_activate(self):
        """The administrator accepts the problems the check showed (kept on its report) and activates."""
        self.ensure_one()
        self.check_access("write")
        if not self.check_report_id:
            raise UserError(self.env._("Run the connection check first."))
        self.check_report_id.action_confirm()
        return self._schedule()

    def _check_then_schedule(self):
        backend = self.backend_id
        try:
            report = backend._run_connection_check()
        except (SyncError, UserError) as exc:
            self.write({"state": "check", "check_report_id": False, "check_message": redact_text(str(exc))})
            return self._reopen()
        self.write({"check_report_id": report.id, "check_message": False})
        if report.state == "confirmed":
            return self._schedule()
        self.state = "check"
        return self._reopen()

    def _schedule(self):
        """Schedule the chosen flows, pause the others: only after a confirmed or accepted check."""
        backend = self.backend_id
        chosen = self._chosen_flows()
        lines = []
        for flow in backend.flow_ids:
            if flow.flow in chosen:
                flow.write({"enabled": True, "next_run_at": False})
                lines.append(self.env._("%(flow)s: every %(minutes)s min", flow=flow.display_name,
                                        minutes=flow.interval_minutes))  # fmt: skip
            elif flow.enabled:
                flow.enabled = False
                lines.append(self.env._("%s: paused", flow.display_name))
        cron = self.env.ref("apicenter_connector.ir_cron_apicenter_enqueue_flows").sudo()
        if not cron.active:
            cron.active = True
        names = said_list(said_msg(f._label()) for f in backend.flow_ids.filtered(lambda f: f.flow in chosen))
        post(backend, Said._("Set up with the wizard: %s.", names))  # the flows in words, in each reader's language
        if self.check_report_id:
            lines.insert(0, self.env._("Connection check: %s", self.check_report_id.summary))
        self.write({"state": "done", "summary": "\n".join(lines)})
        return self._reopen()

    def action_open_dashboard(self):
        self.check_access("read")
        return self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_flow_action_dashboard")
