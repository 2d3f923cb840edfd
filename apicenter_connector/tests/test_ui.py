# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Views load, the dashboard counts what it should, the log line shows readable payloads."""

import json
from datetime import timedelta

from apicenter_sync.store.interfaces import LogLine

from odoo import fields
from odoo.tests import Form, TransactionCase, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

MODELS = (
    "apicenter.backend",
    "apicenter.flow",
    "apicenter.run",
    "apicenter.log.line",
    "apicenter.mapping",
    "apicenter.datamapper.line",
    "apicenter.binding",
    "apicenter.watermark",
    "apicenter.setting",
    "apicenter.setup.wizard",
)


def seed_backend(env, name="Dashboard"):
    """A backend with flows, failed and successful runs and log lines (no API is called)."""
    backend = env["apicenter.backend"].create(
        {
            "name": name,
            "av_base_url": "http://127.0.0.1:9",
            "av_company_id": "c1",
            "mplus_url": "http://127.0.0.1:9",
        }
    )
    backend.action_create_flows()
    return backend


@tagged("post_install", "-at_install")
class TestViews(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.backend = seed_backend(cls.env)
        store = cls.backend._store()
        run = store.log.start_run("products")
        (cls.line_id,) = store.log.add_lines(
            run,
            [
                LogLine(
                    "products",
                    "article",
                    "av_to_mplus",
                    "AB-1",
                    "failed",
                    error="SKU 'AB-1' is not numeric",
                    source_payload={"sku": "AB-1", "name": "Chair"},
                    target_payload={"articleNumber": None},
                    reply={"result": "error"},
                )
            ],
        )
        store.log.finish_run(run, state="done", counts={"failed": 1})

    def test_every_view_loads(self):
        for model in MODELS:
            views = self.env[model].get_views([(False, "list"), (False, "form"), (False, "search")])
            self.assertEqual(set(views["views"]), {"list", "form", "search"}, model)
        kanban = self.env.ref("apicenter_connector.apicenter_flow_view_kanban")
        arch = self.env["apicenter.flow"].get_views([(kanban.id, "kanban")])["views"]["kanban"]["arch"]
        for action in ("action_run_now", "action_dry_run", "action_full_resync", "action_toggle_enabled"):
            self.assertIn(action, arch)
        for model in ("apicenter.log.line", "apicenter.run"):
            views = self.env[model].get_views([(False, "graph"), (False, "pivot")])["views"]
            self.assertIn("graph", views)
            self.assertIn("pivot", views)
        settings = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("apicenter_payload_retention_days", settings)

    def test_forms_open(self):
        with Form(self.backend) as form:
            form.name = "Dashboard renamed"
        flow = self.backend.flow_ids.filtered(lambda f: f.flow == "orders")
        with Form(flow) as form:
            form.interval_minutes = 15
        self.assertEqual(flow.interval_minutes, 15)
        line = self.env["apicenter.log.line"].browse(self.line_id)
        Form(line)
        with Form(self.env["apicenter.mapping"]) as form:
            form.backend_id = self.backend
            form.known_table = "vat_code_av_mplus"
            form.key = "1"
            form.value = "2"
        self.assertEqual(form.record.table_name, "vat_code_av_mplus")
        with Form(self.env["apicenter.mapping"]) as form:
            form.backend_id = self.backend
            form.table_name = "my_own_table"
            form.key = "a"
            form.value = "b"
        self.assertEqual(form.record.known_table, "other")
        Form(self.env["apicenter.setup.wizard"])
        settings = Form(self.env["res.config.settings"])
        settings.apicenter_payload_retention_days = 14
        mplus = self.env.ref("apicenter_connector.channel_apicenter_mplus")
        on_channel = "capacity" in mplus._fields  # queue_job 18.0; 19.0: TestRunnerCapacities (test_odoo_series)
        if on_channel:
            settings.apicenter_capacity_mplus = 3
        settings.save().execute()
        self.assertEqual(self.backend.payload_retention_days, 14)
        if on_channel:
            self.assertEqual(mplus.capacity, 3)

    def test_payloads_are_pretty_printed(self):
        line = self.env["apicenter.log.line"].browse(self.line_id)
        self.assertEqual(json.loads(line.source_payload_pretty), {"sku": "AB-1", "name": "Chair"})
        self.assertIn('\n  "name": "Chair"', line.source_payload_pretty)
        self.assertTrue(line.reply_pretty)
        self.assertEqual(line.is_open, True)
        self.assertIn(line, self.env["apicenter.log.line"].search([("is_open", "=", True)]))


@tagged("post_install", "-at_install")
class TestDashboard(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.backend = seed_backend(cls.env)
        cls.store = cls.backend._store()
        cls.flow = cls.backend.flow_ids.filtered(lambda f: f.flow == "products")

    def _run(self, state, lines=(), flow="products"):
        run = self.store.log.start_run(flow)
        ids = self.store.log.add_lines(run, list(lines))
        self.store.log.finish_run(run, state=state, error="boom" if state == "failed" else None)
        return run, ids

    def _failed_line(self, source_id):
        return LogLine("products", "article", "av_to_mplus", source_id, "failed", error="not numeric")

    def test_counters(self):
        flow = self.flow
        self.assertEqual(flow.health, "never")
        self.assertEqual((flow.backlog_count, flow.failure_24h_count, flow.failed_run_streak), (0, 0, 0))
        self._run("done", [self._failed_line("A"), self._failed_line("B")])
        ok = LogLine("products", "article", "av_to_mplus", "C", "created", target_id="1")
        self._run("done", [ok])
        # An old failure: open, but not in the last 24 hours.
        _run, (old,) = self._run("done", [self._failed_line("D")])
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE apicenter_log_line SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(days=2), old),
        )
        self.env["apicenter.log.line"].invalidate_model(["create_date"])
        self.env["apicenter.binding"].create(
            {"backend_id": self.backend.id, "entity": "article", "source_id": "P", "state": "pending"}
        )
        self.env["apicenter.binding"].create(
            {"backend_id": self.backend.id, "entity": "relation", "source_id": "R", "state": "pending"}
        )
        flow._record_result("done", None, {"created": 1})
        flow.invalidate_recordset()
        self.assertEqual(flow.open_failure_count, 3)
        self.assertEqual(flow.pending_binding_count, 1)  # the relation belongs to the customers flow
        self.assertEqual(flow.backlog_count, 4)
        self.assertEqual(flow.failure_24h_count, 2)
        self.assertEqual(flow.failed_run_24h_count, 0)
        self.assertEqual(flow.health, "warning")  # open failures
        self.assertEqual(flow.color, 2)
        customers = self.backend.flow_ids.filtered(lambda f: f.flow == "customers")
        self.assertEqual(customers.backlog_count, 1)

    def test_red_after_repeated_failed_runs(self):
        flow = self.flow
        for _i in range(2):
            self._run("failed")
        flow.invalidate_recordset()
        self.assertEqual(flow.failed_run_streak, 2)
        self.assertNotEqual(flow.health, "danger")
        self._run("failed")
        flow.invalidate_recordset()
        self.assertEqual(flow.failed_run_streak, 3)
        self.assertEqual(flow.failed_run_24h_count, 3)
        self.assertEqual(flow.health, "danger")
        self.assertEqual(flow.color, 1)
        self._run("done")
        flow.invalidate_recordset()
        self.assertEqual(flow.failed_run_streak, 0)

    def test_red_above_open_failure_threshold(self):
        self.env["ir.config_parameter"].set_param("apicenter_connector.alert_open_failures", 2)
        self._run("done", [self._failed_line("A"), self._failed_line("B")])
        self.flow.invalidate_recordset()
        self.assertEqual(self.flow.health, "danger")

    def test_pause_resume(self):
        self.assertTrue(self.flow.enabled)
        self.flow.action_toggle_enabled()
        self.assertFalse(self.flow.enabled)
        self.flow.action_toggle_enabled()
        self.assertTrue(self.flow.enabled)
        action = self.flow.action_view_runs()
        self.assertEqual(action["res_model"], "apicenter.run")
