# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Browser tours over the screens a person uses (static/src/js/tours/apicenter_tour.js), in English, Dutch and Polish.

In Dutch and Polish a tour fails on English text on the screens and in the messages it visits: the tour is given
the English texts of the addon (its .po files) and of the engine's catalogue whose translation differs, and looks
for them among what is visible (``noEnglish`` steps)."""

import base64
import json
import logging
import os
import re
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import httpx
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.i18n import catalogue, msg, setting_ref
from apicenter_sync.store.interfaces import LogLine

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser, _find_executable
from odoo.tools.translate import PoFileReader

from .common import TupleTimeouts, perform_chained_jobs

_logger = logging.getLogger(__name__)

I18N = Path(__file__).resolve().parent.parent / "i18n"
FIXTURE_KEY = "apicenter_connector.tour_fixture"  # what a tour needs to know (read by the tour, see loadFixture)
# What splits a template into the literal pieces a screen shows: printf and format placeholders, markup.
PLACEHOLDER = re.compile(r"%\([^)]*\)[sdf]|%[sdf%]|\{[^{}]*\}|<[^>]+>")
# The selections a tour picks from (Odoo 19 shows a choice's label only): {field: (model, field)}.
PICKED = {
    "known_table": ("apicenter.mapping", "known_table"),
    "default_debtor_mode": ("apicenter.setup.wizard", "default_debtor_mode"),
}


def _norm(text):
    return " ".join(str(text).split())


def english_texts(lang):
    """``(exact, fragments)``: the English texts that must not be shown to a reader of ``lang`` (nl_NL, pl_PL).

    ``exact``: whole texts without placeholders (a label, a button) a text node must not equal; ``fragments``: the
    literal pieces of three words or more of every text (placeholders and markup cut out) that the screen must not
    contain. A text translated identically ("MplusKASSA", "JSON") is left out, and so is a piece that occurs in some
    translation of ``lang`` too (it is then not evidence of English)."""
    code = lang.split("_")[0]
    pairs = []
    with open(I18N / f"{code}.po", "rb") as handle:
        pairs += [(entry["src"], entry["value"]) for entry in PoFileReader(handle)]
    pairs += [(entry["en"], entry.get(code)) for entry in catalogue().values()]
    translated = {_norm(text) for _src, text in pairs if text}
    translated_text = "\n".join(translated)
    exact, fragments = set(), set()
    for source, text in pairs:
        if not text or _norm(text) == _norm(source):
            continue
        pieces = [_norm(p).strip(" .,:;·()") for p in PLACEHOLDER.split(source)]
        whole = _norm(source)
        if len(pieces) == 1 and len(whole) > 2 and whole not in translated:
            exact.add(whole)
        fragments.update(p for p in pieces if len(p.split()) >= 3 and len(p) >= 16 and p not in translated_text)
    return sorted(exact), sorted(fragments)


class TourCase(TupleTimeouts, HttpCase):
    """Runs a tour as the administrator in a language, with what it needs to know in ``FIXTURE_KEY``."""

    def setUp(self):
        super().setUp()
        try:
            _find_executable()
        except Exception:  # noqa: BLE001 - any failure to find a browser means: no tour here
            _logger.warning("APICENTER TOUR SKIPPED: no Chrome/Chromium found (apt-get install chromium)")
            self.skipTest("no Chrome/Chromium")

    def _use_language(self, lang):
        """The language installed (Odoo's own terms too, so that only the addon's could be left English) and the
        administrator's."""
        if lang != "en_US" and lang not in [code for code, _name in self.env["res.lang"].get_installed()]:
            self.env["res.lang"]._activate_lang(lang)
            modules = self.env["ir.module.module"].search([("state", "=", "installed")])
            modules._update_translations(filter_lang=[lang])
        self.env.ref("base.user_admin").lang = lang

    def run_tour(self, tour, lang="en_US", url=None, **fixture):
        self._use_language(lang)
        env = self.env(context=dict(self.env.context, lang=lang))
        fixture["lang"] = lang
        fixture["labels"] = {
            name: dict(env[model]._fields[field]._description_selection(env)) for name, (model, field) in PICKED.items()
        }
        fixture["exact"], fixture["fragments"] = english_texts(lang) if lang != "en_US" else ([], [])
        # APICENTER_TOUR_SCREENSHOTS=<folder>: the tour's shot() steps save the screen there as <name>-<lang>.png
        # (docs/screenshots: the first hour in Dutch).
        folder = os.environ.get("APICENTER_TOUR_SCREENSHOTS")
        fixture["screenshots"] = bool(folder)
        self.env["ir.config_parameter"].sudo().set_param(FIXTURE_KEY, json.dumps(fixture))
        shots = mock.patch.object(ChromeBrowser, "_handle_console", _screenshots(folder, lang)) if folder else None
        with shots or nullcontext():
            self.start_tour(url or "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard", tour,
                            login="admin", timeout=180)  # fmt: skip


def _screenshots(folder, lang):
    """Odoo's console handler, which also saves the screen when the tour logs ``apicenter-screenshot <name>``."""
    handle = ChromeBrowser._handle_console
    code = lang.split("_")[0]

    def handler(browser, type, args=None, **kw):  # noqa: A002 - Odoo's signature
        text = (args or [{}])[0].get("value") if type == "log" else None
        if isinstance(text, str) and text.startswith("apicenter-screenshot "):
            path = Path(folder) / f"{text.split()[1]}-{code}.png"

            def save(future):
                path.write_bytes(base64.b64decode(future.result(timeout=0)["data"]))

            browser._websocket_send("Page.captureScreenshot", with_future=True).add_done_callback(save)
        return handle(browser, type, args, **kw)

    return handler


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
                error=msg("products.sku_not_numeric", sku="AB-1", setting=setting_ref("non_numeric_sku")),
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
                # as the orders flow writes it (a catalogue message: shown in the reader's language)
                error=msg("orders.articles_missing", label="receipt TOUR-RECEIPT-1", object="AK1", skus="999001"),
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
class TestTour(TourCase):
    """The dashboard, a backend, a failed log line, the sales from the till and the wizard on an existing backend."""

    def _tour(self, lang):
        self._use_language(lang)  # the data is made in the user's language, as the user would make it
        seed_tour_data(self.env(context=dict(self.env.context, lang=lang)))
        self.run_tour("apicenter_connector_tour", lang)
        # The wizard edited the existing backend (no second one on the same pair); what the tour typed in the mapping
        # step is its rows; the connection check ran and holds: nothing is scheduled.
        backend = self.env["apicenter.backend"].search([])
        self.assertEqual(backend.mapped("name"), ["Tour Backend"])
        rows = {(r.table_name, r.key): r.value for r in backend.mapping_ids}
        self.assertEqual(rows, {("warehouse_branch", "HOOFD"): "1", ("vat_code_av_mplus", "2"): "2"})
        self.assertTrue(backend.doctor_report_id)
        self.assertTrue(backend.doctor_hold)
        self.assertFalse(backend.flow_ids.filtered("enabled"))

    def test_tour(self):
        self._tour("en_US")

    def test_tour_dutch(self):
        self._tour("nl_NL")

    def test_tour_polish(self):
        self._tour("pl_PL")


def ring(sb):
    """A sale at the sandbox till, through its API: one article both systems know, paid by PIN. Its receipt id."""
    article = next(a for a in sb.world.articles if a.in_mplus and a.in_accountview and a.sku.isdigit())
    reply = httpx.post(sb.mplus_url + "/_sandbox/till/sale",
                       json={"lines": [{"articleNumber": int(article.sku), "quantity": "1"}],
                             "payments": [{"method": "PIN"}]})  # fmt: skip
    reply.raise_for_status()
    return reply.json()["receiptId"]


def writes(sb):
    """What each sandbox has been written so far ({system: {object: count}})."""
    return {url: httpx.get(url + "/_sandbox/stats").json()["writes"] for url in (sb.accountview_url, sb.mplus_url)}


@tagged("post_install", "-at_install")
class TestFirstHourTour(TourCase):
    """A new shop, from a database without a backend: the wizard against both sandboxes (real sockets), the gate,
    the administrator's acceptance, and a till receipt rung up afterwards booked in AccountView."""

    def _first_hour(self, lang):
        self.assertFalse(self.env["apicenter.backend"].search([]))
        self.env.ref("apicenter_connector.ir_cron_apicenter_enqueue_flows").active = False
        sb = start_sandboxes(size=10, seed=1)
        self.addCleanup(sb.stop)
        ring(sb)  # the shop sold at the counter today: the wizard pre-selects its till receipts
        self.run_tour("apicenter_connector_first_hour", lang, av_base_url=sb.accountview_url,
                      av_client_id=sb.av_client_id, av_client_secret=sb.av_client_secret, mplus_url=sb.mplus_url,
                      mplus_ident=sb.mplus_ident, mplus_secret=sb.mplus_secret)  # fmt: skip
        # One backend: the second on the same pair was refused. The refused rows (0 % onto 21 %, branch 99) were not
        # kept; the rows the tour fixed were.
        backend = self.env["apicenter.backend"].search([])
        self.assertEqual(backend.mapped("name"), ["Tour Shop"])
        rows = {(r.table_name, r.key): r.value for r in backend.mapping_ids}
        wanted = {("vat_code_av_mplus", "0"): "0", ("warehouse_branch", "HOOFD"): "1",
                  ("payment_method_condition", "PIN"): "0"}  # fmt: skip
        self.assertEqual({k: rows.get(k) for k in wanted}, wanted, backend.message_ids.mapped("body"))
        orders = backend.flow_ids.filtered(lambda f: f.flow == "orders")
        self.assertEqual(sorted(backend.flow_ids.mapped("flow")), ["orders", "products"])
        self.assertEqual((orders.source_document_type, orders.receipt_booking), ("receipt", "each"))
        # Nothing runs before the check is confirmed or accepted: the flows run now write nothing to either system.
        self.assertTrue(backend.doctor_hold)
        self.assertFalse(backend.flow_ids.filtered("enabled"))
        before = writes(sb)
        for flow in backend.flow_ids.sorted(lambda f: f.flow != "products"):
            perform_chained_jobs(flow)
        self.assertEqual(writes(sb), before)
        self.assertFalse(self.env["apicenter.sale"].search([("state", "=", "sent")]))

        # The administrator accepts the check's problems and resumes the flows; a receipt rung up now is booked.
        self.run_tour("apicenter_connector_first_hour_accept", lang)
        self.assertFalse(backend.doctor_hold)
        self.assertTrue(all(backend.flow_ids.mapped("enabled")))
        receipt = ring(sb)
        perform_chained_jobs(orders)
        sale = self.env["apicenter.sale"].search([("backend_id", "=", backend.id), ("source_id", "=", receipt)])
        self.assertEqual((sale.source, sale.state), ("receipt", "sent"), sale.reason)
        booked = [row for row in sb.accountview.app.tables["SO_HDR"].rows.values()
                  if str(row.get("COMMENT1") or "").strip() == receipt]  # fmt: skip
        self.assertEqual(len(booked), 1, "the receipt is one sales order in AccountView's sandbox")

    def test_first_hour(self):
        self._first_hour("en_US")

    def test_first_hour_dutch(self):
        self._first_hour("nl_NL")

    def test_first_hour_polish(self):
        self._first_hour("pl_PL")
