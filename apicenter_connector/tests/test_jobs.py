# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from datetime import timedelta

from apicenter_sync.engine import FLOWS, RUN_ORDER

from odoo import fields, sql_db
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from ..models.apicenter_flow import LOCK_NAMESPACE
from .common import ApicenterCase, check_and_accept, trap_jobs


@tagged("post_install", "-at_install")
class TestFlowJobs(ApicenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()

    def _flow(self, name):
        return self.flows.filtered(lambda f: f.flow == name)

    def _run(self, flows, mode="normal"):
        with trap_jobs() as trap:
            flows._enqueue(mode)
            trap.assert_jobs_count(len(flows))
            trap.perform_enqueued_jobs()
        return trap

    def test_every_flow_runs_through_jobs(self):
        available = [name for name in RUN_ORDER if name in FLOWS]
        self.assertEqual(sorted(self.flows.mapped("flow")), sorted(available))
        channels = {f.flow: f._job_channel() for f in self.flows}
        self.assertEqual(channels["products"], "root.apicenter.accountview")
        if "orders" in channels:
            self.assertEqual(channels["orders"], "root.apicenter.mplus")
        for name in available:
            flow = self._flow(name)
            with trap_jobs() as trap:
                flow.action_run_now()
                trap.assert_enqueued_job(
                    flow._run_job,
                    args=("normal",),
                    properties={"channel": flow._job_channel(), "identity_key": flow._identity_key("normal")},
                )
                trap.perform_enqueued_jobs()
            run = self.env["apicenter.run"].search([("backend_id", "=", self.backend.id), ("flow", "=", name)])
            self.assertEqual(len(run), 1, name)
            self.assertEqual(run.state, "done", f"{name}: {run.error}")
            # The sandbox seeds bad records (a non-numeric SKU…): a run whose records failed is not a success.
            counts = json.loads(run.counts)
            failed = counts.get("failed", 0) - counts.get("waiting", 0)
            self.assertEqual(flow.last_state, "partial" if failed else "done", f"{name}: {counts}")
            self.assertEqual(bool(flow.last_success_at), not failed, name)
            self.assertTrue(run.line_ids, name)
            self.assertEqual(run.flow_id, flow)
        bindings = self.env["apicenter.binding"].search([("backend_id", "=", self.backend.id)])
        self.assertIn("product", bindings.mapped("entity"))
        self.assertTrue(bindings.filtered(lambda b: b.state == "synced" and b.target_id))
        marks = self.env["apicenter.watermark"].search([("backend_id", "=", self.backend.id)])
        self.assertTrue(marks.filtered(lambda m: m.flow == "products" and m.value))
        self.assertIn("article", self._flow("products").watermark_display)
        lines = self.env["apicenter.log.line"].search([("backend_id", "=", self.backend.id)])
        self.assertIn("created", lines.mapped("action"))
        # Every entity the flows log has its name on the screens (ENTITIES), not only its code.
        named = dict(lines._fields["entity"].selection)
        self.assertFalse(set(lines.mapped("entity")) - set(named), "entities without a name in ENTITIES")
        bound = dict(bindings._fields["entity"].selection)
        self.assertFalse(set(bindings.mapped("entity")) - set(bound), "bindings without a name in BINDING_ENTITIES")
        # The sandbox has an article with a non-numeric SKU: rejected with a clear per-record error.
        failed = lines.filtered(lambda line: line.state == "failed" and line.flow == "products")
        self.assertTrue(failed)
        self.assertIn("not numeric", failed[0].error)
        self.assertTrue(json.loads(failed[0].source_payload))

        # A second run writes nothing new: unchanged payloads are skipped.
        products = self._flow("products")
        before = self.sb.world and self.env["apicenter.binding"].search_count([("backend_id", "=", self.backend.id)])
        self._run(products)
        second = products.run_ids.sorted("id")[-1]
        counts = json.loads(second.counts)
        self.assertFalse(counts.get("created"), counts)
        self.assertEqual(before, self.env["apicenter.binding"].search_count([("backend_id", "=", self.backend.id)]))

    def test_dry_run_and_full_resync(self):
        products = self._flow("products")
        self._run(products, "dry_run")
        run = products.run_ids
        self.assertEqual(run.mode, "dry_run")
        self.assertIn("dry_run", run.line_ids.mapped("action"))
        self.assertFalse(self.env["apicenter.binding"].search([("backend_id", "=", self.backend.id)]))
        self.assertFalse(self.env["apicenter.watermark"].search([("backend_id", "=", self.backend.id)]))
        self._run(products, "full")
        self.assertEqual(products.run_ids.sorted("id")[-1].mode, "full")
        products.action_reset_watermark()
        self.assertFalse(self.env["apicenter.watermark"].search([("backend_id", "=", self.backend.id)]))

    def _perform_chain(self, trap):
        """Perform jobs, and the jobs they queue, until none is left; returns the jobs performed."""
        performed = []
        while trap.enqueued_jobs:
            performed += trap.enqueued_jobs
            trap.perform_enqueued_jobs()
            self.assertLess(len(performed), 100, "the jobs do not advance")
        return performed

    def test_a_run_goes_on_in_the_next_job(self):
        products = self._flow("products")
        products.write({"batch_size": 5, "batches_per_job": 2})
        articles = len(self.sb.accountview.app.tables["ARTICLE"].rows)
        with trap_jobs() as trap:
            products.action_dry_run()
            self.assertEqual(len(self._perform_chain(trap)), 1, "a dry run writes no cursor: it is not continued")
        self.assertTrue(0 < len(products.run_ids.line_ids) <= 10, "two batches of at most five records")
        products.run_ids.line_ids.unlink()  # a run goes only once its log lines have (retention)
        products.run_ids.unlink()
        with trap_jobs() as trap:
            products.action_run_now()
            jobs = self._perform_chain(trap)
        self.assertGreater(len(jobs), 3)
        self.assertEqual(jobs[0].args, ("normal",))
        self.assertTrue(all(job.args == ("normal", True) for job in jobs[1:]), [j.args for j in jobs])
        runs = products.run_ids
        self.assertEqual(len(runs), len(jobs))
        self.assertEqual(set(runs.mapped("state")), {"done"})
        lines = self.env["apicenter.log.line"].search(
            [("backend_id", "=", self.backend.id), ("flow", "=", "products"), ("entity", "=", "article")]
        )
        self.assertEqual(len(lines), articles, "every article handled once over the jobs")
        self.assertEqual(len(set(lines.mapped("source_id"))), articles)
        self.assertTrue(max(len(run.line_ids) for run in runs) <= 10, "a job handles batches_per_job batches")
        streams = {m.stream: m.value for m in products.watermark_ids}
        self.assertTrue(streams.get("article") and streams.get("group"))
        self.assertFalse([s for s in streams if s.endswith(":cursor")], "the read finished: no cursor is left")

        # A full re-sync in jobs goes on where each job stopped: every article is sent once more, not once a job.
        sent_before = self.sb.mplus.app.stats.writes["product"]
        with trap_jobs() as trap:
            products.action_full_resync()
            jobs = self._perform_chain(trap)
        self.assertTrue(all(job.args == ("full", True) for job in jobs[1:]))
        full_runs = products.run_ids.filtered(lambda r: r.mode == "full")
        full_lines = full_runs.line_ids.filtered(lambda line: line.entity == "article")
        self.assertEqual(len(full_lines), articles)
        self.assertGreater(self.sb.mplus.app.stats.writes["product"], sent_before)

    def test_cron_enqueues_due_flows_once(self):
        now = fields.Datetime.now()
        products, customers, stock = self._flow("products"), self._flow("customers"), self._flow("stock")
        customers.enabled = False
        stock.next_run_at = now + timedelta(minutes=10)
        due = self.flows - customers - stock
        with trap_jobs() as trap:
            self.env["apicenter.flow"]._cron_enqueue_due()
            self.assertEqual(len(trap.enqueued_jobs), len(due))
            self.assertEqual({job.recordset.id for job in trap.enqueued_jobs}, set(due.ids), "only enabled, due flows")
            self.assertGreater(products.next_run_at, now)
            # Next minute: nothing is due any more.
            self.env["apicenter.flow"]._cron_enqueue_due()
            self.assertEqual(len(trap.enqueued_jobs), len(due))
            # Due again while the first job still waits: the identity key prevents a duplicate.
            products.next_run_at = now - timedelta(minutes=1)
            self.env["apicenter.flow"]._cron_enqueue_due()
            self.assertEqual(len(trap.calls), len(due) + 1)
            self.assertEqual(len(trap.enqueued_jobs), len(due))

    def test_cron_names_the_job_in_the_responsible_users_language(self):
        """The job list names a scheduled run in the language of the backend's first responsible user."""
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"].search([("name", "=", "apicenter_connector")])._update_translations(
            filter_lang=["nl_NL"], overwrite=True
        )
        self.backend.responsible_user_ids = self.env["res.users"].create(
            {"name": "Boekhouder", "login": "apic_jobs_nl", "lang": "nl_NL"}
        )
        products = self._flow("products")
        (self.flows - products).enabled = False
        products.next_run_at = fields.Datetime.now() - timedelta(minutes=1)
        with trap_jobs() as trap:
            self.env["apicenter.flow"].with_context(lang="en_US")._cron_enqueue_due()
            (job,) = trap.enqueued_jobs
        self.assertIn("(Normaal)", job.description)

    def test_lock_prevents_concurrent_run(self):
        products = self._flow("products")
        # Another worker (a real second connection) runs the flow and holds its lock.
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, products.id))
            self.assertTrue(other.fetchone()[0])
            result = products._run_job("normal")
            self.assertIn("Skipped", result)
            self.assertFalse(products.run_ids)
        finally:
            other.close()
        result = products._run_job("normal")
        self.assertNotIn("Skipped", result)
        self.assertEqual(len(products.run_ids), 1)

    def test_stock_waits_while_a_products_job_is_queued_or_running(self):
        products, stock = self._flow("products"), self._flow("stock")
        products._enqueue("normal")  # stored, not trapped: a real waiting job
        job = self.env["queue.job"].search([("identity_key", "=", products._identity_key("normal"))])
        self.assertEqual(job.state, "pending")
        with self.assertRaises(RetryableJobError) as caught:
            stock._run_job("normal")
        self.assertTrue(caught.exception.ignore_retry, "waiting costs no retry")
        self.assertIn("waits for", str(caught.exception))
        self.assertFalse(stock.run_ids)
        job.state = "started"
        with self.assertRaises(RetryableJobError):
            stock._run_job("normal")
        job.state = "done"
        stock._run_job("normal")
        self.assertEqual(len(stock.run_ids), 1)

    def test_unreachable_source_is_retryable(self):
        stock = self._flow("stock")
        tokens = self.backend._token_store().get()
        self.backend.av_base_url = "http://127.0.0.1:9"  # nothing listens: connection refused
        # A changed endpoint deletes the tokens (test_rpc_access); put them back to reach the dead endpoint.
        self.backend._token_store().save(tokens)
        # The changed endpoint makes the connection check stale: held until checked again (and here accepted).
        self.assertIn("changed since the connection check", stock._run_job("normal"))
        check_and_accept(self.backend)
        with self.assertRaises(RetryableJobError):
            stock._run_job("normal")

    def test_retry_of_a_failed_line(self):
        products = self._flow("products")
        self._run(products)
        failed = self.env["apicenter.log.line"].search(
            [("backend_id", "=", self.backend.id), ("flow", "=", "products"), ("state", "=", "failed")]
        )
        self.assertTrue(failed)
        line = failed[0]
        products.non_numeric_sku = "generate"
        with trap_jobs() as trap:
            line.action_retry()
            self.assertEqual(line.state, "retry")
            trap.assert_jobs_count(1, only=products._run_job)
            trap.perform_enqueued_jobs()
        self.assertEqual(line.state, "resolved")
        later = self.env["apicenter.log.line"].search(
            [("source_id", "=", line.source_id), ("flow", "=", "products"), ("id", ">", line.id)]
        )
        self.assertIn(later[0].action, ("created", "updated"))

    def test_ignore_a_failed_line(self):
        products = self._flow("products")
        self._run(products)
        line = self.env["apicenter.log.line"].search(
            [("backend_id", "=", self.backend.id), ("flow", "=", "products"), ("state", "=", "failed")], limit=1
        )
        line.with_context(apicenter_ignore_note="known bad article").action_ignore()
        self.assertEqual(line.state, "ignored")
        self.assertEqual(line.note, "known bad article")
        self.assertNotIn(line.id, [x.id for x in self.store.log.pending_retries("products")])

    def test_secrets_never_stored_in_the_log(self):
        self._run(self.flows)
        secrets = [self.sb.mplus_secret, self.sb.av_client_secret]
        token = self.env["apicenter.backend.token"].sudo().search([("backend_id", "=", self.backend.id)])
        secrets += [token.access_token, token.refresh_token]
        self.env.flush_all()
        for table in ("apicenter_log_line", "apicenter_run", "apicenter_binding", "queue_job"):
            self.env.cr.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608 - fixed table names
            dump = "\n".join(r[0] for r in self.env.cr.fetchall())
            for secret in secrets:
                self.assertNotIn(secret, dump, table)
