# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from apicenter_sync.store.interfaces import LogLine

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import trap_jobs


@tagged("post_install", "-at_install")
class TestSecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.backend = cls.env["apicenter.backend"].create(
            {
                "name": "Secure",
                "av_client_id": "client",
                "av_client_secret": "av-secret-value",
                "mplus_url": "http://127.0.0.1:9",
                "mplus_ident": "ident-value",
                "mplus_secret": "mplus-secret-value",
            }
        )
        cls.backend.action_create_flows()
        cls.user = new_test_user(cls.env, login="apic_user", groups="apicenter_connector.group_apicenter_user")
        cls.manager = new_test_user(cls.env, login="apic_manager", groups="apicenter_connector.group_apicenter_manager")
        store = cls.backend._store()
        run = store.log.start_run("products")
        (cls.line_id,) = store.log.add_lines(
            run, [LogLine("products", "product", "av_to_mplus", "AB-1", "failed", error="not numeric")]
        )

    def test_user_cannot_read_secrets(self):
        backend = self.backend.with_user(self.user)
        self.assertEqual(backend.name, "Secure")
        for field in ("av_client_secret", "mplus_secret", "mplus_ident"):
            with self.assertRaises(AccessError):
                backend.read([field])
        with self.assertRaises(AccessError):
            self.env["apicenter.backend.token"].with_user(self.user).search([])

    def test_manager_cannot_read_secrets_either(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).read(["mplus_secret"])
        self.backend.with_user(self.manager).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).write({"mplus_secret": "x"})

    def test_user_cannot_configure(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).write({"name": "x"})
        flow = self.backend.flow_ids[:1].with_user(self.user)
        with self.assertRaises(AccessError):
            flow.write({"batch_size": 5})
        with self.assertRaises(AccessError):
            self.env["apicenter.mapping"].with_user(self.user).create(
                {"backend_id": self.backend.id, "table_name": "t", "key": "k", "value": "v"}
            )

    def test_user_can_retry_and_ignore(self):
        line = self.env["apicenter.log.line"].with_user(self.user).browse(self.line_id)
        with trap_jobs() as trap:
            line.action_retry()
            trap.assert_jobs_count(1)
        self.assertEqual(line.state, "retry")
        line.action_ignore()
        self.assertEqual(line.state, "ignored")

    def test_other_company_cannot_see_backend(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        user = new_test_user(
            self.env,
            login="apic_other",
            groups="apicenter_connector.group_apicenter_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        self.assertFalse(self.env["apicenter.backend"].with_user(user).search([("id", "=", self.backend.id)]))
        self.assertFalse(self.env["apicenter.flow"].with_user(user).search([("backend_id", "=", self.backend.id)]))
