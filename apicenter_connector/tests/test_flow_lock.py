# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OdooStore.flow_lock (the job's advisory lock) and a job that dies midway."""

from collections import Counter
from unittest.mock import patch

from apicenter_sync.flows.products import ProductsFlow

from odoo import sql_db
from odoo.tests import tagged

from ..models.apicenter_flow import LOCK_NAMESPACE
from .common import ApicenterCase


class WorkerKilled(BaseException):
    """Stands for the worker process dying: not an Exception, so no flow code catches it."""


@tagged("post_install", "-at_install")
class TestFlowLock(ApicenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()
        cls.products = cls.flows.filtered(lambda f: f.flow == "products")

    def test_flow_lock_is_the_jobs_advisory_lock(self):
        store = self.backend._store()
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, self.products.id))
            self.assertTrue(other.fetchone()[0])
            with store.flow_lock("products") as got:
                self.assertFalse(got)
            result = ProductsFlow(store, None, None).run()  # no clients: a run past the lock would fail on them
            self.assertTrue(result.locked_out)
            self.assertIn("another run of products is in progress", result.error)
            self.assertFalse(self.products.run_ids)
            with store.flow_lock("customers") as got:
                self.assertTrue(got)  # per flow
        finally:
            other.close()
        self.assertTrue(self.products._try_lock())  # what the job does first …
        with store.flow_lock("products") as got:
            self.assertTrue(got)  # … and the engine inside the job then holds it too (re-entrant per session)

    def test_job_that_dies_midway_leaves_no_half_state_and_a_rerun_no_duplicate(self):
        mplus = self.sb.mplus.app.store
        before = {m: self.env[m].search_count([]) for m in ("apicenter.binding", "apicenter.watermark",
                                                            "apicenter.run", "apicenter.log.line")}  # fmt: skip
        real_commit = ProductsFlow._commit
        calls = []

        def dying_commit(flow, result, batch, outcomes):
            calls.append(batch.stream)
            if len(calls) == 2:  # the article groups are committed; the products were written to Mplus
                raise WorkerKilled
            return real_commit(flow, result, batch, outcomes)

        with patch.object(ProductsFlow, "_commit", dying_commit):
            with self.assertRaises(WorkerKilled), self.env.cr.savepoint():
                self.products._run_job("normal")
        self.assertGreaterEqual(len(calls), 2)
        self.assertTrue(mplus.products, "the killed job had written to Mplus")
        self.env.invalidate_all()
        after = {m: self.env[m].search_count([]) for m in before}
        self.assertEqual(after, before, "the job's transaction is gone as a whole: no binding, watermark or log line")
        # The rerun finds what the dead job created (by article number) instead of creating it again.
        self.products._run_job("normal")
        numbers = Counter(a["articleNumber"] for p in mplus.products.values() for a in p["articleList"]["article"])
        self.assertEqual(max(numbers.values()), 1, "an article in two products")
        names = Counter(str(g.get("name")).lower() for g in mplus.article_groups.values())
        self.assertEqual(max(names.values()), 1, "an article group created twice")
        run = self.products.run_ids.sorted("id")[-1]
        self.assertEqual(run.state, "done", run.error)
