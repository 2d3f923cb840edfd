# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The dashboard's cards answer "did it work?" in records, quiet runs fold into one row, and a backend that
notifies nobody says so."""

from apicenter_sync import settings as settings_registry
from apicenter_sync.i18n import msg
from apicenter_sync.store.interfaces import LogLine

from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .test_ui import seed_backend


def _line(source_id, action, **kw):
    return LogLine("products", "article", "av_to_mplus", source_id, action, **kw)


@tagged("post_install", "-at_install")
class TestCards(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.backend = seed_backend(cls.env, "Cards")
        cls.store = cls.backend._store()
        cls.flow = cls.backend.flow_ids.filtered(lambda f: f.flow == "products")

    def _run(self, lines, counts=None, state="done"):
        run = self.store.log.start_run("products")
        self.store.log.add_lines(run, list(lines))
        finished = self.store.log.finish_run(run, state=state, counts=counts)
        return self.env["apicenter.run"].browse(run), finished

    def test_the_card_counts_records_of_the_last_run_and_of_today(self):
        failing = _line("AB-1", "failed", error=msg("products.group_missing", group="X"))
        self._run([_line("1", "created", target_id="11"), _line("2", "updated", target_id="12"), failing])
        # The same record fails again (a retry): one failed record, however often it was tried.
        self._run([_line("AB-1", "failed", error="again")])
        waiting = _line("W", "failed", error="waits", wait="articles")
        _run, finished = self._run([_line("3", "created", target_id="13"), waiting], counts={"waiting": 1})
        self.flow._record_result("done", None, finished.counts, notify=False)
        self.flow.invalidate_recordset()
        flow = self.flow
        self.assertEqual((flow.last_created, flow.last_updated, flow.last_failed, flow.last_waiting), (1, 0, 1, 1))
        self.assertEqual(flow.last_state, "done", "a waiting record is not a failure yet")
        self.assertEqual((flow.today_created, flow.today_updated, flow.today_failed), (2, 1, 2))
        self.assertEqual(flow.failure_24h_count, 2, "records, not attempts: AB-1 failed twice, W once")
        self.assertEqual(flow.with_context(lang="en_US").last_counts_display, "created 1, failed 1, waiting 1")

    def test_a_run_whose_records_failed_is_not_a_success(self):
        before = self.flow.last_success_at
        self.flow._record_result("done", None, {"created": 8, "failed": 203}, notify=False)
        self.assertEqual(self.flow.last_state, "partial")
        self.assertEqual(self.flow.last_success_at, before)
        self.assertEqual(self.flow.health, "warning")
        self.flow._record_result("done", None, {"created": 1}, notify=False)
        self.assertEqual(self.flow.last_state, "done")
        self.assertTrue(self.flow.last_success_at)

    def test_counts_are_shown_in_the_readers_language(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.flow._record_result("done", None, {"created": 2, "failed": 1}, notify=False)
        run, _ = self._run([_line("1", "created", target_id="11")])
        self.assertEqual(self.flow.with_context(lang="nl_NL").last_counts_display, "aangemaakt 2, mislukt 1")
        self.assertEqual(run.with_context(lang="nl_NL").counts_display, "aangemaakt 1")

    def test_quiet_runs_fold_into_one_row_that_counts_them(self):
        Run = self.env["apicenter.run"]
        domain = [("backend_id", "=", self.backend.id), ("flow", "=", "products")]
        worked, _ = self._run([_line("1", "created", target_id="11")])
        first, _ = self._run([])
        for _i in range(4):
            last, _ = self._run([])
        self.assertFalse(first.exists(), "the earlier quiet run was folded into the newest")
        self.assertEqual(last.quiet_count, 5)
        self.assertFalse(last.did_something)
        self.assertEqual(Run.search(domain), last | worked)
        # A run that writes starts a new stretch: the quiet row before it stays, counted.
        wrote, _ = self._run([_line("2", "updated", target_id="12")])
        again, _ = self._run([])
        self.assertTrue(last.exists())
        self.assertEqual((wrote.quiet_count, again.quiet_count), (0, 1))
        stopped, _ = self._run([], state="failed")
        self.assertTrue(stopped.did_something, "a stopped run is never folded")
        # The runs list opens on the runs that wrote or failed.
        action = self.flow.action_view_runs()
        self.assertEqual(action["context"], "{'search_default_did_something': 1}")
        self.assertEqual(Run.search(domain + [("did_something", "=", True)]), worked | wrote | stopped)

    def test_a_backend_without_responsible_users_says_so(self):
        self.backend.responsible_user_ids = False
        self.assertTrue(self.backend.no_responsible)
        self.assertTrue(self.flow.no_responsible)
        self.backend.responsible_user_ids = self.env["res.users"].create({"name": "Watcher", "login": "apic_cards_w"})
        self.assertFalse(self.backend.no_responsible)
        self.assertFalse(self.flow.no_responsible)

    def test_a_mapping_table_has_one_name_and_help_in_the_readers_language(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        row = self.env["apicenter.mapping"].create(
            {"backend_id": self.backend.id, "table_name": "vat_code_av_mplus", "key": "2", "value": "2"}
        )
        self.assertTrue(row.with_context(lang="nl_NL").table_help.startswith("De btw-code van een artikel"))
        self.assertTrue(row.with_context(lang="en_US").table_help.startswith("An article's VAT code"))

    def _messages(self, model, res_id, text):
        return self.env["mail.message"].search([("model", "=", model), ("res_id", "=", res_id), ("body", "ilike", text)])

    def test_every_change_of_a_mapping_row_is_on_the_backend(self):
        user = new_test_user(self.env, login="apic_cards_bk", name="Bookkeeper",
                             groups="apicenter_connector.group_apicenter_manager")  # fmt: skip
        Mapping = self.env["apicenter.mapping"].with_user(user)
        row = Mapping.create({"backend_id": self.backend.id, "table_name": "vat_code_av_mplus", "key": "2",
                              "value": "2"})  # fmt: skip
        row.value = "5"
        row.unlink()
        added = self._messages("apicenter.backend", self.backend.id, "row 2 added")
        changed = self._messages("apicenter.backend", self.backend.id, "row 2: 2 → 5")
        removed = self._messages("apicenter.backend", self.backend.id, "row 2 removed")
        self.assertTrue(added and changed and removed)
        self.assertEqual(changed.author_id, user.partner_id, "who changed it")
        self.assertIn("VAT codes AccountView → MplusKASSA", changed.body, "the table by the name the screens use")
        # The engine's own writes (its store) are not a person's change.
        before = self.env["mail.message"].search_count([("model", "=", "apicenter.backend")])
        self.store.mappings.set_value("generated_article_numbers", "AB-1", "9000001")
        self.store.mappings.set_value("warehouse_branch", "HOOFD", "1")
        self.assertEqual(self.env["mail.message"].search_count([("model", "=", "apicenter.backend")]), before)

    def test_every_setting_the_flow_and_backend_keep_is_tracked(self):
        names = {s.name for s in settings_registry.SETTINGS}
        for model in ("apicenter.flow", "apicenter.backend"):
            kept = {name for name in self.env[model]._fields if name in names}
            self.assertGreater(len(kept), 3, model)
            self.assertEqual(kept - set(self.env[model]._track_get_fields()), set(), f"{model}: untracked settings")

    def test_a_changed_setting_is_tracked_with_its_old_and_new_value(self):
        flow = self.flow.with_context(tracking_disable=False, mail_notrack=False)
        flow.batch_size = 100
        self.env.flush_all()
        self.env.cr.precommit.run()
        flow.batch_size = 250
        self.env.flush_all()
        self.env.cr.precommit.run()
        values = self.env["mail.tracking.value"].search([
            ("mail_message_id.model", "=", "apicenter.flow"), ("mail_message_id.res_id", "=", self.flow.id),
            ("field_id.name", "=", "batch_size"),
        ])  # fmt: skip
        self.assertTrue(values.filtered(lambda v: (v.old_value_integer, v.new_value_integer) == (100, 250)))
