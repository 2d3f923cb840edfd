# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sales from the till through Odoo: a generated corpus of orders, receipts and invoices booked through the orders
flow's queue jobs under faults, reconciled strictly; and the Sales from the Till list: what waits and why, the
next retry, Retry now and Ignore, the dashboard counts, refusal after wait_days with a notification."""

import importlib.util
from datetime import timedelta
from pathlib import Path
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


class SalesCase(ApicenterCase):
    """A backend whose orders flow reads the sales ``orders_values`` say, in small batches, retrying at once."""

    sandbox_size = 30
    orders_values = {"read_orders": True, "read_receipts": True, "read_invoices": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()
        cls.orders = cls.flows.filtered(lambda f: f.flow == "orders")
        cls.orders.write({**cls.orders_values, "batch_size": 10, "batches_per_job": 2, "retry_delay_seconds": 0})

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

    def fault_rounds(self, changes=None):
        """Rounds of the orders flow under 20 % faults until it is done and the sales reconcile; ``changes(round)``
        may change the till or the settings after a round (returns True: not done yet). (converged, report)."""
        with patch(f"{BACKEND}.AccountViewClient", fast_accountview), patch(f"{BACKEND}.MplusClient", fast_mplus):
            for round_no in range(1, MAX_ROUNDS + 1):
                self.faults(0.2, salt=round_no)
                state = self.run_orders()
                self.faults(0)
                if changes is not None and changes(round_no):
                    continue
                if state == "done" and self.reconcile().ok:
                    return True, self.reconcile()
            return False, self.reconcile()


@tagged("post_install", "-at_install")
class TestSalesFromTheTill(SalesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.watcher = new_test_user(
            cls.env, login="apic_sales_watcher", groups="apicenter_connector.group_apicenter_user", email="s@example.com"
        )
        cls.backend.responsible_user_ids = cls.watcher

    def sales(self, **domain):
        return self.env["apicenter.sale"].search([("backend_id", "=", self.backend.id)]
                                                 + [(k, "=", v) for k, v in domain.items()])  # fmt: skip

    def test_a_sales_corpus_through_jobs_lands_once_or_waits_visibly(self):
        engine = self.backend._engine()
        try:
            corpus = SalesMaker(self.sb, engine.mplus, seed=21).make(60)
        finally:
            engine.close()
        converged, report = self.fault_rounds()
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
        # What the till says about the sale: its receipt number, day, branch and total, as columns and on its form.
        self.assertTrue(sale.number and sale.number != receipt, "the till's receipt number, not its id")
        self.assertEqual(sale.display_number, sale.number)
        self.assertTrue(sale.sale_date and sale.branch)
        self.assertGreater(sale.total, 0)
        self.assertEqual(sale.action_open_sale()["res_id"], sale.id)
        with trap_jobs() as trap:
            feedback = sale.action_retry()
            self.assertEqual(feedback["tag"], "display_notification", "Retry now says what it did")
            self.assertTrue(trap.enqueued_jobs)
            self.assertEqual(self.sales(source_id=receipt).line_id.state, "retry")
            trap.perform_enqueued_jobs()
        self.assertEqual(self.sales(source_id=receipt).state, "waiting_articles")
        # The till's facts outlive the payload retention; the customer, personal data, does not.
        number, day, total = sale.number, sale.sale_date, sale.total
        line = self.sales(source_id=receipt).line_id
        line.sudo().till_customer = "J. Jansen (42)"
        self.env.flush_all()
        self.env.cr.execute("UPDATE apicenter_log_line SET create_date = create_date - interval '40 days' "
                            "WHERE backend_id = %s", [self.backend.id])  # fmt: skip
        self.env.invalidate_all()
        self.backend._store().log.purge(payload_days=30, metadata_days=365)
        self.assertTrue(line.payload_purged and not line.source_payload)
        sale = self.sales(source_id=receipt)
        self.assertEqual((sale.number, sale.sale_date, sale.total), (number, day, total))
        self.assertFalse(sale.customer)
        # wait_days pass: the next run refuses it, keeps it in the list and tells the responsible users.
        past = fields.Datetime.now() - timedelta(days=8)
        line.sudo().write({"waiting_since": past, "retry_at": past})
        self.orders.last_alert_at = False
        self.run_orders()
        sale = self.sales(source_id=receipt)
        self.assertEqual(sale.state, "refused")
        self.assertIn("refused after waiting 7 days", sale.reason)
        self.assertNotEqual(sale.line_id, line, "a new line, written without the purged sale")
        self.assertEqual((sale.number, sale.sale_date, sale.total), (number, day, total), "kept from its last line")
        self.assertIn("refused", self.orders.run_ids.sorted("id")[-1].counts)
        digest = self.env["mail.message"].search([("model", "=", "apicenter.backend"), ("res_id", "=", self.backend.id),
                                                  ("body", "ilike", receipt)])  # fmt: skip
        self.assertTrue(digest, "a refused sale is reported")
        # Ignore asks why: it stays listed as ignored, with the reason and who ignored it; Retry brings it back.
        action = sale.action_ignore()
        self.assertEqual(action["res_model"], "apicenter.sale.ignore")
        ignore = self.env["apicenter.sale.ignore"].with_context(**action["context"]).create({"reason": "booked by hand"})
        ignore.action_confirm()
        sale = self.sales(source_id=receipt)
        self.assertEqual(sale.state, "ignored")
        self.assertEqual(sale.ignored_by_id, self.env.user)
        self.assertIn("booked by hand", sale.note)
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

    def test_upgrading_to_1_5_0_fills_the_till_columns_of_earlier_lines(self):
        """1.5.0: lines written before the till columns existed get them from their payload."""
        self.run_orders()
        sales = self.sales().filtered("number")
        self.assertTrue(sales)
        shown = {sale.id: (sale.number, sale.sale_date, sale.branch, sale.total) for sale in sales}
        self.env.flush_all()
        self.env.cr.execute("UPDATE apicenter_log_line SET till_number = NULL, till_date = NULL, till_branch = NULL, "
                            "till_total = NULL WHERE backend_id = %s", [self.backend.id])  # fmt: skip
        self.env.invalidate_all()
        self.assertFalse(self.sales().filtered("number"))
        path = Path(__file__).parents[1] / "migrations" / "1.5.0" / "post-migration.py"
        spec = importlib.util.spec_from_file_location("apicenter_migration_1_5_0", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.4.0")
        self.env.invalidate_all()
        after = {s.id: (s.number, s.sale_date, s.branch, s.total) for s in self.sales() if s.id in shown}
        self.assertEqual(after, shown)

    def test_the_list_is_for_apicenter_users_only(self):
        self.run_orders()
        outsider = new_test_user(self.env, login="apic_sales_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["apicenter.sale"].with_user(outsider).search([])
        self.assertTrue(self.env["apicenter.sale"].with_user(self.watcher).search([]))
        sent = self.sales(state="sent")[:1].with_user(self.watcher)
        with self.assertRaises(UserError):  # a sent sale has nothing to retry
            sent.action_retry()


@tagged("post_install", "-at_install")
class TestTillClosings(SalesCase):
    """Till closings through the Odoo store (its binding table and SQL): closings with nothing to book (two in one
    batch), refund-only and mixed shifts, a foreign-currency closing, and receipt_booking switched both ways between
    fault rounds; every receipt lands once, every closing reconciles, a refusal stays final."""

    orders_values = {"read_orders": True, "read_receipts": True, "read_invoices": False,
                     "receipt_booking": "per_closing"}  # fmt: skip

    def lines(self, **domain):
        return self.env["apicenter.log.line"].search([("backend_id", "=", self.backend.id), ("flow", "=", "orders")]
                                                     + [(k, "=", v) for k, v in domain.items()], order="id")  # fmt: skip

    def test_closings_and_switching_receipt_booking_both_ways_under_faults(self):
        engine = self.backend._engine()
        try:
            maker = SalesMaker(self.sb, engine.mplus, seed=23, missing_article=False)
            maker.make(40, workplaces=3, close_every=6)
            maker.special_shifts()
        finally:
            engine.close()
        switched = []

        def changes(round_no):
            engine = self.backend._engine()
            maker.mplus = engine.mplus
            try:
                if round_no == 1:  # per closing -> each, with closings half booked
                    self.orders.receipt_booking = "each"
                    maker.make(20, workplaces=3)
                    switched.append("each")
                elif round_no == 2:  # each -> per closing, with receipts half booked
                    self.orders.receipt_booking = "per_closing"
                    maker.special_shifts(first_workplace=21)
                    maker.close_all(range(1, 4))
                    switched.append("per_closing")
            finally:
                engine.close()
            return round_no <= 2

        converged, report = self.fault_rounds(changes)
        self.assertEqual(switched, ["each", "per_closing"])
        self.assertTrue(converged, report.summary())
        self.assertGreaterEqual(report.records["closing"], 10)
        store = self.backend._store()
        closings = [store.bindings.get("closing", c) for c in maker.corpus.closings]
        self.assertGreaterEqual(len([b for b in closings if b and b.payload_hash == "nothing-to-book" and
                                     not b.target_id]), 4)  # fmt: skip
        # The foreign-currency closings are refused and stay so: no line of any sale or closing follows a final
        # refusal (failed, no automatic retry, not waiting).
        refused = self.lines(entity="closing", state="failed")
        self.assertTrue(refused and all("foreign currency" in ln.error for ln in refused))
        for source_id in set(self.lines().mapped("source_id")):
            seen = self.lines(source_id=source_id)
            final = seen[:-1].filtered(lambda ln: ln.action == "failed" and not ln.retry_at and not ln.wait)
            self.assertFalse(final, f"{source_id}: {seen.mapped('state')}")
        # Ignored, it stays dismissed.
        refused.action_ignore()
        self.run_orders()
        self.assertFalse(self.lines(entity="closing", state="failed"))
        self.assertEqual(set(self.lines(entity="closing", state="ignored")), set(refused))
