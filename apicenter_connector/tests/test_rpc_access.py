# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Hardening (docs/reliability.md, Threat model): every public method checks access itself, as the web client or
XML-RPC would call it; endpoints, TLS and the company are an administrator's; log lines are written by the store.
"""

import base64
import inspect
import re
from datetime import timedelta
from unittest.mock import patch
from xmlrpc.client import Fault

from apicenter_sync.clients.accountview_oauth import Tokens
from apicenter_sync.errors import ConfigError
from apicenter_sync.store.interfaces import LogLine

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from ..models.apicenter_oauth_state import safe_return_path
from ..models.engine_record import ENGINE_FIELDS
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
    ("apicenter.backend", "action_test_connection"): ("user", "backend", ()),
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
    ("apicenter.mapping", "action_load_choices"): ("user", "model", ()),
    ("apicenter.log.line", "action_retry"): ("internal", "line", ()),
    ("apicenter.log.line", "action_ignore"): ("internal", "line", ()),
    ("apicenter.log.line", "action_open_target"): ("internal", "line", ()),
    ("apicenter.sale", "action_retry"): ("internal", "sale", ()),
    ("apicenter.sale", "action_ignore"): ("internal", "sale", ()),
    ("apicenter.sale", "action_open_line"): ("internal", "sale", ()),
    ("apicenter.sale", "action_open_target"): ("internal", "sale", ()),
    ("apicenter.sale", "action_open_sale"): ("internal", "sale", ()),
    ("apicenter.sale.ignore", "action_confirm"): ("internal", "sale_ignore", ()),
    ("apicenter.accountview.company", "action_use"): ("user", "av_company", ()),
    ("apicenter.doctor.report", "action_confirm"): ("manager", "report", ()),
    ("apicenter.doctor.report", "action_view_proposals"): ("internal", "report", ()),
    ("apicenter.doctor.check", "action_open_target"): ("internal", "check", ()),
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
    ("apicenter.setup.wizard", "action_check_again"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_accept_and_activate"): ("manager", "wizard", ()),
    ("apicenter.setup.wizard", "action_open_dashboard"): ("manager", "wizard", ()),
}
# The engine's record: written by its code paths alone (as superuser), read by users and managers (T18).
ENGINE_MODELS = ("apicenter.run", "apicenter.log.line", "apicenter.doctor.report", "apicenter.doctor.check",
                 "apicenter.outage", "apicenter.accountview.company", "apicenter.backend.token")  # fmt: skip
# Stored read-only fields a manager may still write over RPC, and why; every other one is the engine's (T19).
MANAGER_WRITES_READONLY = {
    ("apicenter.profile.line", "key"): "administrators only (the model), set by the shipped profile",
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
                ("portal", "base.group_portal"),
            )
        }
        store = cls.backend._store()
        run = store.log.start_run("orders")
        (line_id,) = store.log.add_lines(
            run, [LogLine("orders", "order", "mplus_to_av", "ORD-1", "failed", error="no debtor")]
        )
        cls.line = cls.env["apicenter.log.line"].browse(line_id)
        cls.sale = cls.env["apicenter.sale"].search([("line_id", "=", line_id)])
        cls.sale_ignore = cls.env["apicenter.sale.ignore"].create({"sale_ids": cls.sale.ids, "reason": "test"})
        cls.av_company = cls.env["apicenter.accountview.company"].create(
            {"backend_id": cls.backend.id, "av_id": "c2", "code": "2", "name": "Other"}
        )
        cls.report = cls.env["apicenter.doctor.report"].create(
            {"backend_id": cls.backend.id, "state": "refuted", "setup_fingerprint": cls.backend._setup_fingerprint()}
        )
        cls.proposal = cls.env["apicenter.doctor.proposal"].create({
            "report_id": cls.report.id, "key": "accountview.stock.code", "current_value": "STK1",
            "proposed_value": "VRD1", "confidence": "high",
        })  # fmt: skip
        cls.check = cls.env["apicenter.doctor.check"].create({
            "report_id": cls.report.id, "system": "mplus", "check_key": "mplus.payment_method.PIN", "subject": "s",
            "status": "refuted", "profile_key": "payment_method_condition",
        })  # fmt: skip
        cls.transfer = cls.env["apicenter.profile.transfer"].create({"backend_id": cls.backend.id})
        cls.wizard = cls.env["apicenter.setup.wizard"].create({"backend_id": cls.backend.id, "name": "RPC"})
        cls.targets = {
            "backend": cls.backend,
            "flow": cls.flow,
            "line": cls.line,
            "sale": cls.sale,
            "sale_ignore": cls.sale_ignore,
            "av_company": cls.av_company,
            "report": cls.report,
            "proposal": cls.proposal,
            "check": cls.check,
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

    # --- the engine's record: runs, log lines, checks, outages and state fields (T18-T20) ------------------------
    def test_the_engine_record_is_read_only_for_users_and_managers(self):
        run = self.line.run_id
        records = {
            "apicenter.run": run,
            "apicenter.log.line": self.line,
            "apicenter.doctor.report": self.report,
            "apicenter.doctor.check": self.env["apicenter.doctor.check"].create(
                {"report_id": self.report.id, "system": "mplus", "check_key": "k", "subject": "s",
                 "status": "refuted"}),  # fmt: skip
            "apicenter.outage": self.env["apicenter.outage"].create(
                {"flow_id": self.flow.id, "backend_id": self.backend.id, "system": "mplus", "kind": "unreachable",
                 "since": fields.Datetime.now()}),  # fmt: skip
            "apicenter.accountview.company": self.av_company,
        }
        self.assertEqual(set(records) | {"apicenter.backend.token"}, set(ENGINE_MODELS))
        for who in ("user", "manager"):
            user = self.users[who]
            for model, record in records.items():
                with self.subTest(user=who, model=model):
                    self.assertTrue(record.with_user(user).read([]), "readable")
                    with self.assertRaises(AccessError):
                        record.with_user(user).write({"create_date": fields.Datetime.now()})
                    with self.assertRaises(AccessError):
                        record.with_user(user).unlink()
                    with self.assertRaises(AccessError):
                        record.with_user(user).copy()
        self.assertTrue(run.exists() and self.line.exists())

    def test_a_manager_cannot_fake_a_finished_run_to_lift_the_hold(self):
        self.assertTrue(self.backend.doctor_hold, "the fixture's refuted check holds the backend")
        with self.assertRaises(AccessError):
            self.env["apicenter.run"].with_user(self.users["manager"]).create(
                {"backend_id": self.backend.id, "flow": "orders", "mode": "normal", "state": "done"}
            )
        with self.assertRaises(AccessError):
            self.line.run_id.with_user(self.users["manager"]).write({"state": "done", "mode": "normal"})
        with self.assertRaises(AccessError):
            self.report.with_user(self.users["manager"]).write({"reviewed_at": fields.Datetime.now()})
        self.backend.invalidate_recordset()
        self.assertTrue(self.backend.doctor_hold)
        # An administrator confirms through the checked action, not by writing the report.
        admin = self.env.ref("base.user_admin")
        with self.assertRaises(AccessError):
            self.report.with_user(admin).write({"reviewed_at": fields.Datetime.now()})
        self.report.with_user(admin).action_confirm()
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.doctor_hold)

    def test_every_state_field_is_written_by_the_engine_alone(self):
        # Every stored read-only field of a model a manager may write is either the engine's or listed.
        manager = self.users["manager"]
        for name in self.env.registry:
            if not name.startswith("apicenter.") or self.env[name]._transient:
                continue
            Model = self.env[name]
            for field in Model._fields.values():
                if not (field.readonly and field.store and not field.compute and not field.related) or field.type in (
                        "one2many", "many2many"):  # written through their model: test_the_engine_record_is_read_only
                    continue
                if field.name in ("create_uid", "create_date", "write_uid", "write_date", "id"):
                    continue
                with self.subTest(model=name, field=field.name):
                    writable = Model.with_user(manager).has_access("write")
                    self.assertTrue(
                        not writable or field.name in ENGINE_FIELDS.get(name, ())
                        or (name, field.name) in MANAGER_WRITES_READONLY,
                        "a state field a manager can write: add it to ENGINE_FIELDS (engine_record.py)",
                    )
        values = {"mplus_needs_test": False, "av_connect_message": "All good", "av_connect_failed": False,
                  "av_company_code": "X", "av_company_name": "Fake", "last_run_at": fields.Datetime.now(),
                  "last_success_at": fields.Datetime.now(), "last_state": "done", "last_error": False, "last_error_data": False,
                  "last_counts": "created: 1", "last_alert_at": fields.Datetime.now()}  # fmt: skip
        for model, names in ENGINE_FIELDS.items():
            record = self.backend if model == "apicenter.backend" else self.flow
            for who in ("user", "manager"):
                for field in names:
                    with self.subTest(model=model, field=field, user=who), self.assertRaises(AccessError):
                        record.with_user(self.users[who]).write({field: values[field]})
            with self.subTest(model=model, create=True), self.assertRaises(AccessError):
                vals = {"name": "Forged", "backend_id": self.backend.id, "flow": "stock", names[0]: values[names[0]]}
                self.env[model].with_user(manager).create(
                    {k: v for k, v in vals.items() if k in self.env[model]._fields})
        self.backend.write({"mplus_needs_test": True})  # the engine (superuser) still writes them
        self.assertTrue(self.backend.mplus_needs_test)

    def test_a_backend_or_run_with_a_log_is_archived_not_deleted(self):
        manager = self.users["manager"]
        with self.assertRaisesRegex(UserError, "archive it instead"):
            self.backend.with_user(manager).unlink()
        with self.assertRaisesRegex(UserError, "archive it instead"):
            self.backend.unlink()  # the superuser too: the log would go with it (ondelete cascade)
        with self.assertRaisesRegex(UserError, "deleted by the retention"):
            self.line.run_id.unlink()
        self.backend.with_user(manager).write({"active": False})
        self.assertTrue(self.line.exists() and self.line.run_id.exists())
        self.backend.write({"active": True})
        empty = self.env["apicenter.backend"].create({"name": "Never used"})
        empty.with_user(manager).unlink()  # nothing logged: deleted
        # The retention still deletes old runs (lines first): the log stays bounded.
        old = fields.Datetime.now() - timedelta(days=400)
        self.env.cr.execute("UPDATE apicenter_log_line SET create_date = %s WHERE backend_id = %s",
                            (old, self.backend.id))  # fmt: skip
        self.env.cr.execute("UPDATE apicenter_run SET started_at = %s, state = 'done' WHERE backend_id = %s",
                            (old, self.backend.id))  # fmt: skip
        self.env.invalidate_all()
        self.line.write({"state": "ignored"})
        self.backend._cron_purge_logs()
        self.assertFalse(self.line.exists())

    def test_settings_values_need_the_settings_access(self):
        # get_values reads backends and channels as superuser; any logged-in user could call it over RPC.
        Settings = self.env["res.config.settings"]
        for who in ("portal", "internal", "user", "manager"):
            with self.subTest(user=who), self.assertRaises(AccessError):
                Settings.with_user(self.users[who]).get_values()
            with self.subTest(user=who, set=True), self.assertRaises(AccessError):
                Settings.with_user(self.users[who]).set_values()
        self.assertIn("apicenter_payload_retention_days", Settings.with_user(self.env.ref("base.user_admin")).get_values())

    def test_admin_input_is_checked_with_a_message(self):
        for vals, words in (
            ({"av_company_id": "Bedrijf-ü"}, "the AccountView company id contains a character outside plain ASCII"),
            ({"av_client_id": "id\nX"}, "the AccountView client id contains a control character"),
            ({"mplus_ident": "x" * 300}, "the MplusKASSA ident is 300 characters long"),
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, re.escape(words)):
                with self.env.cr.savepoint():
                    self.backend.write(vals)
        line = self.backend.profile_line_ids.filtered(lambda ln: ln.key == "accountview.stock.code")
        with self.assertRaisesRegex(ValidationError, "is 100000 characters long; at most 200"):
            with self.env.cr.savepoint():
                line.write({"value": "A" * 100_000})
        transfer = self.transfer
        for text, words in (('{"p": ' * 50_000 + "{}" + "}" * 50_000, "nested more than 8 levels deep"),
                            ('[profile.accountview.stock]\ncode = "' + "A" * 2_000_000 + '"', "bytes")):
            transfer.write({"data": base64.b64encode(text.encode())})
            with self.subTest(words=words), self.assertRaisesRegex(UserError, "This file is not an API profile: .*"
                                                                   + words):  # fmt: skip
                transfer.action_import()

    def test_return_url_is_a_path_of_this_odoo(self):
        for url in ("/%09/evil.example.com", "//evil.example.com", "/%2F%2Fevil.example.com", "/\\evil.example.com",
                    "https://evil.example.com/", "/%5Cevil.example.com", "/%252F%252Fevil.example.com",
                    "javascript:alert(1)", "/\n/evil.example.com"):  # fmt: skip
            with self.subTest(url=url):
                self.assertFalse(safe_return_path(url))
        for url in ("/odoo/action-apicenter_connector.apicenter_backend_action/7", "/odoo?debug=1#x"):
            self.assertEqual(safe_return_path(url), url)

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
        notification = self.backend.action_test_connection()
        self.assertEqual(notification["params"]["type"], "danger")
        self.assertIn("MplusKASSA: ", notification["params"]["message"])
        self.assertIn("plain http://", notification["params"]["message"])

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
        self.assertIn("Test Connection", message)
        self.assertEqual(self.flow.run_ids, runs, "held before any client is built")
        self.assertEqual(self.flow.last_state, "failed")

        class Fake:
            def api_version(self):
                return {"version": "9.9"}

            def close(self):
                pass

        backend_class = type(self.backend)
        with (
            patch.object(backend_class, "_mplus_client", lambda self: Fake()),
            patch.object(backend_class, "_test_accountview", lambda self: (False, "AccountView: not tested here.")),
        ):
            notification = self.backend.with_user(self.users["manager"]).action_test_connection()
        self.assertIn("MplusKASSA: connected, API version 9.9.", notification["params"]["message"])
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
        self.assertRefused("user", "apicenter.backend", "action_test_connection", self.backend.ids)
        self.assertRefused("manager", "apicenter.backend", "action_open_setup_wizard", self.backend.ids)

    def test_engine_record_and_settings_refused_over_xmlrpc(self):
        run = self.line.run_id
        self.assertRefused("manager", "apicenter.run", "create", {"backend_id": self.backend.id, "flow": "orders",
                                                                  "state": "done"})  # fmt: skip
        self.assertRefused("manager", "apicenter.run", "write", run.ids, {"state": "done"})
        self.assertRefused("manager", "apicenter.run", "unlink", run.ids)
        self.assertRefused("manager", "apicenter.backend", "write", self.backend.ids, {"mplus_needs_test": False})
        self.assertRefused("manager", "apicenter.flow", "write", self.flow.ids, {"last_state": "done"})
        self.assertRefused("manager", "apicenter.doctor.report", "write", self.report.ids, {"state": "confirmed"})
        self.assertRefused("portal", "res.config.settings", "get_values")
        self.assertTrue(run.exists())

    def test_endpoint_writes_and_log_line_writes_refused_over_xmlrpc(self):
        self.assertRefused("manager", "apicenter.backend", "write", self.backend.ids, {"mplus_url": "https://x.nl"})
        self.assertRefused("manager", "apicenter.backend", "write", self.backend.ids, {"verify_tls": False})
        self.assertRefused("user", "apicenter.log.line", "write", self.line.ids, {"state": "resolved"})
        self.assertRefused("manager", "apicenter.log.line", "write", self.line.ids, {"state": "resolved"})
        self.assertTrue(self._execute("manager", "apicenter.backend", "write", self.backend.ids, {"name": "Via RPC"}))
