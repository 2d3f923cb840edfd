# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One integration: one AccountView company and one MplusKASSA administration."""

import hashlib
import logging

from apicenter_sync import connect, endpoints
from apicenter_sync.clients.accountview import AccountViewClient
from apicenter_sync.clients.accountview_oauth import AccountViewOAuth
from apicenter_sync.clients.mplus import MplusClient
from apicenter_sync.doctor import run_doctor
from apicenter_sync.doctor.pair import pair_key
from apicenter_sync.engine import FLOWS, RUN_ORDER, Engine, call_limits
from apicenter_sync.errors import ConfigError, SyncError
from apicenter_sync.i18n import msg, render
from apicenter_sync.identifiers import check_identifier
from apicenter_sync.profile import ApiProfile
from apicenter_sync.redact import redact_text

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .apicenter_profile_line import default_entries, from_text, to_text
from .chatter_text import Said, post, rendered, said_field, said_list
from .engine_record import check_engine_fields, check_log_kept
from .odoo_series import sql_constraints
from .setting_fields import read_setting, setting_field
from .store import OdooStore
from .token_store import OdooTokenStore

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/apicenter/oauth/callback"
# Where credentials go, and over what: an administrator's act (docs/reliability.md, Threat model).
ADMIN_FIELDS = ("av_base_url", "mplus_url", "verify_tls", "company_id", "allowed_hosts")
# A change of one of these invalidates the AccountView tokens (they were obtained from, and are sent to, that
# endpoint): they are deleted and the backend needs a new connection.
AV_RECONNECT_FIELDS = ("av_base_url", "verify_tls", "company_id")
# A change of one of these makes the MplusKASSA connection untested: flows wait for Test Connection.
MPLUS_RETEST_FIELDS = ("mplus_url", "verify_tls", "company_id")
# Why the connection check holds a backend's flows (nothing is written before a check is confirmed or accepted).
HOLD_REASONS = [
    ("never", "Never checked"),
    ("stale", "Endpoint, company or API profile changed since the check"),
    ("problems", "Refuted or not checked, not accepted"),
]


@sql_constraints
class ApicenterBackend(models.Model):
    _name = "apicenter.backend"
    _description = "APIcenter Backend (AccountView ↔ MplusKASSA)"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    # Readable by every user (record rules, related company fields and the chatter read it); only an
    # administrator changes it (write()).
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, tracking=True)
    user_is_admin = fields.Boolean(
        string="Administrator", compute="_compute_user_is_admin", help="The current user may change endpoints."
    )
    responsible_user_ids = fields.Many2many(
        "res.users",
        string="Responsible Users",
        help="Notified when a flow of this backend fails.",
    )
    no_responsible = fields.Boolean(
        string="Nobody Notified",
        compute="_compute_no_responsible",
        help="No active responsible user: failure digests of this backend reach nobody.",
    )
    # --- AccountView ------------------------------------------------------------------------------------------
    av_base_url = fields.Char(
        string="AccountView URL",
        required=True,
        default="https://www.accountview.net",
        groups="base.group_system",
        help="Authorize page <url>/ams/authorize.aspx, API <url>/api/v3. Its host must be an Allowed API Host; "
        "changing it deletes the tokens: connect again.",
    )
    av_client_id = fields.Char(string="AccountView Client ID", groups="base.group_system")
    av_client_secret = fields.Char(string="AccountView Client Secret", groups="base.group_system")
    av_redirect_uri = fields.Char(
        string="Redirect URI",
        compute="_compute_av_redirect_uri",
        help="Register this address with the AccountView application (web.base.url + " + CALLBACK_PATH + ").",
    )
    av_company_id = fields.Char(
        string="AccountView Company Id", help="x-company: the Id of the company; empty = the only one visible."
    )
    av_company_code = fields.Char(string="AccountView Company Code", readonly=True)
    av_company_name = fields.Char(string="AccountView Company", readonly=True)
    av_company_ids = fields.One2many(
        "apicenter.accountview.company", "backend_id", string="AccountView Companies", readonly=True
    )
    av_connect_message = fields.Char(string="Last Connection Result", readonly=True)
    av_connect_failed = fields.Boolean(readonly=True)
    av_connected = fields.Boolean(string="AccountView Connected", compute="_compute_av_token_state")
    av_token_expires_at = fields.Datetime(
        string="Access Token Expires", compute="_compute_av_token_state", groups="base.group_system"
    )
    # --- MplusKASSA -------------------------------------------------------------------------------------------
    mplus_url = fields.Char(
        string="MplusKASSA URL",
        groups="base.group_system",
        help="https://api.mpluskassa.nl:<port> of the administration. Its host must be an Allowed API Host; after a "
        "change the flows wait until Test Connection succeeds.",
    )
    mplus_needs_test = fields.Boolean(
        string="MplusKASSA Needs a Test",
        readonly=True,
        help="The MplusKASSA endpoint changed: flows wait until Test Connection succeeds.",
    )
    mplus_ident = fields.Char(string="MplusKASSA Ident", groups="base.group_system")
    mplus_secret = fields.Char(string="MplusKASSA Secret", groups="base.group_system")
    # --- connection options -----------------------------------------------------------------------------------
    timeout_seconds = fields.Integer(default=60, help="Read timeout of every API call.")
    verify_tls = fields.Boolean(string="Verify TLS", default=True, groups="base.group_system")
    allowed_hosts = setting_field("allowed_hosts", string="Allowed API Hosts", groups="base.group_system")
    # --- global settings (registry) ---------------------------------------------------------------------------
    payload_retention_days = setting_field("payload_retention_days")
    metadata_retention_days = setting_field("metadata_retention_days")
    call_deadline_seconds = setting_field("call_deadline_seconds", string="Deadline per API Call (seconds)")
    max_reply_bytes = setting_field("max_reply_bytes", string="Largest Reply (bytes)")
    # --- children ---------------------------------------------------------------------------------------------
    flow_ids = fields.One2many("apicenter.flow", "backend_id", string="Flows")
    mapping_ids = fields.One2many("apicenter.mapping", "backend_id", string="Mapping Rows")
    datamapper_line_ids = fields.One2many("apicenter.datamapper.line", "backend_id", string="Datamapper Lines")
    setting_ids = fields.One2many(
        "apicenter.setting", "backend_id", string="Backend-wide Settings", domain=[("flow_id", "=", False)]
    )
    flow_count = fields.Integer(compute="_compute_flow_count")
    # --- API profile and connection checks ----------------------------------------------------------------------
    profile_line_ids = fields.One2many(
        "apicenter.profile.line", "backend_id", string="API Profile", groups="base.group_system",
        help="Every AccountView name and MplusKASSA choice the engine depends on (docs/profile.md).",
    )  # fmt: skip
    profile_changed_count = fields.Integer(
        string="Changed Profile Entries", compute="_compute_profile_changed_count", groups="base.group_system"
    )
    capture_enabled = fields.Boolean(
        string="Capture API Calls",
        groups="base.group_system",
        help="Support: every run writes each request/reply pair, secrets removed and personal data pseudonymised, "
        "into a zip attached to the run (Runs > the run > Attachments). Off by default.",
    )
    doctor_report_ids = fields.One2many("apicenter.doctor.report", "backend_id", string="Connection Checks")
    doctor_report_id = fields.Many2one(
        "apicenter.doctor.report",
        string="Last Connection Check",
        compute="_compute_doctor",
        compute_sudo=True,
        search="_search_doctor_report_id",  # searchable: doctor_state and doctor_checked_at follow the report
    )
    doctor_state = fields.Selection(related="doctor_report_id.state", string="Last Check")
    doctor_checked_at = fields.Datetime(related="doctor_report_id.checked_at", string="Last Checked")
    doctor_hold = fields.Boolean(
        string="Held by the Connection Check",
        compute="_compute_doctor",
        compute_sudo=True,
        help="No flow writes until the latest connection check is confirmed, or an administrator has accepted its "
        "problems; a backend never checked, or changed since its check, is held too (dry runs go on).",
    )
    doctor_hold_reason = fields.Selection(
        HOLD_REASONS, string="Why Held", compute="_compute_doctor", compute_sudo=True
    )
    setup_state = fields.Selection(
        [("draft", "Not connected"), ("connected", "Connected"), ("running", "Running")],
        compute="_compute_setup_state",
        help="Connected: AccountView tokens, a company and a MplusKASSA URL; running: a flow is scheduled.",
    )

    _sql_constraints = [
        ("name_company_uniq", "unique(name, company_id)", "A backend with this name already exists in the company."),
    ]

    @api.depends("responsible_user_ids.active")
    def _compute_no_responsible(self):
        for backend in self:
            backend.no_responsible = not backend.responsible_user_ids.filtered("active")

    @api.depends_context("uid")
    def _compute_av_redirect_uri(self):
        base = (self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "").rstrip("/")
        for backend in self:
            backend.av_redirect_uri = base + CALLBACK_PATH

    def _compute_av_token_state(self):
        tokens = self.env["apicenter.backend.token"].sudo().search([("backend_id", "in", self.ids)])
        by_backend = {t.backend_id.id: t for t in tokens}
        for backend in self:
            token = by_backend.get(backend.id)
            backend.av_connected = bool(token and token.access_token)
            # Readable by administrators only (the field's groups); computed for everyone.
            backend.av_token_expires_at = token.expires_at_dt if token else False

    @api.depends_context("uid")
    def _compute_user_is_admin(self):
        is_admin = self.env.user.has_group("base.group_system")
        for backend in self:
            backend.user_is_admin = is_admin

    def _compute_profile_changed_count(self):
        for backend in self:
            backend.profile_changed_count = len(backend.sudo().profile_line_ids.filtered("changed"))

    def _search_doctor_report_id(self, operator, value):
        # The backends of the report (a superset of those whose last report it is): what Odoo needs to recompute
        # doctor_state / doctor_checked_at when a report changes.
        return [("doctor_report_ids", operator, value)]

    def _compute_doctor(self):
        for backend in self:
            report, reason = backend._doctor_gate() if backend._origin.id else (self.env["apicenter.doctor.report"],
                                                                                "never")  # fmt: skip
            backend.doctor_report_id = report
            backend.doctor_hold = bool(reason)
            backend.doctor_hold_reason = reason

    def _doctor_gate(self):
        """``(latest report, reason)``: why no flow of this backend may write now (a ``HOLD_REASONS`` key), or
        ``False``. Only a confirmed check, or one whose problems an administrator accepted, lets runs write, and only
        while the endpoints, the company and the API profile are those it checked: not checked holds like refuted."""
        self.ensure_one()
        report = self.env["apicenter.doctor.report"].sudo().search([("backend_id", "=", self.id)], limit=1)
        if not report:
            return report, "never"
        if report.setup_fingerprint != self._setup_fingerprint():
            return report, "stale"
        if report.state != "confirmed" and not report.reviewed_at:
            return report, "problems"
        return report, False

    def _hold_message(self, report, reason):
        """Why the flows of this backend write nothing now, and what lifts it (``reason``: ``_doctor_gate``): a
        catalogue message, so that the run and the card show it in each reader's language."""
        if reason == "never":
            return msg("doctor.hold.never", backend=self.name)
        date = fields.Datetime.to_string(report.checked_at)
        if reason == "stale":
            return msg("doctor.hold.stale", backend=self.name, date=date)
        return msg("doctor.hold.problems", date=date, refuted=report.refuted_count, unchecked=report.unchecked_count)

    def _setup_fingerprint(self):
        """What a connection check is valid for: the endpoints, the companies and the API profile it checked."""
        self.ensure_one()
        backend = self.sudo()
        parts = [
            (backend.av_base_url or "").strip().rstrip("/"),
            backend.av_company_id or "",
            (backend.mplus_url or "").strip().rstrip("/"),
            str(backend.company_id.id),
            self._api_profile().digest(),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def _compute_flow_count(self):
        for backend in self:
            backend.flow_count = len(backend.flow_ids)

    @api.depends("mplus_needs_test", "av_company_id", "flow_ids.enabled")
    def _compute_setup_state(self):
        for backend in self:
            if not (backend.av_connected and backend.av_company_id and backend.sudo().mplus_url):
                backend.setup_state = "draft"
            elif backend.mplus_needs_test:
                backend.setup_state = "draft"
            elif any(backend.flow_ids.mapped("enabled")):
                backend.setup_state = "running"
            else:
                backend.setup_state = "connected"

    @api.constrains("payload_retention_days", "metadata_retention_days", "call_deadline_seconds", "max_reply_bytes")
    def _check_retention(self):
        from .apicenter_flow import check_setting_values

        names = ("payload_retention_days", "metadata_retention_days", "call_deadline_seconds", "max_reply_bytes")
        for backend in self:
            check_setting_values(backend, names, None)

    @api.constrains("av_company_id", "av_client_id", "av_client_secret", "mplus_ident", "mplus_secret")
    def _check_identifiers(self):
        """What an administrator types in is checked when it is saved, with a message naming the field (before: a
        non-ASCII company id failed every call with a raw UnicodeEncodeError)."""
        for backend in self.sudo():
            try:
                check_identifier(backend.av_company_id, msg("input.field_company_id"), ascii_only=True)
                check_identifier(backend.av_client_id, msg("input.field_client_id"), ascii_only=True)
                check_identifier(backend.av_client_secret, msg("input.field_client_secret"), ascii_only=True)
                check_identifier(backend.mplus_ident, msg("input.field_mplus_ident"))
                check_identifier(backend.mplus_secret, msg("input.field_mplus_secret"))
            except ConfigError as exc:
                raise ValidationError(render(exc.message, self.env.lang)) from None

    # --- one backend per pair ------------------------------------------------------------------------------------
    def _pair(self):
        """(AccountView address, company, MplusKASSA address) this backend serves, or None without a MplusKASSA URL.
        An empty company is the only one AccountView shows: it matches any company on the same address."""
        self.ensure_one()
        backend = self.sudo()
        if not backend.mplus_url:
            return None
        key = pair_key(backend.av_base_url, "", backend.mplus_url)
        return key, (backend.av_company_id or "").strip()

    def _same_pair_backends(self):
        """The other active backends (every company) on the same AccountView company and MplusKASSA administration."""
        self.ensure_one()
        mine = self._pair()
        if not mine:
            return self.browse()
        others = self.sudo().search([("id", "!=", self.id), ("mplus_url", "!=", False)])
        return others.filtered(
            lambda b: (pair := b._pair()) and pair[0] == mine[0] and (not pair[1] or not mine[1] or pair[1] == mine[1])
        )

    @api.constrains("av_base_url", "av_company_id", "mplus_url", "active")
    def _check_one_backend_per_pair(self):
        """Two backends on one pair would write every record twice: refused here, not only in the wizard."""
        for backend in self.filtered("active"):
            other = backend._same_pair_backends()[:1]
            if other:
                raise ValidationError(
                    self.env._(
                        "Backend “%(other)s” already serves this AccountView company and MplusKASSA administration "
                        "(%(url)s): change that one (its Setup Wizard) instead of adding a second, which would "
                        "write every record twice.",
                        other=other.name,
                        url=backend.sudo().mplus_url,
                    )
                )

    # --- endpoints (administrators only) --------------------------------------------------------------------------
    def _allowed_hosts(self):
        """The allow-list of API hosts of this backend (setting allowed_hosts), each entry checked."""
        self.ensure_one()
        return [endpoints.check_pattern(p) for p in read_setting(self.sudo(), "allowed_hosts")]

    def _endpoint(self, field, what):
        """The URL of ``field`` if credentials may be sent there, else ConfigError (checked before every client
        is built, so a URL stored before the allow-list existed is refused too)."""
        self.ensure_one()
        return endpoints.check_url(self.sudo()[field], self._allowed_hosts(), what=what)

    @api.constrains("av_base_url", "mplus_url", "allowed_hosts")
    def _check_endpoints(self):
        for backend in self.sudo():
            try:
                backend._endpoint("av_base_url", self.env._("AccountView URL"))
                if backend.mplus_url:
                    backend._endpoint("mplus_url", self.env._("MplusKASSA URL"))
            except ConfigError as exc:
                raise ValidationError(str(exc)) from None

    def _check_admin_fields(self, vals, creating=False):
        """Endpoints, TLS, the allow-list and the company are changed by administrators only (not only hidden
        in the view: this holds for every RPC write). On create the company is left to the record rules."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        names = [n for n in ADMIN_FIELDS if n in vals and not (creating and n == "company_id")]
        if names:
            raise AccessError(
                self.env._(
                    "Only an administrator can change %(fields)s of an APIcenter backend.",
                    fields=", ".join(self._fields[n].string for n in names),
                )
            )

    def _endpoint_snapshot(self, vals):
        names = [n for n in dict.fromkeys(AV_RECONNECT_FIELDS + MPLUS_RETEST_FIELDS) if n in vals]
        return {b.id: {n: b.sudo()[n] for n in names} for b in self} if names else {}

    @staticmethod
    def _same_value(old, new):
        if isinstance(old, models.BaseModel):
            return old.ids == new.ids
        if isinstance(old, str) or isinstance(new, str):
            return (old or "").strip().rstrip("/") == (new or "").strip().rstrip("/")
        return old == new

    def _endpoints_changed(self, before):
        """After a write: an AccountView endpoint (or TLS, or company) that changed loses its tokens and needs a
        new connection; a MplusKASSA endpoint that changed needs a successful Test Connection."""
        for backend in self.sudo():
            old = before.get(backend.id) or {}
            changed = {n for n, value in old.items() if not self._same_value(value, backend[n])}
            if changed & set(AV_RECONNECT_FIELDS):
                backend._disconnect_accountview(
                    Said._(
                        "The AccountView endpoint changed (%s): the tokens were deleted. Connect AccountView again.",
                        said_list(said_field(self, n) for n in sorted(changed & set(AV_RECONNECT_FIELDS))),
                    )
                )
            mplus_changed = {n for n in changed & set(MPLUS_RETEST_FIELDS) if n != "mplus_url" or old[n]}
            if mplus_changed and backend.mplus_url:
                backend.write({"mplus_needs_test": True})
                post(
                    backend,
                    Said._(
                        "The MplusKASSA endpoint changed (%s): the flows wait until Test Connection succeeds.",
                        said_list(said_field(self, n) for n in sorted(mplus_changed)),
                    ),
                )

    def _disconnect_accountview(self, message):
        """Delete the stored tokens (and pending authorization requests): the next call needs a new connection."""
        self.ensure_one()
        had_tokens = self._token_store().clear()
        self.env["apicenter.oauth.state"].sudo().search([("backend_id", "=", self.id)]).unlink()
        self.invalidate_recordset(["av_connected", "av_token_expires_at", "setup_state"])
        if had_tokens:
            self._set_connect_result(message, failed=True)

    def write(self, vals):
        self._check_admin_fields(vals)
        check_engine_fields(self, [vals])
        before = self._endpoint_snapshot(vals)
        result = super().write(vals)
        if before:
            self._endpoints_changed(before)
        return result

    def unlink(self):
        self.check_access("unlink")
        check_log_kept(self)
        return super().unlink()

    # --- engine objects ---------------------------------------------------------------------------------------
    def _store(self):
        self.ensure_one()
        return OdooStore(self.env, self)

    def _token_store(self):
        self.ensure_one()
        return OdooTokenStore(self.env, self.id)

    def _accountview_oauth(self):
        self.ensure_one()
        backend = self.sudo()
        return AccountViewOAuth(
            self._endpoint("av_base_url", self.env._("AccountView URL")),
            backend.av_client_id or "",
            backend.av_client_secret or "",
            backend.av_redirect_uri,
            timeout=float(backend.timeout_seconds or 60),
            verify_tls=backend.verify_tls,
            limits=self._call_limits(),
        )

    def _call_limits(self):
        """One deadline per API call and a cap per reply, from the settings (as the command line runner does)."""
        return call_limits(self._store())

    def _accountview_client(self, oauth=None):
        self.ensure_one()
        oauth = oauth or self._accountview_oauth()
        backend = self.sudo()
        return AccountViewClient(
            oauth.api_url,
            oauth,
            self._token_store(),
            backend.av_company_id or None,
            timeout=float(backend.timeout_seconds or 60),
            verify_tls=backend.verify_tls,
            limits=oauth.limits,
        )

    def _mplus_client(self):
        self.ensure_one()
        backend = self.sudo()
        if not backend.mplus_url:
            raise UserError(self.env._("Set the MplusKASSA URL of backend %s first.", self.name))
        return MplusClient(
            self._endpoint("mplus_url", self.env._("MplusKASSA URL")),
            backend.mplus_ident or "",
            backend.mplus_secret or "",
            timeout=(10.0, float(backend.timeout_seconds or 60)),
            verify_tls=backend.verify_tls,
            limits=self._call_limits(),
        )

    def _engine(self, store=None):
        """An engine on this backend's clients, API profile and an :class:`OdooStore`; close it after use."""
        self.ensure_one()
        return Engine(store or self._store(), self._accountview_client(), self._mplus_client(), self._api_profile())

    # --- API profile ------------------------------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_admin_fields(vals, creating=True)
        check_engine_fields(self, vals_list)
        backends = super().create(vals_list)
        backends._sync_profile_lines()
        return backends

    def _api_profile(self):
        """The engine's ApiProfile of this backend: the shipped defaults with the values of its profile lines."""
        self.ensure_one()
        values = {line.key: from_text(line.key, line.value) for line in self.sudo().profile_line_ids
                  if line.key in default_entries()}  # fmt: skip
        return ApiProfile.from_flat(values) if values else ApiProfile.default()

    def _sync_profile_lines(self, values=None):
        """One line per entry of the shipped profile (lines of entries no longer used are dropped); ``values``
        (flat key -> value) sets them, the defaults fill the rest of new lines."""
        Line = self.env["apicenter.profile.line"].sudo()
        entries = default_entries()
        for backend in self:
            lines = {line.key: line for line in backend.sudo().profile_line_ids}
            (Line.browse([line.id for key, line in lines.items() if key not in entries])).unlink()
            create = []
            for key, (sequence, default, *_rest) in entries.items():
                text = to_text((values or {}).get(key, default))
                if key in lines:
                    if values is not None and lines[key].value != text:
                        lines[key].value = text
                else:
                    create.append({"backend_id": backend.id, "key": key, "value": text, "sequence": sequence})
            Line.create(create)

    def _check_admin(self, message=None):
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(message or self.env._("Only an administrator can change the API profile."))

    def action_profile_reset(self):
        """Every profile entry back to the shipped default."""
        self._check_admin()
        defaults = {key: default for key, (_s, default, *_r) in default_entries().items()}
        for backend in self:
            backend._sync_profile_lines(defaults)
            post(backend, Said._("API profile reset to the shipped defaults."))
        return True

    def action_open_profile(self):
        """The backend's API profile grouped by object and searchable (``profile_changed_only``: the changes)."""
        self.ensure_one()
        self._check_admin()
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_profile_line_action")
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"search_default_group_object": 1, "default_backend_id": self.id}
        if self.env.context.get("profile_changed_only"):
            action["context"]["search_default_changed"] = 1
        action["name"] = self.env._("API Profile of %s", self.name)
        return action

    def action_profile_transfer(self):
        """Export the profile as a TOML file, or import one (the [profile] section of apicenter.toml)."""
        self.ensure_one()
        self._check_admin()
        return self.env["apicenter.profile.transfer"]._action_for_backend(self)

    def _set_api_profile(self, profile):
        """Replace this backend's profile lines by ``profile`` (an ApiProfile)."""
        self.ensure_one()
        self._check_admin()
        self._sync_profile_lines(profile.flat())

    # --- connection checks --------------------------------------------------------------------------------------
    def action_check_connection(self):
        """Run the doctor (read-only, bounded) and keep its dated report on the backend."""
        self.ensure_one()
        self.check_access("write")
        stored = self._run_connection_check()
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_doctor_report_action")
        action.update({"res_id": stored.id, "view_mode": "form", "views": [(False, "form")]})
        return action

    def _run_connection_check(self):
        """The doctor's report of this backend, stored (callers check access)."""
        self.ensure_one()
        fingerprint = self._setup_fingerprint()  # what was checked, before anything can change it
        try:
            engine = self._engine()
        except (ConfigError, UserError) as exc:
            raise UserError(redact_text(str(exc))) from None
        try:
            report = run_doctor(engine)
        finally:
            engine.close()
        stored = self.env["apicenter.doctor.report"]._from_engine(self, report, fingerprint)
        post(self, Said._("Connection check: %s", stored._summary_said()))
        self.invalidate_recordset(["doctor_report_id", "doctor_hold", "doctor_hold_reason"])
        return stored

    def action_view_doctor_reports(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_doctor_report_action")
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    # --- actions ----------------------------------------------------------------------------------------------
    @staticmethod
    def _notification(title, message, kind="success", sticky=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": title, "message": message, "type": kind, "sticky": sticky},
        }

    def action_test_connection(self):
        """*Test Connection*, the one action for both systems: sign in to AccountView (its company) and to
        MplusKASSA (its API version), say how each went, and when both answer run the connection check (the doctor,
        read-only, under a minute) and open its dated report."""
        self.ensure_one()
        self.check_access("write")
        title = self.env._("Test Connection")
        results = [self._test_accountview(), self._test_mplus()]
        if results[1][0]:
            self._mplus_tested()  # MplusKASSA answered on its current endpoint, whatever AccountView said
        summary = " ".join(text for _ok, text in results)
        if not all(ok for ok, _text in results):
            return self._notification(title, summary, "danger", sticky=True)
        report = self.action_check_connection()
        notification = self._notification(title, summary)
        notification["params"]["next"] = report
        return notification

    def _test_accountview(self):
        """(ok, what happened, in words): AccountView answers with the backend's company."""
        try:
            client = self._accountview_client()
            try:
                company = connect.choose_company(client, self.av_company_id or "")
            finally:
                client.close()
                client.oauth.close()
        except (SyncError, UserError) as exc:
            return False, self.env._("AccountView: %s.", self._error_text(exc).rstrip("."))
        return True, self.env._(
            "AccountView: connected to company %(name)s (code %(code)s, id %(id)s).",
            name=company.get("Description"),
            code=company.get("Code"),
            id=company.get("Id"),
        )

    def action_load_mapping_choices(self):
        """Fetch from MplusKASSA what mapping rows are picked from (branches, VAT codes, price groups, payment and
        delivery methods, turnover groups)."""
        self.ensure_one()
        self.check_access("write")
        title = self.env._("Mapping choices")
        try:
            counts = self.env["apicenter.mapping.choice"]._load_choices(self)
        except (SyncError, UserError) as exc:
            return self._notification(title, redact_text(str(exc)), "danger", sticky=True)
        loaded = ", ".join(f"{n} {label}" for label, n in counts.items())
        return self._notification(title, self.env._("Loaded: %s.", loaded))

    def _error_text(self, exc):
        """An engine error in the reader's language (a catalogue message), an Odoo error as it is; no secret."""
        return redact_text(render(exc.text(), self.env.lang) if isinstance(exc, SyncError) else str(exc))

    def _test_mplus(self):
        """(ok, what happened, in words): MplusKASSA answers with its API version."""
        try:
            client = self._mplus_client()
            try:
                version = client.api_version()
            finally:
                client.close()
        except (SyncError, UserError) as exc:
            return False, self.env._("MplusKASSA: %s.", self._error_text(exc).rstrip("."))
        return True, self.env._("MplusKASSA: connected, API version %s.", version.get("version") or "?")

    def _mplus_tested(self):
        """A MplusKASSA test succeeded on the current endpoint: the flows may run again."""
        for backend in self.sudo().filtered("mplus_needs_test"):
            backend.write({"mplus_needs_test": False})
            post(backend, Said._("MplusKASSA tested on the new endpoint: the flows run again."))

    def action_connect_accountview(self):
        """Send the browser to AccountView's authorize page (through our controller, which binds a ``state`` to this
        backend and the user's session); AccountView sends it back to ``/apicenter/oauth/callback``."""
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_url",
            "url": f"/apicenter/oauth/authorize/{self.id}",
            "target": "self",
        }

    def _oauth_authorization_url(self, session_id, return_url=None):
        """AccountView's authorize URL with a fresh state bound to this backend, the user and ``session_id``."""
        self.ensure_one()
        state = self.env["apicenter.oauth.state"]._issue(self, session_id, return_url)
        oauth = self._accountview_oauth()
        try:
            return oauth.authorization_url(state)
        finally:
            oauth.close()

    def _oauth_finish(self, code):
        """The callback's second half: trade ``code`` for tokens, store them, then choose the company.

        Returns the message shown on the backend; raises :class:`SyncError` / :class:`UserError` on failure."""
        self.ensure_one()
        oauth = self._accountview_oauth()
        try:
            self._token_store().save(oauth.exchange_code(code))
            company = self._choose_accountview_company(oauth)
        finally:
            oauth.close()
        if company:
            message = Said._("AccountView connected (company %s).", company.get("Description") or company.get("Id"))
        else:
            message = Said._("AccountView connected: choose the company to work in (AccountView tab).")
        return self._set_connect_result(message)

    def _set_connect_result(self, message, failed=False):
        """The connection's outcome on the form (in the writer's language) and in the chatter (in each reader's);
        ``message``: plain text or a chatter text (chatter_text.Said). Returns it as text."""
        text = rendered(self.env, message)
        self.sudo().write({"av_connect_message": text, "av_connect_failed": failed})
        post(self, message)
        return text

    def _connect_accountview(self):
        """Authorization-code flow without a person (``connect.authorize``), then the company choice."""
        self.ensure_one()
        oauth = self._accountview_oauth()
        try:
            connect.authorize(oauth, self._token_store(), verify_tls=self.sudo().verify_tls)
            self._choose_accountview_company(oauth)
        finally:
            oauth.close()
        post(self, Said._("AccountView connected (company %s).", self.av_company_name))

    def _choose_accountview_company(self, oauth=None):
        """Refresh the list of AccountView companies and pick one: the configured one (by Id or Code), or the only
        one. With several and none configured, return ``None``: the user chooses on the form."""
        self.ensure_one()
        client = self._accountview_client(oauth)
        try:
            companies = client.companies()
            self._store_accountview_companies(companies)
            if not self.av_company_id and len(companies) > 1:
                return None
            company = connect.choose_company(client, self.av_company_id or "")
        finally:
            client.close()
        self.sudo().write(  # the company AccountView answered: the manager's choice, or the only one
            {
                "av_company_id": company.get("Id"),
                "av_company_code": company.get("Code"),
                "av_company_name": company.get("Description"),
            }
        )
        return company

    def _store_accountview_companies(self, companies):
        self.ensure_one()
        Company = self.env["apicenter.accountview.company"].sudo()
        Company.search([("backend_id", "=", self.id)]).unlink()
        Company.create(
            [
                {
                    "backend_id": self.id,
                    "av_id": str(c.get("Id") or ""),
                    "code": c.get("Code") or False,
                    "name": c.get("Description") or False,
                }
                for c in companies
                if c.get("Id")
            ]
        )

    def action_create_flows(self):
        """One flow record per flow the engine runs (existing ones are kept)."""
        self.check_access("write")
        Flow = self.env["apicenter.flow"]
        for backend in self:
            existing = set(backend.flow_ids.mapped("flow"))
            vals = [
                {"backend_id": backend.id, "flow": name} for name in RUN_ORDER if name in FLOWS and name not in existing
            ]
            Flow.create(vals)
        return True

    def action_load_default_mapping(self):
        """Replace every flow's datamapper lines by the shipped defaults."""
        self.check_access("write")
        Line = self.env["apicenter.datamapper.line"]
        for backend in self:
            for flow in Line.mapping_flows():
                Line.load_default_mapping(backend, flow)
        return True

    def action_open_setup_wizard(self):
        self.ensure_one()
        self._check_admin(self.env._("Only an administrator can open the setup wizard."))
        return self.env["apicenter.setup.wizard"]._action_for_backend(self)

    def action_view_flows(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_flow_action")
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action

    # --- scheduled ----------------------------------------------------------------------------------------------
    @api.model
    def _cron_purge_logs(self, stale_run_hours=24):
        """GDPR retention: payloads after payload_retention_days, metadata after metadata_retention_days."""
        for backend in self.sudo().with_context(active_test=False).search([]):
            store = backend._store()
            store.log.abandon_stale_runs(int(stale_run_hours * 3600))
            result = store.log.purge(
                payload_days=backend.payload_retention_days, metadata_days=backend.metadata_retention_days
            )
            _logger.info(
                "apicenter backend %s: %s payloads cleared, %s lines and %s runs deleted",
                backend.id,
                result.payloads_cleared,
                result.lines_deleted,
                result.runs_deleted,
            )
        return True
