# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Hardening (docs/reliability.md, Threat model): every public method checks access itself, as the web client or
XML-RPC would call it; endpoints, TLS and the company are an administrator's; log lines are written by the store.
"""

import inspect
import re
from unittest.mock import patch
from xmlrpc.client import Fault

from apicenter_sync.clients.accountview_oauth import Tokens
from apicenter_sync.errors import ConfigError
from apicenter_sync.store.interfaces import LogLine

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import trap_jobs
from .test_ui import seed_backend

ADDON = "odoo.addons.apicenter_connector."
# Who may call what: (model, method) -> (the most powerful user who must get AccessError, target, arguments).
# "internal": an Odoo user without APIcenter rights; "user": APIcenter user; "manager": APIcenter manager (not an
# administrator). A public method that is not listed here fails test_every_public_method_is_listed.
SPEC = {
    ("apicenter.backend", "action_check_connection"): ("user", "backend", ()),
    ("apicenter.backend", "action_connect_accountview"): ("user", "backend", ()),
    ("apicenter.backend", "action_create_flows"): ("user", "backend", ()),
    ("apicenter.backend", "action_load_default_mapping"): ("user", "backend", ()),
    ("apicenter.backend", "action_load_mapping_choices"): ("user", "backend", ()),
    ("apicenter.backend", "action_open_setup_wizard"): ("manager", "backend", ()),
    ("apicenter.backend", "action_profile_reset"): ("manager", "backend", ()),
    ("apicenter.backend", "action_open_profile"): ("manager", "backend", ()),
    ("apicenter.backend", "action_profile_transfer"): ("manager", "backend", ()),
    ("apicenter.backend", "action_test_accountview"): ("user", "backend", ()),
    ("apicenter.backend", "action_test_mplus"): ("user", "backend", ()),
    ("apicenter.backend", "action_view_doctor_reports"): ("internal", "backend", ()),
    ("apicenter.backend", "action_view_flows"): ("internal", "backend", ()),
    ("apicenter.flow", "action_run_now"): ("user", "flow", ()),
    ("apicenter.flow", "action_full_resync"): ("user", "flow", ()),
    ("apicenter.flow", "action_dry_run"): ("user", "flow", ()),
    ("apicenter.flow", "action_reset_watermark"): ("user", "flow", ()),
    ("apicenter.flow", "action_toggle_enabled"): ("user", "flow", ()),
    ("apicenter.flow", "action_view_runs"): ("internal", "flow", ()),
    ("apicenter.flow", "action_view_sales"): ("internal", "flow", ()),
    ("apicenter.flow", "action_view_log_lines"): ("internal", "flow", ()),
    ("apicenter.log.line", "action_retry"): ("internal", "line", ()),
    ("apicenter.log.line", "action_ignore"): ("internal", "line", ()),
    ("apicenter.sale", "action_retry"): ("internal", "sale", ()),
    ("apicenter.sale", "action_ignore"): ("internal", "sale", ()),
    ("apicenter.sale", "action_open_line"): ("internal", "sale", ()),
    ("apicenter.accountview.company", "action_use"): ("user", "av_company", ()),
    ("apicenter.doctor.report", "action_confirm"): ("manager", "report", ()),
    ("apicenter.doctor.report", "action_view_proposals"): ("internal", "report", ()),
    ("apicenter.doctor.proposal", "action_apply"): ("manager", "proposal", ()),
    ("apicenter.datamapper.line", "mapping_flows"): ("internal", "model", ()),
    ("apicenter.datamapper.line", "load_default_mapping"): ("user", "model", ("backend", "products")),
    ("apicenter.profile.transfer", "action_export"): ("manager", "transfer", ()),
    ("apicenter.profile.transfer", "action_import"): ("manager", "transfer", ()),
    ("apicenter.setup.wizard", "action_next"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_back"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_retest"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_load_mapping_choices"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_connect_accountview"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_activate"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_open_dashboard"): ("manager", "wizard", ()),
}
# An explicit check in the method's own body: not only the ACL of a field it happens to read first.
EXPLICIT_CHECK = re.compile(r"check_access\(|_check_admin\(|_check_manager\(|has_group\(")


def public_methods(env):
    """{(model, method): function} of every public method the addon defines (not ORM overrides such as create)."""
    found = {}
    for name in env.registry:
        cls = type(env[name])
        for klass in cls.mro():
            if not klass.__module__.startswith(ADDON) or ".tests." in klass.__module__:
                continue
            for attr, value in vars(klass).items():
                if attr.startswith("_") or not inspect.isfunction(value):
                    continue
                overrides = any(attr in vars(other) for other in cls.mro() if not other.__module__.startswith(ADDON))
                if not overrides:
                    found[(name, attr)] = value
    return found


class AccessFixture:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.backend = seed_backend(cls.env, "RPC")
        cls.backend.write({"mplus_ident": "rpc-ident", "mplus_secret": "rpc-secret", "av_client_secret": "rpc-cs"})
        cls.flow = cls.backend.flow_ids.filtered(lambda f: f.flow == "orders")
        cls.users = {
            who: new_test_user(cls.env, login=f"apic_rpc_{who}", password=f"apic_rpc_{who}", groups=groups)
            for who, groups in (
                ("internal", "base.group_user"),
                ("user", "apicenter_connector.group_apicenter_user"),
                ("manager", "apicenter_connector.group_apicenter_manager"),
            )
        }
        store = cls.backend._store()
        run = store.log.start_run("orders")
        (line_id,) = store.log.add_lines(
            run, [LogLine("orders", "order", "mplus_to_av", "ORD-1", "failed", error="no debtor")]
        )
        cls.line = cls.env["apicenter.log.line"].browse(line_id)
        cls.sale = cls.env["apicenter.sale"].search([("line_id", "=", line_id)])
        cls.av_company = cls.env["apicenter.accountview.company"].create(
            {"backend_id": cls.backend.id, "av_id": "c2", "code": "2", "name": "Other"}
        )
        cls.report = cls.env["apicenter.doctor.report"].create({"backend_id": cls.backend.id, "state": "refuted"})
        cls.proposal = cls.env["apicenter.doctor.proposal"].create({
            "report_id": cls.report.id, "key": "accountview.stock.code", "current_value": "STK1",
            "proposed_value": "VRD1", "confidence": "high",
        })  # fmt: skip
        cls.transfer = cls.env["apicenter.profile.transfer"].create({"backend_id": cls.backend.id})
        cls.wizard = cls.env["apicenter.setup.wizard"].create({"backend_id": cls.backend.id, "name": "RPC"})
        cls.targets = {
            "backend": cls.backend,
            "flow": cls.flow,
            "line": cls.line,
            "sale": cls.sale,
            "av_company": cls.av_company,
            "report": cls.report,
            "proposal": cls.proposal,
            "transfer": cls.transfer,
            "wizard": cls.wizard,
        }


@tagged("post_install", "-at_install")
class TestRpcAccess(AccessFixture, TransactionCase):
    def test_every_public_method_is_listed(self):
        found = set(public_methods(self.env))
        self.assertFalse(
            found - set(SPEC),
            "public methods without an access test: add a check (check_access / _check_admin) and a SPEC row",
        )
        self.assertFalse(set(SPEC) - found, "SPEC rows of methods that no longer exist")

    def test_every_public_method_checks_access_itself(self):
        unchecked = sorted(
            f"{model}.{method}"
            for (model, method), function in public_methods(self.env).items()
            if not EXPLICIT_CHECK.search(inspect.getsource(function))
        )
        self.assertFalse(unchecked, "public methods that rely on the view's groups= only")

    def test_every_public_method_refuses_a_user_without_the_right(self):
        self.assertTrue(self.sale, "the fixture has a sale from the till")
        for (model, method), (who, target, args) in sorted(SPEC.items()):
            user = self.users[who]
            with self.subTest(model=model, method=method, user=who):
                if target == "model":
                    records = self.env[model].with_user(user)
                else:
                    records = self.env[model].with_user(user).browse(self.targets[target].ids)
                call_args = [self.backend.with_user(user) if a == "backend" else a for a in args]
                with trap_jobs() as trap, self.assertRaises(AccessError):
                    getattr(records, method)(*call_args)
                trap.assert_jobs_count(0)

    def test_managers_still_run_flows_and_users_still_retry(self):
        with trap_jobs() as trap:
            self.flow.with_user(self.users["manager"]).action_run_now()
            self.flow.with_user(self.users["manager"]).action_dry_run()
            trap.assert_jobs_count(2)
        self.flow.with_user(self.users["manager"]).action_reset_watermark()
        line = self.line.with_user(self.users["user"])
        with trap_jobs() as trap:
            line.action_retry()
            trap.assert_jobs_count(1)
        line.action_ignore()
        self.assertEqual(self.line.state, "ignored")

    # --- log lines are read-only: only the store writes them ------------------------------------------------------
    def test_log_lines_are_read_only_for_users_and_managers(self):
        for who in ("user", "manager"):
            line = self.line.with_user(self.users[who])
            self.assertEqual(line.error, "no debtor")
            with self.subTest(user=who), self.assertRaises(AccessError):
                line.write({"state": "resolved"})
            with self.subTest(user=who), self.assertRaises(AccessError):
                line.unlink()
            with self.subTest(user=who), self.assertRaises(AccessError):
                self.env["apicenter.log.line"].with_user(self.users[who]).create(
                    {
                        "run_id": self.line.run_id.id,
                        "backend_id": self.backend.id,
                        "flow": "orders",
                        "entity": "order",
                        "direction": "mplus_to_av",
                        "action": "created",
                    }  # fmt: skip
                )
        self.assertEqual(self.line.state, "failed")

    # --- endpoints, TLS, company: administrators only -------------------------------------------------------------
    def test_manager_cannot_change_endpoints_tls_company_or_allow_list(self):
        backend = self.backend.with_user(self.users["manager"])
        other = self.env["res.company"].create({"name": "Elsewhere"})
        self.users["manager"].write({"company_ids": [(4, other.id)]})
        for vals in (
            {"av_base_url": "https://www.accountview.net.evil.com"},
            {"mplus_url": "https://api.mpluskassa.nl:1"},
            {"verify_tls": False},
            {"company_id": other.id},
            {"allowed_hosts": "*.evil.com"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                backend.write(vals)
        for field in ("av_base_url", "mplus_url", "verify_tls", "allowed_hosts"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                backend.read([field])
        with self.assertRaises(AccessError):
            self.env["apicenter.backend"].with_user(self.users["manager"]).create(
                {"name": "Mine", "mplus_url": "https://api.mpluskassa.nl:2"}
            )
        with self.assertRaises(AccessError):
            self.env["apicenter.setting"].with_user(self.users["manager"]).create(
                {"backend_id": self.backend.id, "name": "allowed_hosts", "value": '["evil.com"]'}
            )
        backend.write({"name": "Still a manager's to rename", "timeout_seconds": 30})
        form = self.env["apicenter.backend"].with_user(self.users["manager"]).get_views([(False, "form")])
        arch = form["views"]["form"]["arch"]
        for field in ("av_base_url", "mplus_url", "verify_tls", "allowed_hosts"):
            self.assertNotIn(f'name="{field}"', arch)

    def test_urls_are_checked_against_the_allow_list(self):
        cases = (
            ({"mplus_url": "https://mplus.evil.com:443"}, "not on the allow-list"),
            ({"mplus_url": "http://api.mpluskassa.nl:45166"}, "plain http://"),
            ({"av_base_url": "https://accountview.evil.com"}, "not on the allow-list"),
            ({"av_base_url": "http://www.accountview.net"}, "plain http://"),
            ({"allowed_hosts": "www.accountview.net,api.mpluskassa.nl"}, "127.0.0.1 is not on the allow-list"),
            ({"allowed_hosts": "*"}, "not a host name"),
        )
        for vals, words in cases:
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, re.escape(words)):
                with self.env.cr.savepoint():
                    self.backend.write(vals)
        self.backend.write(
            {"allowed_hosts": "127.0.0.1,*.example.org,www.accountview.net", "mplus_url": "https://kassa.example.org:1"}
        )
        self.backend.write(
            {"mplus_url": "https://api.mpluskassa.nl:45166", "allowed_hosts": "api.mpluskassa.nl,127.0.0.1"}
        )

    def test_stored_bad_endpoint_is_refused_before_any_client_exists(self):
        # As an old database may hold it: written past the ORM's check.
        self.env.cr.execute(
            "UPDATE apicenter_backend SET mplus_url = %s, av_base_url = %s WHERE id = %s",
            ("http://mplus.evil.com", "https://av.evil.com", self.backend.id),
        )
        self.backend.invalidate_recordset()
        with patch("odoo.addons.apicenter_connector.models.apicenter_backend.MplusClient") as client:
            with self.assertRaisesRegex(ConfigError, "plain http://"):
                self.backend._mplus_client()
            with patch("odoo.addons.apicenter_connector.models.apicenter_backend.AccountViewOAuth") as oauth:
                with self.assertRaisesRegex(ConfigError, "av.evil.com is not on the allow-list"):
                    self.backend._accountview_oauth()
                self.flow._run_job("dry_run")  # dry runs are not held by the fixture's refuted check
                oauth.assert_not_called()
            client.assert_not_called()
        self.assertEqual(self.flow.last_state, "failed")
        self.assertIn("allow-list", self.flow.last_error)
        notification = self.backend.action_test_mplus()
        self.assertEqual(notification["params"]["type"], "danger")

    def _connect(self):
        self.backend._token_store().save(Tokens("access-" + "a" * 20, "refresh-" + "r" * 20, 0, "scope"))
        self.backend.invalidate_recordset()
        self.assertTrue(self.backend.av_connected)

    def test_changed_accountview_endpoint_deletes_the_tokens(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        for vals in (
            {"av_base_url": "http://localhost:8765"},
            {"verify_tls": False},
            {"company_id": other.id},
        ):
            with self.subTest(vals=vals):
                self._connect()
                self.backend.write(vals)
                self.assertFalse(self.backend.av_connected)
                self.assertFalse(self.env["apicenter.backend.token"].search([("backend_id", "=", self.backend.id)]))
                self.assertEqual(self.backend.setup_state, "draft")
                self.assertTrue(self.backend.av_connect_failed)
                self.assertIn("Connect AccountView again", self.backend.av_connect_message)
        self._connect()
        self.backend.write({"name": "Renamed", "av_base_url": "http://localhost:8765/"})  # the same endpoint
        self.assertTrue(self.backend.av_connected)

    def test_changed_mplus_endpoint_needs_a_new_test(self):
        self._connect()
        self.assertFalse(self.backend.mplus_needs_test)
        self.assertNotEqual(self.backend.setup_state, "draft")
        self.backend.write({"mplus_url": "http://127.0.0.1:10"})
        self.assertTrue(self.backend.av_connected, "AccountView keeps its tokens")
        self.assertTrue(self.backend.mplus_needs_test)
        self.assertEqual(self.backend.setup_state, "draft")
        runs = self.flow.run_ids
        with patch.object(type(self.backend), "_engine", side_effect=AssertionError("no engine may be built")):
            message = self.flow._run_job("dry_run")
        self.assertIn("Test MplusKASSA", message)
        self.assertEqual(self.flow.run_ids, runs, "held before any client is built")
        self.assertEqual(self.flow.last_state, "failed")

        class Fake:
            def api_version(self):
                return {"version": "9.9"}

            def close(self):
                pass

        backend_class = type(self.backend)
        with patch.object(backend_class, "_mplus_client", lambda self: Fake()):
            self.backend.with_user(self.users["manager"]).action_test_mplus()
        self.assertFalse(self.backend.mplus_needs_test)
        self.assertNotEqual(self.backend.setup_state, "draft")


@tagged("post_install", "-at_install")
class TestXmlRpcAccess(AccessFixture, HttpCase):
    """The same refusals through a real XML-RPC call (/xmlrpc/2/object), as any client of the API would make."""

    def _execute(self, who, model, method, *args):
        user = self.users[who]
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, user.id, user.login, model, method, list(args))

    def assertRefused(self, who, model, method, *args):
        with self.assertRaises(Fault) as caught:
            self._execute(who, model, method, *args)
        self.assertEqual(caught.exception.faultCode, 4, caught.exception.faultString)  # RPC_FAULT_CODE_ACCESS_ERROR

    def test_manager_actions_refused_to_users_over_xmlrpc(self):
        for method in ("action_run_now", "action_full_resync", "action_dry_run", "action_reset_watermark"):
            with self.subTest(method=method):
                self.assertRefused("user", "apicenter.flow", method, self.flow.ids)
        self.assertRefused("user", "apicenter.backend", "action_test_mplus", self.backend.ids)
        self.assertRefused("manager", "apicenter.backend", "action_open_setup_wizard", self.backend.ids)

    def test_endpoint_writes_and_log_line_writes_refused_over_xmlrpc(self):
        self.assertRefused("manager", "apicenter.backend", "write", self.backend.ids, {"mplus_url": "https://x.nl"})
        self.assertRefused("manager", "apicenter.backend", "write", self.backend.ids, {"verify_tls": False})
        self.assertRefused("user", "apicenter.log.line", "write", self.line.ids, {"state": "resolved"})
        self.assertRefused("manager", "apicenter.log.line", "write", self.line.ids, {"state": "resolved"})
        self.assertTrue(self._execute("manager", "apicenter.backend", "write", self.backend.ids, {"name": "Via RPC"}))
