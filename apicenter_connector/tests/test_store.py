# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from datetime import UTC, datetime, timedelta

from apicenter_sync.redact import MAX_STORED_TEXT
from apicenter_sync.store.interfaces import Binding, BindingConflict, LogLine, Store

from odoo.tests import TransactionCase, tagged

from ..models.store import OdooStore


@tagged("post_install", "-at_install")
class TestOdooStore(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["apicenter.backend"].create({"name": "Store test", "mplus_url": "http://127.0.0.1:9"})
        cls.store = OdooStore(cls.env, cls.backend)

    def test_protocol(self):
        self.assertIsInstance(self.store, Store)

    def test_bindings(self):
        b = self.store.bindings
        b.upsert_many(
            [
                Binding("product", "1", "100", "h1"),
                Binding("product", "2", None, "h2", state="failed", last_error="bad"),
            ]
        )
        many = b.get_many("product", ["1", "2", "3"])
        self.assertEqual(set(many), {"1", "2"})
        self.assertTrue(many["1"].is_unchanged("h1"))
        self.assertIsNotNone(many["1"].synced_at)
        pending = b.mark_pending("product", "1", payload_hash="h3", idempotency_key="k1")
        self.assertEqual((pending.state, pending.target_id, pending.idempotency_key), ("pending", "100", "k1"))
        again = b.mark_pending("product", "1", payload_hash="h4", idempotency_key="k2")
        self.assertEqual(again.idempotency_key, "k1", "a retry resends the same key")
        done = b.upsert("product", "1", target_id=None, payload_hash="h4")
        self.assertEqual((done.state, done.target_id, done.idempotency_key), ("synced", "100", None))
        with self.assertRaises(BindingConflict) as conflict:
            b.upsert("product", "9", target_id="100", payload_hash="x")
        # What a flow writes into the record's log line: a catalogue message (store.toml), read in Dutch as well.
        self.assertEqual(conflict.exception.args[0].render("nl"), "product: doel-id '100' is al gekoppeld aan "
                         "bron-id '1'; het wordt niet ook aan '9' gekoppeld")  # fmt: skip
        self.assertEqual(b.get_by_target("product", "100").source_id, "1")
        failed = b.mark_failed("product", "1", "rejected: token=abc123")
        self.assertEqual(failed.state, "failed")
        self.assertNotIn("abc123", failed.last_error)
        self.assertEqual(b.count("product"), 2)
        self.assertEqual([x.source_id for x in b.iter("product", page_size=1)], ["1", "2"])
        self.assertTrue(b.delete("product", "2"))
        self.assertIsNone(b.get("product", "2"))

    def test_bindings_sql_and_orm_agree(self):
        """The binding store writes its table in SQL: the ORM must see those rows at once, and the store must
        see rows the ORM has not flushed yet (a manager's edit in the same transaction)."""
        b, model = self.store.bindings, self.env["apicenter.binding"]
        pending = b.mark_pending("order", "R1", payload_hash="h1")
        row = model.search([("backend_id", "=", self.backend.id), ("source_id", "=", "R1")])
        self.assertEqual((row.state, row.pending_hash, row.company_id), ("pending", "h1", self.backend.company_id))
        self.assertEqual(pending.pending_since, pending.updated_at)
        b.upsert("order", "R1", target_id="INV1", payload_hash="h1")
        self.assertEqual((row.state, row.target_id, row.pending_hash), ("synced", "INV1", False), "no stale cache")
        model.create({"backend_id": self.backend.id, "entity": "order", "source_id": "R2", "target_id": "INV2"})
        with self.assertRaises(BindingConflict):
            b.upsert("order", "R3", target_id="INV2", payload_hash="h3")
        row.target_id = "INV9"  # not flushed yet
        self.assertEqual(b.get("order", "R1").target_id, "INV9")
        # a record named twice in one batch: the later entry wins, a known target is kept
        b.upsert_many([Binding("order", "R4", "INV4", "a"), Binding("order", "R4", None, "b", state="failed")])
        again = b.get("order", "R4")
        self.assertEqual((again.target_id, again.payload_hash, again.state), ("INV4", "b", "failed"))
        with self.assertRaises(BindingConflict):
            b.upsert_many([Binding("order", "R5", "X", "a"), Binding("order", "R6", "X", "a")])
        self.assertIsNone(b.get("order", "R5"), "a refused batch writes nothing")

    def test_watermarks(self):
        w = self.store.watermarks
        self.assertIsNone(w.get("products", "articles").value)
        w.advance("products", "articles", "2024-01-01T00:00:00", ["a"])
        w.advance("products", "articles", "2024-01-01T00:00:00", ["b"])
        self.assertEqual(w.get("products", "articles").processed_ids, frozenset({"a", "b"}))
        w.advance("products", "articles", "2024-01-02T00:00:00", ["c"])
        self.assertEqual(w.get("products", "articles").processed_ids, frozenset({"c"}))
        w.set("products", "groups", "5")
        self.assertEqual(set(w.list("products")), {"articles", "groups"})
        self.assertEqual(w.reset("products"), 2)

    def test_transaction_is_a_savepoint(self):
        with self.assertRaises(ZeroDivisionError), self.store.transaction():
            self.store.bindings.upsert("product", "7", target_id="70", payload_hash="h")
            raise ZeroDivisionError
        self.assertIsNone(self.store.bindings.get("product", "7"))

    def _line(self, source_id, action, **kw):
        return LogLine("products", "product", "av_to_mplus", source_id, action, **kw)

    def test_log_line_states(self):
        log = self.store.log
        run = log.start_run("products")
        first = log.add_lines(run, [self._line("1", "failed", error="SKU 'AB' is not numeric")])
        second = log.add_lines(run, [self._line("1", "failed", error="again")])
        self.assertEqual(log.get_line(first[0]).state, "superseded")
        self.assertEqual(log.get_line(second[0]).attempts, 2)
        self.assertEqual([x.id for x in log.list_lines(failed_only=True)], second)
        self.assertEqual(log.mark_retry(second), 1)
        self.assertEqual([x.source_id for x in log.pending_retries("products")], ["1"])
        ok = log.add_lines(run, [self._line("1", "created", target_id="100")])
        self.assertEqual(log.get_line(second[0]).state, "resolved")
        self.assertEqual(log.get_line(ok[0]).attempts, 3)  # as the SQLite store: the attempt that succeeded
        # automatic retries: due and under max_attempts only
        past = datetime.now(UTC) - timedelta(seconds=5)
        auto = log.add_lines(run, [self._line("2", "failed", retry_at=past)])
        self.assertEqual(len(log.pending_retries("products", max_attempts=8)), 1)
        self.assertFalse(log.pending_retries("products", max_attempts=1))
        self.assertEqual(log.mark_ignored(auto, "no"), 1)
        self.assertFalse(log.pending_retries("products"))
        finished = log.finish_run(run, state="done")
        self.assertEqual(finished.counts["failed"], 3)
        self.assertEqual(log.list_runs("products")[0].id, run)

    def test_purge_keeps_metadata_and_open_failures(self):
        log = self.store.log
        run = log.start_run("products")
        payload = {"ART_CODE": "1", "email": "jan@example.com"}
        old_ok, old_failed, recent = log.add_lines(
            run,
            [
                self._line("1", "created", source_payload=payload),
                self._line("2", "failed", source_payload=payload, error="missing article"),
                self._line("3", "updated", source_payload=payload),
            ],
        )
        log.finish_run(run)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE apicenter_log_line SET create_date = now() - interval '40 days' WHERE id IN %s",
            ((old_ok, old_failed),),
        )
        self.env["apicenter.log.line"].invalidate_model()
        self.backend._cron_purge_logs()
        lines = {x.id: x for x in log.list_lines()}
        self.assertTrue(lines[old_ok].payload_purged)
        self.assertIsNone(lines[old_ok].source_payload)
        self.assertEqual(lines[old_failed].state, "failed")
        self.assertEqual(lines[recent].source_payload, payload)
        # metadata older than its retention goes, open failures stay
        self.env.cr.execute(
            "UPDATE apicenter_log_line SET create_date = now() - interval '400 days' WHERE id IN %s",
            ((old_ok, old_failed),),
        )
        self.env["apicenter.log.line"].invalidate_model()
        result = log.purge(payload_days=30, metadata_days=180)
        self.assertEqual(result.lines_deleted, 1)
        self.assertIsNone(log.get_line(old_ok))
        self.assertIsNotNone(log.get_line(old_failed))

    def test_payloads_are_redacted(self):
        log = self.store.log
        run = log.start_run("products")
        (line_id,) = log.add_lines(
            run,
            [
                self._line(
                    "1",
                    "failed",
                    error="POST http://x/?ident=shop&secret=s3cr3t-value failed; Authorization: Bearer abcdefghijkl",
                    source_payload={"client_secret": "s3cr3t-value", "nested": [{"access_token": "tok-123456"}]},
                    reply={"Authorization": "Bearer abcdefghijkl"},
                )
            ],
        )
        line = self.env["apicenter.log.line"].browse(line_id)
        dump = json.dumps(line.read()[0], default=str)
        for secret in ("s3cr3t-value", "tok-123456", "abcdefghijkl"):
            self.assertNotIn(secret, dump)

    def test_huge_payload_strings_are_bounded(self):
        log = self.store.log
        run = log.start_run("products")
        huge = "x" * (3 * MAX_STORED_TEXT)
        (line_id,) = log.add_lines(run, [self._line("1", "failed", source_payload={"DESCRIPTION": huge, "n": 1})])
        stored = log.get_line(line_id).source_payload
        self.assertLess(len(stored["DESCRIPTION"]), MAX_STORED_TEXT + 100)
        self.assertIn("[cut: 196,608 characters]", stored["DESCRIPTION"])
        self.assertEqual(stored["n"], 1)
