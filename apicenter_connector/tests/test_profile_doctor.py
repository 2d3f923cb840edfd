# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The API profile tab, the connection check (doctor) and its hold on the first real run, capture for support."""

import base64
import io
import zipfile

from apicenter_sandbox.accountview.variant import profile_file
from apicenter_sandbox.runner import start_sandboxes
from apicenter_sync.doctor import Check
from apicenter_sync.doctor import Report as DoctorReport

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import ApicenterCase, configure_sandbox_backend, create_sandbox_flows, trap_jobs


@tagged("post_install", "-at_install")
class TestProfileAndDoctor(ApicenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flows = cls.create_flows()
        cls.manager = new_test_user(
            cls.env, login="apic_prof_manager", groups="apicenter_connector.group_apicenter_manager"
        )
        cls.user = new_test_user(cls.env, login="apic_prof_user", groups="apicenter_connector.group_apicenter_user")

    def _flow(self, name, backend=None):
        return (backend or self.backend).flow_ids.filtered(lambda f: f.flow == name)

    def _run(self, flow, mode="normal"):
        with trap_jobs() as trap:
            flow._enqueue(mode)
            trap.perform_enqueued_jobs()
        return self.env["apicenter.run"].search([("backend_id", "=", flow.backend_id.id), ("flow", "=", flow.flow)],
                                                limit=1)  # fmt: skip

    def _line(self, key, backend=None):
        return (backend or self.backend).profile_line_ids.filtered(lambda line: line.key == key)

    # --- the profile tab ----------------------------------------------------------------------------------------
    def test_profile_lines_are_the_engines_entries_and_admin_only(self):
        profile = self.backend._api_profile()
        self.assertEqual(set(self.backend.profile_line_ids.mapped("key")), set(profile.flat()))
        ean = self._line("accountview.article.fields.ean")
        self.assertEqual((ean.value, ean.default_value, ean.evidence), ("EAN_CODE", "EAN_CODE", "assumed"))
        self.assertFalse(ean.changed)
        with self.assertRaises(AccessError):
            self.env["apicenter.profile.line"].with_user(self.manager).search([])
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).action_profile_reset()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).action_profile_transfer()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).read(["profile_line_ids"])
        form = self.env["apicenter.backend"].with_user(self.manager).get_views([(False, "form")])["views"]["form"]
        self.assertNotIn("profile_line_ids", form["arch"])
        self.assertNotIn("capture_enabled", form["arch"])

    def test_a_changed_entry_reaches_the_engine_and_can_be_reset(self):
        self._line("accountview.stock.code").value = "VRD1"
        self.assertEqual(self.backend._api_profile().accountview.stock.code, "VRD1")
        self.assertTrue(self._line("accountview.stock.code").changed)
        self.assertEqual(self.backend.profile_changed_count, 1)
        # The default sandbox has no VRD1: the stock run stops and names it (a dry run: the changed profile makes the
        # connection check stale, which holds every real run).
        run = self._run(self._flow("stock"), "dry_run")
        self.assertEqual(run.state, "failed")
        self.assertIn("VRD1", run.error)
        with self.assertRaises(ValidationError):
            self._line("accountview.article.fields.ean").value = "EAN-CODE"
        with self.assertRaises(ValidationError):
            self._line("accountview.group_discount.available").value = "maybe"
        self.backend.action_profile_reset()
        self.assertEqual(self.backend._api_profile(), self.backend._api_profile().default())
        self.assertEqual(self.backend.profile_changed_count, 0)

    def test_export_and_import_as_a_file(self):
        self._line("mplus.sku_field").value = "pluNumber"
        wizard = self.env["apicenter.profile.transfer"].browse(self.backend.action_profile_transfer()["res_id"])
        wizard.action_export()
        text = base64.b64decode(wizard.data).decode()
        self.assertIn('[profile.mplus]\nsku_field = "pluNumber"', text)
        self.assertNotIn("EAN_CODE", text)  # only the changes
        renamed = profile_file("renamed").read_bytes()
        wizard.write({"data": base64.b64encode(renamed), "filename": "renamed.toml"})
        wizard.action_import()
        profile = self.backend._api_profile()
        self.assertEqual(profile.accountview.stock.code, "VRD1")
        self.assertEqual(profile.mplus.sku_field, "articleNumber")  # the file is the whole profile
        self.assertEqual(self._line("accountview.group_discount.available").value, "false")
        wizard.write({"data": base64.b64encode(b"[profile.accountview.stok]\ncode = 1\n")})
        with self.assertRaises(UserError):
            wizard.action_import()

    def test_discounts_per_debtor_and_article_are_off_until_a_tenant_profile_says_so(self):
        """The optional object is absent by default; a tenant that keeps such discounts switches it on (here with the
        sandbox's discounts tenant's profile file) and the prices flow then reads them."""
        line = self._line("accountview.debtor_article_discount.available")
        self.assertEqual((line.value, line.default_value, line.changed), ("false", "false", False))
        self.assertFalse(self.backend._api_profile().accountview.debtor_article_discount.available)
        wizard = self.env["apicenter.profile.transfer"].browse(self.backend.action_profile_transfer()["res_id"])
        wizard.write({"data": base64.b64encode(profile_file("discounts").read_bytes()), "filename": "discounts.toml"})
        wizard.action_import()
        self.assertTrue(self.backend._api_profile().accountview.debtor_article_discount.available)
        self.assertEqual(self._line("accountview.debtor_article_discount.available").value, "true")
        self.assertEqual(self._line("accountview.debtor_article_discount.table").value, "DEB_DISC")

    # --- the connection check ----------------------------------------------------------------------------------
    def test_check_connection_keeps_a_dated_report_and_holds_the_first_real_run(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).action_check_connection()
        action = self.backend.with_user(self.manager).action_check_connection()
        report = self.env["apicenter.doctor.report"].browse(action["res_id"])
        self.assertEqual(report.backend_id, self.backend)
        self.assertEqual(self.backend.doctor_report_id, report)
        # The sandbox configuration rejects the seeded non-numeric SKU: refuted, the rest confirmed.
        self.assertEqual(report.state, "refuted")
        self.assertEqual(report.check_ids.filtered(lambda c: c.status == "refuted").mapped("check_key"),
                         ["accountview.article.numeric_skus"])  # fmt: skip
        self.assertGreater(report.confirmed_count, 150)
        products = self._flow("products")
        self.assertEqual(products.doctor_state, "refuted")  # on the dashboard card
        self.assertTrue(products.doctor_hold)
        # The first real run is held (and says why); a dry run is not.
        self.assertFalse(self._run(products))
        self.assertEqual(products.last_state, "failed")
        self.assertIn("Held: the connection check", products.last_error)
        self.assertEqual(self._run(products, "dry_run").state, "done")
        with self.assertRaises(AccessError):
            report.with_user(self.manager).action_confirm()
        report.action_confirm()
        self.assertFalse(self.backend.doctor_hold)
        self.assertEqual(self._run(products).state, "done")
        # The latest check counts: a later refuted one holds again, even after real runs.
        report2 = self.env["apicenter.doctor.report"].browse(self.backend.action_check_connection()["res_id"])
        self.assertEqual(report2.state, "refuted")
        self.assertTrue(self.backend.doctor_hold)
        with self.assertRaises(UserError):
            report.action_confirm()  # not the latest check any more

    def test_problems_first_each_one_click_from_what_to_change(self):
        self.backend._connect_accountview()  # fresh tokens: an earlier test's check rotated them, then rolled back
        report = self.env["apicenter.doctor.report"].browse(self.backend.action_check_connection()["res_id"])
        self.assertEqual(report.check_ids[:1].status, "refuted")
        problem = report.problem_check_ids
        self.assertEqual(problem.mapped("check_key"), ["accountview.article.numeric_skus"])
        self.assertEqual(len(report.confirmed_check_ids), report.confirmed_count)
        self.assertEqual(problem.target_label, "Setting: Non-numeric SKU")
        action = problem.with_user(self.manager).action_open_target()
        self.assertEqual((action["res_model"], action["res_id"]), ("apicenter.flow", self._flow("products").id))
        # A line naming a mapping table opens its rows; one naming a profile entry opens that entry.
        table_line = report.check_ids.filtered(lambda c: c.profile_key == "vat_code_av_mplus")[:1]
        action = table_line.action_open_target()
        self.assertIn(("table_name", "=", "vat_code_av_mplus"), action["domain"])
        entry = report.check_ids.filtered(lambda c: c.profile_key == "accountview.stock.code")[:1]
        self.assertIn(("key", "=", "accountview.stock.code"), entry.action_open_target()["domain"])

    def test_nothing_writes_before_a_confirmed_or_accepted_check(self):
        Report = self.env["apicenter.doctor.report"]
        self.backend._connect_accountview()  # fresh tokens: an earlier test's check rotated them, then rolled back
        customers = self._flow("customers")
        runs = self.env["apicenter.run"].search_count([("backend_id", "=", self.backend.id)])
        # Never checked: held like refuted, and the message says how to lift it.
        self.backend.doctor_report_ids.unlink()
        self.assertEqual(self.backend.doctor_hold_reason, "never")
        self._run(customers)
        self.assertEqual(customers.last_state, "failed")
        self.assertIn("has no connection check yet", customers.last_error)
        self.assertEqual(self.env["apicenter.run"].search_count([("backend_id", "=", self.backend.id)]), runs,
                         "nothing ran")  # fmt: skip
        # A check that could not check something holds like a refuted one.
        engine_report = DoctorReport(checks=[Check("mplus", "mplus.branch.9", "Branch 9", "unchecked", "no reply")])
        Report._from_engine(self.backend, engine_report)
        self.backend.invalidate_recordset()
        self.assertEqual((self.backend.doctor_state, self.backend.doctor_hold_reason), ("unchecked", "problems"))
        # A real check, refuted (the seeded non-numeric SKU): an administrator accepts its problems, listed.
        report = Report.browse(self.backend.action_check_connection()["res_id"])
        self.assertEqual(report.check_ids[:1].status, "refuted", "problems first")
        report.with_user(self.env.ref("base.user_admin")).action_confirm()
        self.assertEqual(report.accepted_check_ids.mapped("check_key"), ["accountview.article.numeric_skus"],
                         report.accepted_check_ids.mapped("detail"))  # fmt: skip
        note = self.backend.message_ids[:1]
        self.assertIn("accepted by", note.body)
        self.assertIn("1 problem(s)", note.body)
        self.assertFalse(self.backend.doctor_hold)
        self.assertEqual(self._run(customers).state, "done")
        # A changed API profile (or endpoint, or company) makes the check stale: held again, not acceptable.
        self._line("mplus.sku_field").value = "pluNumber"
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.doctor_hold_reason, "stale")
        self.assertTrue(report.stale)
        self._run(customers)
        self.assertIn("changed since the connection check", customers.last_error)
        with self.assertRaises(UserError):
            report.action_confirm()
        self._line("mplus.sku_field").value = "articleNumber"
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.doctor_hold, "back to what was checked")
        self.backend.sudo().mplus_url = self.sb.mplus_url + "/"  # the same endpoint, written differently
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.doctor_hold)
        self.backend.av_company_id = "another"
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.doctor_hold_reason, "stale")

    def test_a_fixed_configuration_checks_clean(self):
        self.backend._store().settings.set("non_numeric_sku", "generate", "products")
        report = self.env["apicenter.doctor.report"].browse(self.backend.action_check_connection()["res_id"])
        self.assertEqual(report.state, "confirmed", report.check_ids.filtered(lambda c: c.status != "confirmed")
                         .mapped("detail"))  # fmt: skip
        self.assertFalse(self.backend.doctor_hold)

    def test_a_renamed_tenant_works_after_importing_its_profile(self):
        """Only the profile changes (the file), no code: the check confirms it and the flows run."""
        with start_sandboxes(size=30, variant="renamed") as sb:
            backend = configure_sandbox_backend(self.env, sb, name="Renamed tenant")
            create_sandbox_flows(backend, {"products": {"non_numeric_sku": "generate"}}, check=False)
            report = self.env["apicenter.doctor.report"].browse(backend.action_check_connection()["res_id"])
            refuted = report.check_ids.filtered(lambda c: c.status == "refuted")
            self.assertIn("accountview.stock.fields.sku", refuted.mapped("profile_key"))
            self.assertIn("accountview.sales_order.fields.reference", refuted.mapped("profile_key"))
            wizard = self.env["apicenter.profile.transfer"].browse(backend.action_profile_transfer()["res_id"])
            wizard.write({"data": base64.b64encode(profile_file("renamed").read_bytes()), "filename": "r.toml"})
            wizard.action_import()
            report = self.env["apicenter.doctor.report"].browse(backend.action_check_connection()["res_id"])
            self.assertEqual(report.state, "confirmed", report.check_ids.filtered(lambda c: c.status != "confirmed")
                             .mapped("detail"))  # fmt: skip
            for name in ("products", "customers", "stock", "prices", "orders"):
                run = self._run(self._flow(name, backend))
                self.assertEqual(run.state, "done", f"{name}: {run.error}")
            prices = self.env["apicenter.log.line"].search([("backend_id", "=", backend.id), ("flow", "=", "prices"),
                                                            ("entity", "=", "profile")])  # fmt: skip
            self.assertIn("no group discounts reach the till's price groups: switched off", prices[:1].error)
            self.assertTrue(sb.mplus.app.store.stock, "stock reached the till through the renamed stock object")

    def test_an_administrator_applies_the_proposals_and_the_check_runs_again(self):
        """The doctor finds the reshaped tenant's own names; an administrator applies the ones chosen (recorded on
        the backend), the check runs again, and after the last one it confirms everything and the flows run."""
        Report = self.env["apicenter.doctor.report"]
        with start_sandboxes(size=30, variant="reshaped") as sb:
            backend = configure_sandbox_backend(self.env, sb, name="Reshaped tenant")
            create_sandbox_flows(backend, {"products": {"non_numeric_sku": "generate"}}, check=False)
            report = Report.browse(backend.action_check_connection()["res_id"])
            self.assertEqual(report.state, "refuted")
            self.assertEqual(report.proposal_count, 28)
            self.assertFalse(report.proposal_ids.filtered("question"))
            table = report.proposal_ids.filtered(lambda p: p.key == "accountview.price_list_item.table")
            self.assertEqual((table.current_value, table.proposed_value, table.confidence),
                             ("PRICE_ART", "ART_PRIJS", "high"))  # fmt: skip
            self.assertEqual(table.group, "accountview.price_list_item")
            # A renamed table is one finding, not one per field.
            refuted = report.check_ids.filtered(lambda c: c.status == "refuted").mapped("check_key")
            self.assertEqual([k for k in refuted if k.startswith("accountview.price_list_item.")],
                             ["accountview.price_list_item.code"])  # fmt: skip
            action = report.action_view_proposals()
            self.assertEqual((action["res_model"], action["domain"]), ("apicenter.doctor.proposal",
                                                                       [("report_id", "=", report.id)]))  # fmt: skip
            with self.assertRaises(AccessError):
                report.proposal_ids.with_user(self.manager).action_apply()
            # The administrator keeps one proposal back: the profile takes the others, the check runs again.
            kept = report.proposal_ids.filtered(lambda p: p.key == "accountview.shipping_method.available")
            action = (report.proposal_ids - kept).action_apply()
            second = Report.browse(action["res_id"])
            self.assertNotEqual(second, report)
            self.assertEqual(backend._api_profile().accountview.price_list_item.table, "ART_PRIJS")
            self.assertTrue(backend._api_profile().accountview.shipping_method.available)
            note = backend.message_ids.filtered(lambda m: "27 proposal(s)" in (m.body or ""))
            self.assertEqual(len(note), 1)
            self.assertIn("ART_PRIJS", note.body)
            self.assertEqual(second.state, "refuted")
            self.assertEqual(second.check_ids.filtered(lambda c: c.status == "refuted").mapped("check_key"),
                             ["accountview.shipping_method.available"])  # fmt: skip
            with self.assertRaises(UserError):
                (report.proposal_ids - kept).action_apply()  # already applied
            third = Report.browse(second.proposal_ids.action_apply()["res_id"])
            self.assertEqual(third.state, "confirmed", third.check_ids.filtered(lambda c: c.status != "confirmed")
                             .mapped("detail"))  # fmt: skip
            for name in ("products", "customers", "stock", "prices", "orders"):
                run = self._run(self._flow(name, backend))
                self.assertEqual(run.state, "done", f"{name}: {run.error}")
            notices = self.env["apicenter.log.line"].search([("backend_id", "=", backend.id), ("flow", "=", "customers"),
                                                             ("entity", "=", "profile")])  # fmt: skip
            self.assertEqual(notices.mapped("source_id"), ["accountview.payment_condition.available"])

    def test_the_report_and_the_profile_in_the_readers_language(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.backend._connect_accountview()  # earlier tests rotated the refresh token this transaction forgot
        self._line("accountview.stock.code").value = "VRD1"
        report = self.env["apicenter.doctor.report"].browse(self.backend.action_check_connection()["res_id"])
        check = report.check_ids.filtered(lambda c: c.check_key == "accountview.stock.code")
        self.assertEqual(check.subject, "Stock per warehouse: business object VRD1, table ART_STOCK")
        dutch = check.with_context(lang="nl_NL")
        self.assertEqual(dutch.subject_shown, "Voorraad per magazijn: bedrijfsobject VRD1, tabel ART_STOCK")
        self.assertTrue(dutch.hint_shown.startswith("neem het voorstel voor Voorraad per magazijn"), dutch.hint_shown)
        (proposal,) = report.proposal_ids
        self.assertEqual((proposal.current_value, proposal.proposed_value), ("VRD1", "STK1"))
        self.assertIn("bedrijfsobject STK1", proposal.with_context(lang="nl_NL").evidence_shown)
        # The profile tab: each entry named in the reader's words, grouped by its object, changed ones found.
        line = self._line("accountview.stock.code").with_context(lang="nl_NL")
        self.assertEqual(line.name, "Voorraad per magazijn: code bedrijfsobject")
        self.assertEqual(line.group, "accountview.stock")
        self.assertIn("magazijn", dict(line._fields["group"]._description_selection(line.env))["accountview.stock"]
                      .lower())  # fmt: skip
        action = self.backend.with_context(profile_changed_only=True).action_open_profile()
        self.assertEqual(action["context"].get("search_default_changed"), 1)
        Line = self.env["apicenter.profile.line"]
        changed = Line.search(action["domain"] + [("changed", "=", True)])
        self.assertEqual(changed.mapped("key"), ["accountview.stock.code"])
        self.assertIn(line.id, Line.with_context(lang="nl_NL").search(action["domain"] + [
            ("name", "ilike", "voorraad per magazijn: code")]).ids)  # fmt: skip
        assumed = Line.search(action["domain"] + [("evidence", "=", "assumed")])
        self.assertIn("accountview.article.fields.ean", assumed.mapped("key"))
        self.assertNotIn("accountview.debtor.fields.number", assumed.mapped("key"))
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).action_open_profile()
        self.backend.action_profile_reset()

    def test_a_dutch_administrator_is_refused_in_dutch(self):
        """An entry edited to a value the profile cannot take is refused in the editor's language: the engine's
        words (profile.toml) with the entry named in Dutch and by key; an imported file likewise (the wizard's own
        words from nl.po)."""
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"].search([("name", "=", "apicenter_connector")])._update_translations(
            filter_lang=["nl_NL"], overwrite=True
        )
        admin = new_test_user(self.env, login="apic_prof_admin_nl", groups="base.group_system", lang="nl_NL")

        def as_admin(records):  # what the web client does: the user's id, and their language in the context
            return records.with_user(admin).with_context(lang=admin.lang)

        ean = as_admin(self._line("accountview.article.fields.ean"))
        with self.assertRaises(ValidationError) as refused:
            ean.value = "EAN-CODE"
        self.assertEqual(str(refused.exception), "API-profiel: Artikelen: EAN-barcode "
                         "(accountview.article.fields.ean) = 'EAN-CODE': namen in AccountView bestaan alleen uit "
                         "letters, cijfers en liggende streepjes")  # fmt: skip
        with self.assertRaises(ValidationError) as refused:
            as_admin(self._line("accountview.group_discount.available")).value = "misschien"
        self.assertIn("moet true of false zijn, niet 'misschien'", str(refused.exception))
        self.assertEqual(self._line("accountview.article.fields.ean").value, "EAN_CODE")  # refused: unchanged
        wizard = as_admin(self.env["apicenter.profile.transfer"]).browse(
            as_admin(self.backend).action_profile_transfer()["res_id"])  # fmt: skip
        wizard.write({"data": base64.b64encode(b"[profile.accountview.stok]\ncode = 1\n"), "filename": "p.toml"})
        with self.assertRaises(UserError) as refused:
            wizard.action_import()
        self.assertTrue(str(refused.exception).startswith(
            "Dit bestand is geen API-profiel: API-profiel: onbekend onderdeel accountview.stok (objecten: "),
            str(refused.exception))  # fmt: skip
        wizard.write({"data": base64.b64encode(b"\xff\xfe[profile]")})
        with self.assertRaises(UserError) as refused:
            wizard.action_import()
        self.assertEqual(str(refused.exception), "Dit bestand is geen API-profiel: het is geen tekstbestand in UTF-8")

    # --- capture for support ---------------------------------------------------------------------------------
    def test_capture_switch_attaches_a_redacted_zip_to_the_run(self):
        self.backend.capture_enabled = True
        run = self._run(self._flow("customers"))
        self.assertEqual(run.state, "done")
        attachment = self.env["ir.attachment"].search([("res_model", "=", "apicenter.run"), ("res_id", "=", run.id)])
        self.assertEqual(len(attachment), 1)
        archive = zipfile.ZipFile(io.BytesIO(attachment.raw))
        names = archive.namelist()
        self.assertIn("capture.json", names)
        self.assertIn("profile.toml", names)
        blob = b"".join(archive.read(n) for n in names)
        self.assertTrue(any(n.endswith("-mplus-getRelations.json") for n in names))
        for secret in (self.sb.mplus_secret, self.sb.av_client_secret):
            self.assertNotIn(secret.encode(), blob)
        for customer in self.sb.world.customers[:10]:
            if customer.email:
                self.assertNotIn(customer.email.encode(), blob)
        self.backend.capture_enabled = False
        run = self._run(self._flow("customers"))
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", "apicenter.run"),
                                                           ("res_id", "=", run.id)]))  # fmt: skip
