# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One source for Odoo 18 and 19 (docs/odoo-series.md): what differs between the series is in place on the one this
runs on, and time in domains means the same on both, to the second."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from apicenter_sync.store.interfaces import LogLine

from odoo import release
from odoo.tests import TransactionCase, tagged

from ..models.odoo_series import SERIES
from ..models.store import OdooStore


@tagged("post_install", "-at_install")
class TestOdooSeries(TransactionCase):
    def test_the_series_is_the_running_odoo_and_starts_the_version(self):
        self.assertEqual(SERIES, release.version_info[0])
        module = self.env["ir.module.module"].search([("name", "=", "apicenter_connector")])
        self.assertTrue(module.latest_version.startswith(f"{SERIES}.0."), module.latest_version)

    def test_groups_hang_off_the_apicenter_application(self):
        user = self.env.ref("apicenter_connector.group_apicenter_user")
        manager = self.env.ref("apicenter_connector.group_apicenter_manager")
        category = self.env.ref("apicenter_connector.module_category_apicenter")
        for group in user | manager:
            # 18: the group's category; 19: the group's privilege, which has the category.
            holder = group.privilege_id if SERIES >= 19 else group
            self.assertEqual(holder.category_id, category, group.name)
        self.assertIn(user, manager.implied_ids)
        self.assertTrue(self.env.ref("base.user_admin").has_group("apicenter_connector.group_apicenter_manager"))

    def test_job_channels_and_the_settings_action_exist(self):
        channels = [self.env.ref(f"apicenter_connector.{x}") for x in ("channel_apicenter",
                    "channel_apicenter_accountview", "channel_apicenter_mplus")]  # fmt: skip
        self.assertEqual(
            [c.complete_name for c in channels],
            ["root.apicenter", "root.apicenter.accountview", "root.apicenter.mplus"],
        )
        if "capacity" in channels[0]._fields:  # queue_job 18.0; on 19.0 the job runner's configuration has them
            self.assertEqual([c.capacity for c in channels], [2, 1, 1])
        action = self.env.ref("apicenter_connector.apicenter_config_settings_action")
        self.assertEqual(action.target, "inline" if SERIES < 19 else "current")

    def test_sql_constraints_and_indexes_are_in_the_database(self):
        # Odoo 19 silently creates no constraint from _sql_constraints: these are the ones the models declare.
        expected = {
            "apicenter_backend_name_company_uniq",
            "apicenter_backend_token_backend_uniq",
            "apicenter_binding_source_uniq",
            "apicenter_flow_backend_flow_uniq",
            "apicenter_mapping_row_uniq",
            "apicenter_mapping_choice_choice_uniq",
            "apicenter_profile_line_backend_key_uniq",
            "apicenter_update_field_code_uniq",
            "apicenter_watermark_stream_uniq",
        }
        self.env.cr.execute("SELECT conname FROM pg_constraint WHERE conname = ANY(%s)", [list(expected)])
        self.assertEqual({row[0] for row in self.env.cr.fetchall()}, expected)
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'apicenter_binding_target_uniq'"
        )
        self.assertIn("UNIQUE INDEX", self.env.cr.fetchone()[0])


@tagged("post_install", "-at_install")
class TestWholeSeconds(TransactionCase):
    """Odoo 19 compares datetimes in domains at whole seconds (`<= now` matches up to a second after now); 18 to
    the microsecond. These moments sit within one second of each cut-off: both series must agree, never early."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["apicenter.backend"].create({"name": "Seconds", "mplus_url": "http://127.0.0.1:9"})
        cls.store = OdooStore(cls.env, cls.backend)
        cls.now = datetime(2026, 12, 7, 12, 0, 0)  # what the store's now() gives: a whole second, naive UTC

    def _failed(self, source_id, retry_at):
        run = self.store.log.start_run("products")
        line = LogLine("products", "product", "av_to_mplus", source_id, "failed", error="x",
                       retry_at=retry_at.replace(tzinfo=UTC))  # fmt: skip
        (line_id,) = self.store.log.add_lines(run, [line])
        return line_id

    def test_a_retry_is_not_due_before_its_time(self):
        due = self._failed("due", self.now - timedelta(microseconds=500_000))
        for source_id, offset in (("same-second", 0), ("soon", 300_000), ("almost", 999_999)):
            self._failed(source_id, self.now + timedelta(microseconds=offset))
        stored = self.env["apicenter.log.line"].search([("backend_id", "=", self.backend.id), ("source_id", "=", "soon")])
        self.assertEqual(stored.retry_at.microsecond, 300_000, "the fraction is stored: this test covers it")
        with patch.object(self.store, "now", return_value=self.now):
            pending = self.store.log.pending_retries("products")
            self.assertEqual([line.id for line in pending], [due])
        with patch.object(self.store, "now", return_value=self.now + timedelta(seconds=1)):
            self.assertEqual(
                {line.source_id for line in self.store.log.pending_retries("products")}, {"due", "same-second", "soon", "almost"}
            )

    def test_a_run_is_stale_only_past_the_cut_off(self):
        log = self.store.log
        old, young = log.start_run("products"), log.start_run("orders")
        runs = self.env["apicenter.run"]
        runs.browse(old).started_at = self.now - timedelta(seconds=61, microseconds=500_000)
        runs.browse(young).started_at = self.now - timedelta(seconds=59, microseconds=600_000)  # 0.4 s past the cut-off
        with patch.object(self.store, "now", return_value=self.now):
            log.abandon_stale_runs(60)
        self.assertEqual((runs.browse(old).state, runs.browse(young).state), ("aborted", "running"))

    def test_lines_since_a_moment_count_its_whole_second(self):
        run = self.store.log.start_run("products")
        ids = self.store.log.add_lines(run, [LogLine("products", "product", "av_to_mplus", s, "skipped") for s in "ab"])
        self.env.flush_all()
        moments = {ids[0]: self.now + timedelta(microseconds=200_000), ids[1]: self.now + timedelta(microseconds=700_000)}
        for line_id, moment in moments.items():
            self.env.cr.execute("UPDATE apicenter_log_line SET create_date = %s WHERE id = %s", [moment, line_id])
        self.env.invalidate_all()
        since = (self.now + timedelta(microseconds=500_000)).replace(tzinfo=UTC)
        self.assertEqual({line.id for line in self.store.log.list_lines(flow="products", since=since)}, set(ids))
        later = since + timedelta(seconds=1)
        self.assertFalse(self.store.log.list_lines(flow="products", since=later))


@tagged("post_install", "-at_install")
class TestRunnerCapacities(TransactionCase):
    """queue_job 19.0 keeps channel capacities only in its job runner's configuration: Settings > APIcenter shows
    them from there, read-only, and says where to change them; on 18 they are edited on the page."""

    def test_the_settings_page_shows_where_capacities_come_from(self):
        channel = self.env.ref("apicenter_connector.channel_apicenter_mplus")
        on_channel = "capacity" in channel._fields
        self.assertEqual(on_channel, SERIES < 19)
        runner = "root:4,root.apicenter:3,apicenter.mplus:2"  # a sub-channel may be written without root.
        with patch("odoo.addons.apicenter_connector.models.res_config_settings._runner_channels", return_value=runner):
            settings = self.env["res.config.settings"].create({})
            values = settings.get_values()
            self.assertEqual(settings.apicenter_capacity_in_runner, not on_channel)
            if on_channel:
                self.assertEqual(values["apicenter_capacity_mplus"], channel.capacity)
                self.assertFalse(settings.apicenter_runner_channels)
                return
            self.assertEqual(settings.apicenter_runner_channels, runner)
            self.assertEqual(
                [values[f"apicenter_capacity_{x}"] for x in ("total", "accountview", "mplus")],
                [3, 0, 2],  # accountview is not listed: its jobs run under root.apicenter's capacity
            )
            # Saving the page changes nothing it cannot change (and does not fail).
            settings.apicenter_capacity_mplus = 9
            settings.execute()
        arch = self.env.ref("apicenter_connector.res_config_settings_view_form").arch_db
        self.assertIn('readonly="apicenter_capacity_in_runner"', arch)
        self.assertIn("[queue_job] section", arch)
