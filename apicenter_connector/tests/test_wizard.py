# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The setup wizard end to end against the sandboxes: backend and flows created, the connection check run, schedules
active; one backend per AccountView company and MplusKASSA administration."""

import httpx
from apicenter_sandbox.runner import start_sandboxes

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import TupleTimeouts, perform_chained_jobs, sandbox_config


@tagged("post_install", "-at_install")
class TestSetupWizard(TupleTimeouts, TransactionCase):
    """A new shop: no backend yet (the sandboxes only)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.sb = start_sandboxes(size=10, seed=1)
        cls.addClassCleanup(cls.sb.stop)

    def _wizard(self, **values):
        vals = {
            "name": "Wizard Shop",
            "av_base_url": self.sb.accountview_url,
            "av_client_id": self.sb.av_client_id,
            "av_client_secret": self.sb.av_client_secret,
            "mplus_url": self.sb.mplus_url,
            "mplus_ident": self.sb.mplus_ident,
            "mplus_secret": self.sb.mplus_secret,
        }
        vals.update(values)
        return self.env["apicenter.setup.wizard"].create(vals)

    def test_wizard_end_to_end(self):
        cron = self.env.ref("apicenter_connector.ir_cron_apicenter_enqueue_flows")
        cron.active = False
        wizard = self._wizard()
        action = wizard.action_next()
        self.assertEqual(action["res_id"], wizard.id)
        self.assertEqual(wizard.state, "test")
        self.assertTrue(wizard.mplus_ok, wizard.mplus_message)
        self.assertIn("API version", wizard.mplus_message)
        self.assertTrue(wizard.av_ok, wizard.av_message)
        self.assertIn("company", wizard.av_message)
        backend = wizard.backend_id
        self.assertEqual(backend.name, "Wizard Shop")
        self.assertTrue(backend.av_connected)
        self.assertTrue(backend.av_company_id)
        self.assertFalse(backend.flow_ids, "nothing is scheduled before the last step")

        wizard.action_next()
        self.assertEqual(wizard.state, "flows")
        wizard.flow_orders = False
        wizard.flow_prices = False
        wizard.action_next()
        self.assertEqual(wizard.state, "settings")
        wizard.write(
            {
                "interval_minutes": 10,
                "batch_size": 50,
                "non_numeric_sku": "generate",
                "stock_figure": "on_hand",
                "manage_stock": False,
                "prices_include_vat": True,
            }
        )
        # The mapping step is a checklist: the tables the chosen flows need first, pre-filled where both systems
        # match one to one (VAT codes by rate; several at 0 %: the same code), the optional ones folded away.
        wizard.action_next()
        self.assertEqual(wizard.state, "mappings")
        self.assertIn("VAT codes AccountView → MplusKASSA (vat_code_av_mplus: 5)", wizard.choices_message)
        rows = {(r.table_name, r.key): r.value for r in backend.mapping_ids}
        self.assertEqual({k: v for (t, k), v in rows.items() if t == "vat_code_av_mplus"},
                         {"0": "0", "1": "1", "2": "2", "4": "4", "5": "5"})  # fmt: skip
        self.assertEqual(rows[("customer_group_price_group", "MKB")], "2")  # by name: Midden- en kleinbedrijf
        guide = wizard.mapping_guide
        self.assertLess(guide.index("warehouse_branch"), guide.index("<details>"))
        self.assertLess(guide.index("<details>"), guide.index("vat_method_by_country"))
        # The till's branches have no names: warehouses are not matched, and Activate names the empty table.
        with self.assertRaises(UserError) as refused:
            wizard.action_activate()
        self.assertIn("Warehouses → MplusKASSA branches (warehouse_branch)", str(refused.exception))
        self.assertNotIn("vat_code_av_mplus", str(refused.exception))
        wizard.write({"mapping_ids": [(0, 0, {"backend_id": backend.id, "known_table": "warehouse_branch",
                                              "key": "HOOFD", "value": "1"})]})  # fmt: skip
        wizard.action_activate()
        # Activate ran the connection check: nothing is scheduled while it shows problems.
        report = wizard.check_report_id
        self.assertEqual(report, backend.doctor_report_id)
        self.assertEqual(wizard.state, "check", wizard.check_problem_ids.mapped(lambda c: (c.check_key, c.detail)))
        self.assertFalse(backend.flow_ids.filtered("enabled"))
        wizard.action_accept_and_activate()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(report.accepted_check_ids, wizard.check_problem_ids)
        self.assertFalse(backend.doctor_hold)
        flows = backend.flow_ids
        self.assertEqual(sorted(flows.mapped("flow")), ["customers", "products", "stock"])
        self.assertTrue(all(flows.mapped("enabled")))
        self.assertEqual(set(flows.mapped("interval_minutes")), {10})
        self.assertEqual(set(flows.mapped("batch_size")), {50})
        products = flows.filtered(lambda f: f.flow == "products")
        stock = flows.filtered(lambda f: f.flow == "stock")
        self.assertEqual(products.non_numeric_sku, "generate")
        self.assertTrue(products.prices_include_vat)
        self.assertEqual(stock.stock_figure, "on_hand")
        self.assertFalse(stock.manage_stock)
        self.assertTrue(cron.active)
        self.assertEqual(backend.setup_state, "running")
        self.assertEqual(wizard.action_open_dashboard()["res_model"], "apicenter.flow")

        # Running the wizard again from the backend pre-fills it and pauses flows that are no longer chosen.
        again = (
            self.env["apicenter.setup.wizard"]
            .with_context(**backend.action_open_setup_wizard()["context"])
            .create({"mplus_secret": self.sb.mplus_secret})
        )
        self.assertEqual(again.backend_id, backend)
        self.assertEqual(again.name, "Wizard Shop")
        self.assertFalse(again.flow_orders)
        again.action_next()
        again.action_next()
        again.flow_stock = False
        again.action_next()
        again.action_activate()
        if again.state == "check":
            again.action_accept_and_activate()
        self.assertFalse(stock.enabled)
        self.assertIn("paused", again.summary)

    def test_one_backend_per_pair(self):
        wizard = self._wizard()
        wizard.action_next()
        backend = wizard.backend_id
        # Opened again where a backend exists (the dashboard's button: no backend given), it edits that one.
        again = self.env["apicenter.setup.wizard"].create({})
        self.assertEqual(again.backend_id, backend)
        self.assertEqual(again.mplus_url, self.sb.mplus_url)
        # A second backend on the same AccountView company and MplusKASSA administration is refused by the model,
        # naming the one that serves it; through the wizard with the Backend field emptied too.
        with self.assertRaises(ValidationError) as refused:
            self.env["apicenter.backend"].create(
                {"name": "Second", "av_base_url": self.sb.accountview_url + "/", "mplus_url": self.sb.mplus_url}
            )
        self.assertIn("“Wizard Shop” already serves", str(refused.exception))
        second = self._wizard(name="Second shop", backend_id=False)
        with self.assertRaises(ValidationError) as refused:
            second.action_next()
        self.assertIn("Wizard Shop", str(refused.exception))
        # Another administration is another pair.
        other = self.env["apicenter.backend"].create(
            {"name": "Other till", "av_base_url": self.sb.accountview_url, "mplus_url": self.sb.mplus_url + "/b"}
        )
        # One that got there before this rule (written in SQL here): the check refutes it, naming the other.
        self.env.cr.execute("UPDATE apicenter_backend SET mplus_url = %s WHERE id = %s", (self.sb.mplus_url, other.id))
        other.invalidate_recordset()
        report = backend._run_connection_check()
        pair = report.check_ids.filtered(lambda c: c.check_key == "mplus.one_backend_per_pair")
        self.assertEqual(pair.status, "refuted")
        self.assertIn("also served by Other till", pair.detail)
        other.active = False
        pair = backend._run_connection_check().check_ids.filtered(lambda c: c.check_key == "mplus.one_backend_per_pair")
        self.assertEqual(pair.status, "confirmed")

    def test_failed_test_blocks_unless_skipped(self):
        wizard = self._wizard(name="Broken Shop", mplus_secret="wrong", av_client_secret="wrong")
        wizard.action_next()
        self.assertEqual(wizard.state, "test")
        self.assertFalse(wizard.mplus_ok)
        self.assertTrue(wizard.mplus_message)
        self.assertFalse(wizard.av_ok)
        self.assertTrue(wizard.av_message)
        with self.assertRaises(UserError):
            wizard.action_next()
        wizard.skip_test = True
        wizard.action_next()
        self.assertEqual(wizard.state, "flows")
        wizard.write({f"flow_{name}": False for name in ("products", "customers", "stock", "prices", "orders")})
        with self.assertRaises(UserError):
            wizard.action_next()
        wizard.action_back()
        self.assertEqual(wizard.state, "test")

    def _ring(self):
        article = next(a for a in self.sb.world.articles if a.in_mplus and a.in_accountview and a.sku.isdigit())
        reply = httpx.post(self.sb.mplus_url + "/_sandbox/till/sale",
                           json={"lines": [{"articleNumber": int(article.sku), "quantity": "1"}],
                                 "payments": [{"method": "PIN"}]})  # fmt: skip
        reply.raise_for_status()
        return reply.json()["receiptId"]

    def test_a_till_shop_books_its_receipts(self):
        """The wizard asks which sales to book, pre-selected from what the till holds: a till that sold at the
        counter today books its receipts, and a receipt rung up after activating is booked."""
        self._ring()
        wizard = self._wizard(name="Till Shop")
        wizard.action_next()
        backend = wizard.backend_id
        store = backend._store()
        config = sandbox_config()
        for table, rows in config["mappings"].items():  # the sandbox shop's mapping tables
            store.mappings.set_table(table, rows)
        wizard.action_next()
        self.assertEqual(wizard.state, "flows")
        self.assertIn("1 till receipts, 0 invoices, 0 orders", wizard.sales_found)
        self.assertEqual((wizard.book_receipts, wizard.book_invoices, wizard.book_orders), (True, False, False))
        wizard.write({f"flow_{name}": name == "orders" for name in ("products", "customers", "stock", "prices",
                                                                     "orders")})  # fmt: skip
        wizard.book_receipts = False
        with self.assertRaises(UserError):
            wizard.action_next()  # the orders flow books something
        wizard.book_receipts = True
        wizard.action_next()
        wizard.write({"receipt_booking": "each", "default_debtor_mode": "when_no_customer",
                      "default_debtor_number": "10001"})  # fmt: skip
        wizard.action_next()
        self.assertEqual(wizard.state, "mappings")
        self.assertIn("filled", wizard.mapping_guide)  # payment_method_condition, the one the orders flow needs
        flows_settings = config["settings"]["orders"]
        wizard.action_activate()
        if wizard.state == "check":
            wizard.action_accept_and_activate()
        orders = backend.flow_ids
        self.assertEqual(orders.mapped("flow"), ["orders"])
        orders.write({name: flows_settings[name] for name in ("other_line_article", "cash_rounding_article",
                                                              "cash_rounding_account")})  # fmt: skip
        self.assertEqual(orders.source_document_type, "receipt")
        # The orders card says what it reads, and what not.
        self.assertEqual(orders.sales_read_text, "till receipts (each its own document); not read: invoices, orders")
        self.assertTrue(orders.enabled)
        receipt = self._ring()
        perform_chained_jobs(orders)
        sale = self.env["apicenter.sale"].search([("backend_id", "=", backend.id), ("source_id", "=", receipt)])
        self.assertEqual((sale.source, sale.state), ("receipt", "sent"), sale.reason)

    def test_settings_step_flags_stock_that_must_drift(self):
        """Stock from AccountView while till sales are booked without article lines: the settings step says so,
        in the user's language, with what to choose (the doctor's stock_drift)."""
        wizard = self._wizard(flow_stock=True, flow_orders=True, manage_stock=True, stock_figure="available",
                              order_type="sales_order")  # fmt: skip
        self.assertFalse(wizard.stock_drift)
        wizard.order_type = "booking"
        self.assertIn("the till's stock must drift", wizard.stock_drift)
        self.assertIn("= sales_order", wizard.stock_drift)  # what to choose
        dutch = wizard.with_context(lang="nl_NL")
        self.env["res.lang"]._activate_lang("nl_NL")
        dutch.invalidate_recordset(["stock_drift"])
        self.assertIn("voorraad in de kassa moet afwijken", dutch.stock_drift)
        wizard.manage_stock = False  # stock kept in the till: nothing drifts
        self.assertFalse(wizard.stock_drift)
        wizard.manage_stock, wizard.order_type, wizard.stock_figure = True, "sales_order", "on_hand"
        self.assertIn("does not subtract what sales orders reserve", wizard.stock_drift)
