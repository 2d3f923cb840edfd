# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The setup wizard end to end against the sandboxes: backend and flows created, schedules active."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ApicenterCase


@tagged("post_install", "-at_install")
class TestSetupWizard(ApicenterCase):
    sandbox_size = 10

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
        wizard.action_activate()
        self.assertEqual(wizard.state, "done")
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
        self.assertFalse(stock.enabled)
        self.assertIn("paused", again.summary)

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
