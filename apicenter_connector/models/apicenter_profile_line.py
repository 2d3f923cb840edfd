# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The backend's API profile: one editable line per entry (docs/profile.md), administrators only.

Every AccountView business object, table and field the engine uses, and every MplusKASSA choice the WSDL leaves
open, is one line: its key, the value of this tenant, the shipped default, what it means and how sure the default
is. The engine builds its :class:`~apicenter_sync.profile.ApiProfile` from these lines on every run.
"""

from functools import lru_cache

from apicenter_sync.errors import ConfigError
from apicenter_sync.profile import ApiProfile

from odoo import api, fields, models
from odoo.exceptions import ValidationError

EVIDENCE = [
    ("documented", "Documented"),
    ("observed", "Seen in client code"),
    ("assumed", "Assumption"),
    ("choice", "Choice"),
]


@lru_cache(maxsize=1)
def default_entries():
    """key -> (sequence, default, meaning, evidence, system) of the shipped profile."""
    return {
        e.key: (i, e.default, e.meaning, e.evidence, e.system) for i, e in enumerate(ApiProfile.default().entries())
    }


def to_text(value):
    """A profile value as the line shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def from_text(key, text):
    """The line's text as the profile value it stands for (typed like the entry's default)."""
    default = default_entries().get(key, (0, "", "", "", ""))[1]
    text = (text or "").strip()
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"API profile: {key} must be true or false, not {text!r}")
        return text.lower() in ("true", "1", "yes")
    if isinstance(default, int):
        if not text.isdigit():
            raise ConfigError(f"API profile: {key} must be a whole number, not {text!r}")
        return int(text)
    if isinstance(default, list):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if any(isinstance(v, str) for v in default):  # a list of texts (attribute=field entries)
            return items
        if not all(t.isdigit() for t in items):
            raise ConfigError(f"API profile: {key} must be a comma-separated list of numbers, not {text!r}")
        return [int(t) for t in items]
    return text


class ApicenterProfileLine(models.Model):
    _name = "apicenter.profile.line"
    _description = "APIcenter API Profile Entry"
    _order = "backend_id, sequence, id"
    _rec_name = "key"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    key = fields.Char(required=True, readonly=True, help="The entry, as the doctor's report and docs/profile.md name it.")
    value = fields.Char(
        help="This administration's name (or choice). Change it where the doctor refutes the default; "
        "true/false for 'available', a number for 'length', comma-separated numbers for branches, comma-separated attribute=field entries for attribute_fields."
    )
    default_value = fields.Char(string="Default", compute="_compute_description")
    meaning = fields.Char(compute="_compute_description")
    evidence = fields.Selection(EVIDENCE, compute="_compute_description", help="How sure the default is.")
    system = fields.Selection(
        [("accountview", "AccountView"), ("mplus", "MplusKASSA")], compute="_compute_description"
    )
    changed = fields.Boolean(compute="_compute_description", help="Differs from the shipped default.")

    _sql_constraints = [
        ("backend_key_uniq", "unique(backend_id, key)", "A backend has one line per API-profile entry."),
    ]

    @api.depends("key", "value")
    def _compute_description(self):
        entries = default_entries()
        for line in self:
            _seq, default, meaning, evidence, system = entries.get(line.key, (0, None, "", False, False))
            line.default_value = to_text(default)
            line.meaning = meaning or self.env._("No longer used by the engine")
            line.evidence = evidence or False
            line.system = system or False
            line.changed = (line.value or "").strip() != to_text(default)

    @api.constrains("value")
    def _check_profile(self):
        for backend in self.backend_id:
            try:
                backend._api_profile()
            except ConfigError as exc:
                raise ValidationError(str(exc)) from None
