# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Dutch and Polish: each language loads, and no string of the addon's views, fields or selections is left in
English (a term may equal its source only where the .po file says so, e.g. "JSON")."""

from pathlib import Path

from apicenter_sync.i18n import msg
from apicenter_sync.store.interfaces import LogLine

from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.translate import PoFileReader

from odoo.addons.mail.tools.discuss import Store

from ..models.odoo_series import SERIES

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

    def _load(self, code):
        self.env["res.lang"]._activate_lang(code)
        module = self.env["ir.module.module"].search([("name", "=", "apicenter_connector")])
        module._update_translations(filter_lang=[code], overwrite=True)

    def test_log_line_and_run_in_the_readers_language(self):
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

    def test_a_log_line_s_entity_and_its_run_in_the_readers_words(self):
        """What a line is about and which run it belongs to are named in words of the reader's language (the list,
        the form, the grouping, the breadcrumb), not as the engine's codes ("receipt", "orders #16")."""
        for code in LANGUAGES:
            self._load(code)
        backend = self.env["apicenter.backend"].create({"name": "Shop"})
        store = backend._store()
        run_id = store.log.start_run("orders")
        store.log.add_lines(run_id, [LogLine("orders", "receipt", "mplus_to_av", "R1", "created"),
                                     LogLine("orders", "debtor", "mplus_to_av", "D1", "created")])  # fmt: skip
        run = self.env["apicenter.run"].browse(run_id)
        run.started_at = "2026-12-07 17:50:00"
        Line = self.env["apicenter.log.line"]
        self.assertEqual(set(run.line_ids.mapped("entity")), {"debtor", "receipt"})  # the code stays (engine, CLI)
        for lang, words in {"nl_NL": ("Bon", "Debiteur", "Shop / Orders"),
                            "pl_PL": ("Paragon", "Dłużnik", "Shop / Zamówienia")}.items():  # fmt: skip
            receipt, debtor, flow = words
            labels = dict(Line.with_context(lang=lang).fields_get(["entity"])["entity"]["selection"])
            self.assertEqual((labels["receipt"], labels["debtor"]), (receipt, debtor))
            # Grouped by entity, the web client labels each group by that selection.
            groups = Line.with_context(lang=lang)._read_group([("run_id", "=", run_id)], ["entity"], ["__count"])
            self.assertEqual({entity for entity, _count in groups}, {"receipt", "debtor"})
            shown = run.with_context(lang=lang, tz="Europe/Amsterdam").display_name
            self.assertTrue(shown.startswith(flow + ", "), shown)
            self.assertIn("18:50", shown)  # the reader's time zone
        self.assertEqual(run.with_context(lang="en_US").display_name.split(", ")[0], "Shop / Orders")
        self.assertNotIn("#", run.display_name)
        self.assertEqual(run.line_ids[0].with_context(lang="nl_NL").run_id.display_name,
                         run.with_context(lang="nl_NL").display_name)  # fmt: skip
        # An entity the list does not name yet is still logged (never lost for a label).
        store.log.add_lines(run_id, [LogLine("orders", "voucher", "mplus_to_av", "V1", "created")])
        self.assertIn("voucher", run.line_ids.mapped("entity"))

    def test_a_booking_s_steps_in_the_readers_language(self):
        """The reply's steps (what a booking did) are shown in the reader's language in the formatted reply."""
        from apicenter_sync.i18n import with_step_messages

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


@tagged("post_install", "-at_install")
class TestChatterTexts(TransactionCase):
    """A message the addon posts in a chatter reads in the language of whoever reads it (chatter_text.py); the
    database keeps the writer's words (search, e-mail)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in LANGUAGES:
            cls.env["res.lang"]._activate_lang(code)
            module = cls.env["ir.module.module"].search([("name", "=", "apicenter_connector")])
            module._update_translations(filter_lang=[code], overwrite=True)
        groups = "base.group_system,apicenter_connector.group_apicenter_manager"
        cls.dutch = new_test_user(cls.env, login="apic_chat_nl", groups=groups, lang="nl_NL")
        cls.polish = new_test_user(cls.env, login="apic_chat_pl", groups=groups, lang="pl_PL")
        cls.backend = cls.env["apicenter.backend"].create({"name": "Chat", "responsible_user_ids": [(6, 0, cls.dutch.ids)]})
        cls.flow = cls.env["apicenter.flow"].create({"backend_id": cls.backend.id, "flow": "products"})

    def _read(self, message, user):
        """The message's body as the web client gets it (mail's Store: the chatter, the inbox), read by ``user``."""
        message = message.with_user(user).with_context(lang=user.lang)
        store = Store().add(message) if SERIES >= 19 else Store(message, for_current_user=True)
        (data,) = [m for m in store.get_result()["mail.message"] if m["id"] == message.id]
        body = data["body"]
        return str(body[1] if isinstance(body, list) else body), data.get("subject")  # 19: ["markup", html]

    def test_a_message_written_in_dutch_reads_in_polish(self):
        self.backend.with_user(self.dutch).with_context(lang="nl_NL").action_profile_reset()
        message = self.backend.message_ids[:1]
        self.assertIn("API-profiel teruggezet", message.body)  # stored as written: Dutch
        self.assertIn("Przywrócono profil API", self._read(message, self.polish)[0])
        self.assertIn("API-profiel teruggezet", self._read(message, self.dutch)[0])
        message.invalidate_recordset()
        self.assertIn("API-profiel teruggezet", message.body)  # reading changed nothing stored

    def test_a_failure_digest_reads_in_each_reader_s_language(self):
        flow = self.flow
        self.assertTrue(flow._notify_failures("failed", msg("store.run_abandoned"), {"failed": 2}))
        message = self.backend.message_ids[:1]
        # Written in the responsible user's language (Dutch): the engine's message, the counts, the flow in words.
        self.assertIn("het proces stopte voordat de run klaar was", message.body)
        self.assertIn("mislukt 2", message.body)
        self.assertIn("Chat / Producten", message.body)
        body, subject = self._read(message, self.polish)
        self.assertIn("Przebieg zatrzymany:", body)
        self.assertIn("proces zakończył się przed ukończeniem przebiegu", body)
        self.assertIn("nieudane 2", body)
        self.assertNotIn("mislukt", body)
        self.assertIn("APIcenter: błąd przepływu", subject)
        self.assertIn("Run stopped:", self._read(message, self.env.ref("base.user_admin"))[0])  # English reader

    def test_a_mapping_change_names_its_table_in_the_reader_s_words(self):
        self.env["apicenter.mapping"].with_user(self.dutch).with_context(lang="nl_NL").create(
            {"backend_id": self.backend.id, "table_name": "bpe_articles", "key": "DEP-7", "value": "900001"}
        )
        message = self.backend.message_ids[:1]
        self.assertIn("Koppeltabel", message.body)
        body = self._read(message, self.polish)[0]
        self.assertIn("DEP-7", body)
        self.assertNotIn("Koppeltabel", body)
        self.assertIn("<code>bpe_articles</code>", body)  # the markup stays markup, the values are escaped

    def test_a_flow_s_job_is_named_in_the_reader_s_language(self):
        """queue_job keeps a job's name as the enqueuer wrote it (a search finds that); the Jobs list, the job's form
        and its breadcrumb name a flow's job in the reader's language."""
        flow = self.flow
        flow.with_user(self.dutch).with_context(lang="nl_NL")._enqueue("dry_run")  # stored, not trapped
        flow.with_user(self.dutch).with_context(lang="nl_NL")._enqueue("normal", continued=True)
        Job = self.env["queue.job"]
        dry = Job.search([("identity_key", "=", flow._identity_key("dry_run"))])
        going_on = Job.search([("identity_key", "=", flow._identity_key("normal"))])
        self.assertEqual(dry.name, "APIcenter Chat / Producten (Proefrun)")  # stored: the enqueuer's Dutch
        reader = new_test_user(self.env, login="apic_jobs_pl", groups="queue_job.group_queue_job_manager", lang="pl_PL")
        polish = (dry | going_on).with_user(reader).with_context(lang="pl_PL")
        read = {values["id"]: values["name"] for values in polish.read(["name"])}
        self.assertEqual(read[dry.id], "APIcenter Chat / Produkty (Przebieg próbny)")
        self.assertEqual(read[going_on.id], "APIcenter Chat / Produkty (Normalny), kontynuacja")
        self.assertEqual(polish.filtered(lambda j: j == dry).display_name, read[dry.id])
        self.assertEqual(Job.search_count([("name", "=", "APIcenter Chat / Producten (Proefrun)")]), 1)
