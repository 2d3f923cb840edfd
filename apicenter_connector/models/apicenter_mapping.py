# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rows of the named mapping tables the flows look codes up in (VAT codes, branches, price groups…).

What each table's keys and values are, and how a row is checked, comes from the engine's registry
(:mod:`apicenter_sync.mapping_tables`); where a live system can list the possibilities (branches, VAT codes,
payment methods… of MplusKASSA), they are loaded as choices a row is picked from.
"""

from apicenter_sync import mapping_tables as registry
from apicenter_sync.errors import SyncError
from apicenter_sync.i18n import Msg, render, table_ref
from apicenter_sync.redact import redact_text
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError

KNOWN_TABLES = [(t.name, t.label) for t in registry.TABLES]
KINDS = [(k.name, k.label) for k in registry.KINDS.values()]


class ApicenterMapping(models.Model):
    _name = "apicenter.mapping"
    _description = "APIcenter Mapping Table Row"
    _order = "backend_id, table_name, key"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    table_name = fields.Char(string="Table", required=True, index=True, help="Any name; see Known Table.")
    known_table = fields.Selection(
        KNOWN_TABLES + [("other", "Other")],
        string="Mapping Table",
        compute="_compute_known_table",
        inverse="_inverse_known_table",
        store=True,
        help="The tables the flows read; pick one to fill in Table.",
    )
    key_kind = fields.Selection(KINDS, compute="_compute_kinds")
    value_kind = fields.Selection(KINDS, compute="_compute_kinds")
    table_help = fields.Char(string="What it does", compute="_compute_kinds")
    key = fields.Char(required=True)
    value = fields.Char()
    key_choice_id = fields.Many2one(
        "apicenter.mapping.choice",
        string="Pick Key",
        store=False,
        domain="[('backend_id', '=', backend_id), ('kind', '=', key_kind)]",
        help="The possibilities loaded from MplusKASSA (backend: Load Choices); picking one fills the key.",
    )
    value_choice_id = fields.Many2one(
        "apicenter.mapping.choice",
        string="Pick Value",
        store=False,
        domain="[('backend_id', '=', backend_id), ('kind', '=', value_kind)]",
        help="The possibilities loaded from MplusKASSA (backend: Load Choices); picking one fills the value.",
    )

    _sql_constraints = [
        ("row_uniq", "unique(backend_id, table_name, key)", "A mapping table has one row per key."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:  # a row made by picking its table (wizard, lists): the table is its name
            if not vals.get("table_name") and vals.get("known_table") not in (None, False, "other"):
                vals["table_name"] = vals["known_table"]
        rows = super().create(vals_list)
        rows._track_rows({row: None for row in rows})
        return rows

    def write(self, vals):
        tracked = {"table_name", "key", "value"} & set(vals)
        before = {row: (row.table_name, row.key, row.value) for row in self} if tracked else {}
        result = super().write(vals)
        if tracked:
            self._track_rows(before)
        return result

    def unlink(self):
        gone = [(row.backend_id, row.table_name, row.key, row.value) for row in self]
        result = super().unlink()
        for backend, table, key, value in gone:
            self._post_change(backend, table, self.env._("row %(key)s removed (it was %(value)s)", key=key,
                                                         value=value or "-"))  # fmt: skip
        return result

    def _track_rows(self, before):
        """Every change of a mapping row on its backend's chatter: who (the author), when, the old and new value."""
        for row, old in before.items():
            if old is None:
                change = self.env._("row %(key)s added: %(value)s", key=row.key, value=row.value or "-")
            elif old == (row.table_name, row.key, row.value):
                continue
            elif old[1] != row.key:
                change = self.env._("row %(old_key)s → %(key)s: %(old)s → %(value)s", old_key=old[1], key=row.key,
                                    old=old[2] or "-", value=row.value or "-")  # fmt: skip
            else:
                change = self.env._("row %(key)s: %(old)s → %(value)s", key=row.key, old=old[2] or "-",
                                    value=row.value or "-")  # fmt: skip
            self._post_change(row.backend_id, row.table_name, change)

    def _post_change(self, backend, table_name, change):
        table = registry.get_table(table_name)
        if self.env.context.get("apicenter_untracked") or (table and table.written_by_engine):
            return
        name = render(table_ref(table_name), self.env.lang) if registry.get_table(table_name) else table_name
        body = Markup("%s <b>%s</b> (<code>%s</code>): %s") % (self.env._("Mapping table"), name, table_name, change)
        backend.sudo().with_context(mail_create_nosubscribe=True, mail_post_autofollow=False).message_post(
            body=body, message_type="notification", subtype_xmlid="mail.mt_note", author_id=self.env.user.partner_id.id
        )

    @api.depends("table_name")
    def _compute_known_table(self):
        known = dict(KNOWN_TABLES)
        for rec in self:
            rec.known_table = rec.table_name if rec.table_name in known else ("other" if rec.table_name else False)

    def _inverse_known_table(self):
        for rec in self:
            if rec.known_table and rec.known_table != "other":
                rec.table_name = rec.known_table

    @api.onchange("known_table")
    def _onchange_known_table(self):
        if self.known_table and self.known_table != "other":
            self.table_name = self.known_table

    @api.depends("table_name")
    @api.depends_context("lang")
    def _compute_kinds(self):
        for rec in self:
            table = registry.get_table(rec.table_name or "")
            rec.key_kind = table.key if table else False
            rec.value_kind = table.value if table else False
            # In the reader's language, the words the wizard uses too (catalogue tables.help.<id>).
            rec.table_help = render(Msg(f"tables.help.{table.name}"), self.env.lang) if table else False

    @api.onchange("key_choice_id")
    def _onchange_key_choice(self):
        if self.key_choice_id:
            self.key = self.key_choice_id.value

    @api.onchange("value_choice_id")
    def _onchange_value_choice(self):
        if self.value_choice_id:
            self.value = self.value_choice_id.value

    @api.constrains("table_name", "key", "value")
    def _check_row(self):
        for rec in self:
            problems = registry.check_row(rec.table_name, rec.key or "", rec.value or "")
            if problems:
                raise ValidationError("; ".join(problems))


class ApicenterMappingChoice(models.Model):
    """A possibility of a mapping key or value, as a live system lists it (loaded on request, per backend)."""

    _name = "apicenter.mapping.choice"
    _description = "APIcenter Mapping Choice"
    _order = "backend_id, kind, value"
    _rec_name = "display_label"

    backend_id = fields.Many2one("apicenter.backend", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(KINDS, required=True, index=True)
    value = fields.Char(required=True)
    label = fields.Char()
    display_label = fields.Char(compute="_compute_display_label")

    _sql_constraints = [("choice_uniq", "unique(backend_id, kind, value)", "A choice is listed once.")]

    @api.depends("value", "label")
    def _compute_display_label(self):
        for rec in self:
            rec.display_label = f"{rec.value} — {rec.label}" if rec.label and rec.label != rec.value else rec.value

    @api.model
    def _load_choices(self, backend):
        """Every kind the registry can list, fetched now from MplusKASSA and (when connected) AccountView:
        {kind label: count}. Choices gone from the system are removed; rows that use them stay (the row's check
        still applies). An AccountView that cannot be read (not connected yet) is left out, not an error."""
        backend.check_access("write")
        counts = {}
        client = backend._mplus_client()
        try:
            for kind in registry.KINDS.values():
                if kind.choices:
                    method, value_field, label_field = kind.choices
                    found = {}
                    for item in getattr(client, method)():
                        value, label = item.get(value_field), item.get(label_field)
                        if value not in (None, ""):
                            found[str(value)] = f"{label} %" if kind.name == "mplus_vat_code" else str(label or "")
                    counts[kind.label] = self._replace(backend, kind.name, found)
        finally:
            client.close()
        av_kinds = [k for k in registry.KINDS.values() if k.av_choices]
        try:
            engine = backend._engine()
        except Exception:  # noqa: BLE001 - AccountView not configured or connected yet: MplusKASSA's choices only
            return counts
        try:
            objects = engine.profile.accountview.objects
            for kind in av_kinds:
                name, value_field, label_field = kind.av_choices
                obj = objects.get(name)
                if obj is None or (obj.optional and not obj.available):
                    continue
                found = {}
                for row in engine.accountview.iter_rows(obj.reader, obj.table, page_size=1000):
                    value = str(row.get(obj[value_field]) or "").strip()
                    if value:
                        found[value] = str(row.get(obj[label_field]) or "").strip()
                counts[kind.label] = self._replace(backend, kind.name, found)
        except SyncError as exc:
            counts[self.env._("AccountView not read: %s", redact_text(str(exc)))] = 0
        finally:
            engine.close()
        return counts

    def _replace(self, backend, kind, found):
        """The choices of ``kind`` become ``found`` ({value: label}); how many there are."""
        existing = self.sudo().search([("backend_id", "=", backend.id), ("kind", "=", kind)])
        for choice in existing:
            if choice.value not in found:
                choice.unlink()
            else:
                choice.label = found.pop(choice.value)
        self.sudo().create([{"backend_id": backend.id, "kind": kind, "value": v, "label": lb} for v, lb in found.items()])
        return len(existing.exists()) + len(found)
