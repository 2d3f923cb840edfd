# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Settings picked from what the systems list (articles, price lists), and every problem one click from what must
change: a failed log line or a waiting sale opens the mapping table or the setting its error names."""

import httpx
from apicenter_sandbox.world import OTHER_LINE_SKU, ROUNDING_SKU, SHIPPING_SKU
from apicenter_sync.i18n import msg, profile_ref, setting_ref

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from ..models.engine_text import data_text
from .common import ApicenterCase, create_sandbox_flows, perform_chained_jobs


@tagged("post_install", "-at_install")
class TestSettingPickers(ApicenterCase):
    sandbox_size = 30

    def choices(self, kind):
        return self.env["apicenter.mapping.choice"].search([("backend_id", "=", self.backend.id), ("kind", "=", kind)])

    def test_articles_and_price_lists_are_picked_from_accountview_and_a_wrong_one_is_refused(self):
        flows = create_sandbox_flows(self.backend, check=False)
        orders, prices = (flows.filtered(lambda f, n=n: f.flow == n) for n in ("orders", "prices"))
        self.backend.action_load_mapping_choices()
        # AccountView's articles, through the API profile, with their descriptions.
        articles = self.choices("av_article")
        books = {a.sku: a.description for a in self.sb.world.articles if a.in_accountview}
        self.assertTrue(set(books) <= set(articles.mapped("value")), set(books) - set(articles.mapped("value")))
        some = articles.filtered(lambda c: c.value in books)[:1]
        self.assertEqual(some.label, books[some.value])
        # Among thousands a picker finds one by its name, not only by its code.
        found = self.env["apicenter.mapping.choice"].name_search(some.label, [("id", "in", articles.ids)])
        self.assertIn(some.id, [row[0] for row in found])
        # Each article setting has its own picker; picking fills the code the engine reads.
        by_code = {c.value: c for c in articles}
        with Form(orders) as form:
            form.shipping_article_choice_id = by_code[SHIPPING_SKU]
            form.other_line_article_choice_id = by_code[OTHER_LINE_SKU]
            form.cash_rounding_article_choice_id = by_code[ROUNDING_SKU]
            self.assertEqual((form.shipping_article, form.other_line_article, form.cash_rounding_article),
                             (SHIPPING_SKU, OTHER_LINE_SKU, ROUNDING_SKU))  # fmt: skip
        self.assertEqual(self.store.settings.get("shipping_article", "orders"), SHIPPING_SKU)
        # A code AccountView does not list is refused, naming the setting and, of its many articles, the nearest.
        with self.assertRaises(ValidationError) as refused:
            orders.other_line_article = "NOPE-1"
        self.assertIn("Other Line Article: “NOPE-1” is not one the systems list", str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            orders.other_line_article = OTHER_LINE_SKU[:-1]  # a digit short
        self.assertIn(f"Allowed: {OTHER_LINE_SKU} (", str(refused.exception))
        self.assertEqual(orders.other_line_article, OTHER_LINE_SKU)
        # Price lists to skip: tags of AccountView's price lists; the setting stays the list the prices flow reads.
        price_lists = self.choices("customer_group")
        self.assertEqual(sorted(price_lists.mapped("value")), sorted(p.code for p in self.sb.world.price_lists))
        with Form(prices) as form:
            form.skip_price_list_choice_ids.add(price_lists[0])
            self.assertEqual(form.skip_price_lists, price_lists[0].value)
        self.assertEqual(self.store.settings.get("skip_price_lists", "prices"), [price_lists[0].value])
        self.assertEqual(prices.skip_price_list_choice_ids, price_lists[0])
        with self.assertRaises(ValidationError) as refused:
            prices.skip_price_lists = f"{price_lists[0].value},WEBSHOP9"
        self.assertIn("“WEBSHOP9” is not one the systems list", str(refused.exception))
        # Written in other letters, a listed code is still the one the flow compares in capitals.
        prices.skip_price_lists = price_lists[0].value.lower()
        self.assertEqual(prices.skip_price_list_choice_ids, price_lists[0])

    def test_without_loaded_choices_a_code_is_kept_as_typed(self):
        """Before Load Choices nothing is refused (the connection check judges it) and the tags keep every code."""
        prices = create_sandbox_flows(self.backend, check=False).filtered(lambda f: f.flow == "prices")
        prices.skip_price_lists = "HOR,WEB"
        self.assertFalse(prices.skip_price_list_choice_ids)
        prices.write({"skip_price_list_choice_ids": [Command.set([])]})  # what the form sends with its empty tags
        self.assertEqual(prices.skip_price_lists, "HOR,WEB")


@tagged("post_install", "-at_install")
class TestLinksToWhatMustChange(ApicenterCase):
    sandbox_size = 30

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()
        cls.orders = cls.flows.filtered(lambda f: f.flow == "orders")
        cls.orders.write({"read_receipts": True, "retry_delay_seconds": 0})
        cls.user = new_test_user(cls.env, login="apic_links_user", groups="apicenter_connector.group_apicenter_user")

    def ring(self, **sale):
        reply = httpx.post(self.sb.mplus_url + "/_sandbox/till/sale", json=sale)
        self.assertEqual(reply.status_code, 200, reply.text)
        return reply.json()["receiptId"]

    def sale(self, receipt):
        return self.env["apicenter.sale"].search([("backend_id", "=", self.backend.id), ("source_id", "=", receipt)])

    def article(self):
        world = self.sb.world
        return next(int(a.sku) for a in world.articles
                    if a.in_mplus and a.in_accountview and a.sku.isdigit() and a.sku != SHIPPING_SKU)  # fmt: skip

    def test_a_sale_waiting_for_a_mapping_table_opens_that_table_from_the_sale_and_its_log_line(self):
        self.orders.other_line_article = False  # a deposit line then needs a row of bpe_articles (or the setting)
        receipt = self.ring(lines=[{"articleNumber": 0, "text": "Statiegeld", "price": 25, "vatCode": 0,
                                    "bpeId": "DEP-7", "quantity": "1"}],
                            payments=[{"method": "CASH", "amount": 25}])  # fmt: skip
        perform_chained_jobs(self.orders)
        sale = self.sale(receipt)
        self.assertEqual(sale.state, "waiting_mapping", sale.reason)
        self.assertEqual(sale.target_label, "Mapping table: Deposits (BPE) → articles")
        for record in (sale, sale.line_id):  # the sale in Sales from the Till, its failed line in the log
            action = record.with_user(self.user).action_open_target()
            self.assertEqual(action["res_model"], "apicenter.mapping")
            self.assertIn(("table_name", "=", "bpe_articles"), action["domain"])
            self.assertIn(("backend_id", "=", self.backend.id), action["domain"])
            self.assertEqual(action["context"]["default_table_name"], "bpe_articles")
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"].search([("name", "=", "apicenter_connector")])._update_translations(
            filter_lang=["nl_NL"], overwrite=True
        )
        sale.invalidate_recordset()
        self.assertEqual(sale.with_context(lang="nl_NL").target_label, "Koppeltabel: Statiegeld (BPE) → artikelen")

    def test_a_sale_waiting_for_a_setting_opens_the_orders_flow(self):
        self.orders.cash_rounding_article = False
        # Paid in cash, 98 cents are rounded to 1.00: the rounding needs the setting cash_rounding_article.
        receipt = self.ring(lines=[{"articleNumber": self.article(), "quantity": "1", "price": 98}],
                            payments=[{"method": "CASH"}])  # fmt: skip
        perform_chained_jobs(self.orders)
        sale = self.sale(receipt)
        self.assertEqual(sale.state, "waiting_mapping", sale.reason)
        self.assertEqual(sale.target_label, "Setting: Cash Rounding Article")
        action = sale.with_user(self.user).action_open_target()
        self.assertEqual((action["res_model"], action["res_id"]), ("apicenter.flow", self.orders.id))
        self.assertEqual(sale.line_id.action_open_target()["res_id"], self.orders.id)

    def test_a_line_naming_a_profile_entry_offers_open_to_administrators_only(self):
        # The API profile opens for administrators only: others see what to change, but no Open button that would
        # only answer "only an administrator".
        error = msg("flows.cannot_map", detail=profile_ref("accountview.stock.code"))
        line = self.env["apicenter.log.line"].create({
            "run_id": self.env["apicenter.run"].create({"backend_id": self.backend.id, "flow": "stock"}).id,
            "backend_id": self.backend.id, "flow": "stock", "entity": "stock", "direction": "av_to_mplus",
            "source_id": "A-1", "action": "failed", "state": "failed", "error": error, "error_data": data_text(error),
        })  # fmt: skip
        as_user = line.with_user(self.user)
        self.assertTrue(as_user.target_label.startswith("API profile: "), as_user.target_label)
        self.assertFalse(as_user.target_openable)
        with self.assertRaisesRegex(AccessError, "Only an administrator"):
            as_user.action_open_target()
        admin = new_test_user(self.env, login="apic_links_admin",
                              groups="base.group_system,apicenter_connector.group_apicenter_user")
        self.assertTrue(line.with_user(admin).target_openable)
        self.assertIn(("key", "=", "accountview.stock.code"), line.with_user(admin).action_open_target()["domain"])
        # A mapping table or a setting opens for every user.
        setting = msg("flows.cannot_map", detail=setting_ref("cash_rounding_article"))
        line.write({"error": setting, "error_data": data_text(setting)})
        self.assertTrue(line.with_user(self.user).target_openable)
        # The list and the form show the button by that field.
        for view in ("list", "form"):
            arch = self.env["apicenter.log.line"].with_user(self.user).get_view(view_type=view)["arch"]
            self.assertRegex(arch, r'<button name="action_open_target"[^>]*invisible="not target_openable"')

    def test_a_line_naming_nothing_to_change_has_no_link(self):
        line = self.env["apicenter.log.line"].create({
            "run_id": self.env["apicenter.run"].create({"backend_id": self.backend.id, "flow": "orders"}).id,
            "backend_id": self.backend.id, "flow": "orders", "entity": "receipt", "direction": "mplus_to_av",
            "source_id": "R-1", "action": "failed", "state": "failed", "error": "AccountView answered 503",
        })  # fmt: skip
        self.assertFalse(line.target_label)
        with self.assertRaisesRegex(UserError, "names nothing to change"):
            line.action_open_target()
