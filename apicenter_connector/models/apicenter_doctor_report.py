# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The doctor's dated reports (*Test Connection* on the backend): one line per check, kept on the backend.

A report with refuted checks holds the backend's first real run (dry runs still go) until an administrator has
looked at it and confirmed it (*Confirm and Allow Runs*), or a later check confirms everything.

Each line's subject, detail and hint are the engine's messages: stored in English (searchable) with their data,
shown in the reader's language. Where the doctor found the tenant's own name of a refuted entry it keeps a
*proposal* (current and proposed value, confidence, evidence); an administrator applies the ones chosen, which
changes the backend's API profile (recorded in its chatter) and runs the check again.
"""

from apicenter_sync.errors import ConfigError
from apicenter_sync.i18n import profile_ref, render, stored_data
from apicenter_sync.profile import ApiProfile

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .apicenter_profile_line import default_entries, entry_name, from_text, group_of, group_selection, to_text
from .change_target import NONE, can_open, open_target, target_label, target_of_key, target_of_text
from .chatter_text import Said, post, rendered, said_html, said_join, said_label, said_msg
from .engine_text import error_text, shown, stored

STATES = [("confirmed", "All confirmed"), ("refuted", "Refuted"), ("unchecked", "Not everything checked")]
CHECK_STATES = [("confirmed", "Confirmed"), ("refuted", "Refuted"), ("unchecked", "Not checked")]
PROBLEMS_FIRST = {"refuted": 0, "unchecked": 1, "confirmed": 2}
CONFIDENCE = [("high", "High"), ("medium", "Medium"), ("low", "Question")]


def _text(value):
    return render(value, "en") or False


class ApicenterDoctorReport(models.Model):
    _name = "apicenter.doctor.report"
    _description = "APIcenter Connection Check"
    _order = "checked_at desc, id desc"
    _rec_name = "checked_at"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    checked_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    checked_by_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    state = fields.Selection(STATES, required=True, readonly=True)
    seconds = fields.Float(digits=(10, 1), readonly=True)
    profile_digest = fields.Char(string="API Profile", readonly=True, help="Fingerprint of the profile checked.")
    versions = fields.Char(readonly=True, help="What the systems said they run.")
    confirmed_count = fields.Integer(readonly=True)
    refuted_count = fields.Integer(readonly=True)
    unchecked_count = fields.Integer(string="Not Checked", readonly=True)
    check_ids = fields.One2many("apicenter.doctor.check", "report_id", string="Checks", readonly=True)
    problem_check_ids = fields.One2many(
        "apicenter.doctor.check", compute="_compute_problem_checks", string="Problems",
        help="Refuted, then not checked: what to fix first.",
    )  # fmt: skip
    confirmed_check_ids = fields.One2many(
        "apicenter.doctor.check", compute="_compute_problem_checks", string="Confirmed"
    )
    proposal_ids = fields.One2many("apicenter.doctor.proposal", "report_id", string="Proposals", readonly=True)
    proposal_count = fields.Integer(compute="_compute_proposal_count", string="Open Proposals")
    setup_fingerprint = fields.Char(
        readonly=True, help="The endpoints, companies and API profile checked: another one makes the check stale."
    )
    stale = fields.Boolean(
        compute="_compute_stale",
        help="The endpoint, the company or the API profile of the backend changed since this check: it holds the "
        "flows until the check is run again.",
    )
    reviewed_by_id = fields.Many2one("res.users", string="Accepted By", readonly=True)
    reviewed_at = fields.Datetime(string="Accepted At", readonly=True)
    accepted_check_ids = fields.Many2many(
        "apicenter.doctor.check",
        "apicenter_doctor_report_accepted_rel",
        "report_id",
        "check_id",
        string="Accepted Problems",
        readonly=True,
        help="The refuted and not-checked lines an administrator accepted to let the flows write.",
    )
    summary = fields.Char(compute="_compute_summary")

    @api.depends("confirmed_count", "refuted_count", "unchecked_count")
    @api.depends_context("lang")
    def _compute_summary(self):
        for report in self:
            report.summary = rendered(self.env, report._summary_said())

    def _summary_said(self):
        """The summary as a chatter text (chatter_text.py): the backend's chatter shows it in each reader's language."""
        self.ensure_one()
        return Said._(
            "%(confirmed)s confirmed, %(refuted)s refuted, %(unchecked)s not checked",
            confirmed=self.confirmed_count,
            refuted=self.refuted_count,
            unchecked=self.unchecked_count,
        )

    @api.depends("check_ids.status")
    def _compute_problem_checks(self):
        for report in self:
            report.problem_check_ids = report.check_ids.filtered(lambda c: c.status != "confirmed")
            report.confirmed_check_ids = report.check_ids - report.problem_check_ids

    def _compute_stale(self):
        for report in self:
            backend = report.backend_id.sudo()
            report.stale = report.setup_fingerprint != backend._setup_fingerprint()

    @api.depends("proposal_ids.applied", "proposal_ids.question")
    def _compute_proposal_count(self):
        for report in self:
            report.proposal_count = len(report.proposal_ids.filtered(lambda p: not p.applied and not p.question))

    @api.model
    def _from_engine(self, backend, report, fingerprint=None):
        """Store an :class:`apicenter_sync.doctor.Report` of ``backend``, with its proposals; ``fingerprint``: the
        backend's setup it checked (default: the current one)."""
        counts = report.counts()
        # Problems first: refuted, then not checked, then confirmed (each in the doctor's order).
        checks = sorted(report.checks, key=lambda c: PROBLEMS_FIRST.get(c.status, 3))
        stored = self.sudo().create(
            {
                "backend_id": backend.id,
                "setup_fingerprint": fingerprint or backend._setup_fingerprint(),
                "state": report.state,
                "seconds": report.seconds,
                "profile_digest": report.profile_digest,
                "versions": ", ".join(f"{k} {v}" for k, v in report.versions.items()) or False,
                "confirmed_count": counts["confirmed"],
                "refuted_count": counts["refuted"],
                "unchecked_count": counts["unchecked"],
                "check_ids": [
                    fields.Command.create(
                        {
                            "sequence": i,
                            "system": c.system,
                            "check_key": c.id,
                            "subject": _text(c.subject),
                            "subject_data": stored_data(c.subject) or False,
                            "status": c.status,
                            "detail": _text(c.detail),
                            "detail_data": stored_data(c.detail) or False,
                            "hint": _text(c.hint),
                            "hint_data": stored_data(c.hint) or False,
                            "profile_key": c.profile_key or False,
                        }
                    )
                    for i, c in enumerate(checks)
                ],
            }
        )
        lines = {line.sequence: line for line in stored.check_ids}
        proposals = []
        for i, check in enumerate(checks):
            for p in check.proposals if check.status == "refuted" else ():
                proposals.append(
                    {
                        "report_id": stored.id,
                        "check_id": lines[i].id,
                        "sequence": len(proposals),
                        "key": p.key,
                        "current_value": to_text(p.current),
                        "proposed_value": False if p.question else to_text(p.value),
                        "confidence": p.confidence,
                        "question": p.question,
                        "candidates": ", ".join(p.candidates) or False,
                        "evidence": _text(p.evidence),
                        "evidence_data": stored_data(p.evidence) or False,
                    }
                )
        self.env["apicenter.doctor.proposal"].sudo().create(proposals)
        return stored

    def action_confirm(self):
        """An administrator accepts the refuted and not-checked lines of the backend's latest check: its flows may
        write despite them. The accepted lines are kept on the report and listed in the backend's chatter."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only an administrator can accept a connection check."))
        for report in self:
            latest, _reason = report.backend_id._doctor_gate()
            if latest != report:
                raise UserError(self.env._("Only the latest connection check of a backend can be accepted."))
            if report.stale:
                raise UserError(
                    self.env._(
                        "The endpoint, the company or the API profile changed since this check: run the check again "
                        "and accept that one."
                    )
                )
            problems = report.check_ids.filtered(lambda c: c.status != "confirmed")
            # Reports are the engine's record (read-only for everybody); the acceptance is written here, checked above.
            report.sudo().write(
                {
                    "reviewed_by_id": self.env.user.id,
                    "reviewed_at": fields.Datetime.now(),
                    "accepted_check_ids": [fields.Command.set(problems.ids)],
                }
            )
            report.backend_id.invalidate_recordset(["doctor_report_id", "doctor_hold", "doctor_hold_reason"])
            items = said_join(*(
                said_html("<li>%s: %s</li>", said_label(c, "status", c.status), said_msg(stored(c.subject, c.subject_data)))
                for c in problems
            ))  # fmt: skip
            post(
                report.backend_id,
                said_join(
                    Said._(
                        "Connection check of %(date)s accepted by %(user)s: the flows may write despite these "
                        "%(n)s problem(s).",
                        date=fields.Datetime.to_string(report.checked_at),
                        user=self.env.user.name,
                        n=len(problems),
                    ),
                    said_html("<ul>%s</ul>", items),
                ),
            )
        return True

    def action_view_proposals(self):
        """The report's proposals as a list: select the ones to apply (administrators)."""
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("apicenter_connector.apicenter_doctor_proposal_action")
        action["domain"] = [("report_id", "=", self.id)]
        action["context"] = {"search_default_open": 1}
        return action


class ApicenterDoctorCheck(models.Model):
    _name = "apicenter.doctor.check"
    _description = "APIcenter Connection Check Line"
    _order = "report_id, sequence, id"

    report_id = fields.Many2one("apicenter.doctor.report", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    system = fields.Selection([("accountview", "AccountView"), ("mplus", "MplusKASSA")], required=True)
    check_key = fields.Char(string="Check", required=True)
    subject = fields.Char(string="Subject (English)", required=True, help="What was checked, in English (searchable).")
    subject_data = fields.Text(readonly=True, help="The engine's message (JSON), shown in each reader's language.")
    subject_shown = fields.Char(string="Subject", compute="_compute_shown")
    status = fields.Selection(CHECK_STATES, required=True, index=True)
    detail = fields.Text(string="Detail (English)",
                         help="What the server answered, or why it could not be checked (English).")  # fmt: skip
    detail_data = fields.Text(readonly=True)
    detail_shown = fields.Text(string="Detail", compute="_compute_shown",
                               help="What the server answered, or why it could not be checked.")  # fmt: skip
    hint = fields.Char(string="What to Do (English)")
    hint_data = fields.Text(readonly=True)
    hint_shown = fields.Text(string="What to Do", compute="_compute_shown")  # Text: read in full, wrapped
    profile_key = fields.Char(string="Profile Entry / Setting", help="The API-profile entry, setting or mapping "
                              "table to change when the check is refuted.")  # fmt: skip
    proposal_ids = fields.One2many("apicenter.doctor.proposal", "check_id", string="Proposals")

    target_label = fields.Char(string="What to Change", compute="_compute_target")
    target_openable = fields.Boolean(string="Can Open What to Change", compute="_compute_target",
                                     help="Open is shown: the API profile opens for administrators only.")  # fmt: skip

    @api.depends("profile_key", "hint", "hint_data", "detail", "detail_data")
    @api.depends_context("lang", "uid")
    def _compute_target(self):
        for check in self:
            target = check._target()
            check.target_label = target_label(self.env, *target)
            check.target_openable = can_open(self.env, target[0])

    def _target(self):
        """What this line names to change: its profile key, else the first thing its hint or detail names."""
        self.ensure_one()
        for found in (target_of_key(self.profile_key), target_of_text(self.hint, self.hint_data),
                      target_of_text(self.detail, self.detail_data)):  # fmt: skip
            if found != NONE:
                return found
        return NONE

    def action_open_target(self):
        """One click from a problem to what must change (change_target: the same for log lines and sales)."""
        self.ensure_one()
        self.check_access("read")
        return open_target(self.env, self.report_id.backend_id, *self._target())

    @api.depends("subject", "subject_data", "detail", "detail_data", "hint", "hint_data")
    @api.depends_context("lang")
    def _compute_shown(self):
        for check in self:
            check.subject_shown = shown(self.env, check.subject, check.subject_data)
            check.detail_shown = shown(self.env, check.detail, check.detail_data)
            check.hint_shown = shown(self.env, check.hint, check.hint_data)


class ApicenterDoctorProposal(models.Model):
    _name = "apicenter.doctor.proposal"
    _description = "APIcenter Connection Check Proposal"
    _order = "report_id, sequence, id"
    _rec_name = "key"

    report_id = fields.Many2one("apicenter.doctor.report", required=True, ondelete="cascade", index=True)
    backend_id = fields.Many2one(related="report_id.backend_id", store=True)
    check_id = fields.Many2one("apicenter.doctor.check", ondelete="cascade", string="Finding")
    sequence = fields.Integer()
    key = fields.Char(string="Profile Entry Key", required=True, readonly=True)
    name = fields.Char(string="Profile Entry", compute="_compute_shown")
    group = fields.Selection(selection="_selection_group", string="Object", compute="_compute_group", store=True)
    current_value = fields.Char(string="Current", readonly=True)
    proposed_value = fields.Char(string="Proposed", readonly=True)
    confidence = fields.Selection(CONFIDENCE, required=True, readonly=True)
    question = fields.Boolean(readonly=True, help="The check could not place this entry: decide it yourself in the "
                              "API Profile tab (the nearest names are in the evidence).")  # fmt: skip
    candidates = fields.Char(string="Nearest Names", readonly=True)
    evidence = fields.Text(string="Evidence (English)", readonly=True, help="Why the check proposes it (English).")
    evidence_data = fields.Text(readonly=True)
    evidence_shown = fields.Text(string="Evidence", compute="_compute_shown")
    applied = fields.Boolean(readonly=True)
    applied_by_id = fields.Many2one("res.users", readonly=True)

    def _selection_group(self):
        return group_selection(self.env)

    @api.depends("key")
    def _compute_group(self):
        for proposal in self:
            proposal.group = group_of(proposal.key)

    @api.depends("key", "evidence", "evidence_data")
    @api.depends_context("lang")
    def _compute_shown(self):
        for proposal in self:
            proposal.name = entry_name(self.env, proposal.key)
            proposal.evidence_shown = shown(self.env, proposal.evidence, proposal.evidence_data)

    def action_apply(self):
        """Apply the chosen proposals to their backend's API profile, record the change in its chatter and run the
        connection check again (its report opens)."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only an administrator can change the API profile."))
        chosen = self.filtered(lambda p: not p.question and not p.applied)
        if not chosen:
            raise UserError(self.env._("Choose proposals that are not applied yet; a question has no value to apply."))
        backends = chosen.backend_id
        if len(backends) > 1:
            raise UserError(self.env._("Apply the proposals of one backend at a time."))
        backend = backends.sudo()
        values = backend._api_profile().flat()
        changes = []
        for proposal in chosen:
            try:
                value = from_text(proposal.key, proposal.proposed_value)
            except ConfigError as exc:
                raise UserError(error_text(self.env, exc)) from None
            changes.append((proposal, to_text(values.get(proposal.key)), to_text(value)))
            values[proposal.key] = value
        try:
            profile = ApiProfile.from_flat(values)
        except ConfigError as exc:
            raise UserError(self.env._("These proposals do not make a valid API profile: %s",
                                       error_text(self.env, exc))) from None  # fmt: skip
        backend._set_api_profile(profile)
        chosen.sudo().write({"applied": True, "applied_by_id": self.env.user.id})
        items = said_join(*(
            said_html("<li>%s (<code>%s</code>): %s → %s</li>",
                      said_msg(profile_ref(p.key)) if p.key in default_entries() else p.key, p.key, old or "-", new)
            for p, old, new in changes
        ))  # fmt: skip
        report = chosen.report_id[:1]
        post(
            backend,
            said_join(
                Said._(
                    "API profile: %(n)s proposal(s) of the connection check of %(date)s applied by %(user)s.",
                    n=len(changes),
                    date=fields.Datetime.to_string(report.checked_at),
                    user=self.env.user.name,
                ),
                said_html("<ul>%s</ul>", items),
            ),
        )
        return backend.with_env(self.env).action_check_connection()
