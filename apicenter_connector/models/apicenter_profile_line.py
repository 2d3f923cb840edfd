# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The backend's API profile: one editable line per entry (docs/profile.md), administrators only.

Every AccountView business object, table and field the engine uses, and every MplusKASSA choice the WSDL leaves
open, is one line: its key, the value of this tenant, the shipped default, what it means and how sure the default
is. The engine builds its :class:`~apicenter_sync.profile.ApiProfile` from these lines on every run.

An entry's name and meaning are the engine's words (catalogue ``profile.toml``), shown in the reader's language;
lines are grouped by the object they belong to.
"""

from collections.abc import Collection
from functools import lru_cache

from apicenter_sync.errors import ConfigError
from apicenter_sync.i18n import msg, profile_ref, render
from apicenter_sync.profile import ApiProfile
from apicenter_sync.profile.model import entry_ref, invalid

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .engine_text import error_text
from .odoo_series import sql_constraints

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


@lru_cache(maxsize=1)
def entry_groups():
    """key -> the object (or section) it belongs to, and those groups in the profile's order."""
    groups = {e.key: e.group for e in ApiProfile.default().entries()}
    return groups, list(dict.fromkeys(groups.values()))


def group_selection(env):
    """The groups of the profile as a selection, named in the reader's language."""
    names = {"accountview": msg("profile.group.accountview"), "mplus": msg("profile.group.mplus")}
    return [(g, render(names.get(g) or profile_ref(g), env.lang)) for g in entry_groups()[1]]


def group_of(key):
    parts = (key or "").split(".")
    return entry_groups()[0].get(key) or (parts[0] if parts[0] in ("accountview", "mplus") else False)


def entry_name(env, key):
    """A profile entry in the reader's words (its key when the engine no longer knows it)."""
    return render(profile_ref(key), env.lang) if key in default_entries() else key


def to_text(value):
    """A profile value as the line shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def from_text(key, text):
    """The line's text as the profile value it stands for (typed like the entry's default); a ConfigError whose
    message (profile.toml) names the entry when the text is not such a value."""
    default = default_entries().get(key, (0, "", "", "", ""))[1]
    text = (text or "").strip()
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise invalid([msg("profile.problem.not_bool", entry=entry_ref(key), value=repr(text))])
        return text.lower() in ("true", "1", "yes")
    if isinstance(default, int):
        if not text.isdigit():
            raise invalid([msg("profile.problem.not_whole_number", entry=entry_ref(key), value=repr(text))])
        return int(text)
    if isinstance(default, list):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if any(isinstance(v, str) for v in default):  # a list of texts (attribute=field entries)
            return items
        if not all(t.isdigit() for t in items):
            raise invalid([msg("profile.problem.not_number_list", entry=entry_ref(key), value=repr(text))])
        return [int(t) for t in items]
    return text


@sql_constraints
class ApicenterProfileLine(models.Model):
    _name = "apicenter.profile.line"
    _description = "APIcenter API Profile Entry"
    _order = "backend_id, sequence, id"
    _rec_name = "key"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    key = fields.Char(required=True, readonly=True, help="The entry, as the doctor's report and docs/profile.md name it.")
    name = fields.Char(string="Entry", compute="_compute_description", search="_search_name",
                       help="The entry in words; the key beside it is what apicenter.toml and support use.")
    group = fields.Selection(selection="_selection_group", string="Object", compute="_compute_group", store=True,
                             index=True, help="The business object (or section) the entry belongs to.")
    value = fields.Char(
        help="This administration's name (or choice). Change it where the doctor refutes the default; "
        "true/false for 'available', a number for 'length', comma-separated numbers for branches, comma-separated attribute=field entries for attribute_fields."
    )
    default_value = fields.Char(string="Default", compute="_compute_description")
    meaning = fields.Char(compute="_compute_description")
    evidence = fields.Selection(EVIDENCE, compute="_compute_description", search="_search_evidence",
                                help="How sure the default is.")
    system = fields.Selection(
        [("accountview", "AccountView"), ("mplus", "MplusKASSA")], compute="_compute_description"
    )
    changed = fields.Boolean(compute="_compute_description", search="_search_changed",
                             help="Differs from the shipped default.")

    _sql_constraints = [
        ("backend_key_uniq", "unique(backend_id, key)", "A backend has one line per API-profile entry."),
    ]

    def _selection_group(self):
        return group_selection(self.env)

    @api.depends("key")
    def _compute_group(self):
        for line in self:
            line.group = group_of(line.key)

    @api.depends("key", "value")
    @api.depends_context("lang")
    def _compute_description(self):
        entries = default_entries()
        for line in self:
            _seq, default, meaning, evidence, system = entries.get(line.key, (0, None, "", False, False))
            line.name = entry_name(self.env, line.key)
            line.default_value = to_text(default)
            line.meaning = render(meaning, self.env.lang) if meaning else self.env._("No longer used by the engine")
            line.evidence = evidence or False
            line.system = system or False
            line.changed = (line.value or "").strip() != to_text(default)

    def _search_changed(self, operator, value):
        """Lines whose value differs (or not) from the shipped default. (The values of `in` may be any collection:
        Odoo 19 passes an OrderedSet, which is no set; docs/odoo-series.md.)"""
        if operator not in ("=", "!=", "in", "not in"):
            raise ValueError(self.env._("Unsupported search on 'changed': %s", operator))
        values = list(value) if isinstance(value, Collection) and not isinstance(value, str) else [value]
        wanted = any(values) == (operator in ("=", "in"))
        changed = self.sudo().search([]).filtered("changed")
        return [("id", "in" if wanted else "not in", changed.ids)]

    def _search_evidence(self, operator, value):
        values = list(value) if isinstance(value, Collection) and not isinstance(value, str) else [value]
        keys = [k for k, entry in default_entries().items() if entry[3] in values]
        return [("key", "in" if operator in ("=", "in") else "not in", keys)]

    def _search_name(self, operator, value):
        """The entry by its words in the reader's language, or by its key."""
        if operator not in ("ilike", "like", "=", "=ilike"):
            return [("key", operator, value)]
        text = str(value or "").lower()
        keys = [k for k in default_entries() if text in entry_name(self.env, k).lower()]
        return ["|", ("key", "ilike", text), ("key", "in", keys)]

    @api.constrains("value")
    def _check_profile(self):
        for backend in self.backend_id:
            try:
                backend._api_profile()
            except ConfigError as exc:  # the engine's refusal, in the language of the user who edited the line
                raise ValidationError(error_text(self.env, exc)) from None
