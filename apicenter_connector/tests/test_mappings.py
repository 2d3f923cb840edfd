# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mapping tables as forms: rows checked on save, choices loaded from MplusKASSA, the wizard's mapping step."""

from apicenter_sync import mapping_tables as registry

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from ..models.odoo_series import SERIES
from .common import ApicenterCase


@tagged("post_install", "-at_install")
class TestMappings(ApicenterCase):
    sandbox_size = 10

    def test_a_bad_row_is_refused_on_save_naming_table_key_and_problem(self):
        Mapping = self.env["apicenter.mapping"]
        with self.assertRaisesRegex(ValidationError, r"\(warehouse_branch\): value 'Utrecht' must be a whole number"):
            Mapping.create({"backend_id": self.backend.id, "table_name": "warehouse_branch", "key": "X",
                            "value": "Utrecht"})  # fmt: skip
        with self.assertRaisesRegex(ValidationError, r"key 'Nederland' must be an ISO 3166 country code"):
            Mapping.create({"backend_id": self.backend.id, "table_name": "vat_method_by_country", "key": "Nederland",
                            "value": "VAT-METHOD-INCLUSIVE"})  # fmt: skip
        row = Mapping.create({"backend_id": self.backend.id, "table_name": "order_status", "key": "COMPLETE",
                              "value": "send"})  # fmt: skip
        with self.assertRaisesRegex(ValidationError, "must be one of send, skip"):
            row.value = "yes"
        # A table of the user's own: any row.
        Mapping.create({"backend_id": self.backend.id, "table_name": "my_table", "key": "a", "value": "b"})

    def test_choices_come_from_mplus_and_fill_the_row(self):
        self.backend.action_load_mapping_choices()
        Choice = self.env["apicenter.mapping.choice"]
        branches = Choice.search([("backend_id", "=", self.backend.id), ("kind", "=", "mplus_branch")])
        self.assertEqual(sorted(branches.mapped("value")), sorted(str(b) for b in self.sb.mplus.app.store.branches))
        methods = Choice.search([("backend_id", "=", self.backend.id), ("kind", "=", "mplus_payment_method")])
        self.assertIn("CASH", methods.mapped("value"))
        vat = Choice.search([("backend_id", "=", self.backend.id), ("kind", "=", "mplus_vat_code")], limit=1)
        self.assertTrue(vat.label.endswith("%"))
        # ...and from AccountView (the backend is connected): its warehouses, VAT codes, payment conditions.
        warehouses = Choice.search([("backend_id", "=", self.backend.id), ("kind", "=", "av_warehouse")])
        self.assertEqual(sorted(warehouses.mapped("value")), sorted(w.code for w in self.sb.world.warehouses))
        for kind in ("av_vat_code", "av_payment_condition", "av_account", "av_journal", "customer_group"):
            self.assertTrue(Choice.search_count([("backend_id", "=", self.backend.id), ("kind", "=", kind)]), kind)
        # In the form, picking a choice fills the row; the table says what key and value are.
        winkel = warehouses.filtered(lambda w: w.value == "WINKEL")
        self.backend.mapping_ids.filtered(lambda r: (r.table_name, r.key) == ("warehouse_branch", "WINKEL")).unlink()
        with Form(self.env["apicenter.mapping"]) as form:
            form.backend_id = self.backend
            form.known_table = "warehouse_branch"
            self.assertEqual((form.key_kind, form.value_kind), ("av_warehouse", "mplus_branch"))
            form.key_choice_id = winkel
            self.assertEqual(form.key, "WINKEL")
            form.value_choice_id = branches[-1]
            self.assertEqual(form.value, branches[-1].value)
        # Saved, the row shows what its codes stand for.
        row = self.backend.mapping_ids.filtered(lambda r: (r.table_name, r.key) == ("warehouse_branch", "WINKEL"))
        self.assertEqual((row.key_label, row.value_label), ("Winkel Utrecht", branches[-1].label or False))
        # Loading again keeps one choice per value.
        self.backend.action_load_mapping_choices()
        self.assertEqual(
            Choice.search_count([("backend_id", "=", self.backend.id), ("kind", "=", "mplus_branch")]), len(branches)
        )

    def test_a_vat_row_between_different_rates_and_an_unknown_branch_are_refused(self):
        self.backend.action_load_mapping_choices()
        Mapping = self.env["apicenter.mapping"]
        vat = self.backend.mapping_ids.filtered(lambda r: (r.table_name, r.key) == ("vat_code_av_mplus", "0"))
        self.assertEqual((vat.key_label, vat.value_label), ("0 %", "0 %"))
        with self.assertRaises(ValidationError) as refused:
            vat.value = "2"  # AccountView's 0 % onto the till's 21 %
        self.assertIn("0 is 0 % but 2 is 21 %", str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            Mapping.create({"backend_id": self.backend.id, "table_name": "warehouse_branch", "key": "NOPE",
                            "value": "99"})  # fmt: skip
        self.assertIn("key “NOPE” is not in the list the systems give", str(refused.exception))
        self.backend.mapping_ids.filtered(lambda r: (r.table_name, r.key) == ("warehouse_branch", "WINKEL")).unlink()
        with self.assertRaises(ValidationError) as refused:
            Mapping.create({"backend_id": self.backend.id, "table_name": "warehouse_branch", "key": "WINKEL",
                            "value": "99"})  # fmt: skip
        self.assertIn("value “99” is not in the list the systems give (MplusKASSA branch)", str(refused.exception))
        # Without choices loaded, only the form of a row is checked (a table of the user's own: anything).
        Mapping.create({"backend_id": self.backend.id, "table_name": "my_table", "key": "NOPE", "value": "99"})

    def test_loading_choices_is_a_managers_act(self):
        user = new_test_user(self.env, login="apic_map_user", groups="apicenter_connector.group_apicenter_user")
        with self.assertRaises(AccessError):
            self.backend.with_user(user).action_load_mapping_choices()
        with self.assertRaises(AccessError):
            self.env["apicenter.mapping.choice"].with_user(user).create(
                {"backend_id": self.backend.id, "kind": "mplus_branch", "value": "9"}
            )

    def test_mapping_tables_list_every_table_and_load_choices(self):
        """Configuration › Mapping Tables opens grouped by table: every table the flows read is a group, an empty
        one too; *Load Choices* there fetches the choices of the rows' backends."""
        Mapping = self.env["apicenter.mapping"]
        domain = [("backend_id", "=", self.backend.id), ("table_name", "!=", "warehouse_branch")]
        if SERIES < 19:
            groups = Mapping.read_group(domain, ["known_table"], ["known_table"])
        else:
            groups = Mapping.with_context(read_group_expand=True).web_read_group(domain, ["known_table"])["groups"]
        shown = [g["known_table"][0] if isinstance(g["known_table"], list | tuple) else g["known_table"]
                 for g in groups]  # fmt: skip
        self.assertIn("warehouse_branch", shown, "a table without rows is listed too")
        self.assertEqual(set(shown) - {"other"}, {t.name for t in registry.TABLES})
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_mapping_action")
        self.assertIn("search_default_group_table", action["context"])
        row = Mapping.create({"backend_id": self.backend.id, "table_name": "order_status", "key": "X", "value": "send"})
        result = row.action_load_choices()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertTrue(self.env["apicenter.mapping.choice"].search_count(
            [("backend_id", "=", self.backend.id), ("kind", "=", "mplus_branch")]))  # fmt: skip
        user = new_test_user(self.env, login="apic_map_user2", groups="apicenter_connector.group_apicenter_user")
        with self.assertRaises(AccessError):
            Mapping.with_user(user).action_load_choices()

    def test_wizard_mapping_step(self):
        wizard = self.env["apicenter.setup.wizard"].create({
            "backend_id": self.backend.id, "name": self.backend.name, "av_base_url": self.sb.accountview_url,
            "mplus_url": self.sb.mplus_url, "mplus_ident": self.sb.mplus_ident, "mplus_secret": self.sb.mplus_secret,
            "state": "settings", "flow_orders": False, "flow_customers": False, "flow_prices": False,
        })  # fmt: skip
        wizard.action_next()
        self.assertEqual(wizard.state, "mappings")
        # The step names the tables the chosen flows need (products, stock), not those of the others.
        self.assertIn("vat_code_av_mplus", wizard.mapping_guide)
        self.assertIn("warehouse_branch", wizard.mapping_guide)
        self.assertNotIn("payment_method_account", wizard.mapping_guide)
        wizard.action_load_mapping_choices()
        self.assertIn("Loaded:", wizard.choices_message)
        branch = self.env["apicenter.mapping.choice"].search(
            [("backend_id", "=", self.backend.id), ("kind", "=", "mplus_branch")], limit=1
        )
        # A warehouse neither system lists is refused on save, naming the table and what is allowed.
        with self.assertRaises(ValidationError) as refused:
            wizard.write({"mapping_ids": [(0, 0, {"backend_id": self.backend.id, "known_table": "warehouse_branch",
                                                  "key": "MAGAZIJN3", "value": branch.value})]})  # fmt: skip
        self.assertIn("Warehouses → MplusKASSA branches (warehouse_branch)", str(refused.exception))
        self.assertIn("“MAGAZIJN3” is not in the list the systems give (AccountView warehouse)", str(refused.exception))
        self.assertIn("HOOFD (Hoofdmagazijn), WINKEL (Winkel Utrecht)", str(refused.exception))
        self.backend.mapping_ids.filtered(lambda r: (r.table_name, r.key) == ("warehouse_branch", "WINKEL")).unlink()
        wizard.write({"mapping_ids": [(0, 0, {"backend_id": self.backend.id, "known_table": "warehouse_branch",
                                              "key": "WINKEL", "value": branch.value})]})  # fmt: skip
        # Activate runs the connection check first: it refutes the seeded non-numeric SKU (the wizard's default
        # non_numeric_sku), so nothing is scheduled until the administrator accepts that problem.
        wizard.action_activate()
        self.assertEqual(wizard.state, "check")
        self.assertEqual(wizard.check_problem_ids.mapped("check_key"), ["accountview.article.numeric_skus"])
        self.assertFalse(self.backend.flow_ids.filtered("enabled"), "nothing scheduled before the check is accepted")
        wizard.action_accept_and_activate()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(wizard.check_report_id.accepted_check_ids, wizard.check_problem_ids)
        self.assertEqual(sorted(self.backend.flow_ids.filtered("enabled").mapped("flow")), ["products", "stock"])
        self.assertEqual(self.backend._store().mappings.lookup("warehouse_branch", "WINKEL"), branch.value)
        with self.assertRaises(ValidationError):
            wizard.write({"mapping_ids": [(0, 0, {"backend_id": self.backend.id, "known_table": "warehouse_branch",
                                                  "key": "MAGAZIJN4", "value": "twee"})]})  # fmt: skip
