# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sales from the till through Odoo: a generated corpus of orders, receipts and invoices booked through the orders
flow's queue jobs under faults, reconciled strictly; and the Sales from the Till list: what waits and why, the
next retry, Retry now and Ignore, the dashboard counts, refusal after wait_days with a notification."""

from datetime import timedelta
from unittest.mock import patch

import httpx
from apicenter_sandbox.faults import KINDS
from apicenter_sandbox.reconcile import reconcile
from apicenter_sandbox.sales_corpus import SalesMaker

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ApicenterCase, perform_chained_jobs, trap_jobs
from .test_chaos import BACKEND, CLIENT_TIMEOUT, fast_accountview, fast_mplus

MAX_ROUNDS = 10


@tagged("post_install", "-at_install")
class TestSalesFromTheTill(ApicenterCase):
    sandbox_size = 30

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()
        cls.orders = cls.flows.filtered(lambda f: f.flow == "orders")
        cls.orders.write({"read_orders": True, "read_receipts": True, "read_invoices": True, "batch_size": 10,
                          "batches_per_job": 2, "retry_delay_seconds": 0})  # fmt: skip
        cls.watcher = new_test_user(
            cls.env, login="apic_sales_watcher", groups="apicenter_connector.group_apicenter_user", email="s@example.com"
        )
        cls.backend.responsible_user_ids = cls.watcher

    def run_orders(self):
        """The orders flow through its chained jobs; a job stopped by a transient error is left to the next round."""
        perform_chained_jobs(self.orders, limit=100)
        return self.orders.last_state

    def faults(self, rate, salt=0):
        for i, url in enumerate((self.sb.accountview_url, self.sb.mplus_url)):
            payload = {"rate": rate, "kinds": [k for k in KINDS if k != "expired_token"], "seed": 900 + salt * 2 + i,
                       "after_write": 0.5, "timeout_s": CLIENT_TIMEOUT + 0.1, "slow_s": CLIENT_TIMEOUT + 0.2}  # fmt: skip
            httpx.post(f"{url}/_sandbox/faults", json=payload if rate else {"rate": 0}).raise_for_status()

    def reconcile(self):
        engine = self.backend._engine()
        try:
            return reconcile(self.sb, self.backend._store(), engine.accountview, engine.mplus, set(), sales_only=True)
        finally:
            engine.close()

    def sales(self, **domain):
        return self.env["apicenter.sale"].search([("backend_id", "=", self.backend.id)]
                                                 + [(k, "=", v) for k, v in domain.items()])  # fmt: skip

    def test_a_sales_corpus_through_jobs_lands_once_or_waits_visibly(self):
        engine = self.backend._engine()
        try:
            corpus = SalesMaker(self.sb, engine.mplus, seed=21).make(60)
        finally:
            engine.close()
        with patch(f"{BACKEND}.AccountViewClient", fast_accountview), patch(f"{BACKEND}.MplusClient", fast_mplus):
            converged = False
            for round_no in range(1, MAX_ROUNDS + 1):
                self.faults(0.2, salt=round_no)
                state = self.run_orders()
                self.faults(0)
                if state == "done" and self.reconcile().ok:
                    converged = True
                    break
            report = self.reconcile()
        self.assertTrue(converged, report.summary())
        self.assertTrue(report.ok, report.summary())
        self.assertGreaterEqual(report.records["receipt"] + report.records["invoice"] + report.records["order"],
                                corpus.size)  # fmt: skip
        # The list shows each sale once, in the state of its latest attempt.
        refs = {ref for refs in corpus.refs.values() for ref in refs}
        listed = self.sales().filtered(lambda s: s.source_id in refs)
        self.assertEqual(len(listed), len(set(listed.mapped("source_id"))))
        self.assertTrue(listed.filtered(lambda s: s.state == "sent"))
        waiting = listed.filtered(lambda s: s.state == "waiting_articles")
        self.assertTrue(waiting, "the corpus has sales with an article the books lack")
        for sale in waiting:
            self.assertIn(self.sb.world.edge["missing_sku"], sale.reason)
            self.assertTrue(sale.next_retry_at and sale.waiting_since)
        refused = listed.filtered(lambda s: s.state == "refused")
        self.assertTrue(refused and all("foreign currency" in s.reason for s in refused))
        self.assertEqual(self.orders.sale_waiting_count, len(self.sales().filtered(
            lambda s: s.state in ("waiting_articles", "waiting_mapping", "retrying"))))  # fmt: skip

    def test_waiting_retry_ignore_and_refusal_after_wait_days(self):
        missing = int(self.sb.world.edge["missing_sku"])
        reply = httpx.post(self.sb.mplus_url + "/_sandbox/till/sale",
                           json={"lines": [{"articleNumber": missing, "quantity": "1"}],
                                 "payments": [{"method": "PIN"}]})  # fmt: skip
        receipt = reply.json()["receiptId"]
        self.run_orders()
        sale = self.sales(source_id=receipt)
        self.assertEqual((sale.source, sale.state), ("receipt", "waiting_articles"))
        self.assertIn(str(missing), sale.reason)
        self.assertTrue(sale.next_retry_at)
        self.assertGreaterEqual(self.orders.sale_waiting_count, 1)
        # Waiting is not a failure yet: no digest for it.
        digests = self.env["mail.message"].search([("model", "=", "apicenter.backend"), ("res_id", "=", self.backend.id),
                                                   ("body", "ilike", receipt)])  # fmt: skip
        self.assertFalse(digests)
        # Retry now: the line is marked and the orders flow is enqueued at once.
        with trap_jobs() as trap:
            sale.action_retry()
            self.assertTrue(trap.enqueued_jobs)
            self.assertEqual(self.sales(source_id=receipt).line_id.state, "retry")
            trap.perform_enqueued_jobs()
        self.assertEqual(self.sales(source_id=receipt).state, "waiting_articles")
        # wait_days pass: the next run refuses it, keeps it in the list and tells the responsible users.
        line = self.sales(source_id=receipt).line_id
        past = fields.Datetime.now() - timedelta(days=8)
        line.sudo().write({"waiting_since": past, "retry_at": past})
        self.orders.last_alert_at = False
        self.run_orders()
        sale = self.sales(source_id=receipt)
        self.assertEqual(sale.state, "refused")
        self.assertIn("refused after waiting 7 days", sale.reason)
        self.assertIn("refused", self.orders.run_ids.sorted("id")[-1].counts)
        digest = self.env["mail.message"].search([("model", "=", "apicenter.backend"), ("res_id", "=", self.backend.id),
                                                  ("body", "ilike", receipt)])  # fmt: skip
        self.assertTrue(digest, "a refused sale is reported")
        # Ignore: it stays listed as ignored; Retry brings it back.
        sale.action_ignore()
        self.assertEqual(self.sales(source_id=receipt).state, "ignored")
        engine = self.backend._engine()
        try:
            engine.accountview.create("AK1", "ARTICLE", {"ART_CODE": str(missing), "ART_DESC1": "Cadeaubon"})
        finally:
            engine.close()
        with trap_jobs() as trap:
            self.sales(source_id=receipt).action_retry()
            trap.perform_enqueued_jobs()
        sale = self.sales(source_id=receipt)
        self.assertEqual(sale.state, "sent")
        self.assertTrue(sale.target_id)

    def test_the_list_is_for_apicenter_users_only(self):
        self.run_orders()
        outsider = new_test_user(self.env, login="apic_sales_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["apicenter.sale"].with_user(outsider).search([])
        self.assertTrue(self.env["apicenter.sale"].with_user(self.watcher).search([]))
        sent = self.sales(state="sent")[:1].with_user(self.watcher)
        with self.assertRaises(UserError):  # a sent sale has nothing to retry
            sent.action_retry()
