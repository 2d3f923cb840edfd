# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Dutch and Polish: each language loads, and no string of the addon's views, fields or selections is left in
English (a term may equal its source only where the .po file says so, e.g. "JSON")."""

from pathlib import Path

from apicenter_sync.store.interfaces import LogLine

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import PoFileReader

I18N = Path(__file__).resolve().parent.parent / "i18n"
LANGUAGES = {"nl_NL": "nl.po", "pl_PL": "pl.po"}


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def _load(self, code):
        self.env["res.lang"]._activate_lang(code)
        module = self.env["ir.module.module"].search([("name", "=", "apicenter_connector")])
        module._update_translations(filter_lang=[code], overwrite=True)

    def _same_as_source(self, po):
        with open(I18N / po, "rb") as handle:
            return {entry["src"] for entry in PoFileReader(handle) if entry["value"] == entry["src"]}

    def test_every_view_and_field_is_translated(self):
        data = self.env["ir.model.data"].search([("module", "=", "apicenter_connector")])
        views = self.env["ir.ui.view"].browse(data.filtered(lambda d: d.model == "ir.ui.view").mapped("res_id"))
        models = self.env["ir.model"].search([("model", "=like", "apicenter.%")])
        # The addon's own fields; those a mixin brings (mail's chatter and activities, sms) are translated by
        # their own module, and only when the database has that module's language loaded.
        fields = self.env["ir.model.fields"].search([("model_id", "in", models.ids)]).filtered(
            lambda f: getattr(self.env[f.model]._fields.get(f.name), "_module", None) == "apicenter_connector"
        )
        self.assertTrue(views and fields)
        for code, po in LANGUAGES.items():
            self._load(code)
            same = self._same_as_source(po)
            missing = []
            for view in views:
                translations, _context = view.get_field_translations("arch_db", langs=[code])
                missing += [(view.xml_id, t["source"]) for t in translations
                            if not t["value"] and t["source"].strip() and t["source"] not in same]  # fmt: skip
            for field in fields:
                label = field.with_context(lang=code).field_description
                if label == field.with_context(lang="en_US").field_description and label not in same:
                    missing.append((f"{field.model}.{field.name}", label))
            selections = self.env["ir.model.fields.selection"].search([("field_id", "in", fields.ids)])
            for option in selections:
                name = option.with_context(lang=code).name
                if name == option.with_context(lang="en_US").name and name not in same:
                    missing.append((f"{option.field_id.model}.{option.field_id.name}={option.value}", name))
            self.assertFalse(missing, f"{code}: {len(missing)} strings untranslated, e.g. {missing[:10]}")
        # One sample each, so the test cannot pass on an empty load.
        flow_field = self.env["ir.model.fields"]._get("apicenter.flow", "batch_size")
        self.assertNotEqual(flow_field.with_context(lang="nl_NL").field_description, "Batch Size")
        self.assertNotEqual(flow_field.with_context(lang="pl_PL").field_description, "Batch Size")


@tagged("post_install", "-at_install")
class TestEngineTexts(TransactionCase):
    """A text the engine writes (a log line's error, a run's stop reason) is shown in the reader's language."""

    def test_log_line_and_run_in_the_readers_language(self):
        from apicenter_sync.i18n import msg

        for code in LANGUAGES:
            self.env["res.lang"]._activate_lang(code)
        backend = self.env["apicenter.backend"].create({"name": "Texts"})
        store = backend._store()
        run_id = store.log.start_run("orders")
        error = msg("core.error_at", where="receipt R1", message=msg("store.run_abandoned"))
        store.log.add_lines(run_id, [LogLine("orders", "receipt", "mplus_to_av", "R1", "failed", error=error)])
        store.log.finish_run(run_id, state="failed", error=msg("store.run_abandoned"))
        line = self.env["apicenter.log.line"].search([("backend_id", "=", backend.id)])
        run = self.env["apicenter.run"].browse(run_id)
        # stored in English (searchable), shown in each reader's language
        self.assertEqual(line.error, "receipt R1: the process ended without finishing the run")
        self.assertEqual(line.with_context(lang="nl_NL").message, "receipt R1: het proces stopte voordat de run klaar was")
        self.assertEqual(line.with_context(lang="pl_PL").message,
                         "receipt R1: proces zakończył się przed ukończeniem przebiegu")  # fmt: skip
        self.assertEqual(line.with_context(lang="en_US").message, line.error)
        self.assertEqual(run.with_context(lang="nl_NL").message, "het proces stopte voordat de run klaar was")
        # and the engine reads it back as a message
        (read,) = store.log.list_lines(flow="orders")
        self.assertEqual(read.error.render("pl"), "receipt R1: proces zakończył się przed ukończeniem przebiegu")

    def test_a_booking_s_steps_in_the_readers_language(self):
        """The reply's steps (what a booking did) are shown in the reader's language in the formatted reply."""
        from apicenter_sync.i18n import msg, with_step_messages

        self.env["res.lang"]._activate_lang("nl_NL")
        backend = self.env["apicenter.backend"].create({"name": "Steps"})
        store = backend._store()
        run_id = store.log.start_run("orders")
        reply = with_step_messages({"steps": [msg("orders.step.articles", count=3)]})
        store.log.add_lines(run_id, [LogLine("orders", "order", "mplus_to_av", "O1", "created", reply=reply)])
        line = self.env["apicenter.log.line"].search([("backend_id", "=", backend.id)])
        self.assertIn("artikelen: alle 3 bestaan in AccountView", line.with_context(lang="nl_NL").reply_pretty)
        self.assertNotIn("steps_msg", line.with_context(lang="nl_NL").reply_pretty)
        self.assertIn("articles: all 3 exist in AccountView", line.with_context(lang="en_US").reply_pretty)
