# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outages are seen (docs/reliability.md, "Outages"): a run that stops on an unreachable system or refused access
is recorded with its reason, the responsible users get one message when it starts and one when it ends, the card
turns orange, then red, by the age of the last success, and due jobs the job runner did not start are reported.

That the outage run survives the rollback of its job (a transaction of its own) shows only with a real job runner:
tests/odoo_live/test_outages.py. Here the same code paths run inside the test's transaction."""

from datetime import timedelta

from apicenter_sandbox.http import SandboxServer
from apicenter_sync.clients.accountview_oauth import Tokens
from apicenter_sync.outage import Outage
from apicenter_sync.store.interfaces import LogLine

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import ApicenterCase, RetryableJobError, trap_jobs


@tagged("post_install", "-at_install")
class TestOutages(ApicenterCase):
    sandbox_size = 20

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()
        cls.watcher = new_test_user(
            cls.env, login="apic_outage", groups="apicenter_connector.group_apicenter_user", email="o@example.com"
        )
        cls.backend.responsible_user_ids = cls.watcher
        cls.products = cls.flows.filtered(lambda f: f.flow == "products")
        cls.customers = cls.flows.filtered(lambda f: f.flow == "customers")

    def _notices(self):
        """The outage notices (a run with failed records still sends its digest, "… failed")."""
        return self.env["mail.message"].search(
            [("model", "=", "apicenter.backend"), ("res_id", "=", self.backend.id), ("subject", "like", "APIcenter"),
             ("subject", "not like", "failed")], order="id",
        )  # fmt: skip

    def _run(self, flow):
        """Perform the flow's job as the job runner would; True when it asked to be retried."""
        with trap_jobs() as trap:
            flow._enqueue("normal")
            (job,) = trap.enqueued_jobs
            try:
                job.perform()
            except RetryableJobError:
                return True
        return False

    def _stop_accountview(self):
        server = self.sb.accountview
        server.stop()
        self.addCleanup(self._restart_accountview, server)

    def _restart_accountview(self, stopped):
        if self.sb.accountview is stopped:
            self.sb.accountview = SandboxServer(stopped.app, stopped.host, stopped.port).start()

    def test_an_unreachable_system_is_recorded_told_once_and_its_end_too(self):
        runs = self.products.run_ids
        self._stop_accountview()
        self.assertTrue(self._run(self.products), "the job is retried later")
        # The run written on its own (here the job's transaction is not rolled back, so its own run stays too).
        run = (self.products.run_ids - runs).sorted("id")[-1:]
        self.assertEqual(run.state, "failed")
        self.assertIn("cannot connect", run.error)
        self.assertEqual((self.products.outage_system, self.products.outage_kind), ("accountview", "unreachable"))
        self.assertIn("AccountView cannot be reached", self.products.outage_message)
        self.assertEqual(self.products.last_state, "failed")
        (started,) = self._notices()
        self.assertIn("AccountView cannot be reached", started.subject)
        self.assertIn(self.watcher.partner_id, started.partner_ids)
        self.assertIn("cannot connect", str(started.body))
        # A second flow stops on the same outage, and the first one again: no second message.
        self.assertTrue(self._run(self.customers))
        self.assertTrue(self._run(self.products))
        self.assertEqual(self._notices(), started)
        self.assertEqual(self.customers.outage_system, "accountview")
        self.assertFalse(self.env["mail.message"].search([("subject", "ilike", "failed"), ("res_id", "=",
                                                                                         self.backend.id)]))  # fmt: skip
        # AccountView is back: the outage ends with the last flow that had it.
        self._restart_accountview(self.sb.accountview)
        self.assertFalse(self._run(self.products))
        self.assertIn(self.products.last_state, ("done", "partial"), "it ran to its end (seeded bad records fail)")
        self.assertFalse(self.products.outage_since)
        self.assertEqual(self._notices(), started, "customers still waits for its run")
        self.assertFalse(self._run(self.customers))
        ended = self._notices() - started
        self.assertEqual(len(ended), 1)
        self.assertIn("AccountView works again", ended.subject)
        self.assertIn(self.watcher.partner_id, ended.partner_ids)

    def test_refused_access_is_an_outage_with_what_to_do(self):
        self.backend._token_store().save(Tokens("revoked-" + "a" * 20, "revoked-" + "r" * 20, 0, "scope"))
        self.assertFalse(self._run(self.customers), "an expired connection is not retried: a person must act")
        self.assertEqual((self.customers.outage_system, self.customers.outage_kind), ("accountview", "access"))
        run = self.customers.run_ids.sorted("id")[-1]
        self.assertIn("invalid_grant", run.error)
        (notice,) = self._notices()
        self.assertIn("refuses our access", notice.subject)
        self.assertIn("Connect AccountView", str(notice.body))

    def test_the_card_turns_orange_then_red_by_the_age_of_the_last_success(self):
        flow = self.products
        flow.write({"enabled": True, "interval_minutes": 10})
        now = fields.Datetime.now()
        for age, freshness, health in ((5, "fresh", "ok"), (25, "late", "warning"), (45, "failing", "danger")):
            flow.sudo().write({"last_state": "done", "last_success_at": now - timedelta(minutes=age)})
            flow.invalidate_recordset()
            with self.subTest(minutes=age):
                self.assertEqual((flow.freshness, flow.health), (freshness, health))
        self.env["ir.config_parameter"].set_param("apicenter_connector.failing_after_intervals", 6)
        flow.invalidate_recordset()
        self.assertEqual(flow.health, "warning", "the thresholds are settings")
        flow.enabled = False
        flow.invalidate_recordset()
        self.assertEqual(flow.freshness, "none", "a paused flow is not late")

    def test_due_jobs_the_runner_did_not_start_are_reported(self):
        self.env["ir.config_parameter"].set_param("apicenter_connector.runner_stall_minutes", 10)
        (job,) = self.products._enqueue("normal")
        record = job.db_record()
        self.assertEqual(record.state, "pending")
        self.assertFalse(self.env["apicenter.flow"]._cron_check_runner(), "a job due a moment ago is not stalled")
        old = fields.Datetime.now() - timedelta(minutes=25)
        self.env.cr.execute("UPDATE queue_job SET date_created = %s, eta = NULL WHERE id = %s", (old, record.id))
        record.invalidate_recordset()
        runs = self.products.run_ids
        self.assertEqual(self.env["apicenter.flow"]._cron_check_runner(), self.products)
        run = self.products.run_ids - runs
        self.assertEqual(run.state, "failed")
        self.assertIn("has waited 25 minutes for the job runner", run.error)
        self.assertEqual(self.products.outage_system, "runner")
        (notice,) = self._notices()
        self.assertIn("the job runner does not start the queued jobs", notice.subject)
        # Checked again while still stalled: nothing more.
        self.env["apicenter.flow"]._cron_check_runner()
        self.assertEqual((len(self.products.run_ids - runs), len(self._notices())), (1, 1))
        # The runner took the job: the outage ends, once.
        record.write({"state": "started"})
        self.env["apicenter.flow"]._cron_check_runner()
        self.assertFalse(self.products.outage_since)
        self.assertEqual(len(self._notices()), 2)
        self.assertIn("the job runner works again", self._notices()[-1].subject)

    def test_digests_and_notices_name_records_not_people(self):
        # A server that echoes a customer's e-mail address in its error: the log line, the run, the digest and the
        # outage notice keep the record's reference, never the address (it would outlive the payloads).
        address = "zebulon.quixfeather@mailvork.example"
        store = self.backend._store()
        run = store.log.start_run("customers")
        store.log.add_lines(run, [LogLine("customers", "relation", "av_to_mplus", "10004", "failed",
                                          error=f"mplus createRelation: Client: relation {address} is blocked")])  # fmt: skip
        store.log.finish_run(run, state="failed", error=f"stopped at {address}")
        self.customers._record_result("failed", f"stopped at {address}", {"failed": 1})
        self.customers.sudo()._set_outage(Outage("mplus", "unreachable", f"server error (HTTP 503) for {address}"))
        texts = [self.env["apicenter.run"].browse(run).error, self.customers.last_error,
                 self.customers.outage_message, self.env["apicenter.log.line"].search([("run_id", "=", run)]).error]
        texts += [str(m.body) + (m.subject or "") for m in self.env["mail.message"].search(
            [("model", "=", "apicenter.backend"), ("res_id", "=", self.backend.id)])]  # fmt: skip
        self.assertTrue(any("10004" in t for t in texts), "the record is named by its reference")
        self.assertFalse([t for t in texts if address in t])
        self.assertTrue(all("[e-mail address]" in t for t in texts[:4]), texts[:4])
