# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import importlib.util
from pathlib import Path

from apicenter_sync import settings as registry

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import ApicenterCase, create_sandbox_flows


@tagged("post_install", "-at_install")
class TestConfiguration(ApicenterCase):
    def test_connected_through_the_orm(self):
        self.assertTrue(self.backend.av_connected)
        self.assertTrue(self.backend.av_company_id)
        self.assertTrue(self.backend.av_company_name)
        token = self.env["apicenter.backend.token"].sudo().search([("backend_id", "=", self.backend.id)])
        self.assertTrue(token.access_token and token.refresh_token)
        self.assertTrue(self.backend.av_redirect_uri.endswith("/apicenter/oauth/callback"))

    def test_one_test_connection_for_both_systems(self):
        """*Test Connection* signs in to both systems, says how each went, and then opens the connection check."""
        result = self.backend.action_test_connection()
        message = result["params"]["message"]
        self.assertEqual(result["params"]["type"], "success", message)
        self.assertIn(f"AccountView: connected to company {self.backend.av_company_name}", message)
        self.assertIn("MplusKASSA: connected, API version", message)
        report = result["params"]["next"]
        self.assertEqual(report["res_model"], "apicenter.doctor.report")
        self.assertEqual(self.env["apicenter.doctor.report"].browse(report["res_id"]).backend_id, self.backend)
        self.backend.sudo().mplus_secret = "zz-bad-secret-42"
        reports = self.env["apicenter.doctor.report"].search_count([("backend_id", "=", self.backend.id)])
        result = self.backend.action_test_connection()
        message = result["params"]["message"]
        self.assertEqual(result["params"]["type"], "danger")
        self.assertNotIn("next", result["params"], "no connection check while a system refuses")
        self.assertIn("AccountView: connected to company", message, "each system reported on its own")
        self.assertIn("MplusKASSA: ", message)
        self.assertIn("credentials refused", message)
        self.assertNotIn("zz-bad-secret-42", message)
        self.assertEqual(
            self.env["apicenter.doctor.report"].search_count([("backend_id", "=", self.backend.id)]), reports
        )

    def test_token_rotation_is_saved(self):
        token_store = self.backend._token_store()
        client = self.backend._accountview_client()
        try:
            old = token_store.get()
            client._refresh(old)
        finally:
            client.close()
        token = self.env["apicenter.backend.token"].sudo().search([("backend_id", "=", self.backend.id)])
        self.assertNotEqual(token.refresh_token, old.refresh_token)
        self.assertEqual(self.backend._token_store().get().refresh_token, token.refresh_token)

    def test_create_flows_once_per_engine_flow(self):
        self.backend.action_create_flows()
        self.backend.action_create_flows()
        flows = self.backend.flow_ids
        self.assertEqual(len(flows), len(set(flows.mapped("flow"))))
        self.assertTrue(all(flows.mapped("available")))
        self.assertEqual(flows.filtered(lambda f: f.flow == "products").batch_size, 100)

    def test_setting_fields_follow_the_registry(self):
        self.backend.action_create_flows()
        products = self.backend.flow_ids.filtered(lambda f: f.flow == "products")
        self.assertEqual(
            sorted(products.update_fields.mapped("code")),
            sorted(registry.get_setting("update_fields").default_value()),
        )
        with self.assertRaises(ValidationError) as cm:
            products.interval_minutes = 0
        self.assertIn("“Interval Minutes”", str(cm.exception))  # the setting as the form labels it
        stock = self.backend.flow_ids.filtered(lambda f: f.flow == "stock")
        with self.assertRaises(ValidationError) as cm:
            stock.stock_figure = "field"
        self.assertIn("“Stock Field” must be filled in", str(cm.exception))
        for flow in registry.FLOWS:
            values = self.store.settings.all(flow)
            self.assertEqual(set(values), {s.name for s in registry.settings_for(flow)})

    def test_settings_store(self):
        self.backend.action_create_flows()
        settings = self.store.settings
        settings.set("batch_size", 250, "products")
        self.assertEqual(self.backend.flow_ids.filtered(lambda f: f.flow == "products").batch_size, 250)
        self.assertEqual(settings.get("batch_size", "products"), 250)
        self.assertEqual(settings.explicit("products")["batch_size"], 250)
        settings.set("update_fields", ["name", "price"], "products")
        self.assertEqual(sorted(settings.get("update_fields", "products")), ["name", "price"])
        # A setting without a field: a generic row, resolved flow -> backend -> default.
        name = "metadata_retention_days"
        settings.set(name, 90)
        self.assertEqual(self.backend.metadata_retention_days, 90)
        self.assertTrue(settings.unset(name))
        self.assertEqual(settings.get(name), 180)
        settings.set("generated_number_base", 800_000_000_000, "products")
        self.assertEqual(settings.get("generated_number_base", "products"), 800_000_000_000)
        with self.assertRaises(registry.SettingError):
            settings.set("order_type", "XX", "orders")
        with self.assertRaises(registry.SettingError):
            settings.get("order_type", "products")
        extra = [s for s in registry.SETTINGS if s.flows and s.name not in self.env["apicenter.flow"]._fields]
        if extra:
            setting = extra[0]
            flow = setting.flows[0]
            settings.set(setting.name, setting.default_value(), None)
            self.assertEqual(settings.get(setting.name, flow), setting.default_value())
            row = self.env["apicenter.setting"].search([("backend_id", "=", self.backend.id)])
            self.assertEqual(row.name, setting.name)
            with self.assertRaises(ValidationError):
                row.value = "not json"

    def test_mapping_tables(self):
        table = self.store.mappings.get_table("warehouse_branch")
        self.assertEqual(table, {"HOOFD": "1", "WINKEL": "2"})
        self.assertIn("vat_code_av_mplus", self.store.mappings.list_tables())
        row = self.env["apicenter.mapping"].search(
            [("backend_id", "=", self.backend.id), ("table_name", "=", "warehouse_branch"), ("key", "=", "HOOFD")]
        )
        self.assertEqual(row.known_table, "warehouse_branch")
        # Importable with Odoo's standard import (load), by table name, key and value.
        result = self.env["apicenter.mapping"].load(
            ["backend_id/.id", "table_name", "key", "value"],
            [[str(self.backend.id), "order_status", "COMPLETE", "send"]],
        )
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(self.store.mappings.lookup("order_status", "COMPLETE"), "send")
        self.store.mappings.set_value("order_status", "COMPLETE", "skip")
        self.assertEqual(self.store.mappings.lookup("order_status", "COMPLETE"), "skip")
        self.assertTrue(self.store.mappings.delete_value("order_status", "COMPLETE"))

    def test_datamapper_lines(self):
        Line = self.env["apicenter.datamapper.line"]
        lines = Line.load_default_mapping(self.backend, "products")
        self.assertTrue(lines)
        stored = self.store.mappings.get_datamapper("products")
        self.assertEqual(len(stored), len(lines))
        self.assertIsNone(self.store.mappings.get_datamapper("stock"))
        with self.assertRaises(ValidationError) as cm:
            lines[0].transforms = '["no_such_transform"]'
        self.assertIn("invalid mapping for flow 'products'", str(cm.exception))
        with self.assertRaises(ValidationError) as cm:
            lines[0].transforms = "[strip"
        self.assertIn("not valid JSON", str(cm.exception))
        self.backend.action_load_default_mapping()
        self.assertTrue(Line.search_count([("backend_id", "=", self.backend.id), ("mapping_flow", "=", "orders")]))

    def test_a_refused_setting_or_mapping_reads_in_the_users_language(self):
        """A Dutch user who saves a value the engine refuses reads why in Dutch (the engine's catalogue), the setting
        named as the form labels it; an English user reads it in English."""
        self.env["res.lang"]._activate_lang("nl_NL")
        flows = create_sandbox_flows(self.backend, check=False)
        products = flows.filtered(lambda f: f.flow == "products")
        with self.assertRaises(ValidationError) as refused:
            products.with_context(lang="nl_NL").batch_size = 0
        self.assertEqual(
            str(refused.exception), "instelling “Batchgrootte” van de flow Producten: 0 is lager dan het minimum 1"
        )
        with self.assertRaises(ValidationError) as refused:
            products.with_context(lang="en_US").batch_size = 0
        self.assertEqual(str(refused.exception), "setting “Batch Size” of the Products flow: 0 is below the minimum 1")
        with self.assertRaises(ValidationError) as refused:  # a row of Other Settings too
            self.env["apicenter.setting"].with_context(lang="nl_NL").create(
                {"backend_id": self.backend.id, "flow_id": products.id, "name": "batch_size", "value": "0"}
            )
        self.assertEqual(
            str(refused.exception), "instelling “Batchgrootte” van de flow Producten: 0 is lager dan het minimum 1"
        )
        orders = flows.filtered(lambda f: f.flow == "orders").with_context(lang="nl_NL")
        with self.assertRaises(ValidationError) as refused:
            orders.write({"default_debtor_mode": "when_no_customer", "default_debtor_number": False})
        self.assertIn("dus instelling “Standaarddebiteurnummer” moet ingevuld zijn", str(refused.exception))
        # A price group picked from the till's list: its code (text) becomes the setting's number.
        self.backend.action_load_mapping_choices()
        groups = self.env["apicenter.mapping.choice"].search([("backend_id", "=", self.backend.id),
                                                               ("kind", "=", "mplus_price_group")])  # fmt: skip
        self.assertTrue(groups)
        with Form(flows.filtered(lambda f: f.flow == "prices")) as form:
            form.default_price_group_choice_id = groups[-1]
            self.assertEqual(form.default_price_group, int(groups[-1].value))
        lines = self.env["apicenter.datamapper.line"].load_default_mapping(self.backend, "products")
        with self.assertRaises(ValidationError) as refused:
            lines[0].with_context(lang="nl_NL").transforms = '["no_such_transform"]'
        self.assertIn("ongeldige koppeling voor flow 'products':\n  - regel ", str(refused.exception))
        self.assertIn("transformatie 1: onbekende transformatie 'no_such_transform'", str(refused.exception))

    def test_every_setting_is_a_typed_field_not_a_json_row(self):
        from ..models.apicenter_flow import FLOW_SETTING_FIELDS

        for setting in registry.SETTINGS:
            with self.subTest(setting=setting.name):
                if setting.is_global:
                    self.assertIn(setting.name, self.env["apicenter.backend"]._fields)
                else:
                    self.assertIn(setting.name, FLOW_SETTING_FIELDS)
        for model in ("apicenter.flow", "apicenter.backend"):
            arch = self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertNotIn('name="setting_ids"', arch, model)
        # The sandbox configuration (what cash receipts need, price lists…) lands in the fields: no row.
        flows = create_sandbox_flows(self.backend, check=False)
        self.assertFalse(self.env["apicenter.setting"].search([("backend_id", "=", self.backend.id)]))
        orders = flows.filtered(lambda f: f.flow == "orders")
        self.assertEqual((orders.cash_rounding_article, orders.cash_rounding_account), ("999200", "8900"))
        self.assertEqual(self.store.settings.get("cash_rounding_account", "orders"), "8900")
        # A code the systems list is picked from them, and a code they do not list is refused, naming the setting.
        self.backend.action_load_mapping_choices()
        accounts = self.env["apicenter.mapping.choice"].search([("backend_id", "=", self.backend.id),
                                                                 ("kind", "=", "av_account")])  # fmt: skip
        with Form(orders) as form:
            form.shipping_revenue_account_choice_id = accounts[-1]
            self.assertEqual(form.shipping_revenue_account, accounts[-1].value)
        with self.assertRaises(ValidationError) as refused:
            orders.cash_rounding_account = "NOPE"
        self.assertIn("Cash Rounding Account: “NOPE” is not one the systems list", str(refused.exception))
        with self.assertRaises(ValidationError):
            flows.filtered(lambda f: f.flow == "prices").default_price_group = -1

    def test_old_json_rows_become_field_values(self):
        """1.4.0: the rows of "Other settings" move into the fields (a flow's row wins over a backend-wide one)."""
        flows = create_sandbox_flows(self.backend, check=False)
        orders, prices = (flows.filtered(lambda f, n=n: f.flow == n) for n in ("orders", "prices"))
        Setting = self.env["apicenter.setting"]
        Setting.create([
            {"backend_id": self.backend.id, "name": "other_line_article", "value": '"999300"'},
            {"backend_id": self.backend.id, "flow_id": orders.id, "name": "cash_rounding_article", "value": '"999400"'},
            {"backend_id": self.backend.id, "name": "cash_rounding_article", "value": '"999500"'},
            {"backend_id": self.backend.id, "flow_id": prices.id, "name": "skip_price_lists", "value": '["HOR"]'},
            {"backend_id": self.backend.id, "name": "call_deadline_seconds", "value": "90"},
        ])  # fmt: skip
        path = Path(__file__).parents[1] / "migrations" / "1.4.0" / "post-migration.py"
        spec = importlib.util.spec_from_file_location("apicenter_migration_1_4_0", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.3.0")
        self.assertFalse(Setting.search([("backend_id", "=", self.backend.id)]))
        self.assertEqual((orders.other_line_article, orders.cash_rounding_article), ("999300", "999400"))
        self.assertEqual(prices.skip_price_lists, "HOR")
        self.assertEqual(self.backend.call_deadline_seconds, 90)
