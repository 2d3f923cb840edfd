# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A browser tour over the screens a person uses (static/src/js/tours/apicenter_tour.js)."""

import logging
from datetime import UTC, datetime, timedelta

from apicenter_sync.store.interfaces import LogLine

from odoo.tests import HttpCase, tagged
from odoo.tests.common import _find_executable

from .common import TupleTimeouts

_logger = logging.getLogger(__name__)


def seed_tour_data(env):
    backend = env["apicenter.backend"].create(
        {
            "name": "Tour Backend",
            "av_base_url": "http://127.0.0.1:9",
            "av_company_id": "c1",
            "av_company_name": "Tour Company",
            "mplus_url": "http://127.0.0.1:9",
        }
    )
    env["apicenter.backend.token"].sudo().create(
        {"backend_id": backend.id, "access_token": "tour-token", "refresh_token": "tour-refresh"}
    )
    backend.action_create_flows()
    backend.flow_ids.enabled = False
    store = backend._store()
    for _i in range(3):
        run = store.log.start_run("products")
        store.log.finish_run(run, state="failed", error="AccountView answered 503")
    run = store.log.start_run("products")
    store.log.add_lines(
        run,
        [
            LogLine(
                "products",
                "article",
                "av_to_mplus",
                "AB-1",
                "failed",
                error="SKU 'AB-1' is not numeric",
                source_payload={"ArtCode": "AB-1", "Description": "Chair", "SalesPrice": 12.5},
                target_payload={"articleNumber": None, "text": "Chair"},
                reply={"result": "GET-ARTICLE-FAILED"},
            )
        ],
    )
    store.log.finish_run(run, state="failed", error="1 record failed")
    run = store.log.start_run("orders")
    store.log.add_lines(
        run,
        [
            LogLine(
                "orders",
                "receipt",
                "mplus_to_av",
                "TOUR-RECEIPT-1",
                "failed",
                error="receipt TOUR-RECEIPT-1: article(s) not in AccountView (AK1): 999001",
                retry_at=datetime.now(UTC) + timedelta(minutes=5),
                wait="articles",
            )
        ],
    )
    store.log.finish_run(run, state="done")
    flow = backend.flow_ids.filtered(lambda f: f.flow == "products")
    flow.write({"last_state": "failed", "last_error": "1 record failed"})
    return backend


@tagged("post_install", "-at_install")
class TestTour(TupleTimeouts, HttpCase):
    def test_tour(self):
        try:
            _find_executable()
        except Exception:  # noqa: BLE001 - any failure to find a browser means: no tour here
            _logger.warning("APICENTER TOUR SKIPPED: no Chrome/Chromium found (apt-get install chromium)")
            self.skipTest("no Chrome/Chromium")
        seed_tour_data(self.env)
        self.start_tour(
            "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard",
            "apicenter_connector_tour",
            login="admin",
            timeout=120,
        )
        # The wizard edited the existing backend (no second one on the same pair); what the tour typed in the mapping
        # step is its rows; the connection check ran and holds: nothing is scheduled.
        backend = self.env["apicenter.backend"].search([])
        self.assertEqual(backend.mapped("name"), ["Tour Backend"])
        rows = {(r.table_name, r.key): r.value for r in backend.mapping_ids}
        self.assertEqual(rows, {("warehouse_branch", "HOOFD"): "1", ("vat_code_av_mplus", "2"): "2"})
        self.assertTrue(backend.doctor_report_id)
        self.assertTrue(backend.doctor_hold)
        self.assertFalse(backend.flow_ids.filtered("enabled"))
