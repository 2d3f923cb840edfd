# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The chaos suite through Odoo jobs (smaller than the command line's, ``tests/chaos``): faults at 30 % of all
kinds on both sandboxes, every flow run through its queue jobs (chained, a few batches a job) round after round,
access tokens expired mid-run; then the same strict reconciliation as the command line's, on the OdooStore:
every order once in AccountView with its total, every article, relation, stock figure and price in MplusKASSA
as the source says, no duplicate by any key, and only the records that can never converge open in the log."""

import logging
import random
from unittest.mock import patch

import httpx
from apicenter_sandbox.faults import KINDS
from apicenter_sandbox.reconcile import reconcile
from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.engine import RUN_ORDER
from apicenter_sync.retry import RetryPolicy

from odoo.tests import tagged

from .common import ApicenterCase, perform_chained_jobs

_logger = logging.getLogger(__name__)
RATE = 0.3
CLIENT_TIMEOUT = 0.4  # seconds; "timeout" and "slow" faults hold a reply longer than this
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, jitter=0.0)
MAX_ROUNDS = 12
BACKEND = "odoo.addons.apicenter_connector.models.apicenter_backend"


def fast_accountview(*args, **kwargs):
    return AccountViewClient(*args, **{**kwargs, "timeout": CLIENT_TIMEOUT, "retry": FAST_RETRY})


def fast_mplus(*args, **kwargs):
    return MplusClient(*args, **{**kwargs, "timeout": (CLIENT_TIMEOUT, CLIENT_TIMEOUT), "retry": FAST_RETRY})


@tagged("post_install", "-at_install")
class TestChaosThroughJobs(ApicenterCase):
    sandbox_size = 30

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()
        # Small batches and jobs: the runs go on from job to job under faults too.
        cls.flows.write({"batch_size": 10, "batches_per_job": 2, "retry_delay_seconds": 0})

    def faults(self, rate, salt=0):
        for i, url in enumerate((self.sb.accountview_url, self.sb.mplus_url)):
            payload = {"rate": rate, "kinds": list(KINDS), "seed": 7000 + salt * 2 + i, "after_write": 0.5,
                       "timeout_s": CLIENT_TIMEOUT + 0.1, "slow_s": CLIENT_TIMEOUT + 0.2}  # fmt: skip
            httpx.post(f"{url}/_sandbox/faults", json=payload if rate else {"rate": 0}).raise_for_status()

    def run_round(self, rng=None):
        """Every flow in RUN_ORDER through its jobs; a job that stops on a transient error is left for the next
        round, as queue_job would retry it later. Returns the flows' last states."""
        states = {}
        for name in RUN_ORDER:
            flow = self.flows.filtered(lambda f, name=name: f.flow == name)
            if rng is not None and rng.random() < RATE:
                httpx.post(f"{self.sb.accountview_url}/_sandbox/expire-tokens").raise_for_status()
            if perform_chained_jobs(flow):
                states[name] = "retry"
            states.setdefault(name, "dead_token" if "invalid_grant" in (flow.last_error or "") else flow.last_state)
        return states

    def reconnect_if_needed(self, states):
        """The reply of a refresh and of its one allowed retry were both lost: the refresh token is dead
        (docs/reliability.md, Limits). A person reconnects AccountView (faults off), as in the command line's suite."""
        if "dead_token" in states.values():
            self.backend._connect_accountview()
            self.reconnects += 1

    def reconcile(self):
        engine = self.backend._engine()
        try:
            return reconcile(self.sb, self.backend._store(), engine.accountview, engine.mplus, self.seeded)
        finally:
            engine.close()

    def test_faults_at_30_percent_end_in_the_exact_state(self):
        self.seeded = set(self.sb.mplus.app.store.article_product)
        self.reconnects = 0
        rng = random.Random(7)
        with patch(f"{BACKEND}.AccountViewClient", fast_accountview), patch(f"{BACKEND}.MplusClient", fast_mplus):
            converged = False
            for round_no in range(1, MAX_ROUNDS + 1):
                self.faults(RATE, salt=round_no)
                states = self.run_round(rng)
                self.faults(0)
                self.reconnect_if_needed(states)
                if set(states.values()) == {"done"} and self.reconcile().ok:
                    converged = True
                    break
            injected = sum(
                sum(httpx.get(f"{url}/_sandbox/stats").json()["faults_injected"].values())
                for url in (self.sb.accountview_url, self.sb.mplus_url)
            )
            for _ in range(3):  # faults off: until a round writes nothing
                before = dict(self.sb.mplus.app.stats.writes), dict(self.sb.accountview.app.stats.writes)
                self.reconnect_if_needed(self.run_round())
                if (dict(self.sb.mplus.app.stats.writes), dict(self.sb.accountview.app.stats.writes)) == before:
                    break
            report = self.reconcile()
        _logger.info("chaos through jobs: %s rounds, %s faults injected, %s reconnects; %s", round_no, injected,
                     self.reconnects, report.summary())  # fmt: skip
        self.assertGreater(injected, 20)
        self.assertLess(self.reconnects, MAX_ROUNDS)
        self.assertTrue(converged, f"no convergence in {MAX_ROUNDS} rounds under faults")
        self.assertTrue(report.ok, report.summary())
        self.assertEqual(report.duplicates, [])
        self.assertEqual(report.lost, [])
        # The jobs went on from job to job: more runs than rounds times flows (a quiet row stands for its count).
        runs = self.env["apicenter.run"].search([("backend_id", "=", self.backend.id)])
        self.assertGreater(sum(run.quiet_count or 1 for run in runs), round_no * len(RUN_ORDER))
