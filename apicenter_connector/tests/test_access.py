# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Access of the user-facing parts: users watch and retry, managers configure, administrators hold secrets."""

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .test_ui import seed_backend


@tagged("post_install", "-at_install")
class TestAccess(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.backend = seed_backend(cls.env, "Access")
        cls.backend.write({"mplus_secret": "mplus-secret-value", "av_client_secret": "av-secret-value"})
        cls.user = new_test_user(cls.env, login="apic_ui_user", groups="apicenter_connector.group_apicenter_user")
        cls.manager = new_test_user(
            cls.env, login="apic_ui_manager", groups="apicenter_connector.group_apicenter_manager"
        )

    def test_user_sees_dashboard_but_cannot_act_on_configuration(self):
        flows = self.backend.flow_ids.with_user(self.user)
        flows.read(["health", "backlog_count", "failure_24h_count", "next_run_at", "last_state"])
        with self.assertRaises(AccessError):
            flows[:1].action_toggle_enabled()
        with self.assertRaises(AccessError):
            self.env["apicenter.setup.wizard"].with_user(self.user).create({"name": "x"})
        with self.assertRaises(AccessError):
            self.env["apicenter.oauth.state"].with_user(self.user).search([])
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).action_connect_accountview()
        form = self.env["apicenter.backend"].with_user(self.user).get_views([(False, "form")])["views"]["form"]
        self.assertNotIn("mplus_secret", form["arch"])
        self.assertNotIn("av_client_secret", form["arch"])

    def test_manager_configures_without_secrets(self):
        backend = self.backend.with_user(self.manager)
        backend.flow_ids[:1].action_toggle_enabled()
        self.assertEqual(backend.action_connect_accountview()["type"], "ir.actions.act_url")
        form = self.env["apicenter.backend"].with_user(self.manager).get_views([(False, "form")])["views"]["form"]
        self.assertNotIn("mplus_secret", form["arch"])
        self.assertIn("mapping_ids", form["arch"])
        with self.assertRaises(AccessError):
            self.env["apicenter.setup.wizard"].with_user(self.manager).create({"name": "x"})

    def test_admin_sees_secret_fields(self):
        form = self.env["apicenter.backend"].get_views([(False, "form")])["views"]["form"]
        self.assertIn("mplus_secret", form["arch"])
